"""Cancellation: Ctrl-C and a request timeout send `notifications/cancelled` for every request in flight."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from tests.cli.conftest import Invoke
from tests.cli.live_servers import LIMIT, events, interrupt_once, live_tables
from tests.conftest import PYTHON, SERVERS, NetworkServer, free_port


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return tmp_path / "record.jsonl"


@pytest.fixture
def config(write_config: Callable[..., Path], record: Path) -> Path:
    return write_config(live_tables(record))


def interrupt_once_started(argv: list[str], record: Path, started: int, signum: int) -> int:
    """Run gemma-mcp; once the servers report `started` sleepy runs, send `signum`; return its exit code."""
    return interrupt_once(argv, record, "sleepy_started", signum, started)


def told_to_cancel(record: Path) -> list[str]:
    """The ids of the runs a `notifications/cancelled` from the client ended (not the server's exit)."""
    return [e["requestId"] for e in events(record, "sleepy_cancelled") if e["told"]]


def gemma(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), *args]


@pytest.mark.parametrize(
    ("server", "signum", "code"),
    [
        ("live", signal.SIGINT, 130),
        ("live-legacy", signal.SIGINT, 130),
        ("live", signal.SIGTERM, 143),
        ("live-legacy", signal.SIGTERM, 143),
    ],
)
def test_ctrl_c_or_sigterm_during_a_call_tells_the_server_to_cancel_it(
    config: Path, record: Path, server: str, signum: int, code: int
) -> None:
    argv = gemma(config, "call", server, "sleepy", "--arg", "seconds=60")
    assert interrupt_once_started(argv, record, 1, signum) == code
    (run,) = events(record, "sleepy_started")
    assert told_to_cancel(record) == [run["requestId"]]


def test_ctrl_c_during_a_batch_cancels_every_request_in_flight(
    config: Path, record: Path, tmp_path: Path
) -> None:
    requests = tmp_path / "requests.jsonl"
    lines = [
        {"server": server, "tool": "sleepy", "arguments": {"seconds": 60}, "id": str(n)}
        for n, server in enumerate(["live", "live", "live-legacy"])
    ]
    requests.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    argv = gemma(config, "batch", str(requests))
    assert interrupt_once_started(argv, record, 3, signal.SIGINT) == 130
    assert sorted(told_to_cancel(record)) == sorted(e["requestId"] for e in events(record, "sleepy_started"))


def test_a_request_timeout_tells_the_server_to_cancel_it(cli: Invoke, config: Path, record: Path) -> None:
    result = cli("--config", str(config), "call", "live", "sleepy", "--arg", "seconds=60", "--timeout", "1")
    assert result.exit_code == 8, result.stderr
    (run,) = events(record, "sleepy_started")
    assert told_to_cancel(record) == [run["requestId"]]


def test_a_call_that_finishes_sends_no_cancellation(cli: Invoke, config: Path, record: Path) -> None:
    result = cli("--config", str(config), "call", "live", "sleepy", "--arg", "seconds=0.1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "slept 0.1s"
    assert events(record, "cancelled") == []


def test_a_timed_out_call_over_http_is_cancelled_on_the_server(
    cli: Invoke, write_config: Callable[..., Path], record: Path, tmp_path: Path
) -> None:
    # On 2026-07-28 Streamable HTTP the SDK aborts the request's POST instead of notifying.
    port = free_port()
    argv = [PYTHON, str(SERVERS / "live_server.py"), "--http", str(port), "--record", str(record)]
    server = NetworkServer(argv, port, tmp_path / "http.log")
    try:
        config = write_config(f'[web]\ntransport = "http"\nurl = "http://127.0.0.1:{port}/mcp"\n')
        result = cli(
            "--config", str(config), "call", "web", "sleepy", "--arg", "seconds=60", "--timeout", "1"
        )
        assert result.exit_code == 8, result.stderr

        async def cancelled_run() -> None:
            with anyio.fail_after(LIMIT):  # the server sees the cancel after the client has gone
                while not events(record, "sleepy_cancelled"):
                    await anyio.sleep(0.02)

        anyio.run(cancelled_run)
    finally:
        server.close()
    (run,) = events(record, "sleepy_started")
    assert [e["requestId"] for e in events(record, "sleepy_cancelled")] == [run["requestId"]]


def test_a_background_job_keeps_ignoring_ctrl_c_and_still_cancels_on_sigterm(
    config: Path, record: Path
) -> None:
    # A script's `gemma-mcp ... &` starts with SIGINT ignored; `trap '' INT` makes the same start here.
    argv = ["bash", "-c", 'trap "" INT; exec "$@"', "bash", *gemma(config, "call", "live", "sleepy")]

    async def main() -> int:
        process = subprocess.Popen(
            [*argv, "--arg", "seconds=60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            with anyio.fail_after(LIMIT):
                while not events(record, "sleepy_started"):
                    assert process.poll() is None, process.communicate()
                    await anyio.sleep(0.02)
                # Had the Ctrl-C counted, the command would end as interrupted (130), not 143.
                process.send_signal(signal.SIGINT)
                process.send_signal(signal.SIGTERM)
                while process.poll() is None:
                    await anyio.sleep(0.02)
            return process.returncode
        finally:
            if process.poll() is None:
                process.kill()
            process.communicate()

    assert anyio.run(main) == 143
    (run,) = events(record, "sleepy_started")
    assert told_to_cancel(record) == [run["requestId"]]
