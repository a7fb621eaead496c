"""Run gemma-mcp as a real process, and read what a failure left behind."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from tests.conftest import process_ended

Gemma = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def gemma_process(workdir: Path, no_orphans: None) -> Gemma:
    """Return a function running `gemma-mcp --config CONFIG ARGS` as a process, to its end."""

    def run(config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    return run


def only_error(stderr: str) -> str:
    """Return the one `Error:` line of a failure's stderr, asserting there is nothing else but a hint."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, stderr
    assert all(line.startswith(("Error: ", "Hint: ")) for line in lines), stderr
    return errors[0]


def wait_ended(pid: int, within: float = 10) -> None:
    """Wait until a process has ended (a zombie counts), failing after `within` seconds."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        # A pidfd turns readable when its process ends: a wait on the event, not a poll.
        ready, _, _ = select.select([handle], [], [], within)
    finally:
        os.close(handle)
    assert ready or process_ended(pid), f"process {pid} is still running after {within:g}s"


def pid_in(pidfile: Path) -> int:
    """Return the pid a test server wrote at its start."""
    return int(pidfile.read_text())


def wait_for(ready: Callable[[], bool], within: float = 120) -> None:
    """Wait until `ready()` holds (a file appears, a line is written), failing after `within` seconds."""

    async def watch() -> None:
        with anyio.fail_after(within):
            while not ready():
                await anyio.sleep(0.02)

    anyio.run(watch)


def log_pid(log: Path, label: str) -> int:
    """Return the pid a test server wrote to its stderr log as `LABEL pid N`."""
    wait_for(lambda: log.exists() and f"{label} pid " in log.read_text())
    return int(log.read_text().split(f"{label} pid ")[1].split()[0])
