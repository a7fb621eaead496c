"""The check without jsonschema vouches only for what jsonschema accepts, and for the usual cases."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from typing import Any

import pytest

from gemma_mcp_cli import answers, arguments
from gemma_mcp_cli._simple_schema import surely_valid
from gemma_mcp_cli.errors import MCPInvalidArgumentsError

KINDS = ["string", "integer", "number", "boolean", "null", "object", "array"]
VALUES: list[Any] = [
    True,
    [True],
    {"k": True},
    1.5,
    "",
    "a",
    "7",
    0,
    1,
    -3,
    2**70,
    1.0,
    2.5,
    float("nan"),
    True,
    False,
    None,
    [],
    [1],
    ["a", 2],
    {},
    {"k": 1},
]


def random_node(rng: random.Random, depth: int = 0) -> Any:
    """A property schema: mostly the plain kind, sometimes with what the quick check must refuse."""
    if rng.random() < 0.05:
        return rng.choice([True, False, {}, {"$ref": "#/$defs/x"}])
    node: dict[str, Any] = {}
    if rng.random() < 0.8:
        node["type"] = rng.choice(KINDS) if rng.random() < 0.8 else rng.sample(KINDS, rng.randint(1, 3))
    if rng.random() < 0.2:
        node["enum"] = rng.sample(VALUES, rng.randint(1, 4))
    if rng.random() < 0.2 and depth < 2:
        node["items"] = random_node(rng, depth + 1) if rng.random() < 0.9 else [random_node(rng, depth + 1)]
    annotations: list[tuple[str, Any]] = [
        ("description", "d"),
        ("default", None),
        ("nullable", True),
        ("format", "email"),
    ]
    for key, value in annotations:
        if rng.random() < 0.15:
            node[key] = value
    others: list[tuple[str, Any]] = [
        ("minimum", 100),
        ("maxLength", 0),
        ("pattern", "^q"),
        ("anyOf", [{"type": "null"}]),
        ("const", 5),
        ("minItems", 5),
        ("not", {}),
        ("$ref", "#/$defs/x"),
    ]
    for key, value in others:
        if rng.random() < 0.03:
            node[key] = value
    return node


def random_schema(rng: random.Random) -> dict[str, Any]:
    names = rng.sample(["a", "b", "c", "d"], rng.randint(0, 4))
    schema: dict[str, Any] = {"type": "object", "properties": {name: random_node(rng) for name in names}}
    if names and rng.random() < 0.5:
        schema["required"] = rng.sample(names, rng.randint(1, len(names)))
    if rng.random() < 0.3:
        schema["additionalProperties"] = rng.choice([True, False, {"type": "integer"}])
    keywords: list[tuple[str, Any]] = [
        ("minProperties", 3),
        ("maxProperties", 0),
        ("patternProperties", {"^z": {"type": "integer"}}),
        ("allOf", [{"required": ["zz"]}]),
        ("$defs", {"x": {"type": "integer"}}),
        ("dependentRequired", {"a": ["b"]}),
        ("$schema", "https://json-schema.org/draft/2020-12/schema"),
    ]
    if rng.random() < 0.15:
        key, value = rng.choice(keywords)
        schema[key] = value
    if rng.random() < 0.05:
        del schema["type"]
    return schema


def random_arguments(rng: random.Random, schema: dict[str, Any]) -> dict[str, Any]:
    names = [*schema.get("properties", {}), "zz"]
    return {name: rng.choice(VALUES) for name in rng.sample(names, rng.randint(0, len(names)))}


def accepted_by_jsonschema(schema: dict[str, Any], values: dict[str, Any]) -> bool:
    try:
        arguments._full_check(schema, server="s", tool="t")(values)
    except MCPInvalidArgumentsError:
        return False
    return True


def test_what_the_quick_check_vouches_for_jsonschema_accepts() -> None:
    rng = random.Random(20261202)
    vouched = agreed = 0
    for _ in range(400):
        schema = random_schema(rng)
        for _ in range(8):
            values = random_arguments(rng, schema)
            accepted = accepted_by_jsonschema(schema, values)
            if surely_valid(schema, values):
                vouched += 1
                assert accepted, (schema, values)
            agreed += not accepted
    # Not vacuous: a good share of the cases are vouched for, and many are rejected.
    assert vouched > 300
    assert agreed > 1000


PLAIN = {
    "type": "object",
    "properties": {
        "content": {"type": "string", "description": "What to store"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "importance": {"type": "number", "default": None},
        "kind": {"type": "string", "enum": ["short_term", "long_term"]},
        "limit": {"type": "integer"},
        "exact": {"type": "boolean"},
    },
    "required": ["content"],
}


@pytest.mark.parametrize(
    "values",
    [
        {"content": "hi"},
        {
            "content": "hi",
            "tags": ["a", "b"],
            "importance": None,
            "kind": "long_term",
            "limit": 3,
            "exact": True,
        },
        {"content": "", "importance": 0.5, "limit": 2**70},
    ],
)
def test_the_usual_arguments_of_a_plain_schema_are_vouched_for(values: dict[str, Any]) -> None:
    assert surely_valid(PLAIN, values)
    assert accepted_by_jsonschema(PLAIN, values)


VOUCHED: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"type": "object", "properties": {"a": {"type": "string", "nullable": True}}}, {"a": None}),
    ({"type": "object", "properties": {"a": {"type": "integer", "default": None}}}, {"a": None}),
    ({"type": "object", "properties": {"a": {"type": ["integer", "string"]}}}, {"a": "x"}),
    ({"type": "object", "properties": {"a": {"type": "null"}}}, {"a": None}),
    ({"type": "object", "properties": {"a": {"type": "object"}}}, {"a": {"k": 1}}),
    ({"type": "object", "properties": {"a": {"type": "array"}}}, {"a": [1, "x"]}),
    ({"type": "object", "properties": {"a": {"type": "number"}}}, {"a": 2}),
    ({"type": "object", "properties": {"a": {"type": "boolean"}}}, {"a": False}),
    ({"type": "object", "properties": {"a": {"enum": [True, 1, 2.5, "x", None]}}}, {"a": True}),
    ({"type": "object", "properties": {"a": {"enum": [True, 1, 2.5, "x", None]}}}, {"a": 2.5}),
    ({"type": "object", "properties": {"a": {"enum": [True, 1, 2.5, "x", None]}}}, {"a": None}),
    ({"type": "object", "properties": {"a": {"items": {"enum": ["x"]}}}}, {"a": ["x", "x"]}),
    ({"type": "object", "properties": {"a": {"format": "email", "title": "A"}}}, {"a": "not an email"}),
    ({"type": "object", "properties": {}, "additionalProperties": True}, {"extra": 1}),
    ({"properties": {"a": {"type": "string"}}, "required": ["a"]}, {"a": "x"}),
    ({"type": "object", "title": "T", "description": "D", "properties": {}}, {}),
]


@pytest.mark.parametrize(("schema", "values"), VOUCHED)
def test_each_plain_kind_of_parameter_is_vouched_for(schema: dict[str, Any], values: dict[str, Any]) -> None:
    assert accepted_by_jsonschema(schema, values)
    assert surely_valid(schema, values)


REFUSED: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"type": "object", "properties": {"a": {"enum": [[1]]}}}, {"a": [True]}),  # jsonschema: True is not 1
    ({"type": "object", "properties": {"a": {"enum": [{"k": 1}]}}}, {"a": {"k": True}}),
    ({"type": "object", "properties": {"a": {"type": "integer"}}}, {"a": 1.0}),  # never vouched an integer
    ({"type": "object", "properties": {}, "additionalProperties": {"type": "integer"}}, {"b": "x"}),
    ({"type": "object", "properties": {"a": {}}, "minProperties": 2}, {"a": 1}),
    ({"type": "object", "properties": {"a": {"type": "string", "maxLength": 1}}}, {"a": "long"}),
    ({"type": "string"}, {}),
]


@pytest.mark.parametrize(("schema", "values"), REFUSED)
def test_what_the_quick_check_does_not_fully_understand_goes_to_jsonschema(
    schema: dict[str, Any], values: dict[str, Any]
) -> None:
    assert not surely_valid(schema, values)


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({}, "content: required, not given"),
        ({"content": 5}, "content: 5 is not of type 'string'"),
        ({"content": "x", "limit": True}, "limit: True is not of type 'integer'"),
        ({"content": "x", "kind": "mid"}, "kind: 'mid' is not one of ['short_term', 'long_term']"),
        ({"content": "x", "tags": ["a", 1]}, "tags[1]: 1 is not of type 'string'"),
        ({"content": "x", "colour": "red"}, "colour: not a parameter of this tool"),
    ],
)
def test_every_problem_is_still_worded_by_jsonschema(values: dict[str, Any], problem: str) -> None:
    assert not surely_valid(PLAIN, values)
    with pytest.raises(MCPInvalidArgumentsError) as raised:
        arguments.validate(values, PLAIN, server="s", tool="store")
    assert raised.value.message == f"invalid arguments for store on 's': {problem}"


def test_a_call_with_plain_arguments_does_not_import_jsonschema() -> None:
    code = (
        "import sys, json; from gemma_mcp_cli import arguments; "
        f"arguments.build('s', 'store', {{'inputSchema': json.loads({json.dumps(json.dumps(PLAIN))})}}, "
        "{}, ['content=hi', 'limit=3', 'tags:=[\"a\"]']); "
        "print('jsonschema' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def nested_items(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        node = {"type": "array", "items": node}
    return node


BROKEN = [
    {"type": "object", "properties": {"a": nested_items(2000)}},  # past Python's recursion limit
    {"type": "object", "properties": {"a": {"$ref": "#/nowhere"}}},
    {"$ref": "http://127.0.0.1:9/never-fetched.json"},
    {"$schema": {"not": "text"}, "type": "object"},
    {
        "$schema": "http://example.com/no-such-draft",
        "type": "object",
        "properties": {"a": {"type": "string"}},
    },
    {"type": "object", "properties": {"a": {"type": "string", "pattern": "(("}}},
]


@pytest.mark.parametrize("schema", BROKEN)
def test_a_schema_jsonschema_cannot_follow_leaves_the_server_to_judge(schema: dict[str, Any]) -> None:
    # Raised before: a TypeError, a deprecation warning (an error under this suite), a referencing error.
    arguments.validate({"a": "x"}, schema, server="s", tool="t")
    assert answers.problems_of(schema, {"a": "x"}) == []
