"""Describe a tool's input schema as rows a person can read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gemma_mcp_cli.arguments import resolve_ref


def type_name(node: Any, root: Mapping[str, Any]) -> str:
    """Return a short type name: `integer`, `string | null`, `array[string]`."""
    node = resolve_ref(node, root)
    if not isinstance(node, Mapping):
        return "any"
    options = node.get("anyOf") or node.get("oneOf")
    if options:
        return " | ".join(dict.fromkeys(type_name(option, root) for option in options))
    kind = node.get("type")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind == "array" and isinstance(node.get("items"), Mapping):
        return f"array[{type_name(node['items'], root)}]"
    if kind is None and "enum" in node:
        return "enum"
    return str(kind or "any")


Row = tuple[str, str, str, str, str, str]
_DEPTH = 6  # a schema that refers to itself (a tree of nodes) is shown this deep, no deeper
INDENT = "  "


def parameters(schema: Mapping[str, Any]) -> list[Row]:
    """Return one row per parameter: name, type, required, default, enum, description.

    The properties of an object (or of the objects in an array) follow their parent's row,
    their names indented one step per level.
    """
    return _rows(schema, schema, 0)


def _rows(node: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> list[Row]:
    listed = node.get("required")
    required = {str(r) for r in listed} if isinstance(listed, list) else set()
    rows: list[Row] = []
    properties = node.get("properties")
    for name, raw in (properties if isinstance(properties, Mapping) else {}).items():
        resolved = resolve_ref(raw, root)
        resolved = resolved if isinstance(resolved, Mapping) else {}
        rows.append(_row(INDENT * depth + str(name), raw, resolved, root, name in required))
        inner = _object_inside(resolved, root)
        if inner is not None and depth + 1 < _DEPTH:
            rows += _rows(inner, root, depth + 1)
    return rows


def _object_inside(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Return the object schema with properties that a parameter is, or holds in its array."""
    if isinstance(node.get("properties"), Mapping):
        return node
    items = resolve_ref(node.get("items"), root) if node.get("type") == "array" else None
    return items if isinstance(items, Mapping) and isinstance(items.get("properties"), Mapping) else None


def _row(name: str, raw: Any, node: Mapping[str, Any], root: Mapping[str, Any], required: bool) -> Row:
    enum = node.get("enum") or next(
        (
            resolve_ref(o, root).get("enum")
            for o in node.get("anyOf") or []
            if isinstance(resolve_ref(o, root), Mapping) and "enum" in resolve_ref(o, root)
        ),
        None,
    )
    described = node.get("description") or (raw.get("description") if isinstance(raw, Mapping) else "")
    return (
        name,
        type_name(raw, root),
        "yes" if required else "no",
        json.dumps(raw["default"]) if isinstance(raw, Mapping) and "default" in raw else "",
        ", ".join(json.dumps(v) for v in enum) if isinstance(enum, list) else "",
        str(described or ""),
    )
