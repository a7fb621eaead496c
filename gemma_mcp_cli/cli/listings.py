"""A list command over servers: each server's items, the servers skipped, then the failures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.connect import Fetch, error_entries, finish, listing, targets
from gemma_mcp_cli.errors import MCPError, MCPNotOfferedError

if TYPE_CHECKING:
    import typer


@dataclass(frozen=True)
class ListingView:
    """How one kind of listing is fetched and shown: the JSON key (also the cache kind) and a table."""

    kind: str
    fetch: Fetch
    columns: tuple[str, ...]
    row: Callable[[dict[str, Any]], Sequence[Any]]
    noun: str = ""

    @property
    def what(self) -> str:
        """Return what the listing lists, for people (`prompts`, `resource templates`)."""
        return self.noun or self.kind


def skipped_entries(errors: Sequence[MCPError]) -> list[dict[str, Any]]:
    """Return the `skipped` array: the servers that do not offer this kind at all."""
    return [{"server": e.server, "reason": e.message} for e in errors if isinstance(e, MCPNotOfferedError)]


def show_listing(
    ctx: typer.Context,
    view: ListingView,
    servers: list[str] | None,
    *,
    refresh: bool,
    offline: bool,
    as_json: bool,
) -> None:
    """Run a list command: every server's items (cached while fresh), then its failures.

    A server that does not advertise the capability is skipped, not failed: most servers
    offer tools alone, and a listing over all of them should not exit 5 for it.
    """
    from gemma_mcp_cli.cli.boundary import run
    from gemma_mcp_cli.cli.loading import config_for

    def work() -> None:
        loaded = config_for(ctx)
        names = targets(loaded, servers)
        items, found = listing(ctx, loaded, names, view.kind, view.fetch, refresh=refresh, offline=offline)
        skipped = skipped_entries(found)
        errors = [e for e in found if not isinstance(e, MCPNotOfferedError)]
        if as_json:
            render.emit_json({view.kind: items, "skipped": skipped, "errors": error_entries(errors)})
        else:
            _print(view, items, skipped, errors)
        finish(errors, as_json=as_json)

    run(ctx, as_json, work)


def _print(
    view: ListingView, items: list[dict[str, Any]], skipped: list[dict[str, Any]], errors: list[MCPError]
) -> None:
    render.table(view.columns, [view.row(item) for item in items])
    if skipped:
        names = ", ".join(str(s["server"]) for s in skipped)
        render.message(f"skipped (no {view.what} offered): {names}", style="dim")
    if not items and not errors:
        render.message(f"(no {view.what})", style="dim")
