"""`resources watch`: subscribe to resources and print each update until Ctrl-C, --count or --timeout."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.boundary import run_async
from gemma_mcp_cli.cli.connect import open_manager
from gemma_mcp_cli.cli.loading import config_for
from gemma_mcp_cli.cli.options import JsonOpt, ServerArg
from gemma_mcp_cli.errors import MCPTimeoutError, MCPUsageError

if TYPE_CHECKING:
    from gemma_mcp_cli.cli.routing import RoutedManager

UrisArg = Annotated[list[str], typer.Argument(help="The resource URIs to watch.", show_default=False)]
ReadOpt = Annotated[bool, typer.Option("--read", help="Read each resource again when it changes; print it.")]
CountOpt = Annotated[int | None, typer.Option("--count", min=1, help="Stop after this many updates.")]
ListWatchOpt = Annotated[
    bool, typer.Option("--watch", help="Print the list again each time a server says it changed.")
]
ChangesOpt = Annotated[
    int | None, typer.Option("--count", min=1, help="With --watch: stop after this many changes.")
]
WatchTimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout", min=0.0, help="Stop after this many seconds (exit 8 if --count is not reached)."
    ),
]


def command(
    ctx: typer.Context,
    server: ServerArg,
    uris: UrisArg,
    read: ReadOpt = False,
    count: CountOpt = None,
    timeout: WatchTimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Subscribe to resources and print each update (one JSON line per update with --json)."""

    async def work() -> None:
        import anyio

        if timeout is not None and not math.isfinite(timeout):
            raise MCPUsageError("--timeout must be a finite number of seconds")
        loaded = config_for(ctx)
        name = loaded.server(server).name
        seen = 0
        routed = open_manager(ctx, loaded, start=[name])
        async with routed as manager, manager.watch_resources(name, uris) as updates:
            with anyio.move_on_after(math.inf if timeout is None else timeout):
                async for uri in updates:
                    await _show(manager, name, uri, read=read, as_json=as_json)
                    seen += 1
                    if seen == count:
                        return
        if count is not None:
            raise MCPTimeoutError(
                f"{seen} of {count} updates from server '{name}' within {timeout}s", server=name
            )

    run_async(ctx, as_json, work)


async def _show(manager: RoutedManager, server: str, uri: str, *, read: bool, as_json: bool) -> None:
    """Print one update: a JSON line, or the time and URI (then the text contents) for people."""
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    contents = await manager.read_resource(server, uri) if read else None
    if as_json:
        event: dict[str, Any] = {"server": server, "uri": uri, "time": now}
        if contents is not None:
            event["contents"] = contents
        render.emit_json_line(event)
        return
    render.emit_text(render.one_line(f"{now} {uri}"))
    for item in contents or []:
        text = item.get("text")
        lines = (
            text.splitlines() if isinstance(text, str) else [f"[blob {item.get('mimeType') or ''}]".strip()]
        )
        for line in lines:
            render.emit_text("  " + render.one_line(line))
