"""Bounded logs and no leftovers: a flooding server's log is rotated mid-run; killed runs' temporaries go."""

from __future__ import annotations

import os
import time
from pathlib import Path

from gemma_mcp_cli.client.transports.early_start import RUN_LOG_LIMIT
from gemma_mcp_cli.names import file_stem
from tests.client.conftest import Gemma, pid_in, wait_ended
from tests.conftest import stdio_server


def test_a_server_flooding_stderr_during_a_run_keeps_its_log_bounded(
    gemma_process: Gemma, write_config, tmp_path: Path
) -> None:
    pidfile = tmp_path / "server.pid"
    argv = ("flood-stderr", "--flood-mb", "48", "--pidfile", str(pidfile))
    config = write_config(stdio_server("noisy", "faulty_server.py", *argv, request_timeout=120.0))
    result = gemma_process(config, "call", "noisy", "work", timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "worked\n"
    wait_ended(pid_in(pidfile))
    logs = tmp_path / "state" / "logs"
    log, previous = logs / f"{file_stem('noisy')}.log", logs / f"{file_stem('noisy')}.log.1"
    assert previous.exists()  # it was rotated while the server ran
    assert log.stat().st_size <= RUN_LOG_LIMIT
    assert previous.stat().st_size <= RUN_LOG_LIMIT
    assert "WARN flood line" in previous.read_text()[-200:]  # what was kept is the latest


def test_a_killed_runs_temporary_files_are_removed_by_the_next_run(
    gemma_process: Gemma, write_config, tmp_path: Path
) -> None:
    config = write_config(stdio_server("good", "legacy_rag_redis.py"))
    assert gemma_process(config, "tools", "list", "good").returncode == 0
    cache = tmp_path / "cache"
    (written,) = [p for p in cache.iterdir() if p.name.startswith("good-")]
    stale = cache / f".{written.name}.k1ll3d.tmp"
    fresh = cache / f".{written.name}.wr1t1ng.tmp"  # another run's, being written now
    for temporary in (stale, fresh):
        temporary.write_bytes(b"half a document")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    result = gemma_process(config, "tools", "list", "good", "--refresh")
    assert result.returncode == 0, result.stderr
    assert not stale.exists()
    assert fresh.exists()
