"""`stats`: request statistics across invocations, `stats reset`, and the `stats cache` view."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Annotated, Any

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.boundary import run
from gemma_mcp_cli.cli.completion import complete_server
from gemma_mcp_cli.cli.connect import registry
from gemma_mcp_cli.cli.loading import config_for
from gemma_mcp_cli.cli.options import JsonOpt


class Format(StrEnum):
    """How `stats` prints."""

    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    YAML = "yaml"
    PROMETHEUS = "prometheus"


TargetArg = Annotated[
    str | None,
    typer.Argument(
        metavar="[SERVER | reset [SERVER] | cache [SERVER]]",
        show_default=False,
        autocompletion=complete_server,
    ),
]
ServerOpt = Annotated[str | None, typer.Argument(metavar="", show_default=False, hidden=True)]
FormatOpt = Annotated[
    Format,
    typer.Option(
        "--format", "-f", metavar="[table|json|jsonl|yaml|prometheus]", help="How to print (--json is json)."
    ),
]


def command(
    ctx: typer.Context,
    target: TargetArg = None,
    server: ServerOpt = None,
    output: FormatOpt = Format.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Show request statistics (per server and tool), reset them, or show the cache."""
    as_json = as_json or output in (Format.JSON, Format.JSONL, Format.YAML)
    if output in (Format.JSONL, Format.YAML):
        render.use_format(str(output))

    def work() -> None:
        from gemma_mcp_cli.state.stats import StatsStore

        if target == "reset":
            deleted = StatsStore().reset(server)
            _done({"deleted": deleted, "server": server}, as_json, f"deleted {deleted} request record(s)")
        elif target == "cache":
            _cache(ctx, server, as_json)
        else:
            _show(target, output, as_json)

    run(ctx, as_json, work)


def _done(document: dict[str, Any], as_json: bool, text: str) -> None:
    if as_json:
        render.emit_json(document)
    else:
        render.message(text)


def _show(server: str | None, output: Format, as_json: bool) -> None:
    from gemma_mcp_cli.state.stats import StatsStore, by_server, prometheus

    requests = StatsStore().rows(server)
    if output is Format.PROMETHEUS:
        render.emit_text(prometheus(requests).rstrip("\n"))
        return
    servers = by_server(requests)
    if as_json:
        render.emit_json({"servers": servers})
        return
    rows = []
    for name, summary in servers.items():
        rows.append(_row(name, "", summary))
        rows += [_row("", tool, tools) for tool, tools in summary["tools"].items()]
    render.table(
        (
            "SERVER",
            "TOOL",
            "TOTAL",
            "OK",
            "FAILED",
            "RATE",
            "MIN",
            "AVG",
            "P50",
            "P95",
            "MAX",
            "LAST USED",
            "LAST ERROR",
        ),
        rows,
    )
    if not rows:
        render.message("no requests recorded yet", style="dim")


def _ms(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds * 1000:.1f}ms"


def _row(server: str, tool: str, s: dict[str, Any]) -> tuple[Any, ...]:
    rate = "" if s["success_rate"] is None else f"{s['success_rate']:.0%}"
    used = (
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s["last_request_at"]))
        if s["last_request_at"]
        else ""
    )
    latencies = (
        _ms(s[k]) for k in ("min_latency", "avg_latency", "p50_latency", "p95_latency", "max_latency")
    )
    return (
        server,
        tool,
        s["total_requests"],
        s["successful_requests"],
        s["failed_requests"],
        rate,
        *latencies,
        used,
        s["last_error"] or "",
    )


def _cache(ctx: typer.Context, server: str | None, as_json: bool) -> None:
    loaded = config_for(ctx)
    configs = [loaded.server(server, allow_disabled=True)] if server else list(loaded.servers.values())
    cache = registry(loaded)
    rows = [row for config in configs for row in cache.describe(config)]
    if as_json:
        render.emit_json({"cache": rows})
        return
    render.table(
        ("SERVER", "KIND", "ENTRIES", "AGE", "EXPIRES IN", "FRESH"),
        [
            (
                r["server"],
                r["kind"],
                r["entries"],
                f"{r['age_s']:.0f}s",
                f"{r['expires_in_s']:.0f}s",
                "yes" if r["fresh"] else "no",
            )
            for r in rows
        ],
    )
    if not rows:
        render.message("nothing cached", style="dim")
