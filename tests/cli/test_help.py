"""Help that reads like help: plain placeholders, one usage line, examples, no padding in pipes."""

from __future__ import annotations

import re

import pytest
import typer.main

from gemma_mcp_cli.cli.app import app
from gemma_mcp_cli.cli.help_style import EXAMPLES
from tests.cli.conftest import Invoke
from tests.conftest import stdio_server


def _commands() -> list[list[str]]:
    found: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            found.append(path)
        for name, sub in (subcommands or {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


COMMANDS = _commands()


def test_every_command_is_found() -> None:
    assert ["call"] in COMMANDS and ["tools", "show"] in COMMANDS and len(COMMANDS) >= 20


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_help_names_placeholders_plainly_and_ends_with_examples(cli: Invoke, words: list[str]) -> None:
    text = cli(*words, "--help").stdout
    assert not re.search(r"<(str|int|float|path|list\[[a-z]+\]|[a-z ]+range)>", text), text
    assert not re.search(r"\{[a-z_]+\}", text), text
    usage = text.splitlines()[0]
    assert usage.startswith(f"Usage: gemma-mcp {' '.join(words)} [OPTIONS]") and "[]" not in usage
    examples = text.rstrip().split("\nExamples:\n")[-1].splitlines()
    assert examples == [f"  {line}" for line in EXAMPLES[" ".join(words)]]
    assert 1 <= len(examples) <= 2 and all(line.startswith("  gemma-mcp ") for line in examples)


def test_call_help_shows_the_placeholders_users_type(cli: Invoke) -> None:
    text = cli("call", "--help").stdout
    assert text.startswith("Usage: gemma-mcp call [OPTIONS] SERVER TOOL\n")
    for shown in ("--arg KEY=VALUE", "--timeout SECONDS", "--output FILE", "--args JSON|@FILE|-"):
        assert shown in text


def test_stats_usage_is_one_sensible_line(cli: Invoke) -> None:
    usage = cli("stats", "--help").stdout.splitlines()[0]
    assert usage == "Usage: gemma-mcp stats [OPTIONS] [SERVER | reset [SERVER] | cache [SERVER]]"


def test_examples_have_no_stale_commands() -> None:
    assert set(EXAMPLES) == {" ".join(words) for words in COMMANDS}


def test_piped_output_carries_no_padding(cli: Invoke, write_config) -> None:
    config = write_config(stdio_server("content", "content_server.py"))
    result = cli("--config", str(config), "tools", "show", "content", "create_entities")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "tool         create_entities"
    assert all(line == line.rstrip() for line in lines)
    listed = cli("--config", str(config), "tools", "list")
    assert all(line == line.rstrip() for line in listed.stdout.splitlines())


def test_piped_tool_details_never_carry_raw_control_characters(cli: Invoke, write_config) -> None:
    config = write_config(stdio_server("hostile", "content_server.py", "--hostile"))
    result = cli("--config", str(config), "tools", "show", "hostile", "evil")
    assert result.exit_code == 0, result.stderr
    assert not any(c in result.stdout for c in "\x1b\x07\x9b")
    assert (
        "description  first\\x1b]0;pwned" in result.stdout and "\n             second line" in result.stdout
    )
