"""One server's broken configuration never breaks commands over the others."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.client.conftest import Gemma, only_error
from tests.conftest import stdio_server

BROKEN = '[typo]\ncomand = "x"\nenabled = false\n\n[nourl]\ntransport = "http"\nenabled = false\n'


@pytest.fixture
def config(write_config: Callable[..., Path]) -> Path:
    return write_config(stdio_server("good", "legacy_rag_redis.py", connection_timeout=None) + BROKEN)


@pytest.mark.parametrize("command", [("tools", "list"), ("servers", "status")])
def test_disabled_broken_servers_do_not_break_a_command_over_all_servers(
    gemma_process: Gemma, config: Path, command: tuple[str, ...]
) -> None:
    result = gemma_process(config, *command, "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert document.get("errors", []) == []
    assert "good" in result.stdout and "typo" not in result.stdout


def test_servers_list_all_shows_each_invalid_server_with_its_problem(
    gemma_process: Gemma, config: Path
) -> None:
    result = gemma_process(config, "servers", "list", "--all")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert "invalid:" not in rows["good"]
    assert "servers.typo.comand (line 5): unknown key; did you mean 'command'?" in rows["typo"]
    assert "servers.nourl.url" in rows["nourl"] and "the http transport needs a url" in rows["nourl"]
    listed = json.loads(gemma_process(config, "servers", "list", "--all", "--json").stdout)["servers"]
    assert [(s["name"], "problem" in s) for s in listed] == [("good", False), ("typo", True), ("nourl", True)]
    assert "typo" not in gemma_process(config, "servers", "list").stdout


def test_naming_a_disabled_broken_server_is_a_config_error(gemma_process: Gemma, config: Path) -> None:
    result = gemma_process(config, "tools", "list", "typo")
    assert result.returncode == 3
    expected = f"Error: server 'typo' is disabled in {config}, and its configuration is invalid"
    assert only_error(result.stderr) == expected


def test_validate_reports_disabled_servers_problems(gemma_process: Gemma, config: Path) -> None:
    result = gemma_process(config, "validate")
    assert result.returncode == 3
    assert "invalid typo (disabled)" in result.stdout and "invalid nourl (disabled)" in result.stdout
    assert only_error(result.stderr) == f"Error: 3 problems in {config}"


def test_validate_warns_of_an_unset_variable_in_a_disabled_server(gemma_process: Gemma, write_config) -> None:
    config = write_config(
        stdio_server("good", "legacy_rag_redis.py")
        + '[off]\ncommand = "x"\nargs = ["${SURELY_UNSET_VARIABLE_42}"]\nenabled = false\n'
    )
    result = gemma_process(config, "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning: " in result.stdout and "SURELY_UNSET_VARIABLE_42 is not set" in result.stdout
    assert "the server is disabled" in result.stdout
    strict = gemma_process(config, "validate", "--strict")
    assert strict.returncode == 3


def test_a_malformed_variable_reference_is_a_config_error_with_its_line(
    gemma_process: Gemma, write_config
) -> None:
    config = write_config(
        stdio_server("good", "legacy_rag_redis.py", connection_timeout=None)
        + '[bad]\ncommand = "echo"\nargs = ["${oops"]\n'
    )
    result = gemma_process(config, "validate")
    assert result.returncode == 3
    assert "servers.bad.args.0 (line 6): malformed variable reference '${oops'" in result.stdout
    call = gemma_process(config, "call", "bad", "anything")
    assert call.returncode == 3
    assert "malformed variable reference" in only_error(call.stderr)
    other = gemma_process(config, "tools", "list", "good")
    assert other.returncode == 0, other.stderr


def test_servers_add_refuses_what_is_neither_a_url_nor_a_command(gemma_process: Gemma, write_config) -> None:
    config = write_config(stdio_server("good", "legacy_rag_redis.py"))
    before = config.read_text()
    result = gemma_process(config, "servers", "add", "other", "not a url")
    assert result.returncode == 2
    assert only_error(result.stderr) == "Error: 'not a url' is neither a URL nor a command"
    assert config.read_text() == before
    spaced = gemma_process(config, "servers", "add", "other", "--", "/opt/My Tools/server", "--flag")
    assert spaced.returncode == 0, spaced.stderr  # a path with a space is a command
