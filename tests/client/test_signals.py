"""SIGTERM and SIGHUP end a command as Ctrl-C does: servers, their children and escapees too."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gemma_mcp_cli.names import file_stem
from tests.client.conftest import log_pid, only_error, pid_in, wait_ended, wait_for
from tests.conftest import stdio_server

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and /proc")


def start_call(config: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), "call", "s", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def server(write_config: Callable[..., Path], tmp_path: Path, mode: str) -> Path:
    pidfile, calls = tmp_path / "server.pid", tmp_path / "calls"
    return write_config(
        stdio_server("s", "faulty_server.py", mode, "--pidfile", str(pidfile), "--calls", str(calls))
    )


@pytest.mark.parametrize(
    ("signum", "code", "line"),
    [
        (signal.SIGTERM, 143, "Error: terminated (SIGTERM)"),
        (signal.SIGHUP, 129, "Error: hung up (SIGHUP)"),
    ],
)
@pytest.mark.parametrize("mode", ["spawn-child", "spawn-escapee"])
def test_a_signal_during_a_call_stops_the_server_and_its_children(
    write_config,
    tmp_path: Path,
    workdir: Path,
    no_orphans: None,
    signum: int,
    code: int,
    line: str,
    mode: str,
) -> None:
    config = server(write_config, tmp_path, mode)
    process = start_call(config, "work", "--arg", "seconds=60")
    wait_for(lambda: (tmp_path / "calls").exists())  # the call is out
    child = log_pid(
        tmp_path / "state" / "logs" / f"{file_stem('s')}.log", "child" if mode == "spawn-child" else "escapee"
    )
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == code, stderr
    assert only_error(stderr) == line
    wait_ended(pid_in(tmp_path / "server.pid"))
    wait_ended(child)


def test_a_second_sigterm_ends_a_slow_clean_up_at_once(
    write_config, tmp_path: Path, workdir: Path, no_orphans: None
) -> None:
    config = server(write_config, tmp_path, "ignore-term")  # its clean-up takes seconds
    process = start_call(config, "work", "--arg", "seconds=60")
    wait_for(lambda: (tmp_path / "calls").exists())
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 143, stderr
    assert only_error(stderr) == "Error: terminated (SIGTERM)"
    wait_ended(pid_in(tmp_path / "server.pid"))


def test_timeout_sends_sigterm_and_nothing_is_left(write_config, tmp_path: Path, workdir: Path) -> None:
    config = server(write_config, tmp_path, "spawn-child")
    command = ["timeout", "--preserve-status", "120", sys.executable, "-m", "gemma_mcp_cli"]
    command += ["--config", str(config), "call", "s", "work", "--arg", "seconds=60"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Once the call is under way, `timeout` is told to stop: it sends its command the SIGTERM it
    # would send at its deadline (coreutils relays the signal), without a fixed wait that a
    # loaded machine could outrun before the server even started.
    wait_for(lambda: (tmp_path / "server.pid").exists(), within=120)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert only_error(stderr) == "Error: terminated (SIGTERM)"
    wait_ended(pid_in(tmp_path / "server.pid"))
    wait_ended(log_pid(tmp_path / "state" / "logs" / f"{file_stem('s')}.log", "child"))
