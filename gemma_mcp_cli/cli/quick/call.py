"""The front end of a plain `call`: read without Typer, and warm calls without pydantic.

Parsing the command line with Typer and loading the configuration with pydantic cost more
than a warm call itself, so a plain `call` whose server has a live session is read here and
sent straight to the session. Without a session, the call runs through the same code as the
Typer command, minus Typer (about 80 ms of a cold call). Anything this parser does not
recognise (help, other commands, unusual options, --verbose, a URL) returns None and takes
the ordinary path, which gives the same output and exit codes.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: a warm call never needs it
if TYPE_CHECKING:
    from typing import Any

TIMEOUT_MIN, TIMEOUT_MAX = 0.001, 86400.0  # seconds; --timeout's bounds, shared with Typer's option
_CALL_VALUE = {"--arg", "-a", "--args", "--timeout", "--output", "-o", "--config", "-c"}
_CALL_FLAGS = {"--dry-run": "dry_run", "--json": "json", "--raw": "raw", "--structured": "structured"}


def _split_value(argv: list[str], i: int) -> tuple[str, str | None, int]:
    """Read `--opt value` or `--opt=value`; return the option, its value and the next index."""
    word = argv[i]
    if word.startswith("--") and "=" in word:
        name, value = word.split("=", 1)
        return name, value, i + 1
    return word, argv[i + 1] if i + 1 < len(argv) else None, i + 2


def parse(argv: list[str]) -> dict[str, Any] | None:
    """Return the parts of a plain `call` command line, or None when it is anything else."""
    found: dict[str, Any] = {
        "config": None,
        "pairs": [],
        "args": None,
        "timeout": None,
        "dry_run": False,
        "json": False,
        "raw": False,
        "structured": False,
        "output": None,
    }
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        name, value, i = _split_value(argv, i)
        if name not in ("--config", "-c") or value is None:
            return None  # --retries and the rest belong to the full command line
        found["config"] = value
    if (
        argv[i : i + 1] != ["call"]
        or len(argv) < i + 3
        or argv[i + 1].startswith("-")
        or argv[i + 2].startswith("-")
    ):
        return None
    found["server"], found["tool"] = argv[i + 1], argv[i + 2]
    if "://" in found["server"]:
        return None
    i += 3
    while i < len(argv):
        if argv[i] in _CALL_FLAGS:
            found[_CALL_FLAGS[argv[i]]] = True
            i += 1
            continue
        name, value, i = _split_value(argv, i)
        if name not in _CALL_VALUE or value is None:
            return None  # --transport, --retries and the rest belong to the full command line
        if name in ("--arg", "-a"):
            found["pairs"].append(value)
        else:
            found[_LONG.get(name, name).lstrip("-")] = value
    return found


_LONG = {"-o": "--output", "-c": "--config"}


def _how(command: dict[str, Any]) -> Any:
    """Return how the result is printed (`--structured`, `--output`, `--raw`)."""
    from pathlib import Path

    from gemma_mcp_cli.cli.content import CallOutput

    output = command["output"]
    return CallOutput(
        structured=command["structured"], output=Path(output) if output else None, raw=command["raw"]
    )


def run(argv: list[str]) -> int | None:
    """Answer a plain `call`; return its exit code, or None to take the ordinary path.

    A live session answers it with the standard library alone; without one, the call runs
    here all the same (configuration, schema check, SDK), only without Typer.
    """
    try:
        command = parse(argv)
        if command is None or not _plain(command):
            return None
        key = _live_session(command)
    except Exception:  # anything unexpected here: the ordinary path knows better
        return None
    try:
        code = _call(key, command) if key is not None else None
        return code if code is not None else _cold(command)
    except KeyboardInterrupt:
        from gemma_mcp_cli.cli import render, signals

        stopped = signals.interruption()
        render.failure(stopped, as_json=command["json"])
        return int(stopped.exit_code)


def _plain(command: dict[str, Any]) -> bool:
    """Tell whether nothing in the command needs the ordinary path to report it."""
    timeout = command["timeout"]
    return (timeout is None or _in_range(timeout)) and not disabled()


def _in_range(text: str) -> bool:
    """Tell whether --timeout is within the bounds the ordinary path enforces (and reports)."""
    try:
        return TIMEOUT_MIN <= float(text) <= TIMEOUT_MAX
    except ValueError:
        return False


def _live_session(command: dict[str, Any]) -> str | None:
    from gemma_mcp_cli.config import discovery
    from gemma_mcp_cli.sessions import client as session_client

    source = discovery.find_config(command["config"], *discovery.servers_config_setting())
    if source.origin == discovery.PROJECT:  # only a project's file can need trust: load that check only then
        from gemma_mcp_cli.state import trust

        if trust.needs_trust(source):
            return None  # the cold path refuses it, with the hint
    key = session_client.session_key(command["server"], source.path)
    info = session_client.started_info(key, session_client.START_WAIT)
    if info is None and source.path is not None and not command["dry_run"]:
        _keep_warm(source, command["server"])  # a dry run may be answered from the cache alone
    return key if info is not None and session_client.usable(info) else None


def _keep_warm(source: Any, server: str) -> None:
    """Launch the server's keep-alive session now, if a plain file asks for one: the next call gains."""
    from gemma_mcp_cli.config.plain import keep_alive_of

    keep_alive = keep_alive_of(source, server)
    if keep_alive:
        from gemma_mcp_cli.sessions.launch import keep_warm_plain

        keep_warm_plain(source.path, server, keep_alive)


def _cold(command: dict[str, Any]) -> int:
    """Run the call without a session: the same work as the Typer command, read from `command`."""
    from gemma_mcp_cli.cli import relogin, run_call
    from gemma_mcp_cli.cli.invocation import AppState, guarded

    timeout = command["timeout"]
    options = AppState(config=command["config"])
    return guarded(
        lambda: run_call.call(
            options,
            command["server"],
            command["tool"],
            pairs=command["pairs"] or None,
            args_text=command["args"],
            timeout=float(timeout) if timeout is not None else None,
            dry_run=command["dry_run"],
            as_json=command["json"],
            how=_how(command),
        ),
        as_json=command["json"],
        verbose=False,
        offer_login=lambda error: relogin.offer(options, error),
    )


def disabled() -> bool:
    """Tell whether the settings might say anything but "enabled" (then the ordinary path decides)."""
    import os

    from gemma_mcp_cli.config.discovery import settings_block, settings_file

    if os.environ.get("GEMMA_MCP_ENABLED", "true").lower() not in ("1", "true", "yes", "on"):
        return True
    try:
        block = settings_block(settings_file())
    except (OSError, ValueError):
        return True
    return not isinstance(block, dict) or block.get("enabled", True) is not True


def _call(key: str, command: dict[str, Any]) -> int | None:
    # What only some calls need is loaded only by them: the argument reader (--args), the
    # answerer and the relay (a server that asks back), the error family (a failure).
    from gemma_mcp_cli.cli import render
    from gemma_mcp_cli.cli.content import check_output, report_call
    from gemma_mcp_cli.cli.terminal import in_terminal
    from gemma_mcp_cli.sessions import client as session_client

    server, tool, as_json = command["server"], command["tool"], command["json"]
    made: list[Any] = []  # the answerer, made when the session first passes something on

    def answerer() -> Any:
        if not made:
            from gemma_mcp_cli.cli.asking import answerer_for
            from gemma_mcp_cli.cli.invocation import AppState

            made.append(answerer_for(AppState(config=command["config"])))
        return made[0]

    def on_event(event: dict[str, Any]) -> dict[str, Any] | None:
        if event.get("event") == "progress":
            bar.show(event["progress"], event.get("total"), event.get("message"))
            return None
        from gemma_mcp_cli.cli.routing import relayed

        return relayed(answerer(), server, event)

    given = sys.stdin.read() if command["args"] == "-" else None
    try:
        how = _how(command)
        check_output(how)
        params = {
            "tool": tool,
            "pairs": command["pairs"],
            "args": _args_object(command["args"], given),
            "timeout": float(command["timeout"]) if command["timeout"] is not None else None,
            "dry_run": command["dry_run"],
        }
        with render.ProgressDisplay(f"{server} {tool}") as bar:
            request = {
                "op": "call",
                "params": params,
                "progress": sys.stderr.isatty(),
                # As answerer_for decides it when no answer option is given (the front end takes none).
                "interactive": in_terminal(),
            }
            from gemma_mcp_cli import _collection

            _collection.resume()  # the tool may run for minutes: collect as usual meanwhile
            result = session_client.ask(key, request, on_event)
    except session_client.SessionUnavailable:
        if given is not None:
            import io

            sys.stdin = io.StringIO(given)  # the ordinary path reads --args - again
        return None
    except session_client.SessionLost as lost:
        from gemma_mcp_cli.errors import MCPConnectionError

        message = f"the session for '{server}' ended during tools/call {tool} ({lost})"
        error = MCPConnectionError(message + "; not retried: it may have run", server=server)
        render.failure(error, as_json=as_json)
        return int(error.exit_code)
    except Exception as failure:
        return _failed(failure, as_json)
    asked = made[0].records if made else None
    return _print(server, tool, result, command, lambda *a, **k: report_call(*a, **k, asked=asked))


def _args_object(source: str | None, given: str | None) -> dict[str, Any]:
    """Read `--args` as the ordinary path does (no --args: no object to read)."""
    if source is None:
        return {}
    from gemma_mcp_cli import arguments

    return arguments.load_args_object(source, stdin_text=given)


def _failed(failure: Exception, as_json: bool) -> int:
    """Report one of our errors (and return its exit code); anything else is not ours to catch."""
    from gemma_mcp_cli.cli import render
    from gemma_mcp_cli.errors import MCPError

    if not isinstance(failure, MCPError):
        raise failure
    render.failure(failure, as_json=as_json)
    return int(failure.exit_code)


def _print(server: str, tool: str, result: dict[str, Any], command: dict[str, Any], report: Any) -> int:
    """Print what the session answered, as the ordinary path does."""
    from gemma_mcp_cli.cli import render

    as_json = command["json"]
    try:
        if "dry_run" in result:
            render.emit_json(
                {"server": server, "tool": tool, "arguments": result["dry_run"], "dry_run": True}
            )
        else:
            report(server, tool, result, as_json=as_json, how=_how(command))
    except Exception as failure:
        return _failed(failure, as_json)
    return 0
