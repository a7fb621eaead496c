"""`servers import|add|remove|enable|disable`: change the configuration file, keeping its comments."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.boundary import run, state
from gemma_mcp_cli.cli.options import JsonOpt, ServerArg
from gemma_mcp_cli.errors import MCPConfigError, MCPUsageError, program
from gemma_mcp_cli.interop import dialects
from gemma_mcp_cli.interop.dialects import Dialect

if TYPE_CHECKING:
    from gemma_mcp_cli.interop.dialects import Conversion
    from gemma_mcp_cli.interop.editing import Edit


class Remote(StrEnum):
    """The transports a URL can take."""

    HTTP = "http"
    SSE = "sse"
    WEBSOCKET = "websocket"


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
FileArg = Annotated[
    Path | None,
    typer.Argument(help="The file to import (default: the usual file of --from).", show_default=False),
]
FromOpt = Annotated[
    Dialect | None, typer.Option("--from", help="The client that wrote the file (default: detected).")
]
WriteOpt = Annotated[bool, typer.Option("--write", help="Merge into the configuration file, not stdout.")]
ReplaceOpt = Annotated[
    bool, typer.Option("--replace", help="With --write, overwrite servers of the same name.")
]
NameArg = Annotated[str, typer.Argument(help="The new server's name.", show_default=False)]
TargetArg = Annotated[
    list[str] | None,
    typer.Argument(help="A URL, or -- then the command and its arguments.", show_default=False),
]
TransportOpt = Annotated[
    Remote | None, typer.Option("--transport", help="For a URL (default: http, or websocket for ws://).")
]
HeaderOpt = Annotated[
    list[str] | None, typer.Option("--header", "-H", metavar="'NAME: VALUE'", help='"Name: value" for a URL.')
]
EnvOpt = Annotated[
    list[str] | None, typer.Option("--env", "-e", metavar="NAME=VALUE", help="NAME=VALUE for a command.")
]
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="What the server is for.")]
DisabledOpt = Annotated[bool, typer.Option("--disabled", help="Add it disabled.")]


def import_servers(
    ctx: typer.Context,
    file: FileArg = None,
    source: FromOpt = None,
    write: WriteOpt = False,
    replace: ReplaceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Convert another client's MCP servers: print them as TOML, or merge them with --write."""

    def work() -> None:
        from gemma_mcp_cli.interop import editing

        if replace and not write:
            raise MCPUsageError("--replace applies with --write only")
        path = _source_path(file, source)
        target = editing.edit_target(state(ctx).config)
        conversion = dialects.load(path, source, base=target)
        for text in conversion.warnings:
            render.warning(text)
        if write:
            _merge(conversion, path, target, replace=replace, as_json=as_json)
        elif as_json:
            render.emit_json(_import_document(conversion, path) | {"servers": conversion.servers})
        else:
            render.emit_text(editing.render_servers(conversion.servers, conversion.notes))
            label = dialects.LABELS[conversion.dialect]
            count = f"{len(conversion.servers)} server(s) from {path} ({label})"
            render.message(f"{count}; add --write to merge them into {target}", style="dim")

    run(ctx, as_json, work)


def _require_safe_name(name: str) -> None:
    """Refuse (exit 3) a server name that could not be used safely as part of a file name."""
    from gemma_mcp_cli.config.checks import unsafe_name
    from gemma_mcp_cli.names import is_safe_name, suggest_name

    if not is_safe_name(name):
        hint = f"{program()} servers add {suggest_name(name)} ..."
        raise MCPConfigError(unsafe_name(name) + "; nothing written", server=name, hint=hint)


def _source_path(file: Path | None, source: Dialect | None) -> Path:
    """Return the file to import: the one named, else the usual file of the --from client."""
    if file is not None:
        return file
    if source is None:
        raise MCPUsageError("name a FILE to import, or its client with --from")
    return dialects.find_source(source)


def _import_document(conversion: Conversion, path: Path) -> dict[str, Any]:
    return {"source": str(path), "dialect": str(conversion.dialect), "warnings": conversion.warnings}


def _merge(conversion: Conversion, path: Path, target: Path, *, replace: bool, as_json: bool) -> None:
    """Write imported servers into the configuration and say what changed."""
    from gemma_mcp_cli.interop import editing

    edit = editing.merge_servers(target, conversion.servers, conversion.notes, replace=replace)
    if as_json:
        changes = {"config": str(edit.path), "added": edit.added, "replaced": edit.replaced}
        render.emit_json(_import_document(conversion, path) | changes)
        return
    summary = f"Imported {len(edit.added)} server(s) from {path} into {edit.path}: {', '.join(edit.added)}"
    if edit.replaced:
        summary += f" (replaced: {', '.join(edit.replaced)})"
    render.message(summary, style="green")


def add_server(
    ctx: typer.Context,
    name: NameArg,
    target: TargetArg = None,
    transport: TransportOpt = None,
    header: HeaderOpt = None,
    env: EnvOpt = None,
    description: DescriptionOpt = None,
    disabled: DisabledOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Add a server: NAME URL, or NAME -- COMMAND [ARGS]..."""

    def work() -> None:
        from gemma_mcp_cli.interop import editing

        if not name.strip():
            raise MCPUsageError("the server name is empty")
        _require_safe_name(name)
        table = {"enabled": not disabled, **_reach(target or [], transport, header or [], env or [])}
        if description:
            table["description"] = description
        edit = editing.add_server(editing.edit_target(state(ctx).config), name, table)
        _report(edit, name, "added", f"Added server '{name}' to {edit.path}", as_json)

    run(ctx, as_json, work)


def _reach(target: list[str], transport: Remote | None, headers: list[str], env: list[str]) -> dict[str, Any]:
    """Return the keys that say how to reach the server, from the command line."""
    if not target:
        raise MCPUsageError(
            "give a URL, or -- then the command",
            hint="servers add NAME https://host/mcp, or NAME -- npx -y PKG",
        )
    if len(target) == 1 and _URL.match(target[0]):
        if env:
            raise MCPUsageError("--env applies to a command, not to a URL")
        websocket = target[0].lower().startswith(("ws://", "wss://"))
        kind = transport or (Remote.WEBSOCKET if websocket else Remote.HTTP)
        reach: dict[str, Any] = {"transport": str(kind), "url": target[0]}
        return reach | ({"headers": _pairs(headers, ":", "--header")} if headers else {})
    if transport or headers:
        raise MCPUsageError("--transport and --header apply to a URL, not to a command")
    _check_command(target)
    reach = {"transport": "stdio", "command": target[0]}
    reach |= {"args": target[1:]} if target[1:] else {}
    return reach | ({"env": _pairs(env, "=", "--env")} if env else {})


def _check_command(target: list[str]) -> None:
    """Refuse what is clearly neither a URL nor a command: a scheme we do not speak, or prose."""
    first = target[0]
    if "://" in first:
        raise MCPUsageError(
            f"{first!r} is not a URL gemma-mcp can reach",
            hint="use http://, https://, ws:// or wss://; a command goes after --",
        )
    if len(target) == 1 and any(c.isspace() for c in first) and "/" not in first:
        raise MCPUsageError(
            f"{first!r} is neither a URL nor a command",
            hint="give a URL, or -- then the command and its arguments as separate words",
        )


def _pairs(items: list[str], separator: str, option: str) -> dict[str, str]:
    """Parse repeated `NAME<separator>VALUE` options."""
    pairs: dict[str, str] = {}
    for item in items:
        key, found, value = item.partition(separator)
        if not found or not key.strip():
            raise MCPUsageError(f"{option} {item!r}: expected NAME{separator}VALUE")
        pairs[key.strip()] = value.strip() if separator == ":" else value
    return pairs


def remove_server(ctx: typer.Context, name: ServerArg, as_json: JsonOpt = False) -> None:
    """Remove a server, and the comment lines just above it."""

    def work() -> None:
        from gemma_mcp_cli.interop import editing

        edit = editing.remove_server(editing.edit_target(state(ctx).config), name)
        _report(edit, name, "removed", f"Removed server '{name}' from {edit.path}", as_json)

    run(ctx, as_json, work)


def enable_server(ctx: typer.Context, name: ServerArg, as_json: JsonOpt = False) -> None:
    """Enable a server (set enabled = true)."""
    _switch(ctx, name, True, as_json)


def disable_server(ctx: typer.Context, name: ServerArg, as_json: JsonOpt = False) -> None:
    """Disable a server (set enabled = false); it stays in the file."""
    _switch(ctx, name, False, as_json)


def _switch(ctx: typer.Context, name: str, enabled: bool, as_json: bool) -> None:
    def work() -> None:
        from gemma_mcp_cli.interop import editing

        edit = editing.set_enabled(editing.edit_target(state(ctx).config), name, enabled)
        action = "enabled" if enabled else "disabled"
        done = f"{action.capitalize()} server '{name}' in {edit.path}"
        _report(edit, name, action, done if edit.changed else f"Server '{name}' is already {action}", as_json)

    run(ctx, as_json, work)


def _report(edit: Edit, name: str, action: str, summary: str, as_json: bool) -> None:
    """Print an edit's warnings and summary on stderr, or its JSON document on stdout."""
    for text in edit.warnings:
        render.warning(text)
    if as_json:
        document = {"config": str(edit.path), "server": name, "action": action, "changed": edit.changed}
        render.emit_json(document | {"warnings": edit.warnings})
        return
    render.message(summary, style="green" if edit.changed else "dim")
