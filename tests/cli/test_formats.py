"""--format table|json|jsonl|yaml wherever --json is, and --fields for the columns of a listing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from gemma_mcp_cli.cli import yaml_text
from tests.cli.conftest import Invoke, stdout_json
from tests.conftest import stdio_server
from tests.servers.content_server import FILE_TEXT


@pytest.fixture
def run(cli: Invoke, write_config: Callable[..., Path]) -> Invoke:
    config = write_config(
        stdio_server("content", "content_server.py", description="text, structured, media")
        + '[missing]\ncommand = "surely-not-installed-here"\n'
        + '[off]\ncommand = "x"\nenabled = false\n'
    )
    return lambda *args, **kw: cli("--config", str(config), *args, **kw)


def test_yaml_is_the_same_document_as_json(run: Invoke) -> None:
    as_json = stdout_json(run("tools", "list", "content", "--json"))
    as_yaml = run("tools", "list", "content", "--format", "yaml")
    assert as_yaml.exit_code == 0, as_yaml.stderr
    assert yaml.safe_load(as_yaml.stdout) == as_json
    called = run("call", "content", "read_text_file", "--arg", "path=a", "--format", "yaml")
    assert yaml.safe_load(called.stdout)["result"]["structuredContent"] == {"content": FILE_TEXT}


def test_json_format_equals_the_json_flag(run: Invoke) -> None:
    assert run("servers", "list", "--format", "json").stdout == run("servers", "list", "--json").stdout


def test_table_format_is_the_default_output(run: Invoke) -> None:
    assert run("servers", "list", "--format", "table").stdout == run("servers", "list").stdout


def test_jsonl_writes_one_item_a_line_and_failures_to_stderr(run: Invoke) -> None:
    result = run("tools", "list", "--format", "jsonl")
    assert result.exit_code == 4  # `missing` cannot start
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and all(item["server"] == "content" for item in lines)
    assert "read_text_file" in {item["name"] for item in lines}
    (envelope,) = [json.loads(line) for line in result.stderr.splitlines()]
    assert envelope["error"]["server"] == "missing" and envelope["error"]["exit_code"] == 4


def test_jsonl_of_a_single_answer_is_one_line(run: Invoke) -> None:
    result = run("call", "content", "structured_only", "--format", "jsonl")
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["result"]["structuredContent"] == {"answer": 42, "items": ["a", "b"]}


def test_json_and_another_format_disagree(run: Invoke) -> None:
    result = run("servers", "list", "--json", "--format", "yaml")
    assert result.exit_code == 2 and "disagree" in result.stderr
    assert run("servers", "list", "--format", "xml").exit_code == 2


def test_stats_takes_yaml_and_jsonl_too(run: Invoke) -> None:
    assert run("call", "content", "structured_only").exit_code == 0
    document = yaml.safe_load(run("stats", "--format", "yaml").stdout)
    assert document["servers"]["content"]["total_requests"] >= 1


def test_every_command_with_json_takes_format(cli: Invoke) -> None:
    for words in (["call"], ["tools", "show"], ["resources", "read"], ["validate"], ["session", "list"]):
        assert "--format [table|json|jsonl|yaml]" in cli(*words, "--help").stdout, words


def test_fields_choose_the_columns_of_a_table(run: Invoke) -> None:
    result = run("tools", "list", "content", "--fields", "name,server")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "SERVER"] and lines[1].split() == ["read_text_file", "content"]


def test_fields_choose_the_keys_of_each_item(run: Invoke) -> None:
    document = stdout_json(run("servers", "list", "--all", "--fields", "name,enabled", "--json"))
    assert document["servers"] == [
        {"name": "content", "enabled": True},
        {"name": "missing", "enabled": True},
        {"name": "off", "enabled": False},
    ]
    lines = run("tools", "list", "content", "--fields", "name", "--format", "jsonl").stdout.splitlines()
    assert json.loads(lines[0]) == {"name": "read_text_file"}


def test_nested_fields_print_as_compact_json_in_a_table(run: Invoke) -> None:
    result = run("tools", "list", "content", "--fields", "name,inputSchema")
    row = next(line for line in result.stdout.splitlines() if line.startswith("read_text_file"))
    assert '{"type": "object", "properties": {"path": {"type": "string"}}' in row


def test_an_unknown_field_is_a_usage_error_with_a_suggestion(run: Invoke) -> None:
    result = run("tools", "list", "content", "--fields", "name,descripton")
    assert result.exit_code == 2
    assert "no field 'descripton'; did you mean 'description'?" in result.stderr
    assert run("servers", "list", "--fields", " , ").exit_code == 2


@pytest.mark.parametrize(
    "value",
    [
        {"s": "line one\nline two\n", "t": "true", "u": "007", "v": "a: b", "w": "# no", "x": "-", "y": ""},
        {"hostile": "\x1b[31mred\u202e\x85\x7f\u2028", "key: with colon": [1, [2, []], {}], "n": None},
        {"numbers": [0, -1, 1.5, 1e300, True, False], "nested": [{"a": [{"b": {}}]}], "unicode": "é ✓"},
    ],
)
def test_the_yaml_emitter_round_trips_through_a_real_parser(value: dict[str, object]) -> None:
    assert yaml.safe_load(yaml_text.dumps(value)) == value


def test_yaml_never_writes_a_raw_control_character() -> None:
    text = yaml_text.dumps({"x": "\x1b]0;title\x07\x9b"})
    assert not any(ord(c) < 32 and c != "\n" for c in text) and "\x9b" not in text
