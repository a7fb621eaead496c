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


def parameters(schema: Mapping[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    """Return one row per parameter: name, type, required, default, enum, description."""
    required = set(schema.get("required") or [])
    rows = []
    for name, raw in (schema.get("properties") or {}).items():
        node = resolve_ref(raw, schema)
        node = node if isinstance(node, Mapping) else {}
        enum = node.get("enum") or next(
            (
                resolve_ref(o, schema).get("enum")
                for o in node.get("anyOf") or []
                if "enum" in resolve_ref(o, schema)
            ),
            None,
        )
        rows.append(
            (
                name,
                type_name(raw, schema),
                "yes" if name in required else "no",
                json.dumps(raw["default"]) if isinstance(raw, Mapping) and "default" in raw else "",
                ", ".join(json.dumps(v) for v in enum) if enum else "",
                str(
                    node.get("description")
                    or (raw.get("description") if isinstance(raw, Mapping) else "")
                    or ""
                ),
            )
        )
    return rows
