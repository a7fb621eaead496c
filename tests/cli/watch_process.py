"""A `... --watch` or `resources watch` run as a process, its stdout read a line at a time."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

LIMIT = 60  # seconds for anything here to happen on a loaded machine


class Watch:
    """A running watch: read its lines, interrupt it, collect how it ended."""

    def __init__(self, process: Process) -> None:
        assert process.stdout is not None and process.stderr is not None
        self.process = process
        self._lines = BufferedByteReceiveStream(process.stdout)
        self.seen: list[str] = []

    async def line(self) -> str:
        """Return the next line on stdout (failing the test if none comes in time)."""
        with anyio.fail_after(LIMIT):
            line = (await self._lines.receive_until(b"\n", 1 << 24)).decode()
        self.seen.append(line)
        return line

    async def document(self) -> dict[str, Any]:
        """Return the next JSON line as a document."""
        found = json.loads(await self.line())
        assert isinstance(found, dict)
        return found

    def interrupt(self) -> None:
        """Press Ctrl-C."""
        self.process.send_signal(signal.SIGINT)

    async def ended(self) -> tuple[int, list[str], str]:
        """Wait for the exit; return the code, every stdout line, and stderr."""
        with anyio.fail_after(LIMIT):
            rest = b""
            while True:
                try:
                    rest += await self._lines.receive()
                except (anyio.EndOfStream, anyio.ClosedResourceError):
                    break
            stderr = b""
            assert self.process.stderr is not None
            async for chunk in self.process.stderr:
                stderr += chunk
            code = await self.process.wait()
        self.seen += rest.decode().splitlines()
        return code, self.seen, stderr.decode()


@asynccontextmanager
async def watching(config: Path, *args: str) -> AsyncIterator[Watch]:
    """Run `gemma-mcp --config CONFIG ARGS` as a process; kill it if the test leaves early."""
    argv: Sequence[str] = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), *args]
    process = await anyio.open_process(list(argv))
    try:
        yield Watch(process)
    finally:
        if process.returncode is None:
            process.kill()
            with anyio.move_on_after(LIMIT, shield=True):
                await process.wait()
        await process.aclose()


def write_lists(path: Path, **names: list[str]) -> None:
    """Give the changing server new lists (it announces the kinds whose names changed)."""
    draft = path.with_suffix(".draft")
    draft.write_text(json.dumps(names), encoding="utf-8")
    draft.replace(path)  # whole at once: the server never reads half a file


def records(path: Path, event: str) -> list[dict[str, Any]]:
    """Return what a test server recorded of one kind of event."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [entry for entry in map(json.loads, lines) if entry.get("event") == event]
