"""Resource subscriptions and list changes in both protocol eras: streams of what changed.

On 2025-era connections the client sends `resources/subscribe` and the server's
`notifications/resources/updated` (and `notifications/*/list_changed`) arrive through the
connection's message handler; on 2026-07-28 there are no standalone notifications, so they
come over a `subscriptions/listen` stream instead.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import AsyncIterator, Sequence

import anyio
import anyio.abc
from mcp.client.subscriptions import Subscription, SubscriptionLost
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.shared.subscriptions import (
    PromptsListChanged,
    ResourcesListChanged,
    ResourceUpdated,
    ToolsListChanged,
)

from gemma_mcp_cli.client.connection import ServerConnection
from gemma_mcp_cli.errors import MCPConnectionError, MCPServerError

_BACKLOG = 1000  # updates held while the reader is busy (re-reading a resource); more are dropped
_UNSUBSCRIBE = 2.0  # seconds for the polite unsubscribe on the way out
_LIVENESS = 0.5  # seconds between looks at a quiet 2025-era connection: has the server gone?
_KIND_OF_EVENT: dict[type, str] = {
    ToolsListChanged: "tools",
    ResourcesListChanged: "resources",
    PromptsListChanged: "prompts",
}


@contextlib.asynccontextmanager
async def resource_updates(conn: ServerConnection, uris: Sequence[str]) -> AsyncIterator[AsyncIterator[str]]:
    """Subscribe to `uris` on a connected server; yield the URI of each update, as it comes."""
    client = conn.require_client()
    capabilities = client.session.server_capabilities
    resources = capabilities.resources if capabilities is not None else None
    if resources is None or not resources.subscribe:
        raise MCPServerError(f"server '{conn.name}' does not offer resource subscriptions", server=conn.name)
    wanted = list(dict.fromkeys(uris))
    timeout = conn.config.request_timeout
    if conn.modern:
        async with contextlib.AsyncExitStack() as stack:
            try:
                listening = await stack.enter_async_context(client.listen(resource_subscriptions=wanted))
            except Exception as exc:
                raise conn.failure(exc, "subscriptions/listen", timeout) from None
            yield _listened(conn, listening)
        return
    send, receive = anyio.create_memory_object_stream[str](_BACKLOG)

    def listener(uri: str) -> None:
        if uri in wanted:  # a server's word for a resource nobody asked about is dropped
            with contextlib.suppress(anyio.WouldBlock):
                send.send_nowait(uri)

    conn.update_listeners.add(listener)
    held: list[str] = []  # counted on the connection: another watcher of a URI keeps it subscribed
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)  # subscribe is gone in 2026
            for uri in wanted:
                conn.subscribed[uri] = conn.subscribed.get(uri, 0) + 1
                held.append(uri)
                if conn.subscribed[uri] > 1:
                    continue
                try:
                    await client.subscribe_resource(uri)
                except Exception as exc:
                    raise conn.failure(exc, f"resources/subscribe {uri}", timeout) from None
        yield _notified(conn, receive)
    finally:
        conn.update_listeners.discard(listener)
        send.close()
        receive.close()
        await _unsubscribe(conn, _released(conn, held))


def _released(conn: ServerConnection, uris: Sequence[str]) -> list[str]:
    """Count this watcher's URIs off the connection; return those nobody watches any more."""
    last = []
    for uri in uris:
        conn.subscribed[uri] -= 1
        if conn.subscribed[uri] <= 0:
            del conn.subscribed[uri]
            last.append(uri)
    return last


async def _unsubscribe(conn: ServerConnection, uris: Sequence[str]) -> None:
    """Tell the server we no longer watch (best effort: the connection may be closing anyway)."""
    client = conn.client
    if client is None or conn.broken():
        return
    with anyio.move_on_after(_UNSUBSCRIBE, shield=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        for uri in uris:
            with contextlib.suppress(Exception):
                await client.unsubscribe_resource(uri)


def _ended(conn: ServerConnection, how: str) -> MCPConnectionError:
    tail = conn.stderr_tail()
    return MCPConnectionError(
        f"server '{conn.name}' {how} during the watch" + (f"; its stderr: {tail}" if tail else ""),
        server=conn.name,
    )


async def _listened(conn: ServerConnection, listening: Subscription) -> AsyncIterator[str]:
    """The updated URIs of a 2026 listen stream; its end, whichever way, ends the watch as a failure."""
    try:
        async for event in listening:
            if isinstance(event, ResourceUpdated):
                yield event.uri
    except SubscriptionLost:
        raise _ended(conn, "closed the connection") from None
    raise _ended(conn, "ended the subscription")


async def _notified(
    conn: ServerConnection, updates: anyio.abc.ObjectReceiveStream[str]
) -> AsyncIterator[str]:
    """The updated URIs of a 2025 connection's notifications, until the server goes away."""
    while True:
        uri = None
        with anyio.move_on_after(_LIVENESS):
            uri = await updates.receive()
        if uri is not None:
            yield uri
        elif conn.broken():
            raise _ended(conn, "closed the connection")


@contextlib.asynccontextmanager
async def list_changes(
    conn: ServerConnection, kinds: Sequence[str]
) -> AsyncIterator[AsyncIterator[set[str]]]:
    """Yield, each time the server announces changes, the set of `kinds` (tools, ...) that changed.

    Changes that come while the reader is busy are merged into the next set, so a server that
    floods notifications costs one set of at most three names, never a queue.
    """
    wanted = set(kinds)
    if conn.modern:
        client = conn.require_client()
        listen = client.listen(
            tools_list_changed="tools" in wanted,
            resources_list_changed="resources" in wanted,
            prompts_list_changed="prompts" in wanted,
        )
        async with contextlib.AsyncExitStack() as stack:
            try:
                listening = await stack.enter_async_context(listen)
            except Exception as exc:
                raise conn.failure(exc, "subscriptions/listen", conn.config.request_timeout) from None
            yield _listened_kinds(conn, listening, wanted)
        return
    merged = _Merged()

    def listener(kind: str) -> None:
        if kind in wanted:
            merged.add(kind)

    conn.change_listeners.add(listener)
    try:
        yield _merged_kinds(conn, merged)
    finally:
        conn.change_listeners.discard(listener)


class _Merged:
    """The kinds changed since the reader last looked, and an event that says there are some."""

    def __init__(self) -> None:
        self.kinds: set[str] = set()
        self.ready = anyio.Event()

    def add(self, kind: str) -> None:
        self.kinds.add(kind)
        self.ready.set()

    def take(self) -> set[str]:
        taken, self.kinds, self.ready = self.kinds, set(), anyio.Event()
        return taken


async def _merged_kinds(conn: ServerConnection, merged: _Merged) -> AsyncIterator[set[str]]:
    while True:
        with anyio.move_on_after(_LIVENESS):
            await merged.ready.wait()
        if merged.kinds:
            yield merged.take()
        elif conn.broken():
            raise _ended(conn, "closed the connection")


async def _listened_kinds(
    conn: ServerConnection, listening: Subscription, wanted: set[str]
) -> AsyncIterator[set[str]]:
    """The changed kinds of a 2026 listen stream (the SDK dedupes what waits in it)."""
    try:
        async for event in listening:
            kind = _KIND_OF_EVENT.get(type(event))
            if kind is not None and kind in wanted:
                yield {kind}
    except SubscriptionLost:
        raise _ended(conn, "closed the connection") from None
    raise _ended(conn, "ended the subscription")
