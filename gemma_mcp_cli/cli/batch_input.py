"""Read `batch` input: one JSON request a line, each checked for shape before anything is sent."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from gemma_mcp_cli.errors import MCPError, MCPUsageError

CALL, READ, PROMPT = "tools/call", "resources/read", "prompts/get"
_TARGET = {CALL: "tool", READ: "uri", PROMPT: "prompt"}  # the key naming what each method acts on
_KEYS = {"id", "server", "method", "arguments", *_TARGET.values()}


@dataclass
class BatchRequest:
    """One request of a batch, as read from its line."""

    line: int  # 1-based line number in the input
    id: Any  # the request's own id, or its line number
    server: str
    method: str
    target: str  # the tool name, resource URI or prompt name
    arguments: dict[str, Any] = field(default_factory=dict)

    def head(self) -> dict[str, Any]:
        """Return the fields every result line of this request starts with (SPEC's shapes)."""
        return {"id": self.id, "line": self.line, "server": self.server, _TARGET[self.method]: self.target}


@dataclass
class BadLine:
    """A line that is not a request: reported as an error line of its own, never sent."""

    line: int
    id: Any
    server: str | None
    error: MCPError

    def head(self) -> dict[str, Any]:
        """Return the identifying fields of the error line."""
        return {"id": self.id, "line": self.line, "server": self.server}


def read_requests(text: str) -> list[BatchRequest | BadLine]:
    """Return one entry per non-blank line, in input order."""
    entries: list[BatchRequest | BadLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.strip():
            entries.append(parse_line(number, raw))
    return entries


def parse_line(number: int, raw: str) -> BatchRequest | BadLine:
    """Read one line; anything malformed becomes a BadLine naming what is wrong (exit 2)."""
    try:
        value = json.loads(raw)
    except ValueError as exc:
        return _bad(number, None, None, f"not valid JSON ({getattr(exc, 'msg', exc)})")
    if not isinstance(value, dict):
        return _bad(number, None, None, f"a request is a JSON object, not {type(value).__name__}")
    ident = value.get("id", number)
    server = value.get("server")
    if isinstance(ident, bool) or not isinstance(ident, str | int | float | None):
        return _bad(number, number, None, "id must be a string or a number")
    if not isinstance(server, str) or not server:
        return _bad(number, ident, None, "server must be a non-empty string")
    method = value.get("method", CALL)
    if method not in _TARGET:
        return _bad(number, ident, server, f"method must be one of {', '.join(_TARGET)}, not {method!r}")
    unknown = sorted(set(value) - _KEYS)
    if unknown:
        return _bad(number, ident, server, f"unknown key(s) {', '.join(map(repr, unknown))}")
    target = value.get(_TARGET[method])
    if not isinstance(target, str) or not target:
        return _bad(number, ident, server, f"{_TARGET[method]} must be a non-empty string for {method}")
    arguments = value.get("arguments", {})
    problem = _arguments_problem(method, arguments)
    if problem:
        return _bad(number, ident, server, problem)
    return BatchRequest(number, ident, server, method, target, dict(arguments or {}))


def _arguments_problem(method: str, arguments: Any) -> str | None:
    if method == READ:
        return "resources/read takes no arguments" if arguments not in ({}, None) else None
    if arguments is not None and not isinstance(arguments, dict):
        return f"arguments must be a JSON object, not {type(arguments).__name__}"
    if method == PROMPT and any(not isinstance(v, str) for v in (arguments or {}).values()):
        return "prompt arguments must all be strings"
    return None


def _bad(number: int, ident: Any, server: str | None, problem: str) -> BadLine:
    error = MCPUsageError(f"batch line {number}: {problem}", server=server)
    return BadLine(number, number if ident is None else ident, server, error)
