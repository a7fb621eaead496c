"""--config, --verbose, --retries, --transport, --header, --no-session: before or after the subcommand."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, stdout_json
from tests.cli.test_quick import TYPER, run_probe
from tests.conftest import NetworkServer, python_server, stdio_server

# Its tests share servers started once for the module: one test worker runs them all (see conftest.py).
pytestmark = pytest.mark.xdist_group("global-options")

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Start a bearer-gated Streamable HTTP server and an SSE server once; yield their URLs."""
    logs = tmp_path_factory.mktemp("logs")
    bearer = python_server("auth_server.py", "bearer", "--token", TOKEN, log=logs / "bearer.log")
    sse = python_server("sdk_server.py", "--transport", "sse", log=logs / "sse.log")
    servers: list[NetworkServer] = [bearer, sse]
    try:
        yield {
            "bearer": f"http://127.0.0.1:{bearer.port}/mcp",
            "sse": f"http://127.0.0.1:{sse.port}/sse",
        }
    finally:
        for server in servers:
            server.close()


@pytest.fixture
def legacy(write_config: Callable[..., Path]) -> str:
    return str(write_config(stdio_server("legacy", "legacy_rag_redis.py")))


def test_transport_after_the_subcommand(cli: Invoke, remote: dict[str, str]) -> None:
    listed = cli("tools", "list", remote["sse"], "--transport", "sse", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert "echo" in {t["name"] for t in stdout_json(listed)["tools"]}
    called = cli("call", remote["sse"], "echo", "--arg", "text=hi", "--transport", "sse")
    assert called.stdout == "hi\n"


def test_header_after_the_subcommand_expands_variables(
    cli: Invoke, remote: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_MCP_TOKEN", TOKEN)
    header = "Authorization: Bearer ${TEST_MCP_TOKEN}"  # the token itself never in argv
    result = cli("call", remote["bearer"], "echo", "--arg", "text=in", "--header", header)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "in\n"
    before = cli("-H", header, "tools", "list", remote["bearer"], "--json")
    assert before.exit_code == 0, before.stderr


def test_a_wrong_header_token_exits_9_and_never_echoes_it(cli: Invoke, remote: dict[str, str]) -> None:
    result = cli("call", remote["bearer"], "echo", "--arg", "text=x", "-H", "Authorization: Bearer nope-nope")
    assert result.exit_code == 9
    assert "nope-nope" not in result.stderr + result.stdout


def test_a_header_naming_an_unset_variable_is_a_usage_error(cli: Invoke, remote: dict[str, str]) -> None:
    result = cli("call", remote["bearer"], "echo", "-H", "Authorization: Bearer ${SURELY_UNSET_VAR}")
    assert result.exit_code == 2
    assert "SURELY_UNSET_VAR" in result.stderr and "not set" in result.stderr


def test_a_header_without_a_colon_is_a_usage_error(cli: Invoke, legacy: str) -> None:
    result = cli("tools", "list", "--config", legacy, "--header", "no colon here")
    assert result.exit_code == 2 and "is not 'Name: value'" in result.stderr


def test_config_and_verbose_after_the_subcommand(cli: Invoke, legacy: str) -> None:
    result = cli("call", "legacy", "get_memory_stats", "--config", legacy, "--json")
    assert result.exit_code == 0, result.stderr
    assert stdout_json(result)["server"] == "legacy"
    verbose = cli("tools", "list", "legacy", "--refresh", "-c", legacy, "--verbose")
    assert verbose.exit_code == 0 and "rag_redis_mcp_server" in verbose.stderr  # the server's own stderr


def test_after_wins_over_before(cli: Invoke, legacy: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.toml")
    assert cli("--config", missing, "servers", "list", "--config", legacy).exit_code == 0
    assert cli("--config", legacy, "servers", "list", "--config", missing).exit_code == 3


def test_retries_are_checked_in_either_place(cli: Invoke, legacy: str) -> None:
    assert cli("--retries", "-1", "tools", "list", "-c", legacy).exit_code == 2
    assert cli("tools", "list", "-c", legacy, "--retries", "-1").exit_code == 2
    assert cli("tools", "list", "-c", legacy, "--retries", "0", "--no-session").exit_code == 0


def test_connecting_options_show_in_help_only_where_they_mean_something(cli: Invoke) -> None:
    for words in (["call"], ["tools", "list"], ["prompts", "get"], ["servers", "status"]):
        text = cli(*words, "--help").stdout
        assert all(flag in text for flag in ("--transport", "--header", "--retries", "--no-session")), words
    listing = cli("servers", "list", "--help").stdout
    assert "--config" in listing and "--verbose" in listing and "--transport" not in listing
    # `servers add` keeps its own --header and --transport (for the server it writes)
    assert cli("servers", "add", "--help").exit_code == 0


def test_the_quick_call_reads_config_after_the_subcommand(legacy: str, workdir: Path) -> None:
    done = run_probe(["call", "legacy", "get_memory_stats", "--config", legacy], entry=True, roots=TYPER)
    assert json.loads(done.stdout)["total_memories"] == 0, done.stderr
    assert "HEAVY=\n" in done.stderr  # read without Typer
