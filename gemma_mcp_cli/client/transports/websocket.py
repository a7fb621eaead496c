"""The legacy WebSocket transport, adapted to the SDK's session streams.

The SDK dropped its WebSocket client in 2.0; some servers still speak MCP over WebSocket
(subprotocol `mcp`, one JSON-RPC message per text frame). This bridges a `websockets`
connection to the two memory streams a session reads and writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import mcp_types
from mcp.client._transport import TransportStreams
from mcp.shared.message import SessionMessage
from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol


@asynccontextmanager
async def websocket_client(
    url: str, headers: dict[str, str], *, open_timeout: float
) -> AsyncIterator[TransportStreams]:
    """Connect to `url` with the `mcp` subprotocol and yield the session's read and write streams."""
    async with connect(
        url,
        subprotocols=[Subprotocol("mcp")],
        additional_headers=headers,
        open_timeout=open_timeout,
        max_size=None,
    ) as socket:
        if socket.subprotocol != "mcp":
            raise ConnectionError(f"the server at {url} did not accept the 'mcp' WebSocket subprotocol")
        reader, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        write_stream, writer = anyio.create_memory_object_stream[SessionMessage](0)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_receive, socket, reader)
                tg.start_soon(_send, socket, writer)
                try:
                    yield read_stream, write_stream
                finally:
                    tg.cancel_scope.cancel()
        finally:
            for stream in (reader, read_stream, write_stream, writer):
                await stream.aclose()


async def _receive(
    socket: ClientConnection, reader: anyio.abc.ObjectSendStream[SessionMessage | Exception]
) -> None:
    """Pass each text frame to the session as one message (or as the error parsing it raised)."""
    async with reader:
        try:
            async for frame in socket:
                text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
                try:
                    item: SessionMessage | Exception = SessionMessage(
                        mcp_types.jsonrpc_message_adapter.validate_json(text, by_name=False)
                    )
                except ValidationError as exc:
                    item = exc
                await reader.send(item)
        except (ConnectionClosed, anyio.BrokenResourceError, anyio.ClosedResourceError):
            return  # the session sees the end of its read stream


async def _send(socket: ClientConnection, writer: anyio.abc.ObjectReceiveStream[SessionMessage]) -> None:
    """Send each message the session writes as one text frame."""
    async with writer:
        try:
            async for message in writer:
                await socket.send(message.message.model_dump_json(by_alias=True, exclude_unset=True))
        except ConnectionClosed:
            return
