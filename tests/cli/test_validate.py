"""`validate`: every problem at once, with lines; exit 0 or 3."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Invoke, stderr_json, stdout_json

REPO = Path(__file__).resolve().parent.parent.parent


def test_shipped_example_is_valid(cli: Invoke) -> None:
    result = cli("validate", str(REPO / "config" / "mcp_servers.toml"))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "ok      local-memory" in result.stdout


def test_validate_reports_every_problem_with_lines(cli: Invoke, write_config) -> None:
    path = write_config('[a]\ncommand = "x"\nreconect_delay = 1\n[b]\ntransport = "sse"\nurl = "ws://h"\n')
    result = cli("validate", str(path), "--json")
    assert result.exit_code == 3
    document = stdout_json(result)
    assert document["valid"] is False
    assert document["config"] == str(path)
    by_name = {s["name"]: s for s in document["servers"]}
    assert by_name["a"]["errors"] == [
        {"field": "reconect_delay", "message": "unknown key; did you mean 'reconnect_delay'?", "line": 3}
    ]
    assert by_name["b"]["errors"][0]["field"] == "url" and by_name["b"]["errors"][0]["line"] == 6
    assert stderr_json(result)["error"]["exit_code"] == 3


def test_validate_human_output_names_file_server_key_and_line(cli: Invoke, write_config) -> None:
    path = write_config('[a]\ncommand = "x"\nenabled = 3\n')
    result = cli("validate", str(path))
    assert result.exit_code == 3
    assert f"error: {path}: servers.a.enabled (line 3):" in result.stdout
    assert "Error: 1 problem in" in result.stderr


def test_syntax_error_reports_line_and_column(cli: Invoke, write_config) -> None:
    result = cli("validate", str(write_config('[a]\ncommand = "x\n')), "--json")
    assert result.exit_code == 3
    (error,) = stdout_json(result)["errors"]
    assert error["line"] == 2 and error["column"] is not None
    assert error["message"].startswith("invalid TOML")


def test_strict_fails_on_warnings(cli: Invoke, write_config) -> None:
    path = str(write_config('[a]\ncommand = "no-such-binary-anywhere"\n'))
    assert cli("validate", path).exit_code == 0
    strict = cli("validate", path, "--strict", "--json")
    assert strict.exit_code == 3
    (server,) = stdout_json(strict)["servers"]
    assert server["valid"] is False
    assert "not found on PATH" in server["warnings"][0]["message"]


def test_validate_without_path_checks_the_builtin_default(cli: Invoke) -> None:
    result = cli("validate", "--json")
    assert result.exit_code == 0
    assert stdout_json(result)["config"] == "<built-in default>"


def test_validate_missing_file_exits_3(cli: Invoke, tmp_path: Path) -> None:
    result = cli("validate", str(tmp_path / "nope.toml"))
    assert result.exit_code == 3
    assert "does not exist" in result.stderr
