"""A long result arrives whole; one past max_response_mb ends the request, naming the size."""

from __future__ import annotations

from pathlib import Path

from tests.client.conftest import Gemma, only_error, pid_in, wait_ended
from tests.conftest import stdio_server


def test_a_result_of_several_megabytes_on_one_line_arrives_whole(
    gemma_process: Gemma, write_config, tmp_path: Path
) -> None:
    pidfile = tmp_path / "server.pid"
    config = write_config(
        stdio_server("big", "faulty_server.py", "huge-result", "--size", "6", "--pidfile", str(pidfile))
    )
    result = gemma_process(config, "call", "big", "work")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "x" * (6 * 1024 * 1024) + "\n"
    wait_ended(pid_in(pidfile))


def test_a_result_past_max_response_mb_exits_4_naming_the_limit_and_the_size(
    gemma_process: Gemma, write_config, tmp_path: Path
) -> None:
    pidfile, starts = tmp_path / "server.pid", tmp_path / "starts"
    argv = ("huge-result", "--size", "3", "--pidfile", str(pidfile), "--starts", str(starts))
    config = write_config(stdio_server("big", "faulty_server.py", *argv, max_response_mb=1.5))
    result = gemma_process(config, "call", "big", "peek")  # read-only, yet not sent again
    assert result.returncode == 4, result.stderr
    line = only_error(result.stderr)
    assert line.startswith(
        "Error: server 'big' sent a message larger than max_response_mb = 1.5 during tools/call peek: "
        "stopped reading at 1."
    )
    assert line.endswith(" MB")
    assert "Hint: raise max_response_mb in [big]" in result.stderr
    assert result.stdout == ""
    wait_ended(pid_in(pidfile))
    assert len(starts.read_text().split()) == 1


def test_max_response_mb_must_be_positive(gemma_process: Gemma, write_config) -> None:
    config = write_config(stdio_server("big", "faulty_server.py", "huge-result", max_response_mb=0))
    result = gemma_process(config, "validate")
    assert result.returncode == 3
    assert "servers.big.max_response_mb" in result.stdout


def test_request_timeout_bounds_reading_an_answer_that_trickles_in(
    gemma_process: Gemma, write_config, tmp_path: Path
) -> None:
    pidfile = tmp_path / "server.pid"
    argv = ("trickle-result", "--pidfile", str(pidfile))
    config = write_config(stdio_server("slow", "faulty_server.py", *argv, request_timeout=1.0))
    result = gemma_process(config, "call", "slow", "work", timeout=30)  # the answer takes a minute
    assert result.returncode == 8, result.stderr
    assert only_error(result.stderr) == "Error: server 'slow' did not answer tools/call work within 1s"
    wait_ended(pid_in(pidfile))
