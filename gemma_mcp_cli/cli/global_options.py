"""The global options, defined once, accepted before the subcommand and after it.

`gemma-mcp --config x tools list` and `gemma-mcp tools list --config x` mean the same. The root
callback takes them first; `install` then gives every command the ones that mean something to
it (the same definitions), and merges what it was given into the invocation's `AppState`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

import typer

from gemma_mcp_cli.cli.invocation import AppState, parse_headers, state
from gemma_mcp_cli.errors import MCPUsageError


class Transport(StrEnum):
    """The transports a URL can be reached by."""

    HTTP = "http"
    SSE = "sse"
    WEBSOCKET = "websocket"


class LogLevel(StrEnum):
    """The levels a server can be asked to log at (RFC 5424, as MCP names them)."""

    DEBUG = "debug"
    INFO = "info"
    NOTICE = "notice"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"
    ALERT = "alert"
    EMERGENCY = "emergency"


LogLevelOpt = Annotated[
    LogLevel | None,
    typer.Option(
        "--log-level",
        help="Ask the servers for their logs from this level up; shown on stderr.",
        show_default=False,
    ),
]
ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config",
        "-c",
        metavar="PATH",
        help="Configuration file (default: $GEMMA_MCP_CONFIG, then discovery).",
        show_default=False,
    ),
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show server stderr, server logs and tracebacks.")
]
RetriesOpt = Annotated[
    int | None,
    typer.Option(
        "--retries",
        min=0,
        metavar="N",
        help="Retries of a failed connection or safe request (default: the config's).",
        show_default=False,
    ),
]
TransportOpt = Annotated[
    Transport | None,
    typer.Option(
        "--transport",
        metavar="[http|sse|websocket]",
        help="For a URL given as SERVER: http (default), sse or websocket.",
        show_default=False,
    ),
]
HeaderOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--header",
        "-H",
        metavar="'NAME: VALUE'",
        help="A header for a URL given as SERVER; ${VAR} expands from the environment; repeatable.",
        show_default=False,
    ),
]
NoSessionOpt = Annotated[
    bool, typer.Option("--no-session", help="Do not use warm sessions; talk to the servers directly.")
]

# name in AppState -> (the option, its default)
OPTIONS: Mapping[str, tuple[Any, Any]] = {
    "config": (ConfigOpt, None),
    "verbose": (VerboseOpt, False),
    "retries": (RetriesOpt, None),
    "transport": (TransportOpt, None),
    "headers": (HeaderOpt, None),
    "no_session": (NoSessionOpt, False),
    "log_level": (LogLevelOpt, None),
}
EVERYWHERE = ("config", "verbose")
CONNECTING = tuple(OPTIONS)
# The commands that reach a server named (or given as a URL) on the command line.
CONNECTING_COMMANDS = {
    "batch",
    "call",
    "lock",
    "wait",
    "tools search",
    "tools list",
    "tools show",
    "resources list",
    "resources templates",
    "resources read",
    "prompts list",
    "prompts get",
    "servers status",
    "complete",
    "resources watch",
}
_PREFIX = "global_"


def headers(pairs: list[str] | None) -> dict[str, str]:
    """Parse `--header` values for Typer (a bad one is a usage error, exit 2)."""
    try:
        return parse_headers(pairs or [])
    except MCPUsageError as error:
        raise typer.BadParameter(error.message, param_hint="--header") from None


def merge(target: AppState, given: Mapping[str, Any]) -> None:
    """Apply options given after the subcommand over those given before it."""
    if given.get("config") is not None:
        target.config = given["config"]
    if given.get("retries") is not None:
        target.retries = given["retries"]
    if given.get("transport") is not None:
        target.transport = str(given["transport"])
    if given.get("log_level") is not None:
        target.log_level = str(given["log_level"])
    target.verbose = target.verbose or bool(given.get("verbose"))
    target.no_session = target.no_session or bool(given.get("no_session"))
    target.headers = target.headers | headers(given.get("headers"))


def extend(
    command: Callable[..., Any],
    options: Mapping[str, tuple[Any, Any]],
    take: Callable[[Any, dict[str, Any], dict[str, Any]], None],
) -> Callable[..., Any]:
    """Return `command` with more options (name -> (annotation, default)) for Typer to read.

    `take(ctx, given, kwargs)` receives the extra options' values before the command runs,
    and may change the command's own arguments.
    """
    signature = inspect.signature(command, eval_str=True)
    if "ctx" not in signature.parameters:
        raise TypeError(f"{command.__qualname__} needs a ctx parameter to take global options")
    extra = [
        inspect.Parameter(
            _PREFIX + name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
        )
        for name, (annotation, default) in options.items()
    ]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(_PREFIX + name, None) for name in options}
        take(kwargs["ctx"], given, kwargs)
        return command(*args, **kwargs)

    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), *extra]
    )
    return wrapper


def accepting(names: Sequence[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Return a decorator that gives a command the named global options."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        chosen = {name: OPTIONS[name] for name in names}
        return extend(command, chosen, lambda ctx, given, _: merge(state(ctx), given))

    return decorate


def install(app: typer.Typer, path: str = "") -> None:
    """Give every command of `app` (and its groups) the global options that mean something to it."""
    for info in app.registered_commands:
        name = f"{path} {info.name}".strip()
        if info.callback is not None:
            wanted = CONNECTING if name in CONNECTING_COMMANDS else EVERYWHERE
            info.callback = accepting(wanted)(info.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            install(group.typer_instance, f"{path} {group.name}".strip())
