"""`wait`: block until servers complete a handshake and answer a listing (CI readiness)."""

from __future__ import annotations

from typing import Annotated

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.boundary import run_async
from gemma_mcp_cli.cli.completion import complete_server
from gemma_mcp_cli.cli.options import JsonOpt
from gemma_mcp_cli.errors import MCPUsageError

NamesArg = Annotated[
    list[str],
    typer.Argument(
        metavar="SERVER",
        help="Server names or URLs to wait for.",
        show_default=False,
        autocompletion=complete_server,
    ),
]
WaitTimeoutOpt = Annotated[
    float,
    typer.Option(
        "--timeout",
        min=0.0,
        max=86400.0,
        metavar="SECONDS",
        help="Seconds to wait before giving up (exit 8).",
    ),
]
IntervalOpt = Annotated[
    float,
    typer.Option(
        "--interval",
        min=0.01,
        max=3600.0,
        metavar="SECONDS",
        help="Seconds before the first retry; grows with jitter.",
    ),
]


def command(
    ctx: typer.Context,
    servers: NamesArg,
    timeout: WaitTimeoutOpt = 30.0,
    interval: IntervalOpt = 0.25,
    as_json: JsonOpt = False,
) -> None:
    """Wait until every server answers a handshake and a listing; exit 8 at the deadline."""

    async def work() -> None:
        from gemma_mcp_cli.cli.connect import targets
        from gemma_mcp_cli.cli.loading import config_for
        from gemma_mcp_cli.cli.readiness import Readiness, not_ready, wait_for

        def ready(entry: Readiness) -> None:
            if not as_json:
                render.emit_text(
                    f"ready  {entry.name}  after {entry.waited_ms:.0f} ms ({entry.attempts} attempt(s))"
                )

        def retry(entry: Readiness) -> None:
            message = entry.error.message if entry.error else "no answer"
            if not as_json and message != seen.get(entry.name):
                render.message(f"waiting for {entry.name}: {message}", style="dim")
            seen[entry.name] = message

        if timeout != timeout or interval != interval:  # NaN slips past Typer's bounds
            raise MCPUsageError("--timeout and --interval must be numbers of seconds")
        seen: dict[str, str] = {}
        loaded = config_for(ctx)
        names = targets(loaded, servers)  # an unknown or disabled server is an error now, not at the end
        entries = await wait_for(
            ctx, loaded, names, timeout=timeout, interval=interval, on_ready=ready, on_retry=retry
        )
        if as_json:
            render.emit_json({"servers": [entry.as_dict() for entry in entries]})
        failure = not_ready(entries, timeout)
        if failure is not None:
            raise failure

    run_async(ctx, as_json, work)
