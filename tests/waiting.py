"""Waiting for something another process does: on the event itself, within a bound, never a fixed time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import anyio

POLL = 0.02  # how often a condition that no event announces is looked at again
# How long to wait before calling it a failure. Only a failing test waits this long: on a 2-core
# machine running four test workers and other suites, a process start alone can take 30 s.
LIMIT = 120.0
T = TypeVar("T")


def wait_until(condition: Callable[[], bool], limit: float = LIMIT, what: str = "the condition") -> None:
    """Return as soon as `condition()` holds; fail the test if it does not within `limit` seconds."""

    async def poll() -> None:
        with anyio.fail_after(limit):
            while not condition():
                await anyio.sleep(POLL)

    try:
        anyio.run(poll)
    except TimeoutError:
        raise AssertionError(f"gave up after {limit} s waiting for {what}") from None


def wait_for_text(path: Path, text: str, limit: float = LIMIT) -> None:
    """Return once `text` appears in the file at `path` (a log another process writes)."""

    def there() -> bool:
        try:
            return text in path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False

    wait_until(there, limit, what=f"{text!r} in {path}")


def run_bounded(work: Callable[[], T], limit: float = LIMIT) -> T:
    """Run a blocking `work` in a thread and return what it returns; fail the test past `limit` seconds."""

    async def bounded() -> T:
        with anyio.fail_after(limit):
            return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)

    try:
        return anyio.run(bounded)
    except TimeoutError:
        raise AssertionError(f"gave up after {limit} s waiting for {work}") from None
