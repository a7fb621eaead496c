"""Self-checks that the SDK-based test servers start as subprocesses and behave as the client tests expect."""

import base64
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import (
    BlobResourceContents,
    CallToolResult,
    LoggingMessageNotificationParams,
    PaginatedRequestParams,
    TextContent,
    TextResourceContents,
)

HERE = Path(__file__).resolve().parent
SDK_SERVER = HERE / "sdk_server.py"
PAGED_SERVER = HERE / "paged_server.py"
TIMEOUT = 15.0
SDK_TOOLS = {
    "echo",
    "add",
    "typed",
    "tiny_image",
    "audio_clip",
    "embedded",
    "fail",
    "slow",
    "progress",
    "log",
    "write_stderr",
}


def run_bounded(body: Callable[[], Awaitable[None]]) -> None:
    """Run an async test body under anyio with an overall deadline."""

    async def bounded() -> None:
        with anyio.fail_after(TIMEOUT):
            await body()

    anyio.run(bounded)


def stdio_params(script: Path) -> StdioServerParameters:
    """Return the parameters that start `script` with this interpreter."""
    return StdioServerParameters(command=sys.executable, args=[str(script)])


@asynccontextmanager
async def legacy_session(script: Path, **kwargs: Any) -> AsyncIterator[ClientSession]:
    """Start `script` over stdio and yield a session after the initialize handshake."""
    async with (
        stdio_client(stdio_params(script)) as (read, write),
        ClientSession(read, write, **kwargs) as session,
    ):
        await session.initialize()
        yield session


def only_text(result: CallToolResult) -> str:
    """Return the text of a result that holds exactly one text block."""
    [block] = result.content
    assert isinstance(block, TextContent)
    return block.text


def test_sdk_server_lists_tools_templates_and_prompts() -> None:
    """Every tool, the resource template and both prompts are listed with their schemas."""

    async def body() -> None:
        async with legacy_session(SDK_SERVER) as session:
            init = session.initialize_result
            assert init is not None
            assert (init.server_info.name, init.server_info.version) == ("sdk-test", "1.2.3")
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert set(tools) == SDK_TOOLS
            assert all(tool.description for tool in tools.values())
            assert tools["echo"].annotations is not None and tools["echo"].annotations.read_only_hint
            assert tools["fail"].annotations is None
            count = tools["typed"].input_schema["properties"]["count"]
            assert (count["minimum"], count["maximum"]) == (0, 100)
            assert tools["add"].output_schema is not None
            assert tools["add"].output_schema["properties"]["sum"]["type"] == "integer"
            templates = (await session.list_resource_templates()).resource_templates
            assert [t.uri_template for t in templates] == ["test://items/{item_id}"]
            prompts = {prompt.name for prompt in (await session.list_prompts()).prompts}
            assert prompts == {"greet", "summarize"}

    run_bounded(body)


def test_sdk_server_structured_error_and_typed_results() -> None:
    """`add` is structured, `fail` is an isError result, `typed` echoes the raw arguments."""

    async def body() -> None:
        async with legacy_session(SDK_SERVER) as session:
            added = await session.call_tool("add", {"a": 2, "b": 3})
            assert added.structured_content == {"sum": 5}
            assert not added.is_error
            failed = await session.call_tool("fail", {"message": "kaput"})
            assert failed.is_error
            assert "kaput" in only_text(failed)
            arguments = {"count": 7, "ratio": 0.5, "flag": True, "code": "007", "tags": ["a", "b"]}
            typed = await session.call_tool("typed", arguments)
            assert typed.structured_content == arguments
            assert only_text(typed) == json.dumps(arguments, sort_keys=True)

    run_bounded(body)


def test_sdk_server_progress_and_log_notifications() -> None:
    """The progress tool reports 3 steps and the log tool sends one info message."""
    reports: list[tuple[float, float | None, str | None]] = []
    logs: list[LoggingMessageNotificationParams] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reports.append((progress, total, message))

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        logs.append(params)

    async def body() -> None:
        async with legacy_session(SDK_SERVER, logging_callback=on_log) as session:
            result = await session.call_tool("progress", {"delay": 0.01}, progress_callback=on_progress)
            assert only_text(result) == "finished 3 steps"
            assert only_text(await session.call_tool("log", {"message": "hi there"})) == "logged"

    run_bounded(body)
    assert [(value, total) for value, total, _ in reports] == [(1, 3), (2, 3), (3, 3)]
    assert [(entry.level, entry.data) for entry in logs] == [("info", "hi there")]


def test_sdk_server_resources() -> None:
    """The blob resource reads as base64 bytes 0..255 and the template expands."""

    async def body() -> None:
        async with legacy_session(SDK_SERVER) as session:
            [blob] = (await session.read_resource("test://blob.bin")).contents
            assert isinstance(blob, BlobResourceContents)
            assert base64.b64decode(blob.blob) == bytes(range(256))
            [item] = (await session.read_resource("test://items/42")).contents
            assert isinstance(item, TextResourceContents)
            assert item.text == "item 42"

    run_bounded(body)


def test_sdk_server_with_default_client_negotiates_2026() -> None:
    """The high-level client probes server/discover and speaks 2026-07-28 to the server."""

    async def body() -> None:
        async with Client(stdio_params(SDK_SERVER)) as client:
            assert client.protocol_version == "2026-07-28"
            assert only_text(await client.call_tool("echo", {"text": "modern"})) == "modern"

    run_bounded(body)


def test_paged_server_serves_pages_of_ten() -> None:
    """Raw tools/list pages hold 10, 10 and 5 tools, with a nextCursor on the first two."""

    async def body() -> None:
        async with legacy_session(PAGED_SERVER) as session:
            sizes: list[int] = []
            cursors: list[str | None] = []
            cursor: str | None = None
            while len(sizes) < 4:
                listing = await session.list_tools(params=PaginatedRequestParams(cursor=cursor))
                sizes.append(len(listing.tools))
                cursors.append(cursor := listing.next_cursor)
                if cursor is None:
                    break
            assert sizes == [10, 10, 5]
            assert [c is not None for c in cursors] == [True, True, False]
            assert only_text(await session.call_tool("tool_24", {})) == "called tool_24"

    run_bounded(body)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until_listening(process: subprocess.Popen[bytes], port: int) -> None:
    """Poll until the server accepts TCP connections on `port`, failing fast if it exits."""
    while True:
        assert process.poll() is None, f"server exited with {process.returncode}"
        try:
            stream = await anyio.connect_tcp("127.0.0.1", port)
        except OSError:
            await anyio.sleep(0.05)
        else:
            await stream.aclose()
            return


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server and reap it, killing it if it does not exit in time."""
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def test_sdk_server_streamable_http(tmp_path: Path) -> None:
    """The server serves streamable HTTP on /mcp at the requested port."""
    port = free_port()
    command = [sys.executable, str(SDK_SERVER), "--transport", "streamable-http", "--port", str(port)]
    log_path = tmp_path / "server.log"

    async def body(process: subprocess.Popen[bytes]) -> None:
        await wait_until_listening(process, port)
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            assert only_text(await client.call_tool("echo", {"text": "over http"})) == "over http"

    with (
        log_path.open("wb") as log,
        subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log) as proc,
    ):
        try:
            run_bounded(lambda: body(proc))
        finally:
            stop(proc)
            print(log_path.read_text(errors="replace"))
