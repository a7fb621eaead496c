"""`call`: call one tool, with arguments checked against its schema before sending."""

from __future__ import annotations

from typing import Annotated

import typer

from gemma_mcp_cli.cli import run_call
from gemma_mcp_cli.cli.boundary import run
from gemma_mcp_cli.cli.options import JsonOpt, ServerArg, TimeoutOpt, ToolArg

ArgOpt = Annotated[
    list[str] | None,
    typer.Option("--arg", "-a", help="key=value (typed by the tool's schema) or key:=<json>; repeatable."),
]
ArgsOpt = Annotated[
    str | None, typer.Option("--args", help="A JSON object: the text, @FILE, or - for standard input.")
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Check the arguments and print the request only.")]
RawOpt = Annotated[bool, typer.Option("--raw", help="Print text results byte for byte on a terminal too.")]


def command(
    ctx: typer.Context,
    server: ServerArg,
    tool: ToolArg,
    arg: ArgOpt = None,
    args: ArgsOpt = None,
    timeout: TimeoutOpt = None,
    dry_run: DryRunOpt = False,
    raw: RawOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Call a tool on a server and print its result."""
    run(
        ctx,
        as_json,
        lambda: run_call.call(
            ctx,
            server,
            tool,
            pairs=arg,
            args_text=args,
            timeout=timeout,
            dry_run=dry_run,
            as_json=as_json,
            raw=raw,
        ),
    )
