"""What `call` does, apart from reading its command line (Typer's, or the front end's)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gemma_mcp_cli import arguments
from gemma_mcp_cli.cli import render, run_task
from gemma_mcp_cli.cli.connect import cached_tools, open_manager
from gemma_mcp_cli.cli.content import PLAIN, CallOutput, check_output, report_call
from gemma_mcp_cli.cli.invocation import state
from gemma_mcp_cli.cli.loading import config_for
from gemma_mcp_cli.errors import MCPUsageError

if TYPE_CHECKING:
    from gemma_mcp_cli.cli.invocation import Invocation
    from gemma_mcp_cli.config.loader import LoadedConfig


def call(
    invocation: Invocation,
    server: str,
    tool: str,
    *,
    pairs: list[str] | None,
    args_text: str | None,
    timeout: float | None,
    dry_run: bool,
    as_json: bool,
    how: CallOutput = PLAIN,
    task: bool = False,
    detach: bool = False,
) -> None:
    """Call a tool on a server and print its result (or, with `dry_run`, the request).

    With `task` (or `detach`), the call runs as a task on the server (see `run_task`).
    """
    if timeout is not None and not math.isfinite(timeout):
        raise MCPUsageError("--timeout must be a finite number of seconds")
    check_output(how)
    if args_text == "-" and state(invocation).answers == "-":
        raise MCPUsageError("--args - and --answers - cannot both read standard input")
    loaded = config_for(invocation)
    name = loaded.server(server).name
    base = arguments.load_args_object(args_text)
    tools = cached_tools(loaded, name)
    known = next((t for t in tools or [] if t.get("name") == tool), None)
    values = arguments.build(name, tool, known, base, pairs) if known else None
    if values is not None and dry_run:
        _print_request(name, tool, values)  # answered from the cache: no server started
        return
    import anyio

    as_task = task or detach
    outcome = anyio.run(
        _call,
        invocation,
        loaded,
        name,
        tool,
        tools if known else None,
        base,
        pairs,
        timeout,
        dry_run,
        (detach,) if as_task else None,
    )
    if outcome is None:
        return
    result, asked, started = outcome
    if started is not None and result is None:
        run_task.report_detached(name, tool, started, as_json=as_json)
        return
    assert result is not None
    extra = {"taskId": started["taskId"]} if started is not None else {}
    report_call(name, tool, result, as_json=as_json, how=how, asked=asked, extra=extra)


async def _call(
    invocation: Invocation,
    loaded: LoadedConfig,
    name: str,
    tool: str,
    tools: list[dict[str, Any]] | None,
    base: dict[str, Any],
    pairs: list[str] | None,
    timeout: float | None,
    dry_run: bool,
    as_task: tuple[bool] | None,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]], dict[str, Any] | None] | None:
    protocol = run_task.PROTOCOL if as_task is not None else "auto"
    with render.ProgressDisplay(f"{name} {tool}") as progress:
        async with open_manager(invocation, loaded, start=[name], protocol=protocol) as manager:
            if tools is not None and as_task is None:
                # A cached listing may come from a 2026 connection, which has no taskSupport to check.
                manager.remember_tools(name, tools)
            values = arguments.build(name, tool, await manager.get_tool(name, tool), base, pairs)
            if dry_run:
                _print_request(name, tool, values)
                return None
            if as_task is not None:
                started, result = await run_task.run(
                    manager,
                    loaded,
                    name,
                    tool,
                    values,
                    timeout=timeout,
                    detach=as_task[0],
                    on_progress=progress.update,
                )
                return result, manager.asked, started
            result = await manager.call_tool(name, tool, values, timeout=timeout, on_progress=progress.update)
            return result, manager.asked, None


def _print_request(server: str, tool: str, values: dict[str, Any]) -> None:
    render.emit_json({"server": server, "tool": tool, "arguments": values, "dry_run": True})
