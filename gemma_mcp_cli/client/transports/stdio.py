"""The stdio transport over a server process that was started early (see `early_start`).

It does what the SDK's `stdio_client` does after its spawn: newline-delimited JSON-RPC over the
process's stdin and stdout, bridged to the session's streams by two tasks, and a shutdown that
cannot be cancelled halfway (flush, close stdin, wait, end the process group).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.lowlevel
import mcp_types as types
from anyio.abc import ByteReceiveStream
from anyio.streams.text import TextReceiveStream
from mcp.client._transport import TransportStreams
from mcp.shared.message import SessionMessage

from gemma_mcp_cli.client.transports.early_start import Started, stop

_FLUSH = 0.5  # seconds for the writer to send what was already accepted before stdin closes
logger = logging.getLogger("mcp.client.stdio")  # the SDK's own: quiet unless --verbose, as there


@asynccontextmanager
async def adopted_stdio_client(started: Started) -> AsyncIterator[TransportStreams]:
    """Connect to an already running stdio server; stop it when the block is left."""
    process = started.process
    assert process.stdin is not None and process.stdout is not None, "started with pipes"
    stdin, stdout = process.stdin, process.stdout
    read_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, write_reader = anyio.create_memory_object_stream[SessionMessage](0)
    writer_done, shutting_down = anyio.Event(), anyio.Event()

    async def read_stdout() -> None:
        try:
            async with read_writer:
                try:
                    buffer = ""
                    async for chunk in TextReceiveStream(stdout, encoding="utf-8"):
                        lines = (buffer + chunk).split("\n")
                        buffer = lines.pop()
                        for line in lines:
                            try:
                                await read_writer.send(_parse(line))
                            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                                return  # the session is gone; only the drain below remains
                finally:
                    await _drain(stdout)
        except anyio.ClosedResourceError:
            pass  # our own shutdown closed stdout under the read
        except (anyio.BrokenResourceError, ConnectionError):
            # Noise during shutdown; otherwise a real failure (the session sees the stream end).
            if not shutting_down.is_set():
                logger.exception("Reading from the MCP server's stdout failed mid-session")

    async def write_stdin() -> None:
        try:
            async with write_reader:
                async for message in write_reader:
                    text = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                    await stdin.send((text + "\n").encode("utf-8"))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            # The server stopped reading: end the session's stream instead of leaving it waiting.
            await read_writer.aclose()
        finally:
            writer_done.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(read_stdout)
        tg.start_soon(write_stdin)
        try:
            yield read_stream, write_stream
        finally:
            shutting_down.set()
            with anyio.CancelScope(shield=True):
                # Unblock the reader into its drain: a server stuck writing cannot read its stdin.
                read_stream.close()
                write_stream.close()
                with anyio.move_on_after(_FLUSH):
                    await writer_done.wait()
                await stop(started)
                for stream in (read_stream, write_stream, read_writer, write_reader):
                    await stream.aclose()
                await anyio.lowlevel.checkpoint()
            tg.cancel_scope.cancel()


async def _drain(stdout: ByteReceiveStream) -> None:
    """Read and drop the rest of stdout, so a server flushing output can still exit."""
    with anyio.CancelScope(shield=True):
        try:
            while True:
                await stdout.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            return


def _parse(line: str) -> SessionMessage | Exception:
    """Parse one line of the server's stdout; a bad line is passed on for the session to report."""
    try:
        return SessionMessage(types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:
        logger.exception("Failed to parse JSONRPC message from server")
        return exc
