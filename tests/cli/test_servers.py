"""`servers list` and `servers show`, from the file alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, stderr_json, stdout_json

TWO = '[a]\ncommand = "run-a"\nargs = ["--x"]\n[b]\nenabled = false\ntransport = "http"\nurl = "https://b.example/mcp"\n'


def test_list_with_no_config_shows_the_builtin_default(cli: Invoke) -> None:
    result = cli("servers", "list", "--json")
    assert result.exit_code == 0
    assert [s["name"] for s in stdout_json(result)["servers"]] == ["local-memory"]


def test_list_hides_disabled_servers_unless_all(cli: Invoke, write_config) -> None:
    path = str(write_config(TWO))
    assert [
        s["name"] for s in stdout_json(cli("--config", path, "servers", "list", "--json"))["servers"]
    ] == ["a"]
    every = stdout_json(cli("--config", path, "servers", "list", "--all", "--json"))["servers"]
    assert every == [
        {"name": "a", "enabled": True, "transport": "stdio", "target": "run-a --x", "description": None},
        {
            "name": "b",
            "enabled": False,
            "transport": "http",
            "target": "https://b.example/mcp",
            "description": None,
        },
    ]


def test_list_reads_the_config_from_the_environment(
    cli: Invoke, write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMMA_MCP_CONFIG", str(write_config(TWO)))
    result = cli("servers", "list")
    assert result.exit_code == 0
    assert "run-a --x" in result.stdout
    assert "local-memory" not in result.stdout


def test_show_redacts_secrets(cli: Invoke, write_config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKEN", "tok-123456")
    path = write_config(
        '[a]\ncommand = "x"\nenv = { API_TOKEN = "${API_TOKEN}", MODE = "fast", PASSWORD = "hunter2" }\n'
    )
    result = cli("--config", str(path), "servers", "show", "a", "--json")
    assert result.exit_code == 0
    assert stdout_json(result)["server"]["env"] == {"API_TOKEN": "***", "MODE": "fast", "PASSWORD": "***"}
    human = cli("--config", str(path), "servers", "show", "a")
    assert "tok-123456" not in human.stdout and "hunter2" not in human.stdout
    assert "MODE=fast" in human.stdout


def test_show_unknown_server_exits_3_with_one_line(cli: Invoke, write_config) -> None:
    result = cli("--config", str(write_config(TWO)), "servers", "show", "c")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.splitlines()[0].startswith("Error: unknown server 'c'")
    assert "Traceback" not in result.stderr


def test_show_unknown_server_with_json_writes_the_envelope(cli: Invoke, write_config) -> None:
    result = cli("--config", str(write_config(TWO)), "servers", "show", "nope", "--json")
    assert result.exit_code == 3
    error = stderr_json(result)["error"]
    assert (error["type"], error["exit_code"], error["server"]) == ("config", 3, "nope")


def test_list_on_a_broken_config_exits_3_naming_file_key_and_line(cli: Invoke, write_config) -> None:
    path = write_config('[a]\ncommand = "x"\nreconect_delay = 1\n')
    result = cli("--config", str(path), "servers", "list")
    assert result.exit_code == 3
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert (
        line
        == f"Error: {path}: servers.a.reconect_delay (line 3): unknown key; did you mean 'reconnect_delay'?"
    )


def test_missing_config_file_exits_3(cli: Invoke, tmp_path: Path) -> None:
    result = cli("--config", str(tmp_path / "missing.toml"), "servers", "list")
    assert result.exit_code == 3
    assert "does not exist" in result.stderr


def test_version_and_help(cli: Invoke) -> None:
    from gemma_mcp_cli import __version__

    assert cli("--version").stdout.strip() == f"gemma-mcp {__version__}"
    result = cli("--help")
    assert result.exit_code == 0
    assert "servers" in result.stdout and "validate" in result.stdout


def test_unknown_option_is_a_usage_error(cli: Invoke) -> None:
    assert cli("servers", "list", "--bogus").exit_code == 2
