"""`trust`: let a configuration found in the current directory start what it names."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.boundary import run
from gemma_mcp_cli.cli.options import JsonOpt
from gemma_mcp_cli.errors import MCPConfigError, MCPUsageError, program

if TYPE_CHECKING:
    from gemma_mcp_cli.state.trust import TrustRecord

PathArg = Annotated[
    Path | None,
    typer.Argument(help="The file to trust (default: ./config/mcp_servers.toml).", show_default=False),
]
ListOpt = Annotated[bool, typer.Option("--list", help="List the trusted files and whether they changed.")]
RevokeOpt = Annotated[
    Path | None, typer.Option("--revoke", help="Stop trusting this file.", show_default=False)
]


def command(
    ctx: typer.Context,
    path: PathArg = None,
    list_: ListOpt = False,
    revoke: RevokeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Trust a project's configuration file as it is now: its servers may then be started."""

    def work() -> None:
        from gemma_mcp_cli.state import trust

        if sum((path is not None, list_, revoke is not None)) > 1:
            raise MCPUsageError("give one of PATH, --list and --revoke PATH")
        if list_:
            _show(trust.records(), as_json)
        elif revoke is not None:
            if not trust.revoke(revoke):
                raise MCPConfigError(f"{revoke} is not trusted", hint=f"see '{program()} trust --list'")
            _done({"path": str(revoke.expanduser().resolve()), "revoked": True}, as_json, f"revoked {revoke}")
        else:
            record = trust.trust(path or _project_file())
            _done(asdict(record), as_json, f"trusted {record.path} (sha256 {record.sha256[:16]}...)")

    run(ctx, as_json, work)


def _project_file() -> Path:
    from gemma_mcp_cli.config.discovery import CONFIG_NAME

    found = Path.cwd() / "config" / CONFIG_NAME
    if not found.is_file():
        raise MCPConfigError(f"there is no {found} to trust", hint=f"name the file: {program()} trust PATH")
    return found


def _done(document: dict[str, object], as_json: bool, text: str) -> None:
    if as_json:
        render.emit_json(document)
    else:
        render.message(text)


def _show(records: list[TrustRecord], as_json: bool) -> None:
    rows = [asdict(record) for record in records]
    if as_json:
        render.emit_json({"trusted": rows})
        return
    render.table(
        ("PATH", "STATE", "SHA256", "TRUSTED"),
        [(r["path"], r["state"], r["sha256"][:16], _when(r["trusted_at"])) for r in rows],
    )
    if not rows:
        render.message("no file is trusted", style="dim")


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))
