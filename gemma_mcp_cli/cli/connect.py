"""Open a short-lived manager for a command, and fan a request out over several servers."""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.invocation import Invocation, state
from gemma_mcp_cli.errors import (
    MCPConfigError,
    MCPError,
    MCPNotOfferedError,
    MCPToolNotFoundError,
    MCPUsageError,
    program,
)
from gemma_mcp_cli.names import close_names
from gemma_mcp_cli.sanitize import visible

if TYPE_CHECKING:
    from gemma_mcp_cli.cli.routing import RoutedManager
    from gemma_mcp_cli.client.manager import MCPClientManager
    from gemma_mcp_cli.config.loader import LoadedConfig
    from gemma_mcp_cli.state.cache import MCPToolRegistry

Fetch = Callable[["RoutedManager", str], Awaitable[list[dict[str, Any]]]]


def open_manager(
    ctx: Invocation,
    loaded: LoadedConfig,
    *,
    sessions: bool = True,
    start: Sequence[str] = (),
    protocol: str = "auto",
    **extra: Any,
) -> RoutedManager:
    """Return a manager over the configured servers, wired to this command's output.

    A server with a live warm session is served by it; the others by a manager started on
    first use (so a command that sessions answer never imports the SDK). The stdio servers
    named in `start` are started on entry, before the SDK is imported (see `early_start`).
    `protocol` is how our own connections are opened (`"legacy"`: the handshake era, for tasks).
    """
    from gemma_mcp_cli.cli.asking import answerer_for
    from gemma_mcp_cli.cli.routing import RoutedManager
    from gemma_mcp_cli.state.trust import require_trusted

    require_trusted(loaded.source)  # before any server is started, by us or through a session
    options = state(ctx)
    answerer = answerer_for(options)

    def direct() -> MCPClientManager:
        from gemma_mcp_cli import _collection
        from gemma_mcp_cli.client.manager import MCPClientManager
        from gemma_mcp_cli.state.stats import StatsStore

        _collection.resume()

        quiet_sdk_logging(options.verbose)
        return MCPClientManager(
            loaded.servers,
            verbose=options.verbose,
            on_log=render.server_log if options.verbose or options.log_level else None,
            log_level=options.log_level,
            cache=registry(loaded),
            stats=StatsStore(warn=render.warning),
            retries=options.retries if options.retries is not None else loaded.settings.retry_count,
            health_checks=False,  # a command is over long before the first background check
            asker=answerer,
            protocol=protocol,
            **extra,
        )

    # --verbose and --log-level show a server's own logs (and stderr), which only a direct
    # connection sees.
    quiet = not options.verbose and not options.log_level
    use = sessions and not extra and not options.no_session and quiet
    return RoutedManager(direct, loaded, use_sessions=use, start=start, answerer=answerer)


def quiet_sdk_logging(verbose: bool) -> None:
    """Keep the SDK's own log records (tracebacks included) off stderr unless --verbose."""
    logger = logging.getLogger("mcp")
    logger.propagate = False
    logger.handlers = [logging.StreamHandler(sys.stderr) if verbose else logging.NullHandler()]
    if verbose:
        logger.handlers[0].setFormatter(_VisibleFormatter("[sdk] %(levelname)s %(name)s: %(message)s"))


class _VisibleFormatter(logging.Formatter):
    """The SDK's records quote what servers sent: show their control characters as escapes."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record))


def targets(loaded: LoadedConfig, names: Sequence[str] | None) -> list[str]:
    """Return the named servers (each checked), or every enabled server, in file order."""
    if names:
        return [
            name if name in loaded.problems else loaded.server(name).name for name in dict.fromkeys(names)
        ]
    return loaded.enabled_names()


async def across(
    ctx: Invocation, loaded: LoadedConfig, names: list[str], fetch: Fetch, *, sessions: bool = True
) -> dict[str, list[dict[str, Any]] | MCPError]:
    """Run `fetch` on every server concurrently; return each server's items or its failure."""
    import anyio

    found: dict[str, list[dict[str, Any]] | MCPError] = {}

    async def one(manager: RoutedManager, name: str) -> None:
        try:
            found[name] = await fetch(manager, name)
        except MCPError as error:
            found[name] = error

    found.update((name, loaded.problems[name]) for name in names if name in loaded.problems)
    routed = open_manager(ctx, loaded, sessions=sessions, start=names)
    async with routed as manager, anyio.create_task_group() as tg:
        for name in names:
            if name not in found:
                tg.start_soon(one, manager, name)
    return found


def listing(
    ctx: Invocation,
    loaded: LoadedConfig,
    names: list[str],
    kind: str,
    fetch: Fetch,
    *,
    refresh: bool = False,
    offline: bool = False,
) -> tuple[list[dict[str, Any]], list[MCPError]]:
    """Return every server's listing of one kind, from the cache while fresh, else from the server."""
    if refresh and offline:
        raise MCPUsageError("--refresh and --offline contradict each other")
    cache = registry(loaded)
    found: dict[str, list[dict[str, Any]] | MCPError] = {}
    for name in names:
        if name in loaded.problems:
            found[name] = loaded.problems[name]
            continue
        entry = None if refresh else cache.entry(loaded.servers[name], kind, stale_ok=offline)
        if entry is not None:
            found[name] = list(entry["items"]) if entry.get("offered", True) else not_offered(name, kind)
        elif offline:
            found[name] = MCPConfigError(
                f"nothing is cached for server '{name}' ({kind})",
                server=name,
                hint="run the same command once without --offline",
            )
    missing = [name for name in names if name not in found]
    if missing:
        import anyio

        found |= anyio.run(across, ctx, loaded, missing, fetch)
    items: list[dict[str, Any]] = []
    errors: list[MCPError] = []
    for name in names:
        result = found[name]
        if isinstance(result, MCPError):
            errors.append(result)
        else:
            items += [{"server": name, **item} for item in result]
    return items, errors


def not_offered(name: str, kind: str) -> MCPNotOfferedError:
    """Return the error that says a server does not offer a kind of listing (as the manager does)."""
    capability = "resources" if kind == "resourceTemplates" else kind
    return MCPNotOfferedError(f"server '{name}' does not offer {capability}", server=name)


def registry(loaded: LoadedConfig) -> MCPToolRegistry:
    """Return the disk cache, with the settings' default lifetime."""
    from gemma_mcp_cli.state.cache import MCPToolRegistry

    return MCPToolRegistry(default_ttl=loaded.settings.tool_cache_ttl)


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


def find_tool(
    ctx: Invocation,
    loaded: LoadedConfig,
    server: str,
    tool: str,
    *,
    refresh: bool = False,
    offline: bool = False,
) -> dict[str, Any]:
    """Return one tool's definition: from a fresh cache without starting the server, else from it."""
    tools = cached_tools(loaded, server, refresh=refresh, offline=offline)
    if tools is None:
        import anyio

        fetched = anyio.run(across, ctx, loaded, [server], list_tools_of)[server]
        if isinstance(fetched, MCPError):
            raise fetched
        tools = fetched
    for found in tools:
        if found.get("name") == tool:
            return found
    names = [str(t.get("name")) for t in tools]
    raise MCPToolNotFoundError(
        f"server '{server}' has no tool '{tool}'{close_names(tool, names)}", server=server
    )


def cached_tools(
    loaded: LoadedConfig, server: str, *, refresh: bool = False, offline: bool = False
) -> list[dict[str, Any]] | None:
    """Return a server's cached tools (stale ones only when offline), or None."""
    if refresh and offline:
        raise MCPUsageError("--refresh and --offline contradict each other")
    tools = None if refresh else registry(loaded).get(loaded.servers[server], "tools", stale_ok=offline)
    if tools is None and offline:
        raise MCPConfigError(
            f"nothing is cached for server '{server}' (tools)",
            server=server,
            hint=f"run '{program()} tools list {server}' once without --offline",
        )
    return tools


async def list_tools_of(manager: RoutedManager, name: str) -> list[dict[str, Any]]:
    """Fetch one server's tools (the listing a command fans out)."""
    return await manager.list_tools(name)
