"""Attacks on the released program: a real subprocess, against real (hostile) servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PYTHON, SERVERS, NetworkServer, python_server

Gemma = Callable[..., subprocess.CompletedProcess[str]]


def hostile_table(name: str, marker: Path, *extra: str) -> str:
    """Return a TOML table that starts the hostile server, which records each start and call in `marker`."""
    argv = [str(SERVERS / "hostile_server.py"), "--marker", str(marker), *extra]
    return f"[{name}]\ncommand = {json.dumps(PYTHON)}\nargs = {json.dumps(argv)}\n"


@pytest.fixture
def gemma(workdir: Path) -> Gemma:
    """Return a function that runs the installed program (its real entry point) in `workdir`."""

    def run(
        *args: str, cwd: Path | None = None, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "gemma_mcp_cli", *args]
        return subprocess.run(
            command,
            cwd=cwd or workdir,
            capture_output=True,
            text=True,
            input=input,
            timeout=60,
            check=False,
            env=dict(os.environ),
        )

    return run


def marks(marker: Path) -> list[str]:
    """Return what the hostile server recorded: one line per start and per call."""
    return marker.read_text(encoding="utf-8").splitlines() if marker.exists() else []


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[NetworkServer, Path]]:
    """Start the recording HTTP server; yield it and the file where it records each request."""
    record = tmp_path / "requests.jsonl"
    server = python_server("hostile_http_server.py", "--record", str(record), log=tmp_path / "http.log")
    try:
        yield server, record
    finally:
        server.close()


def requests_seen(record: Path) -> list[dict[str, Any]]:
    """Return every request the HTTP server recorded."""
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
