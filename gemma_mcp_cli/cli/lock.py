"""`lock`: write each server's schema to `mcp.lock.json`, or check the servers against it (CI)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.boundary import run_async
from gemma_mcp_cli.cli.connect import finish, targets
from gemma_mcp_cli.cli.loading import config_for
from gemma_mcp_cli.cli.options import JsonOpt, ServersArg

if TYPE_CHECKING:
    from gemma_mcp_cli.cli.locking import LockCheck

CheckOpt = Annotated[
    bool, typer.Option("--check", help="Compare the servers with the lock; exit 3 on a breaking change.")
]
LockFileOpt = Annotated[
    str | None,
    typer.Option(
        "--lock-file", metavar="FILE", help="The lock file (default: mcp.lock.json beside the config)."
    ),
]


def command(
    ctx: typer.Context,
    servers: ServersArg = None,
    check: CheckOpt = False,
    lock_file: LockFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the servers' tools, templates and prompts to mcp.lock.json (or --check against it)."""

    async def work() -> None:
        from gemma_mcp_cli.cli import locking
        from gemma_mcp_cli.state import lockfile

        loaded = config_for(ctx)
        names = targets(loaded, servers) if servers else None
        path = locking.lock_path(loaded, lock_file)
        if check:
            report(await locking.check(ctx, loaded, names, path), as_json=as_json)
            return
        entries, errors = await locking.take(ctx, loaded, names or loaded.enabled_names())
        finish(errors, as_json=as_json)  # a lock missing a server would pass checks it should fail
        kept = lockfile.read(path) if names and path.exists() else {}
        lockfile.write(path, kept | entries)
        counts = [_counts(name, entry) for name, entry in entries.items()]
        if as_json:
            render.emit_json({"lock": str(path), "servers": counts})
        else:
            render.message(
                f"wrote {path}: {len(entries)} server(s), {sum(c['tools'] for c in counts)} tool(s)"
            )

    run_async(ctx, as_json, work)


def _counts(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {"name": name} | {kind: len(entry[kind]) for kind in ("tools", "resourceTemplates", "prompts")}


def report(result: LockCheck, *, as_json: bool) -> None:
    """Print every change (breaking first), then exit with the check's failure, if any."""
    if as_json:
        render.emit_json(result.as_dict())
    else:
        print_changes(result)
    failure = result.failure()
    if failure is not None:
        if not as_json:
            for error in result.errors[1:]:
                render.failure(error, as_json=False)
        raise failure


def print_changes(result: LockCheck) -> None:
    """Print the changes as a table (server text goes through the table, never raw to a terminal)."""
    rows = [("breaking" if c.breaking else "ok", c.server, c.kind, c.message) for c in result.changes]
    render.table(("STATUS", "SERVER", "CHANGE", "DETAIL"), rows)
    if not result.changes and not result.errors:
        render.message(f"{result.path}: no changes", style="green")
