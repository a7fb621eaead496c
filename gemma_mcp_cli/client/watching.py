"""Resource subscriptions in both protocol eras: one stream of the URIs that changed.

On 2025-era connections the client sends `resources/subscribe` and the server's
`notifications/resources/updated` arrive through the connection's message handler; on
2026-07-28 there are no standalone notifications, so the updates come over a
`subscriptions/listen` stream instead.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import AsyncIterator, Sequence

import anyio
import anyio.abc
from mcp.client.subscriptions import Subscription, SubscriptionLost
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.shared.subscriptions import ResourceUpdated

from gemma_mcp_cli.client.connection import ServerConnection
from gemma_mcp_cli.errors import MCPConnectionError, MCPServerError

_BACKLOG = 1000  # updates held while the reader is busy (re-reading a resource); more are dropped
_UNSUBSCRIBE = 2.0  # seconds for the polite unsubscribe on the way out
_LIVENESS = 0.5  # seconds between looks at a quiet 2025-era connection: has the server gone?


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
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)  # subscribe is gone in 2026
            for uri in wanted:
                try:
                    await client.subscribe_resource(uri)
                except Exception as exc:
                    raise conn.failure(exc, f"resources/subscribe {uri}", timeout) from None
        yield _notified(conn, receive)
    finally:
        conn.update_listeners.discard(listener)
        send.close()
        receive.close()
        await _unsubscribe(conn, wanted)


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
