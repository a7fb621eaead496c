"""`servers`: what is configured, straight from the file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from gemma_mcp_cli.cli import render, server_edits, status
from gemma_mcp_cli.cli.boundary import run
from gemma_mcp_cli.cli.connect import error_entries, finish
from gemma_mcp_cli.cli.listings import chosen_fields, field_table, only_fields
from gemma_mcp_cli.cli.loading import config_for
from gemma_mcp_cli.cli.options import FieldsOpt, JsonOpt, ServerArg

if TYPE_CHECKING:
    from gemma_mcp_cli.config.loader import LoadedConfig

app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="Show the configured servers and how they answer."
)
app.command("status")(status.command)
app.command("import")(server_edits.import_servers)
app.command("add")(server_edits.add_server)
app.command("remove")(server_edits.remove_server)
app.command("enable")(server_edits.enable_server)
app.command("disable")(server_edits.disable_server)


@app.command("list")
def list_servers(
    ctx: typer.Context,
    show_all: Annotated[bool, typer.Option("--all", help="Include disabled servers.")] = False,
    fields: FieldsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the configured servers without connecting to them."""

    def work() -> None:
        loaded = config_for(ctx)
        servers = [entry for name in loaded.order if (entry := _entry(loaded, name, show_all)) is not None]
        broken = list(loaded.problems.values())
        names = chosen_fields(fields, servers)
        if as_json:
            shown = servers if names is None else only_fields(servers, names)
            render.emit_json({"servers": shown, "errors": error_entries(broken)})
        elif names is not None:
            field_table(servers, names)
        else:
            rows = [
                (
                    s["name"],
                    "yes" if s["enabled"] else "no",
                    s["transport"] or "-",
                    s["target"] or "-",
                    f"invalid: {s['problem']}" if "problem" in s else s["description"],
                )
                for s in servers
            ]
            render.table(("NAME", "ENABLED", "TRANSPORT", "TARGET", "DESCRIPTION"), rows)
            render.message(f"{len(servers)} server(s) from {loaded.source}", style="dim")
        finish(broken, as_json=as_json)

    run(ctx, as_json, work)


def _entry(loaded: LoadedConfig, name: str, show_all: bool) -> dict[str, Any] | None:
    """Return a server's `servers list` entry; an invalid one shows its first problem."""
    config = loaded.servers.get(name)
    if config is not None:
        return config.summary() if show_all or config.enabled else None
    problem = loaded.problems.get(name) or (loaded.disabled_problems.get(name) if show_all else None)
    if problem is None:
        return None
    entry = {"name": name, "enabled": name in loaded.problems, "transport": None, "target": None}
    return entry | {"description": None, "problem": problem.message}


@app.command("show")
def show_server(ctx: typer.Context, name: ServerArg, as_json: JsonOpt = False) -> None:
    """Show one server's effective configuration, secrets redacted."""

    def work() -> None:
        loaded = config_for(ctx)
        data = loaded.server(name, allow_disabled=True).redacted()
        if as_json:
            render.emit_json({"server": data, "config": str(loaded.source)})
            return
        render.fields((key, _plain(value)) for key, value in data.items())

    run(ctx, as_json, work)


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)
