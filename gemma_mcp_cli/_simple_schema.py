"""Vouch for arguments against the commonest tool schemas without importing jsonschema.

Importing jsonschema costs about 55 ms, a twentieth of a cold call, and most tools take a flat
object of strings, numbers and booleans. `surely_valid` answers True only where jsonschema
(with the project's own rules: nullable parameters, no undeclared keys) would find nothing
wrong; anything it does not fully understand, and every problem, goes to jsonschema, which
alone words the errors. tests/test_simple_schema.py holds the two to that over generated cases.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on a cold call
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

_TOP_KEYS = frozenset({"type", "properties", "required", "additionalProperties", "title", "description"})
_NODE_KEYS = frozenset({"type", "enum", "items", "title", "description", "default", "examples", "format"})
# `format` is only an annotation: the check is made without a format checker, as jsonschema's is.
_SCALARS = (str, bool, int, float, type(None))


def surely_valid(schema: Mapping[str, Any], arguments: Mapping[str, Any]) -> bool:
    """Tell whether `arguments` certainly satisfy `schema` (False also means "cannot tell")."""
    if (
        not isinstance(schema, dict)
        or not schema.keys() <= _TOP_KEYS
        or schema.get("type", "object") != "object"
    ):
        return False
    properties = schema.get("properties")
    required = schema.get("required", [])
    extras = schema.get("additionalProperties", False)
    if not isinstance(properties, dict) or not isinstance(required, list) or not isinstance(extras, bool):
        return False
    if not all(isinstance(key, str) and key in arguments for key in required):
        return False
    for key, value in arguments.items():
        node = properties.get(key)
        if node is None:
            if not extras:
                return False  # undeclared: reported whether or not the schema allows extras
        elif not (value is None and _nullable(node)) and not _fits(node, value):
            return False
    return True


def _nullable(node: Any) -> bool:
    """Mirror arguments._says_nullable: a top-level parameter that says null is one of its values."""
    return isinstance(node, dict) and (
        node.get("nullable") is True or ("default" in node and node["default"] is None)
    )


def _fits(node: Any, value: Any) -> bool:
    if not isinstance(node, dict) or not node.keys() - {"nullable"} <= _NODE_KEYS:
        return False
    declared = node.get("type")
    if declared is not None:
        kinds = [declared] if isinstance(declared, str) else declared
        if not isinstance(kinds, list) or not any(_is(kind, value) for kind in kinds):
            return False
    if "enum" in node:
        choices = node["enum"]
        if not isinstance(choices, list) or not isinstance(value, _SCALARS):
            return False
        if not any(type(choice) is type(value) and choice == value for choice in choices):
            return False
    if "items" in node and isinstance(value, list):
        items = node["items"]  # below the top level, a null default and `nullable` accept no null
        return isinstance(items, dict) and all(_fits(items, item) for item in value)
    return True


def _is(kind: Any, value: Any) -> bool:
    """Tell whether `value` is certainly of the JSON type `kind` (a float is never vouched an integer)."""
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "null":
        return value is None
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    return False
