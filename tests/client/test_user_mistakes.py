"""No mistake a user can make is an internal error: each gets its own exit code and one line."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.conftest import Gemma, only_error, pid_in, wait_ended
from tests.conftest import PYTHON, NetworkServer, free_port, stdio_server


def test_a_malformed_url_on_the_command_line_is_a_config_error(gemma_process: Gemma, write_config) -> None:
    config = write_config(stdio_server("good", "legacy_rag_redis.py"))
    result = gemma_process(config, "tools", "list", "http://user:secret@[::1")
    assert result.returncode == 3
    assert only_error(result.stderr) == "Error: cannot use http://[::1: Value error, Invalid IPv6 URL"


def test_a_malformed_url_in_the_config_is_a_config_error(gemma_process: Gemma, write_config) -> None:
    config = write_config('[u]\ntransport = "http"\nurl = "http://[::1"\n')
    result = gemma_process(config, "tools", "list", "u")
    assert result.returncode == 3
    assert "Invalid IPv6 URL" in only_error(result.stderr)


def test_a_websocket_url_at_a_plain_http_server_exits_4(
    gemma_process: Gemma, write_config, tmp_path: Path
) -> None:
    port = free_port()
    argv = [PYTHON, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    server = NetworkServer(argv, port, tmp_path / "http.log")
    try:
        config = write_config(stdio_server("good", "legacy_rag_redis.py"))
        result = gemma_process(config, "tools", "list", f"ws://127.0.0.1:{port}/")
    finally:
        server.close()
    assert result.returncode == 4
    line = only_error(result.stderr)
    assert "failed the WebSocket handshake" in line and "did not receive a valid HTTP response" in line


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make a folder refuse new files, for root too (immutable), else by its mode."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)


def test_servers_add_into_a_read_only_folder_exits_3_and_changes_nothing(
    gemma_process: Gemma, tmp_path: Path
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    config = folder / "mcp_servers.toml"
    config.write_text(stdio_server("good", "legacy_rag_redis.py"))
    before = config.read_text()
    with read_only(folder):
        result = gemma_process(config, "servers", "add", "extra", "echo", "hi")
    assert result.returncode == 3
    line = only_error(result.stderr)
    assert line.startswith(f"Error: cannot write {config}: ") and line.endswith("nothing was changed")
    assert config.read_text() == before
    assert sorted(p.name for p in folder.iterdir()) == ["mcp_servers.toml"]


def test_servers_add_when_the_write_fails_midway_exits_3_and_leaves_no_temporary_file(
    workdir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "small"
    folder.mkdir()
    config = folder / "mcp_servers.toml"
    config.write_text(stdio_server("good", "legacy_rag_redis.py"))
    before = config.read_text()

    def small_disk() -> None:  # writes past this many bytes fail, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (len(before) + 8, len(before) + 8))

    command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), "servers", "add", "extra"]
    command += ["echo", "hi"]
    result = subprocess.run(command, capture_output=True, text=True, preexec_fn=small_disk, check=False)
    assert result.returncode == 3
    assert only_error(result.stderr).startswith(f"Error: cannot write {config}: File too large")
    assert config.read_text() == before
    assert sorted(p.name for p in folder.iterdir()) == ["mcp_servers.toml"]


def test_a_blob_that_is_not_base64_exits_5(gemma_process: Gemma, write_config, tmp_path: Path) -> None:
    pidfile = tmp_path / "server.pid"
    config = write_config(stdio_server("s", "faulty_server.py", "bad-blob", "--pidfile", str(pidfile)))
    output = tmp_path / "out.png"
    for extra in (("--output", str(output)), ("--json",)):
        result = gemma_process(config, "resources", "read", "s", "img://one", *extra)
        assert result.returncode == 5, result.stderr
        message = "server 's' sent resource img://one with a blob that is not valid base64"
        if "--json" in extra:
            assert json.loads(result.stderr)["error"]["message"] == message
        else:
            assert only_error(result.stderr) == f"Error: {message}"
        wait_ended(pid_in(pidfile))
    assert not output.exists()


def test_a_server_name_with_a_control_character_is_a_config_error_that_spares_the_others(
    gemma_process: Gemma, write_config
) -> None:
    config = write_config('["a\\u0000b"]\ncommand = "echo"\n\n' + stdio_server("good", "legacy_rag_redis.py"))
    result = gemma_process(config, "validate")
    assert result.returncode == 3
    assert "server name 'a\\x00b' may hold only letters, digits, '.', '_' and '-'" in result.stdout
    assert "\0" not in result.stdout + result.stderr
    result = gemma_process(config, "tools", "list", "good")
    assert result.returncode == 0, result.stderr
    assert "store_memory" in result.stdout


def test_a_server_name_shaped_like_a_path_never_becomes_one(
    gemma_process: Gemma, write_config, tmp_path: Path
) -> None:
    config = write_config(
        stdio_server("../../escaped", "legacy_rag_redis.py").replace("[../../escaped]", '["../../escaped"]')
    )
    result = gemma_process(config, "tools", "list", "../../escaped")
    assert result.returncode == 3, result.stderr
    assert "call it 'escaped'" in result.stderr
    assert not list(tmp_path.rglob("*escaped*.log"))
    assert not list(tmp_path.glob("escaped*"))


@pytest.fixture
def corrupt_stats(tmp_path: Path) -> Path:
    database = tmp_path / "state" / "stats.sqlite3"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"this is not a database, only bytes " * 200)
    return database


def test_a_corrupt_stats_database_exits_3_and_stats_reset_recreates_it(
    gemma_process: Gemma, write_config, corrupt_stats: Path
) -> None:
    config = write_config(stdio_server("good", "legacy_rag_redis.py"))
    result = gemma_process(config, "stats")
    assert result.returncode == 3
    assert only_error(result.stderr) == (
        f"Error: cannot use the statistics database {corrupt_stats}: file is not a database"
    )
    assert "Hint: run 'gemma-mcp stats reset' to start it afresh" in result.stderr
    one = gemma_process(config, "stats", "reset", "good")
    assert one.returncode == 3 and "(every server)" in one.stderr
    reset = gemma_process(config, "stats", "reset")
    assert reset.returncode == 0, reset.stderr
    call = gemma_process(config, "call", "good", "get_memory_stats")
    assert call.returncode == 0, call.stderr
    shown = gemma_process(config, "stats", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["servers"]["good"]["total_requests"] >= 1
