"""`... list --watch`: print a listing, then again each time a server says that list changed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.connect import error_entries, finish, open_manager, targets
from gemma_mcp_cli.cli.listings import chosen_fields, only_fields, print_listing, skipped_entries
from gemma_mcp_cli.errors import MCPError, MCPNotOfferedError, MCPTimeoutError, MCPUsageError

if TYPE_CHECKING:
    import typer

    from gemma_mcp_cli.cli.invocation import Invocation
    from gemma_mcp_cli.cli.listings import ListingView
    from gemma_mcp_cli.cli.routing import RoutedManager
    from gemma_mcp_cli.config.loader import LoadedConfig

# After a re-listing, changes are merged for this long before the next: a server that floods
# list_changed gets a few re-listings a second, not one per notification.
GAP = 0.25


@dataclass(frozen=True)
class Watching:
    """When to stop: after `count` re-listings, after `timeout` seconds, or at Ctrl-C."""

    count: int | None = None
    timeout: float | None = None


def list_or_watch(
    ctx: typer.Context,
    view: ListingView,
    servers: list[str] | None,
    options: dict[str, Any],
) -> None:
    """Run a list command: once (`show_listing`), or with --watch until its end."""
    from gemma_mcp_cli.cli.boundary import run_async
    from gemma_mcp_cli.cli.listings import show_listing
    from gemma_mcp_cli.cli.loading import config_for

    as_json, fields, offline = options["as_json"], options["fields"], options["offline"]
    if not options["watch"] and options["count"] is None and options["timeout"] is None:
        show_listing(
            ctx, view, servers, refresh=options["refresh"], offline=offline, as_json=as_json, fields=fields
        )
        return

    async def work() -> None:
        # Checked inside the one failure boundary, so its notices come once, after any error.
        watching = check(options["watch"], options["count"], options["timeout"])
        assert watching is not None  # without --watch, check raises
        if offline:
            raise MCPUsageError("--watch and --offline contradict each other: a watch listens to the servers")
        loaded = config_for(ctx)
        await watch_listing(
            ctx, loaded, view, targets(loaded, servers), watching, as_json=as_json, fields=fields
        )

    run_async(ctx, as_json, work)


def check(watch: bool, count: int | None, timeout: float | None) -> Watching | None:
    """Return the watch asked for, or None; --count and --timeout alone are usage errors."""
    if not watch:
        if count is not None or timeout is not None:
            raise MCPUsageError("--count and --timeout go with --watch")
        return None
    if timeout is not None and not math.isfinite(timeout):
        raise MCPUsageError("--timeout must be a finite number of seconds")
    if render.document_format() == "yaml":
        raise MCPUsageError("--watch prints tables or JSON lines, not YAML")
    return Watching(count, timeout)


@dataclass
class _Board:
    """The latest listing of every server, and how to print it."""

    view: ListingView
    names: list[str]
    as_json: bool
    fields: str | None
    found: dict[str, list[dict[str, Any]] | MCPError] = field(default_factory=dict)
    relisted: int = 0
    done: Any = None  # an anyio.Event: the watch is over
    reported: set[int] = field(default_factory=set)  # ids of the errors already on stderr

    def report(self) -> None:
        """Show the failures not yet shown, as they happen (a watch can run for hours)."""
        for error in self.errors():
            if not self.as_json and id(error) not in self.reported:
                self.reported.add(id(error))
                render.failure(error, as_json=False)

    def show(self, changed: str | None) -> None:
        items = [
            {"server": name, **item}
            for name in self.names
            if isinstance(listed := self.found.get(name), list)
            for item in listed
        ]
        failed = [e for name in self.names if isinstance(e := self.found.get(name), MCPError)]
        errors = [e for e in failed if not isinstance(e, MCPNotOfferedError)]
        chosen = chosen_fields(self.fields, items)
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        if self.as_json:
            shown = items if chosen is None else only_fields(items, chosen)
            render.emit_json_line(
                {"time": now, "changed": changed, self.view.kind: shown}
                | {"skipped": skipped_entries(failed), "errors": error_entries(errors)}
            )
            return
        if changed is not None:
            render.emit_text(f"{now} {self.view.what} of '{changed}' changed")
        print_listing(self.view, items, skipped_entries(failed), errors, chosen)

    def errors(self) -> list[MCPError]:
        found = (self.found.get(name) for name in self.names)
        return [e for e in found if isinstance(e, MCPError) and not isinstance(e, MCPNotOfferedError)]


async def watch_listing(
    ctx: Invocation,
    loaded: LoadedConfig,
    view: ListingView,
    names: list[str],
    watching: Watching,
    *,
    as_json: bool,
    fields: str | None,
) -> None:
    """List every server and print; re-list one at each change. A failing server leaves the others be.

    Each server is listened to before it is listed, so a change made just after the first
    listing is never missed.
    """
    import anyio

    board = _Board(view, names, as_json, fields, done=anyio.Event())
    board.found.update((name, loaded.problems[name]) for name in names if name in loaded.problems)
    phase = _Phase([name for name in names if name not in board.found], anyio.Event(), anyio.Event())
    async with open_manager(ctx, loaded, start=names) as manager:
        with anyio.CancelScope() as watch:
            async with anyio.create_task_group() as tg:
                for name in phase.listing:
                    tg.start_soon(_watch_one, manager, board, name, watching, phase)
                if phase.listing:
                    await phase.listed.wait()
                board.show(None)
                board.report()
                phase.shown.set()
                if watching.timeout is not None:
                    watch.deadline = anyio.current_time() + watching.timeout
                if any(isinstance(found, list) for found in board.found.values()):
                    await board.done.wait()
                tg.cancel_scope.cancel()
    _end(board, watching)


@dataclass
class _Phase:
    """The first listing: the servers still to list, and the events that it is done and shown."""

    listing: list[str]
    listed: Any
    shown: Any

    def listed_one(self, name: str) -> None:
        if name in self.listing:
            self.listing.remove(name)
            if not self.listing:
                self.listed.set()


def _end(board: _Board, watching: Watching) -> None:
    """Exit as a listing does (the first failing server's code), or 8 for a --count not reached."""
    errors, count = board.errors(), watching.count
    if not errors and count is not None and board.relisted < count:
        raise MCPTimeoutError(
            f"{board.relisted} of {count} changes of the {board.view.what} within {watching.timeout}s"
        )
    if errors and not board.as_json:
        import typer

        raise typer.Exit(int(errors[0].exit_code))  # every failure is on stderr already
    finish(errors, as_json=board.as_json)


async def _list_one(manager: RoutedManager, board: _Board, name: str) -> None:
    try:
        board.found[name] = await board.view.fetch(manager, name)
    except MCPError as error:
        board.found[name] = error


async def _watch_one(
    manager: RoutedManager, board: _Board, name: str, watching: Watching, phase: _Phase
) -> None:
    """Listen to one server, list it, then re-list it at each change until the watch is over or it fails."""
    import anyio

    kind = "resources" if board.view.kind == "resourceTemplates" else board.view.kind
    try:
        async with manager.watch_lists(name, [kind]) as changes:
            await _list_one(manager, board, name)
            phase.listed_one(name)
            await phase.shown.wait()
            if not isinstance(board.found[name], list):
                return  # not offered, or refused: nothing to watch
            async for _kinds in changes:
                await _list_one(manager, board, name)
                board.relisted += 1
                board.show(name)
                board.report()
                if board.relisted == watching.count:
                    board.done.set()
                    return
                await anyio.sleep(GAP)  # the changes announced meanwhile make one re-listing
    except MCPError as error:
        board.found[name] = error
        if board.as_json and phase.shown.is_set():
            board.show(name)
    finally:
        phase.listed_one(name)
    if phase.shown.is_set():
        board.report()
    if not any(isinstance(board.found.get(n), list) for n in board.names):
        board.done.set()  # nobody is left to watch
