"""`call`: call one tool, with arguments checked against its schema before sending."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gemma_mcp_cli import arguments
from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli._client import cached_tools, open_manager
from gemma_mcp_cli.cli._load import config_for
from gemma_mcp_cli.cli._run import run
from gemma_mcp_cli.cli.content import report_call
from gemma_mcp_cli.cli.options import JsonOpt, ServerArg, TimeoutOpt, ToolArg
from gemma_mcp_cli.errors import MCPUsageError

if TYPE_CHECKING:
    from gemma_mcp_cli.config import LoadedConfig

ArgOpt = Annotated[
    list[str] | None,
    typer.Option("--arg", "-a", help="key=value (typed by the tool's schema) or key:=<json>; repeatable."),
]
ArgsOpt = Annotated[
    str | None, typer.Option("--args", help="A JSON object: the text, @FILE, or - for standard input.")
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Check the arguments and print the request only.")]


def command(
    ctx: typer.Context,
    server: ServerArg,
    tool: ToolArg,
    arg: ArgOpt = None,
    args: ArgsOpt = None,
    timeout: TimeoutOpt = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Call a tool on a server and print its result."""

    def work() -> None:
        if timeout is not None and not math.isfinite(timeout):
            raise MCPUsageError("--timeout must be a finite number of seconds")
        loaded = config_for(ctx)
        name = loaded.server(server).name
        base = arguments.load_args_object(args)
        tools = cached_tools(loaded, name)
        known = next((t for t in tools or [] if t.get("name") == tool), None)
        values = arguments.build(name, tool, known, base, arg) if known else None
        if values is not None and dry_run:
            _print_request(name, tool, values)  # answered from the cache: no server started
            return
        import anyio

        result = anyio.run(
            _call, ctx, loaded, name, tool, tools if known else None, base, arg, timeout, dry_run
        )
        if result is not None:
            report_call(name, tool, result, as_json=as_json)

    run(ctx, as_json, work)


async def _call(
    ctx: typer.Context,
    loaded: LoadedConfig,
    name: str,
    tool: str,
    tools: list[dict[str, Any]] | None,
    base: dict[str, Any],
    pairs: list[str] | None,
    timeout: float | None,
    dry_run: bool,
) -> dict[str, Any] | None:
    with render.ProgressDisplay(f"{name} {tool}") as progress:
        async with open_manager(ctx, loaded) as manager:
            if tools is not None:
                manager.remember_tools(name, tools)
            values = arguments.build(name, tool, await manager.get_tool(name, tool), base, pairs)
            if dry_run:
                _print_request(name, tool, values)
                return None
            return await manager.call_tool(name, tool, values, timeout=timeout, on_progress=progress.update)


def _print_request(server: str, tool: str, values: dict[str, Any]) -> None:
    render.emit_json({"server": server, "tool": tool, "arguments": values, "dry_run": True})
