"""The stdio transport over a server process that was started early (see `early_start`).

It does what the SDK's `stdio_client` does after its spawn: newline-delimited JSON-RPC over the
process's stdin and stdout, bridged to the session's streams by two tasks, and a shutdown that
cannot be cancelled halfway (flush, close stdin, wait, end the process group).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import anyio
import anyio.lowlevel
import mcp_types as types
from anyio.abc import ByteReceiveStream
from mcp.client._transport import TransportStreams
from mcp.shared.message import SessionMessage

from gemma_mcp_cli.client.transports.early_start import (
    RUN_LOG_LIMIT,
    Started,
    rotate_in_place,
    start_now,
    stop,
)
from gemma_mcp_cli.config.models import MCPServerConfig

_CHUNK = 1 << 20  # bytes asked of the pipe per read: few wake-ups for a long line
_HAND_OVER = 1 << 16  # a line this long is passed on as the buffer it was read into
_LOG_CHECK = 0.1  # seconds between checks of a server's stderr log size
_FLUSH = 0.5  # seconds for the writer to send what was already accepted before stdin closes
logger = logging.getLogger("mcp.client.stdio")  # the SDK's own: quiet unless --verbose, as there


@dataclass
class StdoutWatch:
    """What the reader of a server's stdout is told to watch for, and what it saw.

    `strict()` tells whether a line that is not JSON-RPC ends the connection (after the
    handshake: the spec forbids anything else on stdout, and a request waiting for an answer
    that was garbled would only wait out its timeout). `max_line` bounds one message.
    """

    max_line: int | None = None
    strict: Callable[[], bool] = lambda: False
    garbage: str | None = None  # the start of the first line that was not JSON-RPC
    oversize: int | None = None  # bytes read of a message past max_line, when it was cut off
    fault: str | None = None  # what the line that ended the connection was


@asynccontextmanager
async def own_stdio_client(
    config: MCPServerConfig, log: TextIO, watch: StdoutWatch
) -> AsyncIterator[TransportStreams]:
    """Start a stdio server now (in its own process group) and connect to it."""
    started = await start_now(config, log)
    async with adopted_stdio_client(started, watch) as streams:
        yield streams


@asynccontextmanager
async def adopted_stdio_client(
    started: Started, watch: StdoutWatch | None = None
) -> AsyncIterator[TransportStreams]:
    """Connect to an already running stdio server; stop it when the block is left."""
    process = started.process
    watch = watch or StdoutWatch()
    assert process.stdin is not None and process.stdout is not None, "started with pipes"
    stdin, stdout = process.stdin, process.stdout
    read_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, write_reader = anyio.create_memory_object_stream[SessionMessage](0)
    writer_done, shutting_down = anyio.Event(), anyio.Event()
    # A server that asks us something (roots/list, say) as we close waits for an answer that cannot
    # come, rather than exit at the end of its input: seeing that, it is stopped without the wait.
    waiting_on_us = anyio.Event()

    async def read_stdout() -> None:
        try:
            try:
                async with read_writer:  # left first: the session sees the end at once
                    async for line in _lines(stdout, watch):
                        item = _parse(line)
                        if isinstance(item, Exception):
                            watch.garbage = watch.garbage or _preview(line)
                            if watch.strict():
                                watch.fault = _fault(item, line)
                                return  # ends the session's stream: waiting requests fail now
                        del line  # a long one is held once, as its parsed message
                        try:
                            await read_writer.send(item)
                        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                            if _asks(item):
                                waiting_on_us.set()
                            return  # the session is gone; only the drain below remains
            finally:
                await _drain(stdout, waiting_on_us)
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
        tg.start_soon(_bound_log, started.log)
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
                await stop(started, unanswered=waiting_on_us)
                _keep_bounded(started.log)  # what the server wrote since the last check
                for stream in (read_stream, write_stream, read_writer, write_reader):
                    await stream.aclose()
                await anyio.lowlevel.checkpoint()
            tg.cancel_scope.cancel()


async def _bound_log(log: TextIO) -> None:
    """Keep a server's stderr log under its size limit while the server runs.

    The server writes to the file itself (opened for appending), so the log is rotated in
    place: its last part is kept as NAME.log.1 and the file is emptied, and the server's next
    write lands at its new end. A line written in between may be lost; the disk is not.
    """
    while _keep_bounded(log):
        await anyio.sleep(_LOG_CHECK)


def _keep_bounded(log: TextIO) -> bool:
    """Rotate the log if it has grown past its limit; tell whether it can still be watched."""
    try:
        if os.fstat(log.fileno()).st_size > RUN_LOG_LIMIT:
            rotate_in_place(Path(log.name), RUN_LOG_LIMIT)
    except (OSError, ValueError):
        return False  # the log is closed or gone: nothing left to bound
    return True


async def _drain(stdout: ByteReceiveStream, waiting_on_us: anyio.Event) -> None:
    """Read and drop the rest of stdout, so a server flushing output can still exit."""
    with anyio.CancelScope(shield=True):
        try:
            while True:
                chunk = await stdout.receive()
                if b'"method"' in chunk and b'"id"' in chunk:  # a request: it expects an answer
                    waiting_on_us.set()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            return


async def _lines(stdout: ByteReceiveStream, watch: StdoutWatch) -> AsyncIterator[bytes | bytearray]:
    """Yield each non-blank line of stdout; linear in its length however it is chunked.

    Chunks are appended to one buffer and only new bytes are searched for the newline
    (joining the buffer to each chunk made one long line quadratic). A long line is handed
    over as the buffer itself, not copied; a line past `watch.max_line` ends the reading,
    with its size noted.
    """
    buffer = bytearray()
    while True:
        try:
            chunk = await stdout.receive(_CHUNK)
        except anyio.EndOfStream:
            return
        scan, start = len(buffer), 0
        buffer += chunk
        while (end := buffer.find(b"\n", scan)) != -1:
            if watch.max_line is not None and end - start > watch.max_line:
                watch.oversize = end - start
                return
            line: bytes | bytearray
            if start == 0 and end >= _HAND_OVER:
                line, buffer = buffer, bytearray(buffer[end + 1 :])  # the line itself: no copy
                del line[end:]
            else:
                line = bytes(buffer[start:end])
                start = end + 1
            scan = start
            if line and not line.isspace():
                yield line
            del line
        del buffer[:start]
        if watch.max_line is not None and len(buffer) > watch.max_line:
            watch.oversize = len(buffer)
            return


def _asks(item: SessionMessage | Exception) -> bool:
    """Tell whether a message from the server is a request of its own, which expects an answer."""
    return isinstance(item, SessionMessage) and isinstance(item.message, types.JSONRPCRequest)


def _fault(exc: Exception, line: bytes | bytearray) -> str:
    """Say what was wrong with a line that is not a JSON-RPC message."""
    if isinstance(exc, RecursionError):
        return "sent JSON nested deeper than the decoder allows"
    return f"wrote non-JSON-RPC to stdout: {_preview(line)!r}"


def _preview(line: bytes | bytearray) -> str:
    """Return the start of a line, for a message about it (never the whole of a huge one)."""
    return line[:80].decode("utf-8", "replace")


def _parse(line: bytes | bytearray) -> SessionMessage | Exception:
    """Parse one line of the server's stdout; a bad line is passed on for the session to report.

    The standard library's decoder, then validation of the objects it made: a long string is
    held once (pydantic's own JSON parsing of a union holds it several times over).
    """
    try:
        data = json.loads(line)
        return SessionMessage(types.jsonrpc_message_adapter.validate_python(data, by_name=False))
    except (ValueError, RecursionError) as exc:
        logger.debug("Failed to parse JSONRPC message from server: %s", _preview(line))
        return exc
