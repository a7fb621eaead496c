"""A list command over servers: each server's items, the servers skipped, then the failures."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.connect import Fetch, error_entries, finish, listing, targets
from gemma_mcp_cli.errors import MCPError, MCPNotOfferedError, MCPUsageError
from gemma_mcp_cli.names import close_names

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


def chosen_fields(text: str | None, items: Sequence[dict[str, Any]]) -> list[str] | None:
    """Parse `--fields a,b,c`; a name no item has is a usage error naming those there are."""
    if text is None:
        return None
    names = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not names:
        raise MCPUsageError("--fields needs at least one field name, such as server,name")
    known = list(dict.fromkeys(key for item in items for key in item))
    unknown = [name for name in names if items and name not in known]
    if unknown:
        raise MCPUsageError(f"--fields: no field '{unknown[0]}'{close_names(unknown[0], known)}")
    return names


def only_fields(items: Sequence[dict[str, Any]], names: Sequence[str]) -> list[dict[str, Any]]:
    """Return each item with the chosen fields alone, in their order."""
    return [{name: item[name] for name in names if name in item} for item in items]


def field_table(items: Sequence[dict[str, Any]], names: Sequence[str]) -> None:
    """Print the chosen fields as a table (nested values as compact JSON)."""
    render.table(
        [name.upper() for name in names],
        [[_cell(item.get(name)) for name in names] for item in items],
    )


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


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
    fields: str | None = None,
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
        chosen = chosen_fields(fields, items)
        if as_json:
            shown = items if chosen is None else only_fields(items, chosen)
            render.emit_json({view.kind: shown, "skipped": skipped, "errors": error_entries(errors)})
        else:
            print_listing(view, items, skipped, errors, chosen)
        finish(errors, as_json=as_json)

    run(ctx, as_json, work)


def print_listing(
    view: ListingView,
    items: list[dict[str, Any]],
    skipped: list[dict[str, Any]],
    errors: list[MCPError],
    names: list[str] | None,
) -> None:
    """Print a listing's table, the servers skipped, or that there is nothing."""
    if names is None:
        render.table(view.columns, [view.row(item) for item in items])
    else:
        field_table(items, names)
    if skipped:
        servers = ", ".join(str(s["server"]) for s in skipped)
        render.message(f"skipped (no {view.what} offered): {servers}", style="dim")
    if not items and not errors:
        render.message(f"(no {view.what})", style="dim")
