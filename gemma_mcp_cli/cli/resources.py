"""`resources`: list resources and templates, read one."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from gemma_mcp_cli.cli import render, watch
from gemma_mcp_cli.cli.boundary import run_async
from gemma_mcp_cli.cli.connect import open_manager
from gemma_mcp_cli.cli.content import CallOutput, asked_entry, check_output, write_output
from gemma_mcp_cli.cli.list_watch import list_or_watch
from gemma_mcp_cli.cli.listings import ListingView, show_listing
from gemma_mcp_cli.cli.loading import config_for
from gemma_mcp_cli.cli.options import (
    FieldsOpt,
    JsonOpt,
    OfflineOpt,
    RefreshOpt,
    ServerArg,
    ServersArg,
    UriArg,
)
from gemma_mcp_cli.cli.watch import ChangesOpt, ListWatchOpt, WatchTimeoutOpt
from gemma_mcp_cli.errors import MCPUsageError

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="List and read the servers' resources.")
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the contents to this file.")
]


RESOURCES = ListingView(
    "resources",
    lambda manager, name: manager.list_resources(name),
    ("SERVER", "URI", "NAME", "MIME TYPE"),
    lambda r: (r["server"], r["uri"], r.get("name"), r.get("mimeType")),
)
TEMPLATES = ListingView(
    "resourceTemplates",
    lambda manager, name: manager.list_resource_templates(name),
    ("SERVER", "URI TEMPLATE", "NAME", "MIME TYPE"),
    lambda t: (t["server"], t["uriTemplate"], t.get("name"), t.get("mimeType")),
    noun="resource templates",
)


@app.command("list")
def list_resources(
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
    """List the resources of the named servers, or of every enabled server (cached)."""
    options = {"refresh": refresh, "offline": offline, "fields": fields, "as_json": as_json}
    list_or_watch(ctx, RESOURCES, servers, options | {"watch": watch, "count": count, "timeout": timeout})


@app.command("templates")
def list_templates(
    ctx: typer.Context,
    servers: ServersArg = None,
    refresh: RefreshOpt = False,
    offline: OfflineOpt = False,
    fields: FieldsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the resource templates of the named servers, or of every enabled server (cached)."""
    show_listing(ctx, TEMPLATES, servers, refresh=refresh, offline=offline, as_json=as_json, fields=fields)


@app.command("read")
def read_resource(
    ctx: typer.Context, server: ServerArg, uri: UriArg, output: OutputOpt = None, as_json: JsonOpt = False
) -> None:
    """Read one resource: text to stdout, binary to --output (or to a pipe)."""

    async def work() -> None:
        loaded = config_for(ctx)
        name = loaded.server(server).name
        check_output(CallOutput(output=output))
        async with open_manager(ctx, loaded, start=[name]) as manager:
            contents = await manager.read_resource(name, uri)
        if as_json:
            render.emit_json({"server": name, "uri": uri, "contents": contents} | asked_entry(manager.asked))
        elif output is not None:
            write_output(output, b"".join(_bytes_of(c) for c in contents))
            render.message(f"wrote {output}")
        else:
            _to_stdout(contents)

    run_async(ctx, as_json, work)


def _bytes_of(content: dict[str, Any]) -> bytes:
    if "blob" in content:
        return base64.b64decode(content["blob"], validate=True)  # checked by the manager
    return str(content.get("text", "")).encode()


def _to_stdout(contents: list[dict[str, Any]]) -> None:
    if any("blob" in c for c in contents) and sys.stdout.isatty():
        size = sum(len(_bytes_of(c)) for c in contents)
        raise MCPUsageError(
            f"the resource is binary ({size} bytes); not writing it to a terminal",
            hint="use --output FILE, or redirect stdout",
        )
    for content in contents:
        if "blob" in content:
            sys.stdout.flush()
            sys.stdout.buffer.write(_bytes_of(content))
            sys.stdout.buffer.flush()
        else:
            render.emit_text(str(content.get("text", "")))


app.command("watch")(watch.command)
