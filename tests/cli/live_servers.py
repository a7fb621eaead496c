"""The live-data test server (`tests/servers/live_server.py`) in both protocol eras, as config tables."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import stdio_server


def live_tables(record: Path | None = None, *extra: str) -> str:
    """Return `[live]` (2026-07-28) and `[live-legacy]` (2025-11-25) tables, recording to `record`."""
    args = [*(("--record", str(record)) if record else ()), *extra]
    return stdio_server("live", "live_server.py", *args, request_timeout=20.0) + stdio_server(
        "live-legacy", "live_server.py", "--legacy", *args, request_timeout=20.0
    )
