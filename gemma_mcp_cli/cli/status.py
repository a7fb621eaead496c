"""`servers status`: connect to each server concurrently and report how it answers."""

from __future__ import annotations

from typing import Any

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.boundary import run_async
from gemma_mcp_cli.cli.connect import across, finish, targets
from gemma_mcp_cli.cli.listings import chosen_fields, field_table, only_fields
from gemma_mcp_cli.cli.loading import config_for
from gemma_mcp_cli.cli.options import FieldsOpt, JsonOpt, ServersArg
from gemma_mcp_cli.errors import MCPError


def command(
    ctx: typer.Context, servers: ServersArg = None, fields: FieldsOpt = None, as_json: JsonOpt = False
) -> None:
    """Connect to each server and report its state, protocol version and latency."""

    async def work() -> None:
        loaded = config_for(ctx)
        names = targets(loaded, servers)
        found = await across(ctx, loaded, names, _check)
        results = [found[name] for name in names]
        errors = [result for result in results if isinstance(result, MCPError)]
        rows = [
            _down(n, r.message) if isinstance(r, MCPError) else r[0]
            for n, r in zip(names, results, strict=True)
        ]
        chosen = chosen_fields(fields, rows)
        if as_json:
            render.emit_json({"servers": rows if chosen is None else only_fields(rows, chosen)})
        elif chosen is not None:
            field_table(rows, chosen)
        else:
            render.table(("SERVER", "STATE", "PROTOCOL", "SERVER INFO", "LATENCY", "ERROR"), map(_row, rows))
        finish(errors, as_json=as_json)

    run_async(ctx, as_json, work)


async def _check(manager: Any, name: str) -> list[dict[str, Any]]:
    return [await manager.health_check(name)]


def _down(name: str, message: str) -> dict[str, Any]:
    return {
        "name": name,
        "ok": False,
        "protocolVersion": None,
        "serverInfo": None,
        "latency_ms": None,
        "error": message,
    }


def _row(status: dict[str, Any]) -> tuple[str, ...]:
    info = status.get("serverInfo") or {}
    latency = status.get("latency_ms")
    return (
        status["name"],
        "ok" if status["ok"] else "down",
        status.get("protocolVersion") or "",
        " ".join(str(v) for v in (info.get("name"), info.get("version")) if v),
        f"{latency:.1f} ms" if latency is not None else "",
        status.get("error") or "",
    )
