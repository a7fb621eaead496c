"""`validate`: check a configuration file, every server, every key."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli._run import run, state
from gemma_mcp_cli.cli.options import JsonOpt
from gemma_mcp_cli.config import ConfigReport, find_config, load_settings, validate_mcp_config
from gemma_mcp_cli.errors import MCPConfigError

PathArg = Annotated[
    str | None,
    typer.Argument(help="The file to check (default: the one commands would use).", show_default=False),
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")]


def command(
    ctx: typer.Context, path: PathArg = None, strict: StrictOpt = False, as_json: JsonOpt = False
) -> None:
    """Check a configuration file and report every problem at once."""

    def work() -> None:
        settings = load_settings()
        source = find_config(path or state(ctx).config, settings)
        report = validate_mcp_config(settings=settings, source=source)
        if as_json:
            render.emit_json(as_document(report, strict=strict))
        else:
            _print(report, strict=strict)
        problems = report.problems(strict=strict)
        if problems:
            kind = "problem" if len(problems) == 1 else "problems"
            raise MCPConfigError(f"{len(problems)} {kind} in {report.source}")

    run(ctx, as_json, work)


def as_document(report: ConfigReport, *, strict: bool) -> dict[str, Any]:
    """Return the `validate --json` document."""
    servers = [
        {
            "name": s.name,
            "enabled": s.enabled,
            "valid": s.valid and not (strict and s.warnings),
            "errors": [p.as_dict() for p in s.errors],
            "warnings": [p.as_dict() for p in s.warnings],
            "connect": None,
        }
        for s in report.servers
    ]
    return {
        "valid": report.is_valid(strict=strict),
        "config": str(report.source),
        "servers": servers,
        "errors": [p.as_dict() | {"column": p.column} for p in report.errors],
    }


def _print(report: ConfigReport, *, strict: bool) -> None:
    for problem in report.errors:
        render.emit_text(f"error: {report.describe(None, problem)}")
    for server in report.servers:
        status = "ok" if server.valid and not (strict and server.warnings) else "invalid"
        disabled = "" if server.enabled else " (disabled)"
        render.emit_text(f"{status:8}{server.name}{disabled}")
        for problem in server.errors:
            render.emit_text(f"  error: {report.describe(server.name, problem)}")
        for problem in server.warnings:
            render.emit_text(f"  warning: {report.describe(server.name, problem)}")
    if report.is_valid(strict=strict):
        render.message(f"{report.source}: valid ({len(report.servers)} server(s))", style="green")
