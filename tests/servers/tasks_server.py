"""An MCP server (SDK) that runs tool calls as tasks (protocol 2025-11-25), for the tasks tests.

Stdio by default, `--http PORT` for Streamable HTTP on 127.0.0.1:PORT/mcp. The SDK has the
types of tasks only, so this file implements them: a middleware answers a task-augmented
`tools/call` with a `CreateTaskResult` and runs the work in the lifespan's task group, and
`tasks/get`, `tasks/result`, `tasks/cancel` and `tasks/list` are custom request handlers.
Tasks exist on handshake-era connections only; on 2026-07-28 the tools run as plain calls.

Tools:
* `slow_count(seconds)`: counts every 0.1 s, with progress; `taskSupport: optional`.
* `fail_later(seconds)`: waits, then fails with an `isError` result; `taskSupport: optional`.
* `crash_later(seconds)`: waits, then the task fails with no result at all; `taskSupport: optional`.
* `ask_later(seconds)`: waits, then moves to `input_required` and asks the client for a `name`
  (form elicitation, related to the task); completes with `hello NAME`, or `no name` when
  declined; `taskSupport: optional`.
* `echo(text)`: no `execution` member, so it may not run as a task.

`--record FILE` appends JSON lines: `{"event": "tasks_cancel", "taskId"}` for every
`tasks/cancel` received, `{"event": "task_cancelled", "taskId"}` once the work has stopped, and
`{"event": "task_started", "taskId"}` when one starts.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import anyio
import anyio.abc
import mcp_types as types
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.session import ServerSession
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp.shared.message import ServerMessageMetadata
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

STEP: Final = 0.1
TTL_MS: Final = 60_000
POLL_MS: Final = 100
RELATED_TASK: Final = "io.modelcontextprotocol/related-task"
TASK_TOOLS: Final = frozenset({"slow_count", "fail_later", "crash_later", "ask_later"})
CAPABILITY: Final[dict[str, Any]] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}


@dataclass
class TaskRecord:
    """One task's state."""

    task_id: str
    created_at: str
    status: types.TaskStatus = "working"
    status_message: str | None = None
    last_updated_at: str = ""
    result: dict[str, Any] | None = None
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    done: anyio.Event = field(default_factory=anyio.Event)
    # The tasks/result requests waiting on the task: a question goes out on one of their streams.
    waiting: list[ServerRequestContext[Any, Any]] = field(default_factory=list)
    waited: anyio.Event = field(default_factory=anyio.Event)

    def wire(self) -> types.Task:
        return types.Task(
            task_id=self.task_id,
            status=self.status,
            status_message=self.status_message,
            created_at=self.created_at,
            last_updated_at=self.last_updated_at or self.created_at,
            ttl=TTL_MS,
            poll_interval=POLL_MS,
        )


@dataclass
class State:
    record_path: str | None = None
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    task_group: anyio.abc.TaskGroup | None = None


STATE = State()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _record(event: dict[str, Any]) -> None:
    if STATE.record_path is not None:
        with Path(STATE.record_path).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"time": time.time(), **event}, sort_keys=True) + "\n")


@asynccontextmanager
async def _lifespan(_: MCPServer[Any]) -> AsyncIterator[dict[str, Any]]:
    async with anyio.create_task_group() as tg:
        STATE.task_group = tg
        try:
            yield {}
        finally:
            tg.cancel_scope.cancel()
            STATE.task_group = None


mcp = MCPServer("tasks-test", version="0.1.0", lifespan=_lifespan)


async def _count(seconds: float, report: Callable[[float, float, str], Awaitable[None]]) -> int:
    steps = max(1, round(seconds / STEP))
    for step in range(1, steps + 1):
        await anyio.sleep(STEP)
        await report(step, steps, f"count {step}/{steps}")
    return steps


@mcp.tool(structured_output=False)
async def slow_count(ctx: Context, seconds: float = 1.0) -> str:
    """Count for `seconds`, with progress."""
    return f"counted {await _count(seconds, ctx.report_progress)} steps"


@mcp.tool(structured_output=False)
async def fail_later(ctx: Context, seconds: float = 0.2) -> str:
    """Wait `seconds`, then fail."""
    await _count(seconds, ctx.report_progress)
    raise ValueError("the work failed on purpose")


@mcp.tool(structured_output=False)
async def crash_later(ctx: Context, seconds: float = 0.2) -> str:
    """Wait `seconds`, then fail (as a task: with no result)."""
    await _count(seconds, ctx.report_progress)
    raise RuntimeError("crashed")


@mcp.tool(structured_output=False)
async def ask_later(ctx: Context, seconds: float = 0.2) -> str:
    """Wait `seconds`, then ask for a name (as a task: through the task's own input_required)."""
    await _count(seconds, ctx.report_progress)
    return "asked outside a task"


NAME_FORM: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {"name": {"type": "string", "description": "Who to greet"}},
    "required": ["name"],
}


async def _ask(rec: TaskRecord) -> str:
    """Move the task to input_required, ask for a name in its name, and return the greeting.

    As the protocol has it, the question waits for the client to call tasks/result and goes out
    on that request's stream (over HTTP, the only way back to a client that has left).
    """
    rec.status, rec.status_message = "input_required", "waiting for a name"
    rec.last_updated_at = _now()
    # A client also hears of it in notifications/tasks/status, which the SDK's server cannot send
    # (its tables leave it out on purpose) and its client drops: tasks/get tells it.
    await rec.waited.wait()
    ctx = rec.waiting[-1]
    related = {RELATED_TASK: {"taskId": rec.task_id}}
    request = types.ElicitRequest(
        params=types.ElicitRequestFormParams(message="Your name?", requested_schema=NAME_FORM, _meta=related)
    )
    on_its_stream = ServerMessageMetadata(related_request_id=ctx.request_id)
    answer = await ctx.session.send_request(request, types.ElicitResult, metadata=on_its_stream)
    rec.status, rec.status_message = "working", None
    _record({"event": "answered", "taskId": rec.task_id, "action": answer.action, "content": answer.content})
    name = (answer.content or {}).get("name") if answer.action == "accept" else None
    return f"hello {name}" if name else "no name"


@mcp.tool(structured_output=False)
def echo(text: str = "") -> str:
    """Return the text (never as a task)."""
    return text


def _text_result(text: str, *, error: bool = False) -> dict[str, Any]:
    result = types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=error)
    return result.model_dump(by_alias=True, mode="json", exclude_none=True)


async def _run(rec: TaskRecord, name: str, seconds: float, session: ServerSession, token: Any) -> None:
    async def report(progress: float, total: float, message: str) -> None:
        if token is not None:
            await session.send_progress_notification(token, progress, total, message)

    with rec.scope:
        try:
            steps = await _count(seconds, report)
            if name == "fail_later":
                rec.result = _text_result("the work failed on purpose", error=True)
                rec.status = "failed"
            elif name == "crash_later":
                rec.status, rec.status_message = "failed", "the worker crashed"
            elif name == "ask_later":
                rec.result, rec.status = _text_result(await _ask(rec)), "completed"
            else:
                rec.result, rec.status = _text_result(f"counted {steps} steps"), "completed"
        finally:
            rec.last_updated_at = _now()
    if rec.scope.cancelled_caught:
        rec.status, rec.status_message = "cancelled", "cancelled by tasks/cancel"
        _record({"event": "task_cancelled", "taskId": rec.task_id})
    rec.done.set()


def _start(ctx: ServerRequestContext[Any, Any], params: dict[str, Any]) -> dict[str, Any]:
    name = params.get("name")
    if name not in TASK_TOOLS:
        raise MCPError(code=types.INVALID_PARAMS, message=f"tool {name!r} does not support tasks")
    assert STATE.task_group is not None
    seconds = float((params.get("arguments") or {}).get("seconds", 1.0))
    token = (params.get("_meta") or {}).get("progressToken")
    rec = TaskRecord(task_id=uuid.uuid4().hex, created_at=_now())
    STATE.tasks[rec.task_id] = rec
    STATE.task_group.start_soon(_run, rec, str(name), seconds, ctx.session, token)
    _record({"event": "task_started", "taskId": rec.task_id})
    return types.CreateTaskResult(task=rec.wire()).model_dump(by_alias=True, mode="json", exclude_none=True)


def _find(task_id: str) -> TaskRecord:
    rec = STATE.tasks.get(task_id)
    if rec is None:
        raise MCPError(code=types.INVALID_PARAMS, message=f"unknown task {task_id!r}")
    return rec


async def _get(
    ctx: ServerRequestContext[Any, Any], params: types.GetTaskRequestParams
) -> types.GetTaskResult:
    return types.GetTaskResult(**_find(params.task_id).wire().model_dump())


async def _result(
    ctx: ServerRequestContext[Any, Any], params: types.GetTaskPayloadRequestParams
) -> dict[str, Any]:
    rec = _find(params.task_id)
    rec.waiting.append(ctx)
    rec.waited.set()
    try:
        await rec.done.wait()
    finally:
        rec.waiting.remove(ctx)
    if rec.result is None:
        raise MCPError(code=types.INVALID_PARAMS, message=f"task {rec.task_id} ended {rec.status}")
    return {**rec.result, "_meta": {RELATED_TASK: {"taskId": rec.task_id}}}


async def _cancel(
    ctx: ServerRequestContext[Any, Any], params: types.CancelTaskRequestParams
) -> types.CancelTaskResult:
    _record({"event": "tasks_cancel", "taskId": params.task_id})
    rec = _find(params.task_id)
    if rec.status in ("completed", "failed", "cancelled"):
        raise MCPError(code=types.INVALID_PARAMS, message=f"task {rec.task_id} is already {rec.status}")
    rec.scope.cancel()
    await rec.done.wait()
    return types.CancelTaskResult(**rec.wire().model_dump())


async def _list(
    ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams
) -> types.ListTasksResult:
    return types.ListTasksResult(tasks=[rec.wire() for rec in STATE.tasks.values()])


_server = mcp._lowlevel_server  # pyright: ignore[reportPrivateUsage]
_server.add_request_handler("tasks/get", types.GetTaskRequestParams, _get)
_server.add_request_handler("tasks/result", types.GetTaskPayloadRequestParams, _result)
_server.add_request_handler("tasks/cancel", types.CancelTaskRequestParams, _cancel)
_server.add_request_handler("tasks/list", types.PaginatedRequestParams, _list)


async def _middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Run task-augmented calls; advertise tasks and each task tool's support (handshake era)."""
    legacy = ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS
    params = dict(ctx.params or {})
    if ctx.method == "tools/call" and legacy and params.get("task") is not None:
        return _start(ctx, params)
    result = await call_next(ctx)
    if ctx.method == "initialize" and isinstance(result, dict):
        result.setdefault("capabilities", {})["tasks"] = CAPABILITY
    elif ctx.method == "tools/list" and legacy and isinstance(result, dict):
        for tool in result.get("tools", []):
            if tool.get("name") in TASK_TOOLS:
                tool["execution"] = {"taskSupport": "optional"}
    return result


mcp.middleware.append(_middleware)


def main(argv: list[str] | None = None) -> None:
    """Run the server on stdio, or Streamable HTTP with --http PORT."""
    parser = argparse.ArgumentParser(description="tasks test server")
    parser.add_argument("--http", type=int, metavar="PORT")
    parser.add_argument("--record", metavar="FILE")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", MCPDeprecationWarning)
    STATE.record_path = args.record
    if args.http is None:
        mcp.run("stdio")
    else:
        mcp.run("streamable-http", host="127.0.0.1", port=args.http)


if __name__ == "__main__":
    main()
