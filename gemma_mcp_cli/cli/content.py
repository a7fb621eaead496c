"""Print MCP content for people and pipes: text raw, structured as JSON, the rest named."""

from __future__ import annotations

import base64
from typing import Any

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.errors import tool_failure


def size_of(block: dict[str, Any]) -> str:
    """Return a human size for a block's base64 data or text."""
    raw = block.get("data") or block.get("blob")
    try:
        count = len(base64.b64decode(raw, validate=True)) if raw else len((block.get("text") or "").encode())
    except ValueError:  # binascii.Error: the server's base64 is broken, which is all one can say
        return "invalid base64"
    if count < 1024:
        return f"{count} B"
    return f"{count / 1024:.1f} KB" if count < 1024 * 1024 else f"{count / (1024 * 1024):.1f} MB"


def _label(*parts: str | None) -> str:
    return "[" + " ".join(part for part in parts if part) + "]"


def describe(block: dict[str, Any]) -> str:
    """Name a non-text content block with its type and size."""
    kind = block.get("type", "content")
    if kind == "resource":
        resource = block.get("resource") or {}
        return _label("resource", resource.get("uri"), resource.get("mimeType"), size_of(resource))
    if kind == "resource_link":
        return _label("resource link", block.get("uri"), block.get("mimeType"))
    return _label(kind, block.get("mimeType"), size_of(block))


def print_result(result: dict[str, Any], *, raw: bool = False) -> None:
    """Print a tool result: structured content as JSON, else text (made safe on a terminal unless `raw`)."""
    structured = result.get("structuredContent")
    if structured is not None:
        render.emit_text(render.dumps(structured))
    for block in result.get("content") or []:
        if block.get("type") == "text":
            if structured is None:
                render.emit_text(block.get("text", ""), raw=raw)
        else:
            render.emit_text(describe(block))


def report_call(
    server: str,
    tool: str,
    result: dict[str, Any],
    *,
    as_json: bool,
    raw: bool = False,
    asked: list[dict[str, Any]] | None = None,
) -> None:
    """Print a tool result; an `isError` result raises (exit 6) after --json printed it whole."""
    failed = bool(result.get("isError"))
    if as_json:
        render.emit_json({"server": server, "tool": tool, "result": result} | asked_entry(asked))
    elif not failed:
        print_result(result, raw=raw)
    if failed:
        raise tool_failure(server, tool, result.get("content") or [])


def asked_entry(asked: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Return the `asked` member of a --json document: what the servers asked, if anything."""
    return {"asked": asked} if asked else {}


def first_line(text: str | None) -> str:
    """Return the first non-empty line of a description (for one-row-per-item tables)."""
    stripped = (text or "").strip()
    return stripped.splitlines()[0] if stripped else ""
