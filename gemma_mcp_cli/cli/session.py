"""`session`: keep servers connected between invocations, so shell loops pay for start-up once."""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.boundary import run
from gemma_mcp_cli.cli.completion import complete_server
from gemma_mcp_cli.cli.connect import error_entries, finish
from gemma_mcp_cli.cli.loading import config_for
from gemma_mcp_cli.cli.options import JsonOpt
from gemma_mcp_cli.cli.quick import sessions as quick_sessions
from gemma_mcp_cli.errors import MCPError, MCPUsageError
from gemma_mcp_cli.sessions import launch
from gemma_mcp_cli.state.trust import require_trusted

app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="Keep servers connected between invocations."
)
NamesArg = Annotated[
    list[str] | None, typer.Argument(metavar="SERVER", help="Server names.", autocompletion=complete_server)
]
IdleOpt = Annotated[
    float,
    typer.Option("--idle-timeout", min=0.1, metavar="SECONDS", help="Stop after this many idle seconds."),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Stop every session.")]
_TASK_IDLE_TIMEOUT = 600.0  # seconds, as `session start`'s default


@app.command("start")
def start(
    ctx: typer.Context, servers: NamesArg = None, idle_timeout: IdleOpt = 600.0, as_json: JsonOpt = False
) -> None:
    """Start a background session for each server; later commands for it go through the session."""

    def work() -> None:
        if not servers:
            raise MCPUsageError("name at least one server to start a session for")
        if not math.isfinite(idle_timeout):
            raise MCPUsageError("--idle-timeout must be a finite number of seconds")
        loaded = config_for(ctx)
        require_trusted(loaded.source)  # a session starts the server, and keeps it running
        started, errors = [], []
        for name in dict.fromkeys(servers):
            try:
                if "://" in name:
                    raise MCPUsageError(
                        f"sessions are for configured servers; add {name} with 'servers add' first"
                    )
                started.append(launch.start_and_wait(loaded, loaded.server(name).name, idle_timeout))
            except MCPError as error:
                errors.append(error)
        if as_json:
            render.emit_json({"sessions": started, "errors": error_entries(errors)})
        else:
            for info in started:
                render.message(f"session for {info['server']} running (pid {info['pid']})")
        finish(errors, as_json=as_json)

    run(ctx, as_json, work)


def start_for_task(loaded: Any, name: str) -> dict[str, Any]:
    """Start a session that keeps a stdio server (and so its detached tasks) running.

    The session stays up past its idle timeout while a task it started runs (see the daemon).
    """
    require_trusted(loaded.source)
    return launch.start_and_wait(loaded, name, _TASK_IDLE_TIMEOUT)


@app.command("list")
def list_sessions(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the live sessions: server, pid, uptime, requests served, idle time, what started it."""
    run(ctx, as_json, lambda: quick_sessions.show(as_json=as_json))


@app.command("stop")
def stop(
    ctx: typer.Context, servers: NamesArg = None, every: AllOpt = False, as_json: JsonOpt = False
) -> None:
    """Stop the sessions of the named servers (or --all)."""

    def work() -> None:
        if not servers and not every:
            raise MCPUsageError("name the servers whose sessions to stop, or give --all")
        quick_sessions.stop(servers or [], every=every, as_json=as_json)

    run(ctx, as_json, work)
