"""Argument parsing at its edges: exact messages, schema type discovery, `build` end to end."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest

from gemma_mcp_cli.arguments import (
    build,
    check_prompt,
    convert,
    json_types,
    load_args_object,
    parse_pairs,
    resolve_ref,
    validate,
)
from gemma_mcp_cli.errors import MCPInvalidArgumentsError, MCPUsageError


def usage(call: Any) -> str:
    with pytest.raises(MCPUsageError) as raised:
        call()
    return raised.value.message


def test_args_from_standard_input_name_it_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("[1]"))
    assert usage(lambda: load_args_object("-")) == "--args: standard input must hold a JSON object, not list"
    assert load_args_object("-", stdin_text='{"a": 1}') == {"a": 1}
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"from": "stdin"}'))
    assert load_args_object("-", stdin_text=None) == {"from": "stdin"}


def test_args_from_a_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "args.json"
    path.write_text("7", encoding="utf-8")
    assert usage(lambda: load_args_object(f"@{path}")) == f"--args: {path} must hold a JSON object, not int"
    missing = tmp_path / "missing.json"
    assert usage(lambda: load_args_object(f"@{missing}")) == (
        f"--args: cannot read {missing}: No such file or directory"
    )


def test_args_text_is_named_as_such() -> None:
    assert usage(lambda: load_args_object('"text"')) == "--args: --args must hold a JSON object, not str"
    assert usage(lambda: load_args_object("{")).startswith("--args: --args is not valid JSON: ")


def test_bad_raw_json_says_what_json_said() -> None:
    assert usage(lambda: parse_pairs(["k:={"], None)) == (
        "--arg k:= needs JSON: Expecting property name enclosed in double quotes"
    )
    too_long = usage(lambda: parse_pairs(["k:=" + "1" * 5000], None))
    assert too_long.startswith("--arg k:= needs JSON: Exceeds the limit")


def test_a_reference_chain_is_followed_16_hops_and_no_further() -> None:
    root: dict[str, Any] = {"$defs": {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(20)}}
    root["$defs"]["d16"] = {"type": "integer"}
    assert resolve_ref({"$ref": "#/$defs/d1"}, root) == {"type": "integer"}  # 16 hops
    assert resolve_ref({"$ref": "#/$defs/d0"}, root) == {"$ref": "#/$defs/d16"}  # stopped after 16


def test_a_reference_into_nothing_is_an_empty_schema() -> None:
    assert resolve_ref({"$ref": "#/$defs/missing"}, {"$defs": {}}) == {}
    assert resolve_ref({"$ref": "#/Xs/a"}, {"Xs": {"a": {"type": "integer"}}}) == {"type": "integer"}
    assert resolve_ref({"$ref": "#/$defs/missing/deeper"}, {"$defs": {}}) == {}
    assert resolve_ref({"$ref": "#/$defs/x/y"}, {"$defs": {"x": 3}}) == {}


def schema(**prop: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"k": prop}}


@pytest.mark.parametrize(
    ("prop", "text", "value"),
    [
        ({"type": ["integer", "null"]}, "5", 5),
        ({"type": "integer", "anyOf": [{"type": "null"}]}, "null", None),  # the declared type and the options
        ({"type": "integer", "anyOf": [{"type": "null"}]}, "5", 5),
        ({"anyOf": [{"const": "007"}, {"type": "integer"}]}, "007", "007"),  # a string const makes it text
        ({"oneOf": [{"type": "integer"}, {"type": "boolean"}]}, "yes", True),
        ({"allOf": [{"type": "number"}]}, "2.5", 2.5),
        ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, "null", None),  # every option counts
        ({"const": 3}, "3", 3),
        ({"const": None}, "null", None),
        ({"const": True}, "true", True),
        ({"const": 1.5}, "1.5", 1.5),
        ({"const": [1]}, "[1]", [1]),
        ({"const": {"a": 1}}, '{"a": 1}', {"a": 1}),
        ({"const": "3"}, "3", "3"),
        ({"type": "string", "const": 3}, "3", "3"),  # a declared type wins over const
        ({"enum": [1, 2]}, "2", 2),
        ({"anyOf": [{"$ref": "#/$defs/n"}]}, "4", 4),
    ],
)
def test_types_come_from_every_part_of_the_schema(prop: dict[str, Any], text: str, value: Any) -> None:
    whole = schema(**prop) | {"$defs": {"n": {"type": "integer"}}}
    assert parse_pairs([f"k={text}"], whole) == {"k": value}


def test_a_value_of_an_unknown_python_type_counts_as_a_string() -> None:
    assert parse_pairs(["k=3"], schema(const=object())) == {"k": "3"}


@pytest.mark.parametrize(
    ("text", "types", "value"),
    [
        ("null", ["string", "null"], None),
        ("null", ["string"], "null"),
        ("x", ["null", "integer"], "x"),
        ("null", ["integer", "null"], None),
        ("abc", ["number", "boolean"], "abc"),
        ("yes", ["number", "boolean"], True),
        ("nan", ["number", "integer"], "nan"),
        ("inf", ["number", "boolean"], "inf"),
        ("[", ["array", "boolean"], "["),
        ("on", ["object", "boolean"], True),
        ("4", ["null", "number"], 4),
    ],
)
def test_conversion_tries_each_type_in_order(text: str, types: list[str], value: Any) -> None:
    assert convert(text, types) == value


def test_the_longest_readable_integer_is_read() -> None:
    longest = "9" * 4000
    assert convert(longest, ["integer"]) == int(longest)
    padded = "0" * 3999 + "1"  # as long as an integer may be, and small enough for a float
    assert convert(padded, ["number"]) == 1 and type(convert(padded, ["number"])) is int
    assert convert(longest + "9", ["integer"]) == longest + "9"


def test_every_problem_is_named_and_joined_in_order() -> None:
    whole = {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["c"],
    }
    with pytest.raises(MCPInvalidArgumentsError) as raised:
        validate({"a": "x", "b": "y"}, whole, server="srv", tool="t")
    assert raised.value.message == (
        "invalid arguments for t on 'srv': a: 'x' is not of type 'integer'; b: 'y' is not of type 'integer'; "
        "c: required, not given"
    )


def test_pattern_properties_allow_undeclared_keys() -> None:
    whole = {"type": "object", "properties": {"a": {}}, "patternProperties": {"^x": {}}}
    validate({"a": 1, "xtra": 2}, whole, server="s", tool="t")


def test_extra_keys_forbidden_by_the_schema_are_named_together() -> None:
    whole = {"type": "object", "properties": {"a": {}}, "additionalProperties": False}
    with pytest.raises(MCPInvalidArgumentsError, match=r": b, c: not a parameter of this tool$"):
        validate({"a": 1, "b": 2, "c": 3}, whole, server="s", tool="t")


def test_a_nested_problem_names_its_path_and_a_top_level_one_says_arguments() -> None:
    nested = {"type": "object", "properties": {"a": {"type": "object", "required": ["z"]}}}
    with pytest.raises(MCPInvalidArgumentsError, match=r": a\.z: required, not given$"):
        validate({"a": {}}, nested, server="s", tool="t")
    with pytest.raises(MCPInvalidArgumentsError, match=r": \(arguments\): "):
        validate({}, {"type": "object", "minProperties": 1}, server="s", tool="t")
    with pytest.raises(MCPInvalidArgumentsError) as raised:
        validate(
            {"a": {"q": 1}}, {"properties": {"a": {"additionalProperties": False}}}, server="s", tool="t"
        )
    assert raised.value.message.endswith(": a: Additional properties are not allowed ('q' was unexpected)")


def test_build_types_the_pairs_over_the_base_and_checks_the_whole() -> None:
    assert build("s", "t", {"inputSchema": schema(type="integer")}, {}, ["k=5"]) == {"k": 5}
    assert build("s", "t", {"inputSchema": schema(type="integer")}, {"k": 2}, None) == {"k": 2}
    with pytest.raises(MCPInvalidArgumentsError) as raised:
        build("srv", "tool", {"inputSchema": schema(type="integer")}, {"k": "no"}, [])
    assert raised.value.server == "srv" and "invalid arguments for tool on 'srv'" in raised.value.message
    assert build("s", "t", {}, {"any": 1}, ["k=5"]) == {"any": 1, "k": "5"}


def test_json_types_follows_references_from_the_root() -> None:
    root = {"$defs": {"n": {"type": ["integer", "null"]}, "e": {"enum": ["a", 1]}}}
    assert json_types({"$ref": "#/$defs/n"}, root) == ["integer", "null"]
    assert json_types({"anyOf": [{"$ref": "#/$defs/e"}, {"type": "boolean"}]}, root) == [
        "integer",
        "string",
        "boolean",
    ]
    assert json_types({"description": "says nothing"}, root) == []


def test_where_text_is_allowed_only_json_spellings_convert() -> None:
    assert convert("false", ["boolean", "string"]) is False
    assert convert("true", ["boolean", "string"]) is True
    assert convert("False", ["boolean", "string"]) == "False"
    assert convert('{"a": 1}', ["object", "string"]) == {"a": 1}
    assert convert("[1]", ["object", "string"]) == "[1]"
    assert convert("[1]", ["array", "string"]) == [1]


def test_a_prompts_arguments_are_checked_against_the_declared_ones() -> None:
    prompt = {
        "name": "greet",
        "arguments": [{"name": "name", "required": True}, {"name": "language"}, "junk"],
    }
    check_prompt("s", prompt, {"name": "Ada", "language": "en"})
    check_prompt("s", prompt, {"name": "Ada"})
    check_prompt("s", {"name": "bare"}, {})
    with pytest.raises(MCPInvalidArgumentsError) as raised:
        check_prompt("s", prompt, {"nmae": "Ada"})
    assert raised.value.message == (
        "invalid arguments for prompt greet on 's': name: required, not given;"
        " nmae: not an argument of this prompt; did you mean 'name'?"
    )
    assert raised.value.hint == "'gemma-mcp prompts list s' lists its arguments"
    assert raised.value.server == "s"
    with pytest.raises(MCPInvalidArgumentsError) as bare:
        check_prompt("s", {"name": "bare"}, {"x": "1"})
    assert (
        bare.value.message
        == "invalid arguments for prompt bare on 's': x: not an argument of this prompt; it has none"
    )
