"""`call --task` and `--detach`: a tool call run as a task, remembered, waited for or left running."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.enums import MCPTransportType
from gemma_mcp_cli.errors import MCPError, MCPTimeoutError, MCPUsageError, program
from gemma_mcp_cli.state import tasks as store

if TYPE_CHECKING:
    from gemma_mcp_cli.cli.invocation import Invocation
    from gemma_mcp_cli.cli.routing import RoutedManager
    from gemma_mcp_cli.client.manager import ProgressHook
    from gemma_mcp_cli.config.loader import LoadedConfig

PROTOCOL = "legacy"  # tasks live on handshake-era connections only (see client/tasks.py)
_CANCEL_GRACE = 5.0  # seconds for the tasks/cancel sent on the way out of a stopped wait


def keep_alive(
    invocation: Invocation, loaded: LoadedConfig, name: str, start: Callable[[LoadedConfig, str], object]
) -> None:
    """Before a detached task on a stdio server: make sure a warm session will hold it.

    A stdio server dies with the process that started it, and so would its tasks; a session
    keeps it running. One is started here when none is live (or refused under --no-session).
    """
    from gemma_mcp_cli.cli.invocation import state
    from gemma_mcp_cli.sessions import client as session_client

    if loaded.servers[name].transport is not MCPTransportType.STDIO:
        return  # a remote server keeps its tasks without us
    if state(invocation).no_session:
        raise MCPUsageError(
            f"--detach on stdio server '{name}' needs a warm session to keep the task running",
            hint=f"drop --no-session, or run '{program()} session start {name}' first",
        )
    info = session_client.read_info(session_client.session_key(name, loaded.source.path))
    if info is not None and session_client.usable(info):
        return
    start(loaded, name)
    render.message(
        f"started a session for {name} to keep the task running (stop it with "
        f"'{program()} session stop {name}')",
        style="dim",
    )


async def run(
    manager: RoutedManager,
    loaded: LoadedConfig,
    name: str,
    tool: str,
    values: dict[str, Any],
    *,
    timeout: float | None,
    detach: bool,
    on_progress: ProgressHook | None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Start the task and remember it; unless detached, wait for its result.

    Stopped while waiting (Ctrl-C, SIGTERM, --timeout), the task is cancelled on the server.
    """
    import anyio

    task = await _started(manager, loaded, name, tool, values, cancel=not detach)
    if detach:
        return task, None
    try:
        result = await manager.task_result(name, task["taskId"], timeout=timeout, on_progress=on_progress)
    except (MCPTimeoutError, anyio.get_cancelled_exc_class(), KeyboardInterrupt):
        await _cancel(manager, loaded, name, task["taskId"])
        raise
    store.remember(loaded.source.path, name, task | {"status": ended(result)})
    return task, result


def ended(result: dict[str, Any]) -> str:
    """Return the state a task is in once its result came: a tool error is a failed task."""
    return "failed" if result.get("isError") else "completed"


async def _started(
    manager: RoutedManager,
    loaded: LoadedConfig,
    name: str,
    tool: str,
    values: dict[str, Any],
    *,
    cancel: bool,
) -> dict[str, Any]:
    """Start the task so that a signal arriving meanwhile cannot lose it.

    The server may have created the task before we hear its id; so the start runs on, shielded,
    and a task that was interrupted on its way in is cancelled (unless detached) once its id is in.
    """
    import asyncio

    starting = asyncio.ensure_future(manager.start_task(name, tool, values))
    try:
        task = await asyncio.shield(starting)
    except asyncio.CancelledError:
        import anyio

        with anyio.move_on_after(_CANCEL_GRACE, shield=True), contextlib.suppress(MCPError, OSError):
            task = await starting
            store.remember(loaded.source.path, name, task, tool)
            if cancel:
                await _cancel(manager, loaded, name, task["taskId"])
        raise
    store.remember(loaded.source.path, name, task, tool)
    return task


async def _cancel(manager: RoutedManager, loaded: LoadedConfig, name: str, task_id: str) -> None:
    """Cancel our task on the way out of a stopped wait (bounded, best effort)."""
    import anyio

    with anyio.move_on_after(_CANCEL_GRACE, shield=True), contextlib.suppress(MCPError, OSError):
        store.remember(loaded.source.path, name, await manager.cancel_task(name, task_id))


def report_detached(name: str, tool: str, task: dict[str, Any], *, as_json: bool) -> None:
    """Print a detached task: its id alone on stdout (for `$(...)`), how to fetch it on stderr."""
    if as_json:
        render.emit_json({"server": name, "tool": tool, "task": task})
        return
    task_id = str(task["taskId"])
    render.emit_text(render.one_line(task_id))
    render.message(
        render.one_line(
            f"task started on {name}; fetch it with: {program()} tasks result {name} {task_id} --wait"
        ),
        style="dim",
    )
