"""`session`: keep servers connected between invocations, so shell loops pay for start-up once."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import sys
import time
from typing import Annotated, Any

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.boundary import run
from gemma_mcp_cli.cli.completion import complete_server
from gemma_mcp_cli.cli.connect import error_entries, finish
from gemma_mcp_cli.cli.loading import config_for
from gemma_mcp_cli.cli.options import JsonOpt
from gemma_mcp_cli.errors import MCPConfigError, MCPConnectionError, MCPError, MCPUsageError
from gemma_mcp_cli.sessions import client as session_client
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
_START_GRACE = 10.0  # seconds beyond the server's connection_timeout for the session to come up


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
                started.append(_start(loaded, loaded.server(name).name, idle_timeout))
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
    return _start(loaded, name, _TASK_IDLE_TIMEOUT)


def _start(loaded: Any, name: str, idle_timeout: float) -> dict[str, Any]:
    """Start one session detached (its own process group) and wait until it serves."""
    key = session_client.session_key(name, loaded.source.path)
    live = session_client.read_info(key)
    if live is not None and session_client.usable(live) and not _describe(live | {"key": key}).get("stale"):
        return live
    if live is not None:
        _stop(live | {"key": key})  # it serves an older configuration or environment
    from gemma_mcp_cli.state.files import open_private, private_dir
    from gemma_mcp_cli.state.paths import log_dir

    try:
        log = private_dir(log_dir()) / f"session-{key}.log"
        descriptor = open_private(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    except OSError as exc:
        reason = f"cannot write the session log in {log_dir()}: {exc.strerror}"
        raise MCPConfigError(reason, server=name) from None
    command = [sys.executable, "-m", "gemma_mcp_cli.sessions.daemon", "--server", name]
    command += ["--idle-timeout", str(idle_timeout)]
    command += ["--config", str(loaded.source.path.resolve())] if loaded.source.path else []
    with os.fdopen(descriptor, "ab") as errors:
        offset = os.fstat(descriptor).st_size
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            start_new_session=True,
        )
    deadline = time.monotonic() + loaded.servers[name].connection_timeout + _START_GRACE
    while time.monotonic() < deadline:
        info = session_client.read_info(key)
        if info is not None:
            return info
        if process.poll() is not None:
            with os.fdopen(open_private(log), "rb") as written:
                written.seek(offset)
                fresh = written.read().decode(errors="replace")
            lines = [line for line in fresh.splitlines() if line.startswith("Error:")]
            reason = (
                lines[-1].removeprefix("Error: ") if lines else f"it exited with status {process.returncode}"
            )
            raise MCPConnectionError(f"the session for '{name}' did not start: {reason}", server=name)
        time.sleep(0.05)
    process.terminate()  # the session ends its server (and the server's children) on SIGTERM
    process.wait()
    raise MCPConnectionError(f"the session for '{name}' did not start in time (see {log})", server=name)


@app.command("list")
def list_sessions(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the live sessions: server, pid, uptime, requests served, idle time."""

    def work() -> None:
        rows = [_describe(info) for info in session_client.all_sessions()]
        if as_json:
            render.emit_json({"sessions": rows})
            return
        table = [
            (
                r["server"],
                r["pid"],
                f"{r['uptime_s']:.0f}s",
                r["requests"],
                f"{r['idle_s']:.0f}s",
                r["config"] or "",
            )
            for r in rows
        ]
        render.table(("SERVER", "PID", "UPTIME", "REQUESTS", "IDLE", "CONFIG"), table)
        if not rows:
            render.message("no live sessions", style="dim")

    run(ctx, as_json, work)


def _describe(info: dict[str, Any]) -> dict[str, Any]:
    """Ask a session for its counters (falling back to what its description says)."""
    try:
        live = session_client.ask(info["key"], {"op": "info"}, timeout=5.0)
    except (ConnectionError, OSError, MCPError):
        live = info
    return {
        "server": live["server"],
        "pid": live["pid"],
        "config": live.get("config"),
        "uptime_s": round(session_client.uptime(live), 1),
        "requests": live.get("requests", 0),
        "idle_s": live.get("idle_s", 0.0),
        "stale": bool(live.get("stale")),
    }


@app.command("stop")
def stop(
    ctx: typer.Context, servers: NamesArg = None, every: AllOpt = False, as_json: JsonOpt = False
) -> None:
    """Stop the sessions of the named servers (or --all)."""

    def work() -> None:
        if not servers and not every:
            raise MCPUsageError("name the servers whose sessions to stop, or give --all")
        wanted = set(servers or [])
        stopped = [_stop(info) for info in session_client.all_sessions() if every or info["server"] in wanted]
        if as_json:
            render.emit_json({"stopped": stopped})
        else:
            render.message(
                f"stopped {len(stopped)} session(s)" + (f": {', '.join(stopped)}" if stopped else "")
            )

    run(ctx, as_json, work)


def _stop(info: dict[str, Any]) -> str:
    """Ask a session to stop; end it by signal if it does not go within a few seconds."""
    pid = int(info["pid"])
    try:
        session_client.ask(info["key"], {"op": "stop"}, timeout=5.0)
    except (ConnectionError, OSError, MCPError, session_client.SessionLost):
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while (
        time.monotonic() < deadline and session_client.is_session_process(pid) and session_client.alive(pid)
    ):
        time.sleep(0.05)
    if session_client.is_session_process(pid) and session_client.alive(pid):
        _signal(pid, signal.SIGKILL)
    session_client.remove(info["key"], only_if_dead=True)
    return str(info["server"])


def _signal(pid: int, number: int) -> None:
    """Signal a session process, and never another program that got its pid."""
    if session_client.is_session_process(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, number)
