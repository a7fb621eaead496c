"""The manager's tasks: progress that outlives the tools/call, and the protocol era tasks need."""

from __future__ import annotations

import sys

import anyio
import pytest

from gemma_mcp_cli.client.manager import MCPClientManager
from gemma_mcp_cli.config.models import MCPServerConfig
from gemma_mcp_cli.errors import MCPServerError
from tests.conftest import SERVERS

CONFIG = MCPServerConfig(
    name="tasks", transport="stdio", command=sys.executable, args=[str(SERVERS / "tasks_server.py")]
)


def test_a_task_reports_progress_after_its_call_was_answered() -> None:
    heard: list[tuple[str, float, float | None, str | None]] = []

    async def hear(server: str, progress: float, total: float | None, message: str | None) -> None:
        heard.append((server, progress, total, message))

    async def main() -> None:
        with anyio.fail_after(60):
            async with MCPClientManager([CONFIG], protocol="legacy") as manager:
                task = await manager.start_task("tasks", "slow_count", {"seconds": 0.3})
                assert task["status"] == "working"
                result = await manager.task_result("tasks", task["taskId"], on_progress=hear)
                assert result["content"][0]["text"] == "counted 3 steps"
                listed = await manager.list_tasks("tasks")
                assert [(t["taskId"], t["status"]) for t in listed] == [(task["taskId"], "completed")]

    anyio.run(main)
    assert heard == [("tasks", n, 3.0, f"count {int(n)}/3") for n in (1.0, 2.0, 3.0)]


def test_tasks_on_a_2026_connection_are_refused_naming_the_protocol() -> None:
    async def main() -> None:
        with anyio.fail_after(60):
            async with MCPClientManager([CONFIG]) as manager:
                with pytest.raises(MCPServerError, match="speaks MCP 2026-07-28, which has no tasks"):
                    await manager.start_task("tasks", "slow_count", {"seconds": 0.1})

    anyio.run(main)
