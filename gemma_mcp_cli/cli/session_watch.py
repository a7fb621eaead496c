"""Watch through a warm session: one socket held open, the session's change events read as they come."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import AsyncIterator, Mapping
from typing import Any

from gemma_mcp_cli.errors import MCPConnectionError
from gemma_mcp_cli.sessions import client as session_client

_LINE_LIMIT = 1024 * 1024  # one event from the session


@contextlib.asynccontextmanager
async def session_watch(
    key: str, name: str, op: str, params: Mapping[str, Any]
) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
    """Start a watch in a session; yield its change events. Leaving closes the socket: the session stops.

    Raises SessionUnavailable when the session cannot take it (gone, or stale): nothing was
    started, so the caller may watch directly instead.
    """
    import anyio
    from anyio.abc import UNIXSocketStream
    from anyio.streams.buffered import BufferedByteReceiveStream

    request = {"op": op, "params": dict(params), "progress": False, "interactive": False}
    raw = await anyio.to_thread.run_sync(session_client.open_socket, key, request)
    # The session client speaks through the C `_socket` (cheap to import); anyio takes a `socket`.
    stream = await UNIXSocketStream.from_socket(socket.socket(fileno=raw.detach()))
    async with stream:
        lines = BufferedByteReceiveStream(stream)
        first = await _next(lines, name)
        if first.get("event") != "watching":
            raise _failure(first, name)
        yield _events(lines, name)


async def _events(lines: Any, name: str) -> AsyncIterator[dict[str, Any]]:
    while True:
        message = await _next(lines, name)
        if message.get("event") in ("updated", "changed"):
            yield message
        elif "event" not in message:
            raise _failure(message, name)


async def _next(lines: Any, name: str) -> dict[str, Any]:
    import anyio

    try:
        line = await lines.receive_until(b"\n", _LINE_LIMIT)
        message = json.loads(line)
    except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError, OSError, ValueError):
        raise MCPConnectionError(f"the session for '{name}' ended during the watch", server=name) from None
    if not isinstance(message, dict):
        raise MCPConnectionError(f"the session for '{name}' sent a broken reply", server=name)
    return message


def _failure(message: dict[str, Any], name: str) -> Exception:
    error = message.get("error")
    if isinstance(error, dict):
        return session_client.error_from(error)
    return MCPConnectionError(f"the session for '{name}' ended the watch", server=name)
