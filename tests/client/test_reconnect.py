"""A manager that outlives its servers: reconnection, the retry policy, and the health loop."""

from __future__ import annotations

import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from gemma_mcp_cli import MCPConnectionError, MCPServerStatus, load_mcp_servers
from gemma_mcp_cli.client.manager import MCPClientManager
from gemma_mcp_cli.client.retry import backoff, safe_to_repeat
from tests.conftest import stdio_server


def run(body: Callable[[], Awaitable[Any]], limit: float = 30) -> Any:
    async def main() -> Any:
        with anyio.fail_after(limit):
            return await body()

    return anyio.run(main)


def test_backoff_doubles_is_capped_and_jittered() -> None:
    import random

    rng = random.Random(7)
    waits = [backoff(1.0, attempt, rng) for attempt in range(1, 8)]
    for attempt, wait in enumerate(waits, start=1):
        full = min(2 ** (attempt - 1), 30.0)
        assert full / 2 <= wait <= full
    assert max(waits) <= 30.0


def test_only_read_only_or_idempotent_tools_are_safe_to_repeat() -> None:
    assert safe_to_repeat({"annotations": {"readOnlyHint": True}})
    assert safe_to_repeat({"annotations": {"idempotentHint": True}})
    assert not safe_to_repeat({"annotations": {"readOnlyHint": False, "destructiveHint": True}})
    assert not safe_to_repeat({"name": "store_memory"})


def test_a_server_that_died_is_reconnected_by_the_next_request(
    write_config, tmp_path: Path, no_orphans: None
) -> None:
    pidfile, once = tmp_path / "pid", tmp_path / "once"
    config = stdio_server(
        "s",
        "faulty_server.py",
        "crash-mid-call",
        "--once",
        str(once),
        "--pidfile",
        str(pidfile),
        reconnect_delay=0.01,
    )
    servers = load_mcp_servers(write_config(config))

    async def body() -> None:
        async with MCPClientManager(servers, health_checks=False) as manager:
            await manager.list_tools("s")
            first = pidfile.read_text()
            with pytest.raises(MCPConnectionError, match="not retried"):
                await manager.call_tool("s", "work")
            result = await manager.call_tool("s", "work")
            assert result["content"][0]["text"] == "worked"
            assert manager.status("s") is MCPServerStatus.CONNECTED
            assert pidfile.read_text() != first
            stats = manager.get_stats()["servers"]["s"]
            assert (stats["successful_requests"], stats["failed_requests"]) == (2, 1)

    run(body)


def test_without_auto_reconnect_a_dead_server_stays_down(
    write_config, tmp_path: Path, no_orphans: None
) -> None:
    config = stdio_server("s", "faulty_server.py", "crash-mid-call", auto_reconnect=False)
    servers = load_mcp_servers(write_config(config))

    async def body() -> None:
        async with MCPClientManager(servers, health_checks=False) as manager:
            with pytest.raises(MCPConnectionError):
                await manager.call_tool("s", "work")
            with pytest.raises(MCPConnectionError, match="auto_reconnect is off"):
                await manager.list_tools("s")

    run(body)


def test_the_health_loop_brings_a_killed_server_back(write_config, tmp_path: Path, no_orphans: None) -> None:
    pidfile = tmp_path / "pid"
    config = stdio_server(
        "s",
        "faulty_server.py",
        "slow",
        "--pidfile",
        str(pidfile),
        health_check_interval=0.1,
        reconnect_delay=0.01,
    )
    servers = load_mcp_servers(write_config(config))

    async def body() -> None:
        async with MCPClientManager(servers) as manager:
            await manager.connect_server("s")
            first = pidfile.read_text()
            os.kill(int(first), signal.SIGKILL)
            with anyio.fail_after(10):
                while not (pidfile.read_text() != first and manager.status("s") is MCPServerStatus.CONNECTED):
                    await anyio.sleep(0.05)
            assert (await manager.health_check("s"))["ok"] is True

    run(body)
