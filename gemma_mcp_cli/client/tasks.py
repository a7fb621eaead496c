"""Task-augmented requests (protocol 2025-11-25): start a tool call as a task, then ask about it.

The SDK has the types of tasks and nothing else. A `tools/call` carrying `task` answers with a
`CreateTaskResult`, which the session's own result check (it expects a `CallToolResult`) would
reject, so that one request is sent raw and parsed here. `tasks/get`, `tasks/result`,
`tasks/cancel` and `tasks/list` go through the session as ordinary requests. Tasks left the
core protocol in 2026-07-28, so they need a handshake-era connection (`mode="legacy"`).
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from mcp import Client
from mcp_types import (
    CallToolResult,
    CancelTaskRequest,
    CancelTaskRequestParams,
    CreateTaskResult,
    GetTaskPayloadRequest,
    GetTaskPayloadRequestParams,
    GetTaskRequest,
    GetTaskRequestParams,
    GetTaskResult,
    ListTasksRequest,
    ListTasksResult,
    PaginatedRequestParams,
    Task,
)
from pydantic import ValidationError

from gemma_mcp_cli.client.connection import ServerConnection
from gemma_mcp_cli.client.results import WireObject, wire
from gemma_mcp_cli.errors import MCPServerError

TASK_PROTOCOLS: Final = frozenset({"2025-11-25"})
"""The negotiated versions that have tasks (they left the core protocol in 2026-07-28)."""
CONNECT_MODE: Final = "legacy"
"""How a connection for tasks is opened: the initialize handshake, never 2026 discovery."""
TERMINAL: Final = frozenset({"completed", "failed", "cancelled"})
ID_LIMIT: Final = 512  # characters: a longer task id is not an id but an attack on our files and screen
LIST_LIMIT: Final = 10_000  # tasks kept from one tasks/list, however many pages the server offers
PAGE_LIMIT: Final = 100
FOREVER: Final = 10.0**7  # seconds: the SDK takes "no timeout" to mean its session default


def new_progress_token() -> str:
    """Return a progress token that no request id of the SDK's can equal (those are integers)."""
    return f"task-{uuid.uuid4().hex}"


def require_tasks(conn: ServerConnection) -> None:
    """Raise unless the connection speaks a protocol with tasks and the server offers them."""
    version = conn.protocol_version
    if version not in TASK_PROTOCOLS:
        raise MCPServerError(
            f"server '{conn.name}' speaks MCP {version}, which has no tasks (they need 2025-11-25)",
            server=conn.name,
            hint="call it without --task",
        )
    if _tasks_capability(conn) is None:
        raise MCPServerError(
            f"server '{conn.name}' does not offer tasks", server=conn.name, hint="call it without --task"
        )


def require_task_call(conn: ServerConnection, tool: dict[str, Any]) -> None:
    """Raise unless the server runs `tools/call` as a task, and this tool may be run so."""
    require_tasks(conn)
    requests = _tasks_capability(conn).requests
    if requests is None or requests.tools is None or requests.tools.call is None:
        raise MCPServerError(
            f"server '{conn.name}' does not offer tasks for tools/call",
            server=conn.name,
            hint="call it without --task",
        )
    support = (tool.get("execution") or {}).get("taskSupport") or "forbidden"  # absent means forbidden
    if support == "forbidden":
        raise MCPServerError(
            f"tool '{tool.get('name')}' of server '{conn.name}' cannot run as a task"
            " (its taskSupport is forbidden)",
            server=conn.name,
            hint="call it without --task",
        )


def _tasks_capability(conn: ServerConnection) -> Any:
    capabilities = conn.require_client().session.server_capabilities
    return capabilities.tasks if capabilities is not None else None


def offers_listing(conn: ServerConnection) -> bool:
    """Tell whether the server lists its tasks (`tasks.list`)."""
    tasks = _tasks_capability(conn)
    return tasks is not None and tasks.list is not None


async def start(
    client: Client, tool: str, arguments: dict[str, Any], *, ttl_ms: int | None, token: str, timeout: float
) -> dict[str, Any]:
    """Send `tools/call` as a task; return the created task (wire form), checked."""
    params: dict[str, Any] = {
        "name": tool,
        "arguments": arguments,
        "task": {},
        "_meta": {"progressToken": token},
    }
    if ttl_ms is not None:
        params["task"]["ttl"] = ttl_ms
    data = {"method": "tools/call", "params": params}
    opts: Any = {"timeout": timeout}
    client.session._stamp(data, opts)  # the protocol-version header, as the session's own requests get it
    raw = await client.session._dispatcher.send_raw_request("tools/call", params, opts)
    try:
        created = CreateTaskResult.model_validate(raw)
    except ValidationError:
        raise MCPServerError("answered a task-augmented tools/call without a task") from None
    return checked(created.task)


def checked(task: Task) -> dict[str, Any]:
    """Return a task in wire form, refusing an id that could only be meant to hurt."""
    if not task.task_id or len(task.task_id) > ID_LIMIT:
        raise MCPServerError(
            f"sent a task id of {len(task.task_id)} characters (at most {ID_LIMIT} are taken)"
        )
    return wire(task)


async def get(client: Client, task_id: str, timeout: float) -> dict[str, Any]:
    """Return a task's current state (`tasks/get`)."""
    request = GetTaskRequest(params=GetTaskRequestParams(task_id=task_id))
    return checked(await client.session.send_request(request, GetTaskResult, timeout))


async def result(client: Client, task_id: str, timeout: float | None) -> WireObject:
    """Wait for a task's result (`tasks/result` blocks until the task ends)."""
    request = GetTaskPayloadRequest(params=GetTaskPayloadRequestParams(task_id=task_id))
    return wire(await client.session.send_request(request, CallToolResult, timeout or FOREVER))


async def cancel(client: Client, task_id: str, timeout: float) -> dict[str, Any]:
    """Ask the server to cancel a task; return its state after."""
    from mcp_types import CancelTaskResult

    request = CancelTaskRequest(params=CancelTaskRequestParams(task_id=task_id))
    return checked(await client.session.send_request(request, CancelTaskResult, timeout))


async def page(client: Client, cursor: str | None, timeout: float) -> tuple[list[dict[str, Any]], str | None]:
    """Return one page of `tasks/list` and the cursor of the next."""
    params = PaginatedRequestParams(cursor=cursor) if cursor else None
    listed = await client.session.send_request(ListTasksRequest(params=params), ListTasksResult, timeout)
    return [checked(task) for task in listed.tasks], listed.next_cursor
