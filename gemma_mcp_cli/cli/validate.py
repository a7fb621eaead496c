"""`validate`: check a configuration file, every server, every key; optionally start each server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.boundary import run, state
from gemma_mcp_cli.cli.connect import open_manager
from gemma_mcp_cli.cli.options import JsonOpt
from gemma_mcp_cli.errors import MCPConfigError, MCPError

if TYPE_CHECKING:
    from gemma_mcp_cli.cli.locking import LockCheck
    from gemma_mcp_cli.config.reports import ConfigReport

PathArg = Annotated[
    str | None,
    typer.Argument(help="The file to check (default: the one commands would use).", show_default=False),
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")]
LockOpt = Annotated[
    bool,
    typer.Option("--lock", help="Also check the servers against mcp.lock.json; exit 3 on a breaking change."),
]
LockFileOpt = Annotated[
    str | None, typer.Option("--lock-file", help="The lock file (default: mcp.lock.json beside the config).")
]
ConnectOpt = Annotated[
    bool, typer.Option("--connect", help="Also start every enabled server and list its tools.")
]


def command(
    ctx: typer.Context,
    path: PathArg = None,
    strict: StrictOpt = False,
    connect: ConnectOpt = False,
    lock: LockOpt = False,
    lock_file: LockFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a configuration file and report every problem at once."""

    def work() -> None:
        from gemma_mcp_cli.cli.invocation import defer_notice
        from gemma_mcp_cli.config.loader import check_config, find_config, load_settings
        from gemma_mcp_cli.state import trust

        settings = load_settings()
        source = find_config(path or state(ctx).config, settings)
        if connect or lock:  # both start every enabled server
            trust.require_trusted(source)
        elif (notice := trust.notice(source)) is not None:
            defer_notice(notice)
        report = check_config(settings=settings, source=source)
        problems = report.problems(strict=strict)
        checks: dict[str, dict[str, Any] | MCPError] = {}
        if connect and not problems:
            import anyio

            checks = anyio.run(_connect_all, ctx, report)
        locked = _check_lock(ctx, report, lock_file) if lock and not problems else None
        if as_json:
            document = as_document(report, strict=strict, checks=checks)
            if locked is not None:
                document |= {
                    "valid": document["valid"] and locked.failure() is None,
                    "lock": locked.as_dict(),
                }
            render.emit_json(document)
        else:
            _print(report, strict=strict, checks=checks)
        if problems:
            kind = "problem" if len(problems) == 1 else "problems"
            raise MCPConfigError(f"{len(problems)} {kind} in {report.source}")
        failed = [c for c in checks.values() if isinstance(c, MCPError)]
        if failed:
            raise failed[0]
        if locked is not None:
            _finish_lock(locked, as_json=as_json)

    run(ctx, as_json, work)


def _finish_lock(locked: LockCheck, *, as_json: bool) -> None:
    """Print the lock check (--json has put it in validate's own document), then fail on it."""
    from gemma_mcp_cli.cli.lock import report

    if not as_json:
        report(locked, as_json=False)
    elif (failure := locked.failure()) is not None:
        raise failure


def _check_lock(ctx: typer.Context, report: ConfigReport, lock_file: str | None) -> LockCheck:
    """Compare every locked server with the lock file (`validate --lock`)."""
    import anyio

    from gemma_mcp_cli.cli import locking
    from gemma_mcp_cli.config.loader import LoadedConfig, load_settings

    servers = {s.name: s.config for s in report.servers if s.config is not None}
    loaded = LoadedConfig(report.source, servers, load_settings(), order=list(servers))
    path = locking.lock_path(loaded, lock_file)
    return anyio.run(locking.check, ctx, loaded, None, path)


async def _connect_all(ctx: typer.Context, report: ConfigReport) -> dict[str, dict[str, Any] | MCPError]:
    """Start every enabled server concurrently and list its tools."""
    import anyio

    from gemma_mcp_cli.config.loader import LoadedConfig, load_settings

    servers = {s.name: s.config for s in report.servers if s.enabled and s.config is not None}
    loaded = LoadedConfig(report.source, servers, load_settings())
    checks: dict[str, dict[str, Any] | MCPError] = {}

    async def check(name: str) -> None:
        try:
            tools = await manager.list_tools(name)
            health = await manager.health_check(name)
            checks[name] = {
                "ok": True,
                "protocolVersion": health["protocolVersion"],
                "serverInfo": health["serverInfo"],
                "tools": [t["name"] for t in tools],
                "error": None,
            }
        except MCPError as error:
            checks[name] = error

    routed = open_manager(ctx, loaded, sessions=False, start=list(servers))
    async with routed as manager, anyio.create_task_group() as tg:
        for name in servers:
            tg.start_soon(check, name)
    return {name: checks[name] for name in servers}


def _connect_entry(check: dict[str, Any] | MCPError | None) -> dict[str, Any] | None:
    if isinstance(check, MCPError):
        return {"ok": False, "error": check.message, "exit_code": int(check.exit_code)}
    return check


def as_document(
    report: ConfigReport, *, strict: bool, checks: dict[str, dict[str, Any] | MCPError] | None = None
) -> dict[str, Any]:
    """Return the `validate --json` document."""
    checks = checks or {}
    servers = [
        {
            "name": s.name,
            "enabled": s.enabled,
            "valid": s.valid and not (strict and s.warnings),
            "errors": [p.as_dict() for p in s.errors],
            "warnings": [p.as_dict() for p in s.warnings],
            "connect": _connect_entry(checks.get(s.name)),
        }
        for s in report.servers
    ]
    return {
        "valid": report.is_valid(strict=strict) and not any(isinstance(c, MCPError) for c in checks.values()),
        "config": str(report.source),
        "servers": servers,
        "errors": [p.as_dict() | {"column": p.column} for p in report.errors],
    }


def _print(report: ConfigReport, *, strict: bool, checks: dict[str, dict[str, Any] | MCPError]) -> None:
    for problem in report.errors:
        render.emit_text(f"error: {report.describe(None, problem)}")
    for server in report.servers:
        status = "ok" if server.valid and not (strict and server.warnings) else "invalid"
        disabled = "" if server.enabled else " (disabled)"
        render.emit_text(f"{status:8}{render.printable(server.name)}{disabled}")
        for problem in server.errors:
            render.emit_text(f"  error: {report.describe(server.name, problem)}")
        for problem in server.warnings:
            render.emit_text(f"  warning: {report.describe(server.name, problem)}")
        check = checks.get(server.name)
        if isinstance(check, MCPError):
            render.emit_text(f"  connect: failed: {check.message}")
        elif check is not None:
            render.emit_text(
                f"  connect: ok, protocol {check['protocolVersion']}, {len(check['tools'])} tool(s)"
            )
    if report.is_valid(strict=strict):
        render.message(f"{report.source}: valid ({len(report.servers)} server(s))", style="green")
