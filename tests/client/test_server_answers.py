"""What a server answers is judged as the server's: its errors, its malformed results, its garbage."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.client.conftest import Gemma, only_error, pid_in, wait_ended
from tests.conftest import stdio_server


def faulty(write_config, tmp_path: Path, mode: str, *args: str, **keys: object) -> tuple[Path, Path]:
    """Write a config whose one server `s` is the faulty server in `mode`; return it and the pidfile."""
    pidfile = tmp_path / "server.pid"
    keys.setdefault("reconnect_delay", 0.05)
    argv = (mode, "--pidfile", str(pidfile), *args)
    config = write_config(stdio_server("s", "faulty_server.py", *argv, **keys))
    return config, pidfile


@pytest.mark.parametrize(
    ("mode", "code", "message"),
    [("error-closed", -32000, "database is locked"), ("error-timeout", -32001, "upstream timed out")],
)
def test_an_error_the_server_sent_with_the_sdks_own_codes_exits_5_once(
    gemma_process: Gemma, write_config, tmp_path: Path, mode: str, code: int, message: str
) -> None:
    starts = tmp_path / "starts"
    config, pidfile = faulty(write_config, tmp_path, mode, "--starts", str(starts))
    result = gemma_process(config, "call", "s", "peek")  # read-only: a connection error would be retried
    assert result.returncode == 5, result.stderr
    line = only_error(result.stderr)
    assert line == f"Error: server 's' rejected tools/call peek: {message} (error {code})"
    wait_ended(pid_in(pidfile))
    assert len(starts.read_text().split()) == 1  # never restarted to send it again


def test_a_result_breaking_the_schema_exits_5_naming_the_field(
    gemma_process: Gemma, write_config, tmp_path: Path
) -> None:
    config, pidfile = faulty(write_config, tmp_path, "malformed-result")
    result = gemma_process(config, "call", "s", "peek")
    assert result.returncode == 5, result.stderr
    line = only_error(result.stderr)
    assert line.startswith("Error: server 's' sent a malformed response to tools/call peek: content.0")
    assert "text" in line
    wait_ended(pid_in(pidfile))


def test_a_server_error_in_json_mode_is_the_server_kind(
    gemma_process: Gemma, write_config, tmp_path: Path
) -> None:
    config, pidfile = faulty(write_config, tmp_path, "error-closed")
    result = gemma_process(config, "call", "s", "work", "--json")
    assert result.returncode == 5
    assert '"type": "server"' in result.stderr and "database is locked" in result.stderr
    wait_ended(pid_in(pidfile))
