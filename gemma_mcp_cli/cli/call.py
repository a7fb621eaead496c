"""`call`: call one tool, with arguments checked against its schema before sending."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gemma_mcp_cli.cli import run_call, run_task, session
from gemma_mcp_cli.cli.boundary import run
from gemma_mcp_cli.cli.content import CallOutput
from gemma_mcp_cli.cli.loading import config_for
from gemma_mcp_cli.cli.options import JsonOpt, ServerArg, TimeoutOpt, ToolArg

ArgOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--arg",
        "-a",
        metavar="KEY=VALUE",
        help="key=value (typed by the tool's schema) or key:=JSON; repeatable.",
    ),
]
ArgsOpt = Annotated[
    str | None,
    typer.Option(
        "--args", metavar="JSON|@FILE|-", help="A JSON object: the text, @FILE, or - for standard input."
    ),
]
TaskOpt = Annotated[
    bool,
    typer.Option("--task", help="Run the call as a task on the server (MCP 2025-11-25) and wait for it."),
]
DetachOpt = Annotated[
    bool,
    typer.Option("--detach", help="Run the call as a task and print its id at once (see 'tasks result')."),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Check the arguments and print the request only.")]
RawOpt = Annotated[bool, typer.Option("--raw", help="Print text results byte for byte on a terminal too.")]
StructuredOpt = Annotated[
    bool, typer.Option("--structured", help="Print the structured content (JSON) even when there is text.")
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write binary content (image, audio, blob) here, else the text.",
    ),
]


def command(
    ctx: typer.Context,
    server: ServerArg,
    tool: ToolArg,
    arg: ArgOpt = None,
    args: ArgsOpt = None,
    timeout: TimeoutOpt = None,
    dry_run: DryRunOpt = False,
    raw: RawOpt = False,
    structured: StructuredOpt = False,
    output: OutputOpt = None,
    task: TaskOpt = False,
    detach: DetachOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Call a tool on a server and print its result."""

    def work() -> None:
        if detach and not dry_run:
            # A stdio server dies with us, and its task with it: a session keeps both.
            loaded = config_for(ctx)
            run_task.keep_alive(ctx, loaded, loaded.server(server).name, session.start_for_task)
        run_call.call(
            ctx,
            server,
            tool,
            pairs=arg,
            args_text=args,
            timeout=timeout,
            dry_run=dry_run,
            as_json=as_json,
            how=CallOutput(structured=structured, output=output, raw=raw),
            task=task,
            detach=detach,
        )

    run(ctx, as_json, work)
