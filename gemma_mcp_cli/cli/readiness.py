"""Wait until servers answer: a handshake and a listing, retried with backoff and jitter."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import anyio

from gemma_mcp_cli.cli.connect import open_manager
from gemma_mcp_cli.cli.invocation import Invocation, state
from gemma_mcp_cli.errors import MCPAuthError, MCPConfigError, MCPError, MCPTimeoutError, program

if TYPE_CHECKING:
    from gemma_mcp_cli.cli.routing import RoutedManager
    from gemma_mcp_cli.config.loader import LoadedConfig

_FINAL = (MCPAuthError, MCPConfigError)  # waiting longer cannot change these answers
_MAX_PAUSE = 2.0  # seconds: a server that comes up is seen within about this long


@dataclass
class Readiness:
    """Where one server stands: ready (with what it said), or the last error it gave."""

    name: str
    attempts: int = 0
    ready: bool = False
    waited_ms: float | None = None
    described: dict[str, Any] | None = None
    error: MCPError | None = None
    final: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Return the entry of `wait --json`."""
        info = self.described or {}
        return {
            "name": self.name,
            "ready": self.ready,
            "attempts": self.attempts,
            "waited_ms": self.waited_ms,
            "protocolVersion": info.get("protocolVersion"),
            "serverInfo": info.get("serverInfo"),
            "error": None if self.ready or self.error is None else self.error.as_dict(),
        }


def pause(interval: float, attempt: int, rng: random.Random | None = None) -> float:
    """Return the wait after failed attempt `attempt`: growing from `interval`, capped, half jittered."""
    delay = min(interval * 1.5 ** (attempt - 1), max(interval, _MAX_PAUSE))
    return (rng or random).uniform(delay / 2, delay)


async def wait_for(
    invocation: Invocation,
    loaded: LoadedConfig,
    names: list[str],
    *,
    timeout: float,
    interval: float,
    on_ready: Callable[[Readiness], None],
    on_retry: Callable[[Readiness], None],
) -> list[Readiness]:
    """Try every server until it answers or the deadline passes; return each one's standing."""
    began = time.perf_counter()
    deadline = anyio.current_time() + timeout
    found = {name: Readiness(name) for name in names}
    # One attempt is one connection: our own backoff, not the pool's retries.
    options = replace(state(invocation), retries=0)
    async with open_manager(options, loaded, sessions=False) as manager, anyio.create_task_group() as tg:
        for entry in found.values():
            tg.start_soon(_wait_one, manager, entry, deadline, interval, began, on_ready, on_retry)
    return list(found.values())


async def _wait_one(
    manager: RoutedManager,
    entry: Readiness,
    deadline: float,
    interval: float,
    began: float,
    on_ready: Callable[[Readiness], None],
    on_retry: Callable[[Readiness], None],
) -> None:
    while True:
        entry.attempts += 1
        with anyio.move_on_after(max(deadline - anyio.current_time(), 0)) as attempt:
            try:
                entry.described = await _answer(manager, entry.name)
            except MCPError as error:
                entry.error, entry.final = error, isinstance(error, _FINAL)
            else:
                entry.ready, entry.waited_ms = True, round((time.perf_counter() - began) * 1000, 1)
                on_ready(entry)
                return
        if attempt.cancelled_caught and entry.error is None:
            entry.error = MCPTimeoutError(
                f"no answer within the time left for '{entry.name}'", server=entry.name
            )
        if entry.final or anyio.current_time() >= deadline:
            return
        await manager.disconnect(entry.name)
        on_retry(entry)
        await anyio.sleep(min(pause(interval, entry.attempts), max(deadline - anyio.current_time(), 0)))


async def _answer(manager: RoutedManager, name: str) -> dict[str, Any]:
    """Complete a handshake and one listing the server offers (a ping, if it offers none)."""
    described = await manager.describe(name)
    capabilities = described.get("capabilities") or {}
    if "tools" in capabilities:
        await manager.list_tools(name)
    elif "resources" in capabilities:
        await manager.list_resources(name)
    elif "prompts" in capabilities:
        await manager.list_prompts(name)
    else:
        await manager.health_check(name)
    return described


def not_ready(entries: list[Readiness], timeout: float) -> MCPError | None:
    """Return the failure to exit with: a final answer, else the deadline naming each last error."""
    final = next((e.error for e in entries if e.final and e.error is not None), None)
    if final is not None:
        return final
    waiting = [e for e in entries if not e.ready]
    if not waiting:
        return None
    reasons = "; ".join(f"{e.name} ({e.error.message if e.error else 'no answer'})" for e in waiting)
    return MCPTimeoutError(
        f"not ready after {timeout:g} s: {reasons}",
        server=waiting[0].name,
        hint=f"raise --timeout, or see why with '{program()} --verbose servers status'",
    )
