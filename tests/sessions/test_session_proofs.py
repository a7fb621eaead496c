"""Warm sessions, proven through the session itself: its own request counter, its own pid.

A direct connection (the fallback when no session answers) gives the same output, so output
alone cannot show that a request went through a session; the session's counter can.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import process_ended, stdio_server
from tests.waiting import wait_until

Run = Callable[..., subprocess.CompletedProcess[str]]
OBSERVING = "observing_server.py"


@pytest.fixture
def records(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def config(write_config: Callable[..., Path], tmp_path: Path) -> Path:
    def observing(name: str, *args: str, **keys: object) -> str:
        return stdio_server(name, OBSERVING, "--record", str(tmp_path / f"{name}.jsonl"), *args, **keys)

    return write_config(
        observing("obs")
        + observing("fragile", "--only-once", str(tmp_path / "fragile.started"), max_reconnect_attempts=0)
        + observing("broken", "--fail-start", max_reconnect_attempts=0)
        + stdio_server("legacy", "legacy_rag_redis.py")
    )


@pytest.fixture
def gemma(config: Path, workdir: Path) -> Iterator[Run]:
    """Run gemma-mcp as a process; stop every session the test started."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)

    yield run
    run("session", "stop", "--all")


def session(gemma: Run, server: str) -> dict[str, Any] | None:
    """Return a server's row of `session list --json`, if it has a live session."""
    listed = gemma("session", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [row for row in json.loads(listed.stdout)["sessions"] if row["server"] == server]
    return rows[0] if rows else None


def started(gemma: Run, server: str) -> dict[str, Any]:
    done = gemma("session", "start", server)
    assert done.returncode == 0, done.stderr
    row = session(gemma, server)
    assert row is not None and row["requests"] == 0
    return row


def server_pids(record: Path) -> list[int]:
    lines = record.read_text().splitlines() if record.exists() else []
    return [entry["pid"] for entry in map(json.loads, lines) if entry.get("event") == "start"]


def test_each_warm_request_moves_the_sessions_counter_by_one(gemma: Run) -> None:
    started(gemma, "obs")
    for text in ("one", "two", "three"):
        assert gemma("call", "obs", "hello").stdout == "hello\n", text
    assert gemma("tools", "list", "obs", "--json", "--refresh").returncode == 0
    row = session(gemma, "obs")
    assert row is not None and row["requests"] == 4


def test_no_session_requests_leave_the_counter_alone(gemma: Run) -> None:
    started(gemma, "obs")
    assert gemma("--no-session", "call", "obs", "hello").stdout == "hello\n"
    row = session(gemma, "obs")
    assert row is not None and row["requests"] == 0


def test_requests_through_a_warm_session_are_recorded_in_the_statistics_exactly_once(gemma: Run) -> None:
    started(gemma, "obs")
    for _ in range(3):
        assert gemma("call", "obs", "hello").returncode == 0
    row = session(gemma, "obs")
    assert row is not None and row["requests"] == 3
    stats = json.loads(gemma("stats", "obs", "--format", "json").stdout)["servers"]["obs"]
    assert stats["tools"]["hello"]["total_requests"] == 3


def test_a_session_keeps_recording_after_its_statistics_file_was_replaced(gemma: Run, tmp_path: Path) -> None:
    # The session keeps its statistics connection open: a file deleted under it (by hand, or by
    # `stats reset` recovering from a damaged one) must not swallow what it records next.
    started(gemma, "obs")
    assert gemma("call", "obs", "hello").returncode == 0
    for path in (tmp_path / "state").glob("stats.sqlite3*"):
        path.unlink()
    for _ in range(2):
        assert gemma("call", "obs", "hello").returncode == 0
    stats = json.loads(gemma("stats", "obs", "--format", "json").stdout)["servers"]["obs"]
    assert stats["tools"]["hello"]["total_requests"] == 2


def test_a_session_reconnects_its_dead_server_itself(gemma: Run, records: Path) -> None:
    before = started(gemma, "obs")
    (first,) = server_pids(records / "obs.jsonl")
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: process_ended(first), what="the killed server to end")
    assert gemma("call", "obs", "hello").stdout == "hello\n"
    after = session(gemma, "obs")
    assert after is not None and (after["pid"], after["requests"]) == (before["pid"], 1)
    pids = server_pids(records / "obs.jsonl")
    assert len(pids) == 2 and pids[0] == first  # the session started a second server process


def test_a_session_stops_when_its_server_dies_and_cannot_be_reconnected(gemma: Run, records: Path) -> None:
    started(gemma, "fragile")
    (first,) = server_pids(records / "fragile.jsonl")
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: process_ended(first), what="the killed server to end")
    failed = gemma("--retries", "0", "call", "fragile", "hello")
    assert failed.returncode == 4 and failed.stderr.startswith("Error: "), failed.stderr
    wait_until(lambda: session(gemma, "fragile") is None, what="the session to stop")


def test_session_start_on_a_server_that_cannot_start_exits_4(gemma: Run) -> None:
    result = gemma("session", "start", "broken")
    assert result.returncode == 4, result.stderr
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    assert session(gemma, "broken") is None


def _read_all(fd: int, into: bytearray) -> None:
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the other end closed
            return
        if not chunk:
            return
        into += chunk


def test_progress_through_a_session_reaches_the_callers_terminal(gemma: Run, config: Path) -> None:
    started(gemma, "obs")
    leader, follower = pty.openpty()
    screen = bytearray()
    reader = threading.Thread(target=_read_all, args=(leader, screen))
    reader.start()
    command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), "call", "obs", "progress"]
    env = os.environ | {"COLUMNS": "120", "TERM": "xterm"}
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=follower, timeout=90, check=False, env=env)
    os.close(follower)
    reader.join(timeout=30)
    os.close(leader)
    assert (done.returncode, done.stdout) == (0, b"done\n")
    assert b"step 3 of 3" in screen, bytes(screen)
    row = session(gemma, "obs")
    assert row is not None and row["requests"] == 1
