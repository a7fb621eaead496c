"""A command's global options and its failure boundary, without Typer.

The Typer commands and the standard-library front ends (`gemma_mcp_cli.cli.quick.call`) share these,
so a command gives the same output and exit code whichever way it was read.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from gemma_mcp_cli.cli import render, signals
from gemma_mcp_cli.errors import ExitCode, MCPError, MCPUntrustedConfigError, MCPUsageError

if TYPE_CHECKING:
    import typer


@dataclass
class AppState:
    """Global options, shared by every command through the Typer context."""

    config: str | None = None
    verbose: bool = False
    retries: int | None = None
    transport: str | None = None
    no_session: bool = False
    log_level: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # How a server that asks back is answered (see cli/asking.py); read when a server is reached.
    answers: str | None = None
    accept_defaults: bool = False
    decline: bool = False
    cancel: bool = False
    roots: list[str] = field(default_factory=list)
    answerer: object = field(default=None, repr=False)  # made from the above on first use


def parse_headers(pairs: list[str]) -> dict[str, str]:
    """Parse `Name: value` pairs; `${VAR}` in a value expands, so a token need not be in argv."""
    from gemma_mcp_cli.config.expand import expand

    found = {}
    for pair in pairs:
        name, colon, value = pair.partition(":")
        if not colon or not name.strip():
            raise MCPUsageError(f"{pair!r} is not 'Name: value'")
        expanded = expand(value.strip())
        if expanded.unset:
            raise MCPUsageError(f"{name.strip()}: ${{{expanded.unset[0]}}} is not set in the environment")
        if any(c in name + expanded.value for c in "\r\n\0"):  # would end the header, or smuggle another
            raise MCPUsageError(f"{name.strip()}: the header holds a line break or NUL")
        found[name.strip()] = expanded.value
    return found


# What a command's helpers are given: the Typer context, or the options read without Typer.
Invocation: TypeAlias = "typer.Context | AppState"


def state(invocation: Invocation) -> AppState:
    """Return the global options of this invocation."""
    # Mounted under a host, our root callback runs in a child context: walk up to it.
    current: Any = invocation
    while current is not None:
        if isinstance(current, AppState):
            return current
        if isinstance(current.obj, AppState):
            return current.obj
        current = current.parent
    return AppState()


# Notices about the configuration, said once at the end of a command (see `defer_notice`).
_notices: dict[str, None] = {}


def defer_notice(text: str) -> None:
    """Say `text` once on stderr when the command ends, unless its failure already says more."""
    _notices[text] = None


def _say_notices(failure: MCPError | None = None) -> None:
    texts = list(_notices)
    _notices.clear()
    if not isinstance(failure, MCPUntrustedConfigError):
        for text in texts:
            render.warning(text)


def guarded(
    work: Callable[[], object],
    *,
    as_json: bool,
    verbose: bool,
    passthrough: tuple[type[BaseException], ...] = (),
    offer_login: Callable[[MCPError], bool] | None = None,
) -> int:
    """Run a command's work; turn any failure into a message on stderr; return the exit code."""
    debug = verbose or os.environ.get("GEMMA_MCP_DEBUG") == "1"
    try:
        try:
            _once(work)
        except MCPError as error:
            # A login that lacks a scope, at a terminal: sign in again and retry, once.
            if as_json or offer_login is None or not offer_login(error):
                raise
            _once(work)  # a second refusal is reported, not offered again
    except MCPError as error:
        _say_notices(error)
        render.failure(error, as_json=as_json)
        return int(error.exit_code)
    except KeyboardInterrupt:
        stopped = signals.interruption()
        render.failure(stopped, as_json=as_json)
        return int(stopped.exit_code)
    except passthrough:
        raise
    except Exception as exc:  # the top-level boundary: a bug must still end in one clean line
        if debug:
            traceback.print_exc()
        internal = MCPError(
            f"internal error: {type(exc).__name__}: {exc}",
            hint=None if debug else "rerun with --verbose for the traceback, and report it",
        )
        render.failure(internal, as_json=as_json)
        return int(ExitCode.INTERNAL)
    _say_notices()
    return 0


def _once(work: Callable[[], object]) -> None:
    try:
        work()
    except BaseExceptionGroup as group:  # a task group's failure: report the error inside it
        raise first_of(group) from group


def first_of(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """Return the error a group stands for: our own error first, then an interrupt, else its first."""
    found: list[BaseException] = []
    queue: list[BaseException] = [group]
    while queue:
        current = queue.pop(0)
        if isinstance(current, BaseExceptionGroup):
            queue += list(current.exceptions)
        else:
            found.append(current)
    for kind in (MCPError, KeyboardInterrupt):
        for exc in found:
            if isinstance(exc, kind):
                return exc
    return found[0] if found else RuntimeError(str(group))
