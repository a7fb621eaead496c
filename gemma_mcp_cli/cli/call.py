"""`call`: call one tool, with arguments checked against its schema before sending."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gemma_mcp_cli import arguments
from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli._client import open_manager
from gemma_mcp_cli.cli._load import config_for
from gemma_mcp_cli.cli._run import run_async
from gemma_mcp_cli.cli.content import print_result
from gemma_mcp_cli.cli.options import JsonOpt, ServerArg, TimeoutOpt, ToolArg
from gemma_mcp_cli.errors import MCPToolExecutionError

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

    async def work() -> None:
        loaded = config_for(ctx)
        name = loaded.server(server).name
        base = arguments.load_args_object(args)
        with render.ProgressDisplay(f"{name} {tool}") as progress:
            async with open_manager(ctx, loaded) as manager:
                schema = (await manager.get_tool(name, tool)).get("inputSchema")
                values = base | arguments.parse_pairs(arg or [], schema)
                arguments.validate(values, schema, server=name, tool=tool)
                if dry_run:
                    render.emit_json({"server": name, "tool": tool, "arguments": values, "dry_run": True})
                    return
                result = await manager.call_tool(
                    name, tool, values, timeout=timeout, on_progress=progress.update
                )
        _report(name, tool, result, as_json=as_json)

    run_async(ctx, as_json, work)


def _report(server: str, tool: str, result: dict[str, Any], *, as_json: bool) -> None:
    failed = bool(result.get("isError"))
    if as_json:
        render.emit_json({"server": server, "tool": tool, "result": result})
    elif not failed:
        print_result(result)
    if failed:
        text = " ".join(c.get("text", "") for c in result.get("content") or [] if c.get("type") == "text")
        raise MCPToolExecutionError(
            f"tool {tool} on '{server}' failed: {' '.join(text.split()) or 'no message'}", server=server
        )
