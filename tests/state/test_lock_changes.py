"""Comparing a locked schema with the server's: each kind of change, and which ones break callers."""

from __future__ import annotations

from typing import Any

import pytest

from gemma_mcp_cli.state.lock_changes import compare


def tool(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "tools": {
            "t": {
                "inputSchema": {"type": "object", "properties": properties, "required": required or []},
                **extra,
            }
        }
    }


def kinds(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(c.kind, c.breaking) for c in compare("s", old, new)]


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ({"type": "integer"}, {"type": "number"}, ("parameter_type_widened", False)),
        ({"type": "number"}, {"type": "integer"}, ("parameter_type_narrowed", True)),
        ({}, {"type": "string"}, ("parameter_type_narrowed", True)),
        ({"type": "string"}, {}, ("parameter_type_widened", False)),
        (
            {"anyOf": [{"type": "string"}, {"type": "null"}]},
            {"type": "string"},
            ("parameter_type_narrowed", True),
        ),
        ({"type": "string"}, {"type": "string", "enum": ["a"]}, ("enum_values_removed", True)),
        ({"type": "string", "enum": ["a"]}, {"type": "string"}, ("enum_values_added", False)),
    ],
)
def test_parameter_type_changes(
    before: dict[str, Any], after: dict[str, Any], expected: tuple[str, bool]
) -> None:
    assert kinds(tool({"p": before}), tool({"p": after})) == [expected]


def test_requirement_changes_both_ways() -> None:
    optional, required = tool({"p": {"type": "string"}}), tool({"p": {"type": "string"}}, ["p"])
    assert kinds(optional, required) == [("parameter_now_required", True)]
    assert kinds(required, optional) == [("parameter_now_optional", False)]
    assert kinds(tool({}), optional) == [("parameter_added", False)]
    assert kinds(optional, tool({})) == [("parameter_removed", True)]


def test_read_only_hint_and_breaking_changes_come_first() -> None:
    old = tool({}, annotations={"readOnlyHint": True}) | {"prompts": {"p": {"arguments": []}}}
    new = tool({"x": {}}, annotations={}) | {
        "prompts": {"p": {"arguments": [{"name": "a", "required": True}]}}
    }
    found = kinds(old, new)
    assert found[:2] == [("prompt_argument_required", True), ("read_only_hint_lost", True)]
    assert ("parameter_added", False) in found


def test_unchanged_schemas_have_no_changes() -> None:
    entry = tool({"p": {"type": "string", "enum": ["a", "b"]}}, ["p"], annotations={"readOnlyHint": True})
    assert compare("s", entry, entry) == []
