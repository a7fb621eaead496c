"""The one failure boundary: every command runs through here."""

from __future__ import annotations

import os
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.errors import ExitCode, MCPError, MCPInterruptedError

T = TypeVar("T")


@dataclass
class AppState:
    """Global options, shared by every command through the Typer context."""

    config: str | None = None
    verbose: bool = False
    retries: int | None = None
    transport: str | None = None
    no_session: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def state(ctx: typer.Context) -> AppState:
    """Return the global options of this invocation."""
    # Mounted under a host, our root callback runs in a child context: walk up to it.
    current: Any = ctx
    while current is not None:
        if isinstance(current.obj, AppState):
            return current.obj
        current = current.parent
    return AppState()


def _debug(ctx: typer.Context) -> bool:
    return state(ctx).verbose or os.environ.get("GEMMA_MCP_DEBUG") == "1"


def run(ctx: typer.Context, as_json: bool, work: Callable[[], T]) -> T:
    """Run a command's work; turn any failure into a message on stderr and an exit code."""
    try:
        return work()
    except MCPError as error:
        render.failure(error, as_json=as_json)
        raise typer.Exit(int(error.exit_code)) from None
    except KeyboardInterrupt:
        render.failure(MCPInterruptedError("interrupted"), as_json=as_json)
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # the top-level boundary: a bug must still end in one clean line
        if _debug(ctx):
            traceback.print_exc()
        internal = MCPError(
            f"internal error: {type(exc).__name__}: {exc}",
            hint=None if _debug(ctx) else "rerun with --verbose for the traceback, and report it",
        )
        render.failure(internal, as_json=as_json)
        raise typer.Exit(int(ExitCode.INTERNAL)) from None


def run_async(ctx: typer.Context, as_json: bool, work: Callable[[], Awaitable[T]]) -> T:
    """Run an async command body once, inside the failure boundary."""

    def body() -> T:
        import anyio

        async def main() -> T:
            return await work()

        return anyio.run(main)

    return run(ctx, as_json, body)
