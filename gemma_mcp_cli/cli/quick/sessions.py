"""`session list` and `session stop`: the sessions' own listing and stopping, without Typer.

Neither reads the configuration; both only talk to the sessions over their sockets. The Typer
commands run the same two functions, so output and exit codes are the same either way. A
command line this does not recognise (other options, `stop` with nothing named) returns None
and takes the full path, which reports it.
"""

from __future__ import annotations

from gemma_mcp_cli.cli.quick import leading_config

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any


_COMMANDS = {"list": {"--json"}, "stop": {"--json", "--all"}}


def parse(argv: list[str]) -> dict[str, Any] | None:
    """Return the parts of a plain `session list` or `session stop`, or None for anything else."""
    start = leading_config(argv)  # the configuration is not read; other global options go to Typer
    if start is None:
        return None
    i = start[1]
    if argv[i : i + 1] != ["session"] or len(argv) < i + 2 or argv[i + 1] not in _COMMANDS:
        return None
    command, rest = argv[i + 1], argv[i + 2 :]
    flags = {word for word in rest if word.startswith("-")}
    names = [word for word in rest if not word.startswith("-")]
    if not flags <= _COMMANDS[command] or (command == "list" and names):
        return None
    if command == "stop" and not names and "--all" not in flags:
        return None  # the full path says what is missing
    return {"command": command, "json": "--json" in flags, "every": "--all" in flags, "names": names}


def run(argv: list[str]) -> int | None:
    """Answer `session list` or `session stop`; None to take the full path."""
    from gemma_mcp_cli.cli.quick.call import disabled

    request = parse(argv)
    if request is None or disabled():
        return None
    try:
        if request["command"] == "list":
            show(as_json=request["json"])
        else:
            stop(request["names"], every=request["every"], as_json=request["json"])
    except Exception:  # an unsafe state folder and the like: the full path reports it (stop is idempotent)
        return None
    return 0


def show(*, as_json: bool) -> None:
    """Print the live sessions: server, pid, uptime, requests served, idle time, what started it."""
    from gemma_mcp_cli.cli import render
    from gemma_mcp_cli.sessions import client, launch

    rows = [launch.describe(info) for info in client.all_sessions()]
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
            "keep-alive" if r["started_by"] == launch.BY_KEEP_ALIVE else "session start",
            r["config"] or "",
        )
        for r in rows
    ]
    render.table(("SERVER", "PID", "UPTIME", "REQUESTS", "IDLE", "STARTED BY", "CONFIG"), table)
    if not rows:
        render.message("no live sessions", style="dim")


def stop(names: list[str], *, every: bool, as_json: bool) -> None:
    """Stop the sessions of the named servers (or every session) and say which stopped."""
    from gemma_mcp_cli.cli import render
    from gemma_mcp_cli.sessions import client, launch

    wanted = set(names)
    stopped = [launch.stop(info) for info in client.all_sessions() if every or info["server"] in wanted]
    if as_json:
        render.emit_json({"stopped": stopped})
    else:
        render.message(f"stopped {len(stopped)} session(s)" + (f": {', '.join(stopped)}" if stopped else ""))
