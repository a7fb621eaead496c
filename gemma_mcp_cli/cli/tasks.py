"""`tasks`: the tasks started with `call --task` / `--detach`: list, look at, fetch, cancel."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.boundary import run_async
from gemma_mcp_cli.cli.connect import error_entries, finish, open_manager, targets
from gemma_mcp_cli.cli.content import report_call
from gemma_mcp_cli.cli.loading import config_for
from gemma_mcp_cli.cli.options import JsonOpt, ServerArg, ServersArg, TimeoutOpt
from gemma_mcp_cli.cli.run_task import PROTOCOL, ended
from gemma_mcp_cli.errors import MCPError, MCPTaskPendingError, MCPUsageError, program
from gemma_mcp_cli.state import tasks as store

if TYPE_CHECKING:
    from gemma_mcp_cli.cli.routing import RoutedManager
    from gemma_mcp_cli.config.loader import LoadedConfig

app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="Tasks started with 'call --task' or '--detach'."
)
TaskIdArg = Annotated[str, typer.Argument(metavar="ID", help="The task id.", show_default=False)]
WaitOpt = Annotated[bool, typer.Option("--wait", help="Wait until the task ends (bounded by --timeout).")]
_COLUMNS = ("SERVER", "TASK", "STATUS", "TOOL", "CREATED", "MESSAGE")


def _with(
    ctx: typer.Context,
    server: str | None,
    work: Callable[[RoutedManager, LoadedConfig, str], Awaitable[None]],
) -> Callable[[], Awaitable[None]]:
    async def body() -> None:
        loaded = config_for(ctx)
        name = loaded.server(server).name if server else ""
        async with open_manager(ctx, loaded, start=[name] if name else [], protocol=PROTOCOL) as manager:
            await work(manager, loaded, name)

    return body


@app.command("list")
def list_tasks(ctx: typer.Context, servers: ServersArg = None, as_json: JsonOpt = False) -> None:
    """List the tasks of the servers (default: every server with a task remembered here)."""

    async def work() -> None:
        loaded = config_for(ctx)
        remembered = store.remembered(loaded.source.path)
        names = targets(loaded, servers) if servers else list(dict.fromkeys(e["server"] for e in remembered))
        rows, errors = await _listed(ctx, loaded, [n for n in names if n in loaded.servers], remembered)
        if as_json:
            render.emit_json({"tasks": rows, "errors": error_entries(errors)})
        else:
            render.table(_COLUMNS, [_row(r) for r in rows])
            if not rows and not errors:
                render.message("no tasks", style="dim")
        finish(errors, as_json=as_json)

    run_async(ctx, as_json, work)


async def _listed(
    ctx: typer.Context, loaded: LoadedConfig, names: list[str], remembered: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[MCPError]]:
    rows: list[dict[str, Any]] = []
    errors: list[MCPError] = []
    path = loaded.source.path
    async with open_manager(ctx, loaded, start=names, protocol=PROTOCOL) as manager:
        for name in names:
            known = {e["taskId"]: e for e in remembered if e["server"] == name}
            try:
                listed = await manager.list_tasks(name, list(known))
            except MCPError as error:
                errors.append(error)
                continue
            seen = {task["taskId"] for task in listed}
            for task_id in set(known) - seen:
                store.forget(path, name, task_id)  # expired, or its server restarted
            for task in listed:
                if task["taskId"] in known:
                    store.remember(path, name, task)
                rows.append({"server": name, "tool": known.get(task["taskId"], {}).get("tool"), **task})
    return rows, errors


def _row(task: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        str(task.get(key) or "")
        for key in ("server", "taskId", "status", "tool", "createdAt", "statusMessage")
    )


@app.command("get")
def get(ctx: typer.Context, server: ServerArg, task_id: TaskIdArg, as_json: JsonOpt = False) -> None:
    """Show a task's state."""

    async def work(manager: RoutedManager, loaded: LoadedConfig, name: str) -> None:
        task = await manager.get_task(name, task_id)
        _show(loaded, name, task, as_json=as_json)

    run_async(ctx, as_json, _with(ctx, server, work))


@app.command("cancel")
def cancel(ctx: typer.Context, server: ServerArg, task_id: TaskIdArg, as_json: JsonOpt = False) -> None:
    """Cancel a task."""

    async def work(manager: RoutedManager, loaded: LoadedConfig, name: str) -> None:
        task = await manager.cancel_task(name, task_id)
        _show(loaded, name, task, as_json=as_json)

    run_async(ctx, as_json, _with(ctx, server, work))


def _show(loaded: LoadedConfig, name: str, task: dict[str, Any], *, as_json: bool) -> None:
    """Print a task's state (and remember it, if it is one of ours)."""
    entry = store.recall(loaded.source.path, name, task["taskId"])
    if entry is not None:
        store.remember(loaded.source.path, name, task)
    tool = entry.get("tool") if entry else None
    if as_json:
        render.emit_json({"server": name, "tool": tool, "task": task})
        return
    render.fields([("server", name), ("tool", tool or ""), *((key, value) for key, value in task.items())])


@app.command("result")
def result(
    ctx: typer.Context,
    server: ServerArg,
    task_id: TaskIdArg,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print a finished task's result, as 'call' prints one; --wait waits for a running one."""

    async def work(manager: RoutedManager, loaded: LoadedConfig, name: str) -> None:
        if timeout is not None and not math.isfinite(timeout):
            raise MCPUsageError("--timeout must be a finite number of seconds")
        state = None if wait else _ended(name, task_id, await manager.get_task(name, task_id))
        with render.ProgressDisplay(f"{name} task") as progress:
            found = await manager.task_result(name, task_id, timeout=timeout, on_progress=progress.update)
        entry = store.recall(loaded.source.path, name, task_id)
        if entry is not None:  # one of ours: what we know of it, with how it ended
            store.remember(loaded.source.path, name, entry | (state or {"status": ended(found)}))
        tool = str(entry.get("tool") or "") if entry else ""
        report_call(name, tool, found, as_json=as_json, extra={"taskId": task_id})

    run_async(ctx, as_json, _with(ctx, server, work))


def _ended(name: str, task_id: str, task: dict[str, Any]) -> dict[str, Any]:
    """Return the task if it has ended; raise otherwise (one waiting for input is answered through --wait)."""
    status = task.get("status")
    if status in ("completed", "failed", "cancelled"):
        return task
    if status == "input_required":
        note = task.get("statusMessage")
        raise MCPTaskPendingError(
            f"task {task_id} on '{name}' is waiting for input" + (f" ({note})" if note else ""),
            server=name,
            hint=f"run '{program()} tasks result {name} {task_id} --wait' to answer it",
        )
    raise MCPTaskPendingError(
        f"task {task_id} on '{name}' is still {status}",
        server=name,
        hint=f"run '{program()} tasks result {name} {task_id} --wait' to wait for it",
    )
