"""The live-data test server (`tests/servers/live_server.py`) in both protocol eras, as config tables."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import anyio

from tests.conftest import stdio_server

LIMIT = 60  # seconds for anything here to happen on a loaded machine


def live_tables(record: Path | None = None, *extra: str) -> str:
    """Return `[live]` (2026-07-28) and `[live-legacy]` (2025-11-25) tables, recording to `record`."""
    args = [*(("--record", str(record)) if record else ()), *extra]
    return stdio_server("live", "live_server.py", *args, request_timeout=20.0) + stdio_server(
        "live-legacy", "live_server.py", "--legacy", *args, request_timeout=20.0
    )


def events(record: Path, kind: str) -> list[dict[str, Any]]:
    """Return the server's recorded events of one kind (each server process appends to the file)."""
    lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
    return [event for event in map(json.loads, lines) if event["event"] == kind]


def interrupt_once(argv: list[str], record: Path, kind: str, signum: int, times: int = 1) -> int:
    """Run gemma-mcp; once the servers recorded `times` events of `kind`, send `signum`; return its code."""

    async def main() -> int:
        process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.PIPE
        )
        try:
            with anyio.fail_after(LIMIT):
                while len(events(record, kind)) < times:
                    assert process.poll() is None, process.communicate()
                    await anyio.sleep(0.02)
                process.send_signal(signum)
                return await anyio.to_thread.run_sync(process.wait)
        finally:
            if process.poll() is None:
                process.kill()
            process.communicate()

    return anyio.run(main)
