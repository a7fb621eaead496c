"""Open a short-lived manager for a command, and fan a request out over several servers."""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli._run import state
from gemma_mcp_cli.config import LoadedConfig
from gemma_mcp_cli.errors import MCPError

if TYPE_CHECKING:
    from gemma_mcp_cli.manager import MCPClientManager

Fetch = Callable[["MCPClientManager", str], Awaitable[list[dict[str, Any]]]]


def open_manager(ctx: typer.Context, loaded: LoadedConfig) -> MCPClientManager:
    """Return a manager over the configured servers, wired to this command's output."""
    from gemma_mcp_cli.manager import MCPClientManager

    verbose = state(ctx).verbose
    quiet_sdk_logging(verbose)
    return MCPClientManager(loaded.servers, verbose=verbose, on_log=render.server_log if verbose else None)


def quiet_sdk_logging(verbose: bool) -> None:
    """Keep the SDK's own log records (tracebacks included) off stderr unless --verbose."""
    logger = logging.getLogger("mcp")
    logger.propagate = False
    logger.handlers = [logging.StreamHandler(sys.stderr) if verbose else logging.NullHandler()]
    if verbose:
        logger.handlers[0].setFormatter(logging.Formatter("[sdk] %(levelname)s %(name)s: %(message)s"))


def targets(loaded: LoadedConfig, names: Sequence[str] | None) -> list[str]:
    """Return the named servers (each checked), or every enabled server, in file order."""
    if names:
        return [loaded.server(name).name for name in dict.fromkeys(names)]
    return [server.name for server in loaded.enabled()]


async def across(
    ctx: typer.Context, loaded: LoadedConfig, names: list[str], fetch: Fetch
) -> tuple[list[dict[str, Any]], list[MCPError]]:
    """Run `fetch` on every server concurrently; return the items (tagged by server) and the failures."""
    import anyio

    found: dict[str, list[dict[str, Any]] | MCPError] = {}

    async def one(manager: MCPClientManager, name: str) -> None:
        try:
            found[name] = await fetch(manager, name)
        except MCPError as error:
            found[name] = error

    async with open_manager(ctx, loaded) as manager, anyio.create_task_group() as tg:
        for name in names:
            tg.start_soon(one, manager, name)
    items: list[dict[str, Any]] = []
    errors: list[MCPError] = []
    for name in names:
        result = found[name]
        if isinstance(result, MCPError):
            errors.append(result)
        else:
            items += [{"server": name, **item} for item in result]
    return items, errors


def error_entries(errors: Sequence[MCPError]) -> list[dict[str, Any]]:
    """Return the `errors` array of a list document."""
    return [
        {"server": e.server, "type": e.kind, "exit_code": int(e.exit_code), "message": e.message}
        for e in errors
    ]


def finish(errors: Sequence[MCPError], *, as_json: bool) -> None:
    """After the successes are printed: report the failures and exit with the first one's code."""
    if not errors:
        return
    if not as_json:
        for error in errors[1:]:
            render.failure(error, as_json=False)
    raise errors[0]
