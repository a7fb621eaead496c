"""A session daemon ends like a command on SIGTERM, and notices every change to its config."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gemma_mcp_cli.names import file_stem
from tests.client.conftest import log_pid, pid_in, wait_ended, wait_for
from tests.conftest import stdio_server

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and /proc")


@pytest.fixture
def daemon(workdir: Path, no_orphans: None) -> Iterator[Callable[[Path, str], subprocess.Popen[str]]]:
    """Run a session daemon in the foreground, as this test's own child (so its exit code is seen)."""
    started: list[subprocess.Popen[str]] = []

    def start(config: Path, name: str) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "gemma_mcp_cli.sessions.daemon", "--server", name]
        process = subprocess.Popen(
            [*command, "--config", str(config)], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def sessions_listed(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "state" / "sessions").glob("*.json"))


def test_sigterm_to_a_session_ends_its_server_and_the_servers_escaped_child(
    daemon, write_config, tmp_path: Path
) -> None:
    pidfile = tmp_path / "server.pid"
    config = write_config(stdio_server("s", "faulty_server.py", "spawn-escapee", "--pidfile", str(pidfile)))
    process = daemon(config, "s")
    escapee = log_pid(tmp_path / "state" / "logs" / f"{file_stem('s')}.log", "escapee")
    wait_for(lambda: bool(sessions_listed(tmp_path)))  # serving
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 143, stderr
    assert stderr == ""
    wait_ended(pid_in(pidfile))
    wait_ended(escapee)
    assert sessions_listed(tmp_path) == []


def test_a_second_sigterm_ends_a_sessions_slow_clean_up_at_once(daemon, write_config, tmp_path: Path) -> None:
    pidfile = tmp_path / "server.pid"
    config = write_config(stdio_server("s", "faulty_server.py", "ignore-term", "--pidfile", str(pidfile)))
    process = daemon(config, "s")
    wait_for(lambda: bool(sessions_listed(tmp_path)))
    process.send_signal(signal.SIGTERM)
    wait_for(lambda: sessions_listed(tmp_path) == [])  # draining: the clean-up has begun
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 143
    wait_ended(pid_in(pidfile))


def test_session_stop_ends_the_servers_escaped_child(write_config, tmp_path: Path, workdir: Path) -> None:
    config = write_config(stdio_server("s", "faulty_server.py", "spawn-escapee"))
    run = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), "session"]
    started = subprocess.run([*run, "start", "s"], capture_output=True, text=True, timeout=60, check=False)
    assert started.returncode == 0, started.stderr
    escapee = log_pid(tmp_path / "state" / "logs" / f"{file_stem('s')}.log", "escapee")
    stopped = subprocess.run([*run, "stop", "s"], capture_output=True, text=True, timeout=60, check=False)
    assert stopped.returncode == 0, stopped.stderr
    wait_ended(escapee)


def test_an_edit_that_keeps_mtime_and_size_is_noticed(write_config, tmp_path: Path, workdir: Path) -> None:
    calls = tmp_path / "calls"
    config = write_config(
        stdio_server(
            "s", "faulty_server.py", "slow", "--delay", "0", "--calls", str(calls), request_timeout=9.0
        )
    )
    run = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config)]
    try:
        started = subprocess.run(
            [*run, "session", "start", "s"], capture_output=True, timeout=60, check=False
        )
        assert started.returncode == 0
        before = config.stat()
        config.write_text(config.read_text().replace("request_timeout = 9.0", "request_timeout = 8.0"))
        os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert (config.stat().st_mtime_ns, config.stat().st_size) == (before.st_mtime_ns, before.st_size)
        result = subprocess.run([*run, "call", "s", "peek"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "peeked\n"
        wait_for(lambda: sessions_listed(tmp_path) == [])  # the session saw the change and stopped
    finally:
        subprocess.run([*run, "session", "stop", "--all"], capture_output=True, timeout=60, check=False)
