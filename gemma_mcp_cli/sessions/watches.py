"""A session passes a server's change notifications on to each client that watches through it.

The client sends `watch_resources` (URIs) or `watch_lists` (kinds) and keeps the socket open;
the session answers `{"event": "watching"}` once the server is listening, then one
`{"event": "updated", "uri": ...}` or `{"event": "changed", "kinds": [...]}` per change, until
the client goes away (then it unsubscribes) or the server or the session ends (then a final
error). Several clients may watch at once: the connection subscribes to a URI once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
import anyio.abc

from gemma_mcp_cli.client.manager import MCPClientManager
from gemma_mcp_cli.errors import MCPConnectionError, MCPError, MCPUsageError
from gemma_mcp_cli.sessions.relay import ClientLink

WATCHES = ("watch_resources", "watch_lists")


def _opened(
    manager: MCPClientManager, name: str, op: str, params: Mapping[str, Any]
) -> AbstractAsyncContextManager[AsyncIterator[Any]]:
    values = params.get("uris" if op == "watch_resources" else "kinds")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values) or not values:
        raise MCPUsageError(f"{op} needs a list of names")
    if op == "watch_resources":
        return manager.watch_resources(name, values)
    return manager.watch_lists(name, values)


async def relay_watch(
    manager: MCPClientManager,
    name: str,
    op: str,
    params: Mapping[str, Any],
    link: ClientLink,
    stopping: anyio.Event,
) -> dict[str, Any]:
    """Watch for one client until it leaves; raise if the server or the session ends first."""
    failed: list[MCPError] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(_cancel_at, link.left, tg.cancel_scope)
        tg.start_soon(_cancel_at, stopping, tg.cancel_scope)
        try:
            await _pass_on(_opened(manager, name, op, params), link)
        except MCPError as error:  # raised here, it would reach the reply wrapped in a group
            failed.append(error)
        tg.cancel_scope.cancel()
    if failed:
        raise failed[0]
    if stopping.is_set() and not link.gone:
        raise MCPConnectionError(f"the session for '{name}' stopped during the watch", server=name)
    return {"watched": True}


async def _pass_on(watch: AbstractAsyncContextManager[AsyncIterator[Any]], link: ClientLink) -> None:
    async with watch as updates:
        link.post({"event": "watching"})
        async for update in updates:
            if isinstance(update, str):
                link.post({"event": "updated", "uri": update})
            else:
                link.post({"event": "changed", "kinds": sorted(update)})


async def _cancel_at(event: anyio.Event, scope: anyio.CancelScope) -> None:
    await event.wait()
    scope.cancel()
