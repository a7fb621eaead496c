"""`complete`: the values a server offers for one argument of a prompt or resource template."""

from __future__ import annotations

from typing import Annotated

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.boundary import run_async
from gemma_mcp_cli.cli.connect import open_manager
from gemma_mcp_cli.cli.loading import config_for
from gemma_mcp_cli.cli.options import JsonOpt, ServerArg
from gemma_mcp_cli.errors import MCPUsageError

PromptOpt = Annotated[str | None, typer.Option("--prompt", help="Complete an argument of this prompt.")]
ResourceOpt = Annotated[
    str | None,
    typer.Option("--resource", help="Complete a variable of this resource template (its URI template)."),
]
PairsArg = Annotated[
    list[str],
    typer.Argument(
        help="ARG=PARTIAL to complete, last; any ARG=VALUE before it is given to the server as context.",
        show_default=False,
    ),
]


def command(
    ctx: typer.Context,
    server: ServerArg,
    pairs: PairsArg,
    prompt: PromptOpt = None,
    resource: ResourceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the server's completions for an argument of a prompt or resource template."""

    async def work() -> None:
        if prompt is not None and resource is None:
            ref = {"type": "ref/prompt", "name": prompt}
        elif resource is not None and prompt is None:
            ref = {"type": "ref/resource", "uri": resource}
        else:
            raise MCPUsageError("give exactly one of --prompt NAME or --resource TEMPLATE")
        *given, (argument, partial) = [_pair(text) for text in pairs]
        loaded = config_for(ctx)
        name = loaded.server(server).name
        async with open_manager(ctx, loaded, start=[name]) as manager:
            completion = await manager.complete(name, ref, argument, partial, dict(given))
        if as_json:
            document = {"server": name, "ref": ref, "argument": {"name": argument, "value": partial}}
            render.emit_json(document | completion)
            return
        for value in completion.get("values") or []:
            render.emit_text(render.one_line(str(value)))

    run_async(ctx, as_json, work)


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise MCPUsageError(f"{text!r} must look like ARG=VALUE (the value may be empty)")
    return key, value
