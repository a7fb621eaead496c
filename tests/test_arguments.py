"""Tool arguments from the command line: `--arg` pairs, `--args` objects, schema checks."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest

from gemma_mcp_cli import arguments
from gemma_mcp_cli.arguments import load_args_object, parse_pairs, validate
from gemma_mcp_cli.errors import MCPInvalidArgumentsError, MCPUsageError

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "count": {"type": "integer"},
        "ratio": {"type": "number"},
        "flag": {"type": "boolean"},
        "maybe": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "name": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "options": {"type": "object"},
        "untyped": {"description": "no type given"},
        "level": {"$ref": "#/$defs/Level"},
        "colour": {"$ref": "#/$defs/Colour"},
    },
    "$defs": {
        "Level": {"enum": [1, 2, 3]},
        "Colour": {"type": "string", "enum": ["red", "green"]},
    },
}

TOOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {"type": "string"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100},
        "mode": {"type": "string", "enum": ["fast", "exact"]},
    },
    "required": ["query"],
}


def check(arguments: dict[str, Any], schema: dict[str, Any] | None = TOOL_SCHEMA) -> None:
    validate(arguments, schema, server="srv", tool="search")


def problems_of(arguments: dict[str, Any], schema: dict[str, Any] = TOOL_SCHEMA) -> str:
    """Return the message of the one error validation raises."""
    with pytest.raises(MCPInvalidArgumentsError) as caught:
        check(arguments, schema)
    assert caught.value.exit_code == 7
    assert caught.value.server == "srv"
    return caught.value.message


# parse_pairs: conversion by the schema


def test_integer_and_number_keys_are_converted() -> None:
    assert parse_pairs(["count=42", "ratio=2.5"], SCHEMA) == {"count": 42, "ratio": 2.5}
    assert parse_pairs(["count=-3"], SCHEMA) == {"count": -3}


def test_an_int_looking_number_stays_an_int() -> None:
    (value,) = parse_pairs(["ratio=2"], SCHEMA).values()
    assert value == 2 and type(value) is int


def test_booleans_accept_true_false_yes_and_no() -> None:
    pairs = ["flag=true", "flag=false", "flag=yes", "flag=no", "flag=TRUE"]
    assert [parse_pairs([pair], SCHEMA)["flag"] for pair in pairs] == [True, False, True, False, True]


def test_null_becomes_none_only_for_a_nullable_key() -> None:
    assert parse_pairs(["maybe=null"], SCHEMA) == {"maybe": None}
    assert parse_pairs(["maybe=text"], SCHEMA) == {"maybe": "text"}
    assert parse_pairs(["name=null"], SCHEMA) == {"name": "null"}


def test_array_and_object_keys_take_json_text() -> None:
    parsed = parse_pairs(['tags=["a", "b"]', 'options={"deep": {"n": 1}}'], SCHEMA)
    assert parsed == {"tags": ["a", "b"], "options": {"deep": {"n": 1}}}


def test_a_string_key_keeps_text_that_looks_like_another_type() -> None:
    assert parse_pairs(["name=007"], SCHEMA) == {"name": "007"}
    assert parse_pairs(["name=true"], SCHEMA) == {"name": "true"}


def test_an_untyped_or_undeclared_key_stays_a_string() -> None:
    assert parse_pairs(["untyped=12", "other=true"], SCHEMA) == {"untyped": "12", "other": "true"}
    assert parse_pairs(["count=12"], None) == {"count": "12"}


def test_a_ref_to_defs_is_followed_for_the_type() -> None:
    assert parse_pairs(["level=2", "colour=red"], SCHEMA) == {"level": 2, "colour": "red"}


def test_a_value_that_does_not_fit_the_type_stays_text_for_validation_to_reject() -> None:
    assert parse_pairs(["count=2.5", "flag=maybe", "tags=[1,"], SCHEMA) == {
        "count": "2.5",
        "flag": "maybe",
        "tags": "[1,",
    }


def test_colon_equals_sends_parsed_json_even_for_a_string_key() -> None:
    parsed = parse_pairs(["name:=5", 'count:="x"', "tags:=null", "options:=[1, 2]"], SCHEMA)
    assert parsed == {"name": 5, "count": "x", "tags": None, "options": [1, 2]}


def test_a_pair_splits_at_the_first_equals_sign() -> None:
    assert parse_pairs(["name=b=c"], SCHEMA) == {"name": "b=c"}
    assert parse_pairs(["name=a:=b"], SCHEMA) == {"name": "a:=b"}
    assert parse_pairs(["name="], SCHEMA) == {"name": ""}


def test_later_pairs_override_earlier_ones() -> None:
    assert parse_pairs(["count=1", "count=2"], SCHEMA) == {"count": 2}


def test_colon_equals_with_bad_json_is_a_usage_error() -> None:
    with pytest.raises(MCPUsageError) as caught:
        parse_pairs(["options:={nope"], SCHEMA)
    assert caught.value.exit_code == 2
    assert "options" in caught.value.message


@pytest.mark.parametrize("pair", ["novalue", "=value", ""])
def test_a_pair_without_a_key_or_an_equals_sign_is_a_usage_error(pair: str) -> None:
    with pytest.raises(MCPUsageError) as caught:
        parse_pairs([pair], SCHEMA)
    assert caught.value.exit_code == 2
    assert "key=value" in caught.value.message


# load_args_object: --args


def test_args_from_json_text() -> None:
    assert load_args_object('{"a": 1, "b": [true]}') == {"a": 1, "b": [True]}
    assert load_args_object(None) == {}


def test_args_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "args.json"
    path.write_text('{"query": "x", "limit": 3}', encoding="utf-8")
    assert load_args_object(f"@{path}") == {"query": "x", "limit": 3}


def test_args_from_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"from": "stdin"}\n'))
    assert load_args_object("-") == {"from": "stdin"}


@pytest.mark.parametrize("text", ["[1, 2]", '"text"', "3", "null"])
def test_args_that_are_not_an_object_are_a_usage_error(text: str) -> None:
    with pytest.raises(MCPUsageError) as caught:
        load_args_object(text)
    assert caught.value.exit_code == 2
    assert "must hold a JSON object" in caught.value.message


def test_args_that_are_not_json_are_a_usage_error() -> None:
    with pytest.raises(MCPUsageError, match="not valid JSON"):
        load_args_object("{nope")


def test_args_from_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(MCPUsageError) as caught:
        load_args_object(f"@{missing}")
    assert caught.value.exit_code == 2
    assert str(missing) in caught.value.message


# validate: checks against the input schema


def test_valid_arguments_raise_nothing() -> None:
    check({"query": "x", "limit": 100, "mode": "exact"})
    check({"query": "x"})


def test_no_schema_checks_nothing() -> None:
    check({"anything": 1}, None)
    check({"anything": 1}, {})


def test_a_missing_required_key_is_named() -> None:
    message = problems_of({"limit": 5})
    assert message == "invalid arguments for search on 'srv': query: required, not given"


def test_a_wrong_type_is_named() -> None:
    assert "limit: 'five' is not of type 'integer'" in problems_of({"query": "x", "limit": "five"})


def test_a_value_outside_the_enum_is_named() -> None:
    assert "mode: 'slow' is not one of ['fast', 'exact']" in problems_of({"query": "x", "mode": "slow"})


def test_minimum_and_maximum_are_checked() -> None:
    assert "limit: 0 is less than the minimum of 1" in problems_of({"query": "x", "limit": 0})
    assert "limit: 101 is greater than the maximum of 100" in problems_of({"query": "x", "limit": 101})


def test_an_undeclared_key_is_not_a_parameter_when_extras_are_unspecified() -> None:
    message = problems_of({"query": "x", "qeury": "y"})
    assert message.endswith("qeury: not a parameter of this tool")


def test_additional_properties_false_names_the_extra_key() -> None:
    schema = {"type": "object", "properties": {"a": {}}, "additionalProperties": False}
    assert problems_of({"a": 1, "b": 2}, schema).endswith("b: not a parameter of this tool")


def test_additional_properties_true_allows_extras() -> None:
    check({"query": "x", "extra": 1}, {**TOOL_SCHEMA, "additionalProperties": True})
    check({"query": "x", "extra": 1}, {**TOOL_SCHEMA, "additionalProperties": {"type": "integer"}})


def test_every_problem_is_listed_in_one_error() -> None:
    with pytest.raises(MCPInvalidArgumentsError) as caught:
        check({"limit": "many", "mode": "slow", "bogus": True})
    error = caught.value
    assert error.exit_code == 7
    assert error.message.startswith("invalid arguments for search on 'srv': ")
    for part in (
        "query: required, not given",
        "limit: 'many' is not of type 'integer'",
        "mode: 'slow' is not one of",
        "bogus: not a parameter of this tool",
    ):
        assert part in error.message
    assert error.hint == "'gemma-mcp tools show srv search' lists its parameters"
    assert error.as_dict() == {
        "type": "invalid_arguments",
        "exit_code": 7,
        "message": error.message,
        "server": "srv",
    }


def test_a_nested_problem_names_the_path() -> None:
    schema = {
        "type": "object",
        "properties": {"filter": {"type": "object", "properties": {"year": {"type": "integer"}}}},
    }
    assert "filter.year: 'x' is not of type 'integer'" in problems_of({"filter": {"year": "x"}}, schema)


def test_a_ref_in_the_schema_is_followed_when_validating() -> None:
    schema = {
        "type": "object",
        "properties": {"colour": {"$ref": "#/$defs/Colour"}},
        "$defs": {"Colour": {"type": "string", "enum": ["red", "green"]}},
    }
    check({"colour": "red"}, schema)
    assert "colour: 'blue' is not one of ['red', 'green']" in problems_of({"colour": "blue"}, schema)


def test_an_invalid_schema_is_not_judged_by_the_client() -> None:
    check({"a": "x"}, {"type": "object", "properties": {"a": {"type": "bogus"}}})
    check({"a": "x"}, {"type": 12})


def test_nan_and_infinity_stay_text_so_the_schema_check_rejects_them() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}
    parsed = parse_pairs(["a=nan", "b=-inf"], schema)
    assert parsed == {"a": "nan", "b": "-inf"}
    with pytest.raises(MCPInvalidArgumentsError) as caught:
        validate(parsed, schema, server="s", tool="t")
    assert "a: 'nan' is not of type 'number'" in caught.value.message


def test_json_pair_without_a_key_is_a_usage_error() -> None:
    with pytest.raises(MCPUsageError, match="no key"):
        parse_pairs([":=5"], None)


@pytest.mark.parametrize(
    ("text", "types", "expected"),
    [
        ("true", ["string", "boolean"], True),
        ("yes", ["string", "boolean"], "yes"),
        ("5", ["string", "integer"], 5),
        ("007", ["string", "integer"], "007"),
        ("2.5", ["number", "string"], 2.5),
        ("[1]", ["string", "array"], [1]),
        ('{"a": 1}', ["string", "array"], '{"a": 1}'),
        ("null", ["string", "null"], None),
        ("yes", ["boolean"], True),
    ],
)
def test_a_union_with_string_tries_the_other_types_first_by_their_json_spelling(
    text: str, types: list[str], expected: object
) -> None:
    assert arguments.convert(text, types) == expected


def test_key_paths_read_as_people_write_them() -> None:
    assert arguments.key_path(["entities", 0, "entityType"]) == "entities[0].entityType"
    assert arguments.key_path([]) == ""


NULLABLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "openapi": {"type": "string", "nullable": True},
        "defaulted": {"type": "integer", "default": None},
        "plain": {"type": "string"},
    },
}


@pytest.mark.parametrize("key", ["openapi", "defaulted"])
def test_null_passes_for_a_parameter_the_schema_calls_nullable(key: str) -> None:
    arguments = parse_pairs([f"{key}:=null"], NULLABLE_SCHEMA)
    assert arguments == {key: None}
    validate(arguments, NULLABLE_SCHEMA, server="srv", tool="t")


def test_a_nullable_parameter_still_checks_its_type() -> None:
    with pytest.raises(MCPInvalidArgumentsError, match="openapi: 5 is not valid"):
        validate({"openapi": 5}, NULLABLE_SCHEMA, server="srv", tool="t")


def test_null_is_refused_for_a_parameter_that_is_not_nullable() -> None:
    with pytest.raises(MCPInvalidArgumentsError, match="plain: None is not of type 'string'"):
        validate({"plain": None}, NULLABLE_SCHEMA, server="srv", tool="t")
