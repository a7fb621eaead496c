"""`tools`: what the servers offer, and one tool in detail."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.boundary import run
from gemma_mcp_cli.cli.connect import error_entries, find_tool, finish, list_tools_of, listing, targets
from gemma_mcp_cli.cli.content import first_line
from gemma_mcp_cli.cli.list_watch import list_or_watch
from gemma_mcp_cli.cli.listings import ListingView
from gemma_mcp_cli.cli.loading import config_for
from gemma_mcp_cli.cli.options import (
    FieldsOpt,
    JsonOpt,
    OfflineOpt,
    RefreshOpt,
    ServerArg,
    ServersArg,
    ToolArg,
)
from gemma_mcp_cli.cli.schema import parameters
from gemma_mcp_cli.cli.tool_search import DEFAULT_LIMIT, rank, show
from gemma_mcp_cli.cli.watch import ChangesOpt, ListWatchOpt, WatchTimeoutOpt
from gemma_mcp_cli.errors import MCPNotOfferedError

QueryArg = Annotated[
    str, typer.Argument(help="Words to look for in tool names, titles, descriptions and parameters.")
]
LimitOpt = Annotated[int, typer.Option("--limit", "-n", min=1, help="Show at most this many matches.")]

app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="List the servers' tools and show one in detail."
)


TOOLS = ListingView(
    "tools",
    list_tools_of,
    ("SERVER", "TOOL", "DESCRIPTION"),
    lambda t: (t["server"], t["name"], first_line(t.get("description"))),
)


@app.command("list")
def list_tools(
    ctx: typer.Context,
    servers: ServersArg = None,
    refresh: RefreshOpt = False,
    offline: OfflineOpt = False,
    fields: FieldsOpt = None,
    watch: ListWatchOpt = False,
    count: ChangesOpt = None,
    timeout: WatchTimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the tools of the named servers, or of every enabled server (cached)."""
    options = {"refresh": refresh, "offline": offline, "fields": fields, "as_json": as_json}
    list_or_watch(ctx, TOOLS, servers, options | {"watch": watch, "count": count, "timeout": timeout})


@app.command("search")
def search_tools(
    ctx: typer.Context,
    query: QueryArg,
    servers: ServersArg = None,
    limit: LimitOpt = DEFAULT_LIMIT,
    refresh: RefreshOpt = False,
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Rank the tools of the servers by how well they match QUERY (cached)."""

    def work() -> None:
        loaded = config_for(ctx)
        names = targets(loaded, servers)
        items, found = listing(ctx, loaded, names, "tools", list_tools_of, refresh=refresh, offline=offline)
        errors = [e for e in found if not isinstance(e, MCPNotOfferedError)]  # no tools: nothing to rank
        show(rank(query, items, limit), error_entries(errors), as_json=as_json)
        finish(errors, as_json=as_json)

    run(ctx, as_json, work)


@app.command("show")
def show_tool(
    ctx: typer.Context,
    server: ServerArg,
    tool: ToolArg,
    refresh: RefreshOpt = False,
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Show a tool's description, annotations and parameters."""

    def work() -> None:
        loaded = config_for(ctx)
        found = find_tool(ctx, loaded, loaded.server(server).name, tool, refresh=refresh, offline=offline)
        if as_json:
            render.emit_json({"server": server, "tool": found})
            return
        _print_tool(server, found)

    run(ctx, as_json, work)


def _print_tool(server: str, tool: dict[str, Any]) -> None:
    annotations = tool.get("annotations") or {}
    hints = ", ".join(f"{k}={v}" for k, v in annotations.items() if k.endswith("Hint"))
    render.fields(
        [
            ("tool", tool["name"]),
            ("server", server),
            ("title", tool.get("title") or annotations.get("title")),
            ("description", tool.get("description")),
            ("annotations", hints or None),
        ]
    )
    rows = parameters(tool.get("inputSchema") or {})
    if rows:
        render.table(("PARAMETER", "TYPE", "REQUIRED", "DEFAULT", "ENUM", "DESCRIPTION"), rows)
    else:
        render.message("(no parameters)", style="dim")
