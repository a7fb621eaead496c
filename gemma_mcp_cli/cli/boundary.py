"""The one failure boundary: every Typer command runs through here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from gemma_mcp_cli.cli import relogin
from gemma_mcp_cli.cli.invocation import AppState, guarded, state

__all__ = ["AppState", "run", "run_async", "state"]

T = TypeVar("T")


def run(ctx: typer.Context, as_json: bool, work: Callable[[], T]) -> T:
    """Run a command's work; turn any failure into a message on stderr and an exit code."""
    results: list[T] = []
    code = guarded(
        lambda: results.append(work()),
        as_json=as_json,
        verbose=state(ctx).verbose,
        passthrough=(typer.Exit, typer.Abort),
        offer_login=lambda error: relogin.offer(ctx, error),
    )
    if code:
        raise typer.Exit(code)
    return results[0]


def run_async(ctx: typer.Context, as_json: bool, work: Callable[[], Awaitable[T]]) -> T:
    """Run an async command body once, inside the failure boundary."""

    def body() -> T:
        import anyio

        async def main() -> T:
            return await work()

        return anyio.run(main)

    return run(ctx, as_json, body)
