"""Misbehaving servers: each fault ends in the right exit code, one line, bounded time, no process left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gemma_mcp_cli.names import file_stem
from tests.client.conftest import Gemma
from tests.conftest import process_ended, stdio_server
from tests.servers.faulty_server import CALL_STARTED_LINE, IGNORED_TERM_LINE
from tests.waiting import wait_for_text, wait_until

Run = Gemma


@pytest.fixture
def gemma(gemma_process: Gemma) -> Gemma:
    """Run gemma-mcp as a real process (signals, process groups and timing are real)."""
    return gemma_process


def gone(pidfile: Path) -> bool:
    try:
        os.kill(int(pidfile.read_text()), 0)
    except ProcessLookupError:
        return True
    return False


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


def test_exit_before_handshake_is_retried_then_exits_4_with_stderr(gemma: Run, write_config) -> None:
    config = write_config(
        stdio_server(
            "early", "faulty_server.py", "exit-early", max_reconnect_attempts=2, reconnect_delay=0.05
        )
    )
    result = gemma(config, "call", "early", "work")
    assert result.returncode == 4
    (line,) = error_lines(result.stderr)
    assert "server 'early'" in line and "fatal: cannot open database" in line and "(after 3 attempts)" in line


def test_retries_stop_at_the_connection_timeout(gemma: Run, write_config) -> None:
    config = write_config(
        stdio_server("early", "faulty_server.py", "exit-early", reconnect_delay=2.0, connection_timeout=1.0)
    )
    result = gemma(config, "call", "early", "work")
    assert result.returncode == 4
    assert "attempts" not in result.stderr  # the first backoff would already pass the 1 s budget


def test_server_that_never_answers_initialize_exits_8_within_its_timeout(gemma: Run, write_config) -> None:
    config = write_config(stdio_server("silent", "faulty_server.py", "no-init", connection_timeout=1.0))
    result = gemma(config, "tools", "list", "silent")
    assert result.returncode == 8
    assert error_lines(result.stderr) == [
        "Error: server 'silent' did not finish start-up and handshake within 1s"
    ]


def test_crash_in_a_call_is_not_retried_for_an_unsafe_tool(gemma: Run, write_config, tmp_path: Path) -> None:
    once = tmp_path / "crashed"
    config = write_config(
        stdio_server(
            "crashy", "faulty_server.py", "crash-mid-call", "--once", str(once), reconnect_delay=0.05
        )
    )
    result = gemma(config, "call", "crashy", "work")
    assert result.returncode == 4
    (line,) = error_lines(result.stderr)
    assert "panicked at src/main.rs:42" in line
    assert "not retried: work is not marked read-only or idempotent" in line


def test_crash_in_a_call_is_retried_for_a_read_only_tool(gemma: Run, write_config, tmp_path: Path) -> None:
    once = tmp_path / "crashed"
    config = write_config(
        stdio_server(
            "crashy", "faulty_server.py", "crash-mid-call", "--once", str(once), reconnect_delay=0.05
        )
    )
    result = gemma(config, "call", "crashy", "peek")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "peeked\n"
    assert once.exists()


def test_non_json_on_stdout_exits_4_at_once_naming_it(gemma: Run, write_config, tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    # The request would wait out its timeout for an answer that came garbled: it ends at once.
    config = write_config(
        stdio_server("garbage", "faulty_server.py", "garbage", "--starts", str(starts), request_timeout=600.0)
    )
    result = gemma(config, "call", "garbage", "peek", timeout=60)
    assert result.returncode == 4
    (line,) = error_lines(result.stderr)
    assert line == (
        "Error: server 'garbage' wrote non-JSON-RPC to stdout: 'this is not json' during tools/call peek"
    )
    assert "Traceback" not in result.stderr
    assert len(starts.read_text().split()) == 1  # read-only, yet not restarted: it would do it again


def test_json_nested_past_the_decoder_exits_4_at_once(gemma: Run, write_config) -> None:
    config = write_config(stdio_server("deep", "faulty_server.py", "deep-result", request_timeout=600.0))
    result = gemma(config, "call", "deep", "peek", timeout=60)
    assert result.returncode == 4
    (line,) = error_lines(result.stderr)
    assert "sent JSON nested deeper than the decoder allows" in line
    assert "[[[" not in result.stderr


def test_answer_after_request_timeout_exits_8(gemma: Run, write_config) -> None:
    config = write_config(
        stdio_server("slow", "faulty_server.py", "slow", "--delay", "30", request_timeout=1.0)
    )
    result = gemma(config, "call", "slow", "work")
    assert result.returncode == 8


def test_server_ignoring_eof_and_sigterm_is_killed(gemma: Run, write_config, tmp_path: Path) -> None:
    pidfile = tmp_path / "server.pid"
    config = write_config(
        stdio_server("stubborn", "faulty_server.py", "ignore-term", "--pidfile", str(pidfile))
    )
    result = gemma(config, "call", "stubborn", "work")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "worked\n"
    assert gone(pidfile)


def test_server_flooding_stderr_still_answers(gemma: Run, write_config, tmp_path: Path) -> None:
    config = write_config(stdio_server("noisy", "faulty_server.py", "flood-stderr"))
    result = gemma(config, "call", "noisy", "work")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "worked\n"
    assert (tmp_path / "state" / "logs" / f"{file_stem('noisy')}.log").stat().st_size > 5_000_000


def test_a_servers_own_children_are_ended_too(gemma: Run, write_config, tmp_path: Path) -> None:
    config = write_config(stdio_server("parent", "faulty_server.py", "spawn-child"))
    result = gemma(config, "call", "parent", "work")
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "state" / "logs" / f"{file_stem('parent')}.log").read_text()
    child = int(log.split("child pid ")[1].split()[0])
    wait_until(lambda: process_ended(child), what="the server's child to end")


def test_ctrl_c_during_a_call_exits_130_and_leaves_nothing(
    write_config, tmp_path: Path, workdir: Path
) -> None:
    pidfile = tmp_path / "server.pid"
    config = write_config(stdio_server("slow", "faulty_server.py", "slow", "--pidfile", str(pidfile)))
    command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), "call", "slow", "work"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "state" / "logs" / f"{file_stem('slow')}.log"
    wait_for_text(log, CALL_STARTED_LINE)  # the call is out
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "Error: interrupted" in stderr and "Traceback" not in stderr
    assert gone(pidfile)


def test_a_second_ctrl_c_ends_the_clean_up_at_once_and_leaves_nothing(
    write_config, tmp_path: Path, workdir: Path, no_orphans: None
) -> None:
    pidfile = tmp_path / "server.pid"
    # A server that ignores SIGTERM makes the clean-up after the first Ctrl-C take seconds.
    config = write_config(
        stdio_server("stubborn", "faulty_server.py", "ignore-term", "--pidfile", str(pidfile))
    )
    command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config)]
    command += ["call", "stubborn", "work", "--arg", "seconds=30"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "state" / "logs" / f"{file_stem('stubborn')}.log"
    wait_for_text(log, CALL_STARTED_LINE)  # the call is out
    process.send_signal(signal.SIGINT)
    wait_for_text(log, IGNORED_TERM_LINE)  # the clean-up has sent SIGTERM and waits for the server
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["Error: interrupted"]
    pid = int(pidfile.read_text())
    wait_until(lambda: process_ended(pid), what="the server to end with the command")
