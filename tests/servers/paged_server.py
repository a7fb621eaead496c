"""Low-level MCP test server that serves 25 tools, resources and prompts in pages of 10 over stdio."""

import base64
from collections.abc import Sequence
from typing import TypeVar

import anyio
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    CallToolRequestParams,
    CallToolResult,
    GetPromptRequestParams,
    GetPromptResult,
    ListPromptsResult,
    ListResourcesResult,
    ListToolsResult,
    PaginatedRequestParams,
    Prompt,
    PromptMessage,
    ReadResourceRequestParams,
    ReadResourceResult,
    Resource,
    TextContent,
    TextResourceContents,
    Tool,
)

SERVER_NAME = "paged-test"
SERVER_VERSION = "0.1.0"
ITEM_COUNT = 25
PAGE_SIZE = 10
CURSOR_PREFIX = "page-offset:"

T = TypeVar("T")

TOOLS = [
    Tool(
        name=f"tool_{i:02d}",
        description=f"Paged test tool number {i}.",
        input_schema={"type": "object", "properties": {}},
    )
    for i in range(ITEM_COUNT)
]
RESOURCES = [
    Resource(name=f"resource_{i:02d}", uri=f"test://paged/resource_{i:02d}", mime_type="text/plain")
    for i in range(ITEM_COUNT)
]
PROMPTS = [
    Prompt(name=f"prompt_{i:02d}", description=f"Paged test prompt number {i}.") for i in range(ITEM_COUNT)
]


def encode_cursor(offset: int) -> str:
    """Return the opaque cursor for a page starting at `offset`."""
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """Return the offset a cursor points at; reject anything this server did not issue."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        offset = int(text.removeprefix(CURSOR_PREFIX)) if text.startswith(CURSOR_PREFIX) else -1
    except ValueError:
        offset = -1
    if not 0 <= offset < ITEM_COUNT:
        raise MCPError(code=INVALID_PARAMS, message=f"Invalid cursor: {cursor!r}")
    return offset


def page(items: Sequence[T], params: PaginatedRequestParams | None) -> tuple[list[T], str | None]:
    """Return one page of `items` and the cursor of the next page, if any."""
    start = decode_cursor(params.cursor if params else None)
    end = start + PAGE_SIZE
    return list(items[start:end]), encode_cursor(end) if end < len(items) else None


async def list_tools(ctx: ServerRequestContext, params: PaginatedRequestParams | None) -> ListToolsResult:
    """Serve one page of tools."""
    tools, next_cursor = page(TOOLS, params)
    return ListToolsResult(tools=tools, next_cursor=next_cursor)


async def list_resources(
    ctx: ServerRequestContext, params: PaginatedRequestParams | None
) -> ListResourcesResult:
    """Serve one page of resources."""
    resources, next_cursor = page(RESOURCES, params)
    return ListResourcesResult(resources=resources, next_cursor=next_cursor)


async def list_prompts(ctx: ServerRequestContext, params: PaginatedRequestParams | None) -> ListPromptsResult:
    """Serve one page of prompts."""
    prompts, next_cursor = page(PROMPTS, params)
    return ListPromptsResult(prompts=prompts, next_cursor=next_cursor)


async def call_tool(ctx: ServerRequestContext, params: CallToolRequestParams) -> CallToolResult:
    """Answer a call to any known tool with "called <name>"."""
    if params.name not in {tool.name for tool in TOOLS}:
        raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool: {params.name}")
    return CallToolResult(content=[TextContent(type="text", text=f"called {params.name}")])


async def read_resource(ctx: ServerRequestContext, params: ReadResourceRequestParams) -> ReadResourceResult:
    """Return the text of a known resource."""
    match = next((r for r in RESOURCES if r.uri == params.uri), None)
    if match is None:
        raise MCPError(code=INVALID_PARAMS, message=f"Unknown resource: {params.uri}")
    contents = TextResourceContents(uri=match.uri, mime_type="text/plain", text=f"content of {match.name}")
    return ReadResourceResult(contents=[contents])


async def get_prompt(ctx: ServerRequestContext, params: GetPromptRequestParams) -> GetPromptResult:
    """Return a one-message rendering of a known prompt."""
    if params.name not in {prompt.name for prompt in PROMPTS}:
        raise MCPError(code=INVALID_PARAMS, message=f"Unknown prompt: {params.name}")
    message = PromptMessage(role="user", content=TextContent(type="text", text=f"rendered {params.name}"))
    return GetPromptResult(messages=[message])


server: Server = Server(
    SERVER_NAME,
    version=SERVER_VERSION,
    on_list_tools=list_tools,
    on_call_tool=call_tool,
    on_list_resources=list_resources,
    on_read_resource=read_resource,
    on_list_prompts=list_prompts,
    on_get_prompt=get_prompt,
)


async def serve() -> None:
    """Serve one client over stdin/stdout until stdin closes."""
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(serve)
