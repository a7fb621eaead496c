"""MCP over WebSocket (subprotocol `mcp`, one JSON-RPC message per text frame) serving sdk_server's tools."""

import argparse
import importlib.util
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.mcpserver import MCPServer
from mcp.shared.message import SessionMessage
from mcp.types import jsonrpc_message_adapter
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.typing import Subprotocol

HERE = Path(__file__).resolve().parent
SUBPROTOCOL = Subprotocol("mcp")
Inbound = MemoryObjectSendStream[SessionMessage | Exception]


def load_sdk_server() -> MCPServer:
    """Import sdk_server.py by path (works whether or not `tests` is importable) and return its server."""
    spec = importlib.util.spec_from_file_location("sdk_server", HERE / "sdk_server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    server = module.mcp
    assert isinstance(server, MCPServer)
    return server


async def pump_in(connection: ServerConnection, sink: Inbound) -> None:
    """Feed every text frame to the session as one parsed JSON-RPC message; stop when the socket closes."""
    async with sink:
        try:
            async for frame in connection:
                if not isinstance(frame, str):
                    await connection.close(CloseCode.UNSUPPORTED_DATA, "text frames only")
                    return
                try:
                    message = jsonrpc_message_adapter.validate_json(frame, by_name=False)
                except Exception as exc:
                    await sink.send(exc)
                    continue
                await sink.send(SessionMessage(message))
        except ConnectionClosed:
            return


async def pump_out(connection: ServerConnection, source: MemoryObjectReceiveStream[SessionMessage]) -> None:
    """Send each outgoing message as one text frame, draining silently once the socket is gone."""
    async with source:
        async for item in source:
            text = item.message.model_dump_json(by_alias=True, exclude_unset=True)
            try:
                await connection.send(text)
            except ConnectionClosed:
                continue


def make_handler(server: MCPServer) -> Callable[[ServerConnection], Awaitable[None]]:
    """Return a connection handler running one SDK server session per WebSocket connection."""
    lowlevel = server._lowlevel_server  # no public accessor for running on caller-supplied streams
    options = lowlevel.create_initialization_options()

    async def handle(connection: ServerConnection) -> None:
        """Bridge this connection to a fresh session of the SDK's server loop."""
        read_sink, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        write_stream, write_source = anyio.create_memory_object_stream[SessionMessage](0)
        async with anyio.create_task_group() as group:
            group.start_soon(pump_in, connection, read_sink)
            group.start_soon(pump_out, connection, write_source)
            await lowlevel.run(read_stream, write_stream, options)
            group.cancel_scope.cancel()

    return handle


async def serve_forever(host: str, port: int) -> None:
    """Listen on host:port until the process is terminated."""
    handler = make_handler(load_sdk_server())
    async with serve(handler, host, port, subprotocols=[SUBPROTOCOL]) as server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    anyio.run(serve_forever, args.host, args.port)


if __name__ == "__main__":
    main()
