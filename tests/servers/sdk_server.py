"""MCP test server built on the SDK's high-level MCPServer; run as a subprocess by the client tests."""

import argparse
import base64
import io
import json
import sys
import warnings
import wave
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import AssistantMessage, Audio, Context, Image, MCPServer, Message, UserMessage
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.types import CallToolResult, EmbeddedResource, TextContent, TextResourceContents, ToolAnnotations
from pydantic import BaseModel, Field

SERVER_NAME = "sdk-test"
SERVER_VERSION = "1.2.3"
GREETING = "hello from sdk-test"
EMBEDDED_URI = "test://embedded"
EMBEDDED_TEXT = "embedded text from sdk-test"
DATA_JSON: dict[str, Any] = {"name": SERVER_NAME, "numbers": [1, 2, 3], "ok": True}
BLOB = bytes(range(256))
SLOW_STARTED = "slow: call started"
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

mcp = MCPServer(SERVER_NAME, version=SERVER_VERSION, instructions="Fixture server for the client's tests.")


class AddResult(BaseModel):
    """Structured result of `add`."""

    sum: int = Field(description="a + b")


def _wav_bytes() -> bytes:
    """Return a tiny valid WAV file: 8 frames of 8-bit mono silence at 8 kHz."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(b"\x80" * 8)
    return buffer.getvalue()


def _wire_arguments(ctx: Context) -> dict[str, Any]:
    """Return the tools/call arguments exactly as they arrived, before validation."""
    params = ctx.request_context.params or {}
    return dict(params.get("arguments") or {})


@mcp.tool(annotations=ToolAnnotations(read_only_hint=True), structured_output=False)
def echo(text: Annotated[str, Field(description="Text to send back")]) -> str:
    """Return the given text unchanged."""
    return text


@mcp.tool()
def add(a: int, b: int) -> AddResult:
    """Add two integers; the result is structured as {"sum": a + b}."""
    return AddResult(sum=a + b)


@mcp.tool()
def typed(
    ctx: Context,
    count: Annotated[int, Field(ge=0, le=100, description="An integer in [0, 100]")],
    ratio: float,
    flag: bool,
    code: str,
    tags: list[str],
    opts: dict[str, int] | None = None,
    mode: Literal["fast", "slow"] = "fast",
    maybe: str | None = None,
) -> CallToolResult:
    """Echo the raw received arguments as structured content and as sorted JSON text."""
    received = _wire_arguments(ctx)
    text = json.dumps(received, sort_keys=True)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=received)


@mcp.tool()
def tiny_image() -> Image:
    """Return a 1x1 PNG image."""
    return Image(data=PNG_1X1, format="png")


@mcp.tool()
def audio_clip() -> Audio:
    """Return a few bytes of WAV audio."""
    return Audio(data=_wav_bytes(), format="wav")


@mcp.tool()
def embedded() -> EmbeddedResource:
    """Return an embedded text resource."""
    contents = TextResourceContents(uri=EMBEDDED_URI, mime_type="text/plain", text=EMBEDDED_TEXT)
    return EmbeddedResource(type="resource", resource=contents)


@mcp.tool(structured_output=False)
def fail(message: str = "boom") -> str:
    """Always fail with a tool error carrying the message."""
    raise ToolError(message)


@mcp.tool(structured_output=False)
async def slow(seconds: float = 1.0) -> str:
    """Sleep for the given number of seconds, then return "done"."""
    print(SLOW_STARTED, file=sys.stderr, flush=True)  # lets a test wait until the call is under way
    await anyio.sleep(seconds)
    return "done"


@mcp.tool(structured_output=False)
async def progress(ctx: Context, steps: int = 3, delay: float = 0.05) -> str:
    """Report progress once per step, then finish."""
    for step in range(1, steps + 1):
        await anyio.sleep(delay)
        await ctx.report_progress(step, steps, f"step {step}/{steps}")
    return f"finished {steps} steps"


@mcp.tool(structured_output=False)
async def log(ctx: Context, message: str) -> str:
    """Send the message to the client as an info-level log notification."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        await ctx.info(message, logger_name=SERVER_NAME)
    return "logged"


@mcp.tool(structured_output=False)
def write_stderr(text: str) -> str:
    """Write the text (plus a newline) to the server's stderr."""
    print(text, file=sys.stderr, flush=True)
    return "ok"


@mcp.resource("test://greeting", name="greeting", mime_type="text/plain", description="A static greeting.")
def greeting() -> str:
    """Return the greeting text."""
    return GREETING


@mcp.resource(
    "test://data.json", name="data", mime_type="application/json", description="A static JSON document."
)
def data_json() -> str:
    """Return a small JSON document."""
    return json.dumps(DATA_JSON, sort_keys=True)


@mcp.resource(
    "test://blob.bin", name="blob", mime_type="application/octet-stream", description="Bytes 0..255."
)
def blob() -> bytes:
    """Return every byte value once."""
    return BLOB


@mcp.resource("test://items/{item_id}", name="item", mime_type="text/plain", description="One item by id.")
def item(item_id: str) -> str:
    """Return the text for one item."""
    return f"item {item_id}"


@mcp.prompt()
def greet(
    name: Annotated[str, Field(description="Who to greet")],
    style: Annotated[str, Field(description="Greeting style")] = "plain",
) -> list[Message]:
    """Ask for a greeting in the given style."""
    return [UserMessage(f"Greet {name} in a {style} style.")]


@mcp.prompt()
def summarize(text: Annotated[str, Field(description="Text to summarize")]) -> list[Message]:
    """Ask for a summary, with the assistant's opening line."""
    return [UserMessage(f"Summarize this text:\n\n{text}"), AssistantMessage("Here is a summary:")]


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transport", choices=["stdio", "streamable-http", "sse"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the server on the chosen transport."""
    args = _parse_args(argv)
    if args.transport == "stdio":
        mcp.run("stdio")
    elif args.transport == "sse":
        mcp.run("sse", host=args.host, port=args.port)
    else:
        mcp.run("streamable-http", host=args.host, port=args.port)


if __name__ == "__main__":
    main()
