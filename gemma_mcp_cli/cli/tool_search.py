"""Rank tools across servers against a query: name, title, description and parameter names.

Standard library only: `tools search` is answered from the cache by the quick front end too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.content import first_line
from gemma_mcp_cli.cli.schema import type_name

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_IGNORED = frozenset({"a", "an", "and", "by", "for", "in", "of", "on", "or", "the", "to", "with"})
# How much a query word counts for, by where it is found: the name says most about a tool.
_WEIGHTS = (("name", 3.0), ("title", 2.0), ("parameters", 1.5), ("description", 1.0))
DEFAULT_LIMIT = 10


def words(text: str) -> list[str]:
    """Split text into lower-case words, also at snake_case and camelCase seams."""
    return [w.lower() for w in _WORD.findall(text or "")]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}  # a server may send anything in any field


def _fields(tool: Mapping[str, Any]) -> dict[str, list[str]]:
    schema = _mapping(tool.get("inputSchema"))
    properties = _mapping(schema.get("properties"))
    annotations = _mapping(tool.get("annotations"))
    return {
        "name": words(str(tool.get("name", ""))),
        "title": words(str(tool.get("title") or annotations.get("title") or "")),
        "parameters": [w for key in properties for w in words(str(key))],
        "description": words(str(tool.get("description") or "")),
    }


def score(query: Sequence[str], tool: Mapping[str, Any]) -> float:
    """Return how well a tool matches the query words (0: not at all)."""
    fields = _fields(tool)
    total, matched = 0.0, 0
    for term in query:
        best = 0.0
        for field, weight in _WEIGHTS:
            for word in fields[field]:
                closeness = (
                    1.0 if word == term else 0.6 if word.startswith(term) else 0.3 if term in word else 0
                )
                best = max(best, weight * closeness)
        total += best
        matched += best > 0
    if not matched:
        return 0.0
    whole = "".join(query)
    if whole == "".join(fields["name"]):
        total += 5.0  # the query is the tool's name, in any spelling
    return round(total * matched / len(query), 3)


def rank(query: str, tools: Iterable[dict[str, Any]], limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
    """Return the best matches, best first, each with its score and one-line signature."""
    terms = [w for w in words(query) if w not in _IGNORED] or words(query)
    scored = [(score(terms, tool), index, tool) for index, tool in enumerate(tools)]
    best = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))[:limit]
    return [entry(tool, value) for value, _, tool in best]


def signature(tool: Mapping[str, Any]) -> str:
    """Return `name(required: type, optional?: type)` from the tool's input schema."""
    schema = _mapping(tool.get("inputSchema"))
    properties = _mapping(schema.get("properties"))
    listed = schema.get("required")
    required = {str(key) for key in listed} if isinstance(listed, list) else set()
    ordered = sorted(properties, key=lambda key: key not in required)  # required first, else as given
    parts = [
        f"{key}{'' if key in required else '?'}: {type_name(properties[key], schema)}" for key in ordered
    ]
    return f"{tool.get('name')}({', '.join(parts)})"


def entry(tool: Mapping[str, Any], value: float) -> dict[str, Any]:
    """Return one match as `tools search --json` lists it: compact, no schemas."""
    found = {
        "server": tool.get("server"),
        "name": tool.get("name"),
        "title": tool.get("title"),
        "description": first_line(str(tool.get("description") or "")),
        "signature": signature(tool),
        "score": value,
    }
    return {key: value for key, value in found.items() if value is not None}


def show(matches: list[dict[str, Any]], errors: list[dict[str, Any]], *, as_json: bool) -> None:
    """Print the matches: a table for people, one compact JSON document for programs."""
    if as_json:
        render.emit_json({"tools": matches, "errors": errors})
        return
    render.table(
        ("SERVER", "TOOL", "DESCRIPTION"), [(m["server"], m["signature"], m["description"]) for m in matches]
    )
    if not matches:
        render.message("no tool matches", style="dim")
