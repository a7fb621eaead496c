"""MCPClientManager as a library: concurrency, state, statistics, and no process left behind."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from gemma_mcp_cli import MCPConfigError, MCPServerStatus, MCPTimeoutError, load_mcp_servers
from gemma_mcp_cli.client.manager import MCPClientManager
from tests.conftest import stdio_server


def run(body: Callable[[], Awaitable[Any]], limit: float = 30) -> Any:
    async def main() -> Any:
        with anyio.fail_after(limit):
            return await body()

    return anyio.run(main)


def alive(pidfile: Path) -> bool:
    try:
        os.kill(int(pidfile.read_text()), 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def legacy_trio(write_config: Callable[..., Path]) -> Path:
    return write_config(
        "".join(stdio_server(name, "legacy_rag_redis.py") for name in ("one", "two", "three"))
        + stdio_server("early", "faulty_server.py", "exit-early", max_reconnect_attempts=0)
    )


def test_connect_many_connects_concurrently_and_reports_each(legacy_trio: Path, no_orphans: None) -> None:
    servers = load_mcp_servers(legacy_trio)

    async def body() -> None:
        async with MCPClientManager(servers) as manager:
            results = await manager.connect_many(["one", "two", "early", "three"])
            assert list(results) == ["one", "two", "early", "three"]
            assert [manager.status(n) for n in ("one", "two", "three")] == [MCPServerStatus.CONNECTED] * 3
            assert manager.status("early") is MCPServerStatus.ERROR
            assert "fatal: cannot open database" in str(results["early"])
            tools = await manager.list_tools("two")
            assert len(tools) == 4
        assert manager.status("one") is MCPServerStatus.DISCONNECTED

    run(body)


def test_disconnect_server_stops_its_process(write_config, tmp_path: Path, no_orphans: None) -> None:
    pidfile = tmp_path / "server.pid"
    servers = load_mcp_servers(
        write_config(stdio_server("s", "faulty_server.py", "slow", "--pidfile", str(pidfile)))
    )

    async def body() -> None:
        async with MCPClientManager(servers) as manager:
            await manager.connect_server("s")
            assert alive(pidfile)
            await manager.disconnect_server("s")
            assert not alive(pidfile)

    run(body)


def test_cancelled_call_leaves_no_process(write_config, tmp_path: Path, no_orphans: None) -> None:
    pidfile = tmp_path / "server.pid"
    servers = load_mcp_servers(
        write_config(stdio_server("s", "faulty_server.py", "slow", "--pidfile", str(pidfile)))
    )

    async def body() -> None:
        with anyio.move_on_after(1.0) as scope:
            async with MCPClientManager(servers) as manager:
                await manager.call_tool("s", "work")
        assert scope.cancelled_caught
        assert not alive(pidfile)

    run(body)


def test_request_timeout_raises_timeout_error_and_counts_a_failure(write_config, no_orphans: None) -> None:
    path = write_config(stdio_server("s", "faulty_server.py", "slow", "--delay", "30", request_timeout=0.3))
    servers = load_mcp_servers(path)

    async def body() -> None:
        async with MCPClientManager(servers) as manager:
            with pytest.raises(MCPTimeoutError):
                await manager.call_tool("s", "work", {"seconds": 0})
            stats = manager.get_stats()["servers"]["s"]
        assert (stats["total_requests"], stats["successful_requests"], stats["failed_requests"]) == (2, 1, 1)
        assert stats["tools"]["work"]["failed_requests"] == 1
        assert "did not answer tools/call work within 0.3s" in stats["last_error"]

    run(body)


def test_health_check_uses_ping_or_discover_by_protocol(servers_config: Path, no_orphans: None) -> None:
    servers = load_mcp_servers(servers_config)

    async def body() -> tuple[dict[str, Any], dict[str, Any]]:
        async with MCPClientManager(servers) as manager:
            return await manager.health_check("legacy"), await manager.health_check("sdk")

    legacy, modern = run(body)
    assert (legacy["ok"], legacy["protocolVersion"]) == (True, "2024-11-05")
    assert (modern["ok"], modern["protocolVersion"]) == (True, "2026-07-28")


def test_unknown_server_is_a_config_error() -> None:
    async def body() -> None:
        async with MCPClientManager({}) as manager:
            await manager.connect_server("nope")

    with pytest.raises(MCPConfigError):
        run(body)
