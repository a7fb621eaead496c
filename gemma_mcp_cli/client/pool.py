"""The live connections of a manager: connect with retries, reconnect, health checks, cleanup."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType

import anyio
import httpx2
from anyio.abc import TaskGroup

from gemma_mcp_cli.answers import Asker
from gemma_mcp_cli.client.connection import LogHook, ServerConnection
from gemma_mcp_cli.client.processes import (
    end_adopted,
    end_group,
    forget_groups,
    session_children,
    track_groups,
)
from gemma_mcp_cli.client.retry import backoff, may_retry_connect
from gemma_mcp_cli.config.models import MCPServerConfig
from gemma_mcp_cli.enums import MCPServerStatus
from gemma_mcp_cli.errors import MCPConfigError, MCPConnectionError, MCPError

HealthProbe = Callable[[str], Awaitable[object]]


class ConnectionPool:
    """Holds each server's connection in a task of its own, and brings broken ones back."""

    def __init__(
        self,
        configs: dict[str, MCPServerConfig],
        *,
        log_dir: Path,
        verbose: bool,
        on_log: LogHook | None,
        on_list_changed: Callable[[str, str], None],
        retries: int | None,
        health_probe: HealthProbe | None = None,
        http_auth: Mapping[str, httpx2.Auth] | None = None,
        asker: Asker | None = None,
        log_level: str | None = None,
        protocol: str = "auto",
    ) -> None:
        self.configs = configs
        self._protocol = protocol
        self._asker = asker
        self.connections: dict[str, ServerConnection] = {}
        self._log_dir = log_dir
        self._verbose = verbose
        self._on_log = on_log
        self._log_level = log_level
        self._on_list_changed = on_list_changed
        self._retries = retries
        self._health_probe = health_probe
        self._http_auth = dict(http_auth or {})
        self._stack = AsyncExitStack()
        self._tg: TaskGroup | None = None
        self._groups: set[int] = set()
        self._before: set[int] = set()
        self._locks: dict[str, anyio.Lock] = {}
        self._opening: anyio.Lock | None = None
        self._owner: asyncio.Task[None] | None = None
        self._stop: anyio.Event | None = None

    async def __aenter__(self) -> ConnectionPool:
        self._before = session_children()  # not ours to end (a session daemon just started, say)
        self._tg = await self._stack.enter_async_context(anyio.create_task_group())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with anyio.CancelScope(shield=True):
            await self.close_all()
        # Every holder task is done; cancelling ends the health loops, so the group closes
        # cleanly and the caller's own exception (if any) propagates as itself.
        if self._tg is not None:
            self._tg.cancel_scope.cancel()
        self._tg = None
        await self._stack.aclose()

    def retries(self, name: str) -> int:
        """Return how many times a failed attempt on this server is tried again."""
        return self._retries if self._retries is not None else self.configs[name].max_reconnect_attempts

    async def live(self, name: str) -> ServerConnection:
        """Return a working connection: the current one, or a new one (reconnecting a broken one)."""
        async with self._locks.setdefault(name, anyio.Lock()):
            conn = self.connections.get(name)
            if conn is not None and conn.status is MCPServerStatus.CONNECTED and not conn.broken():
                return conn
            if conn is not None and conn.was_connected:
                if not conn.config.auto_reconnect:
                    raise MCPConnectionError(
                        f"server '{name}' is no longer connected and auto_reconnect is off", server=name
                    )
                conn.status = MCPServerStatus.RECONNECTING
                await self.disconnect(name)
            return await self._connect(name)

    async def _holders(self) -> TaskGroup:
        """Return the task group that holds connections, opening it in a task of its own if need be.

        A manager used without `async with` (the original design's style) has no block to
        open the group in; a background task owns it until `close`, so the group's cancel
        scope never sits on the caller's stack, whatever scopes the caller opens and leaves.
        """
        if self._tg is not None:
            return self._tg
        self._opening = self._opening or anyio.Lock()
        async with self._opening:
            if self._tg is None:
                await self._open_in_background()
        assert self._tg is not None, "opened above"
        return self._tg

    async def _open_in_background(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("outside asyncio, use MCPClientManager as 'async with'") from None
        ready, self._stop = anyio.Event(), anyio.Event()

        async def own(stop: anyio.Event) -> None:
            try:
                async with self:
                    ready.set()
                    await stop.wait()
            finally:
                ready.set()

        self._owner = loop.create_task(own(self._stop))
        await ready.wait()

    async def close(self) -> None:
        """Close every connection; a group opened in the background is closed with its task."""
        owner, self._owner = self._owner, None
        if owner is None or self._stop is None:
            await self.close_all()
            return
        self._stop.set()
        await owner

    async def _connect(self, name: str) -> ServerConnection:
        holders = await self._holders()
        if name not in self.configs:
            raise MCPConfigError(f"unknown server '{name}'", server=name)
        config = self.configs[name]
        attempts = self.retries(name) + 1
        # Retries share the connection_timeout budget: a broken server answers in bounded time.
        deadline = anyio.current_time() + config.connection_timeout
        for attempt in range(1, attempts + 1):
            conn = ServerConnection(
                config,
                self._log_dir,
                self._on_log,
                self._verbose,
                on_list_changed=self._on_list_changed,
                http_auth=self._http_auth.get(name),
                asker=self._asker,
                log_level=self._log_level,
                protocol=self._protocol,
            )
            self.connections[name] = conn
            before = session_children()
            try:
                await holders.start(conn.hold)
            except MCPError as error:
                delay = backoff(config.reconnect_delay, attempt)
                out_of_time = anyio.current_time() + delay > deadline
                if attempt == attempts or out_of_time or not may_retry_connect(error):
                    if attempt > 1:
                        error.message += f" (after {attempt} attempts)"
                    raise
                await anyio.sleep(delay)
                continue
            finally:
                started = session_children() - before
                self._groups |= started
                track_groups(started)
            if config.health_check_interval > 0 and self._health_probe is not None:
                holders.start_soon(self._health_loop, conn, self._health_probe)
            return conn
        raise AssertionError("unreachable")

    async def _health_loop(self, conn: ServerConnection, probe: HealthProbe) -> None:
        """Check a connection every health_check_interval; reconnect it when it fails."""
        while True:
            await anyio.sleep(conn.config.health_check_interval)
            if conn.status is not MCPServerStatus.CONNECTED or self.connections.get(conn.name) is not conn:
                return
            try:
                await probe(conn.name)
            except MCPError:
                conn.mark_broken()
                try:
                    await self.live(conn.name)
                except MCPError:
                    return  # the next request reports it

    async def disconnect(self, name: str) -> None:
        """Close one server's connection; its process is gone when this returns."""
        conn = self.connections.pop(name, None)
        if conn is not None:
            await conn.close()

    async def close_all(self) -> None:
        """Close every connection, then end what is left of the servers' process groups."""
        async with anyio.create_task_group() as tg:
            for name in list(self.connections):
                tg.start_soon(self.disconnect, name)
        for pgid in sorted(self._groups):
            end_group(pgid)
        forget_groups(self._groups)
        self._groups.clear()
        # A server's child that left its group with setsid() came back to us (a subreaper).
        end_adopted(keep=self._before)
