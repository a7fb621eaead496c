"""Tell the SDK about a tool known from the disk cache, so `tools/call` carries its `Mcp-Param-*` headers.

On 2026-07-28 over HTTP, arguments whose schema says `x-mcp-header` are mirrored into request
headers, from a map the SDK builds only when it lists the tools itself. A call whose schema came
from our cache would go out without them, be refused (400 HEADER_MISMATCH) and be resent after a
fresh `tools/list`; absorbing the cached definition first sends it right the first time.
"""

from __future__ import annotations

from typing import Any

from mcp.client.session import ClientSession
from mcp_types import ListToolsResult, Tool
from pydantic import ValidationError


def absorb_known_tool(session: ClientSession, definition: dict[str, Any]) -> None:
    """Give the session a tool's definition it has not listed in this connection."""
    name = definition.get("name")
    # The SDK keeps its per-tool state in private fields; reading one tells whether it has it.
    if not isinstance(name, str) or name in getattr(session, "_tool_output_schemas", {name: None}):
        return
    try:
        tool = Tool.model_validate(definition)
    except ValidationError:
        return  # a cached entry the SDK would not take: it lists the tools itself on a mismatch
    session._absorb_tool_listing(ListToolsResult(tools=[tool]), complete=False)
