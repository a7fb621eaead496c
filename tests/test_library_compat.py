"""The original design's library API, driven as gemma-cli's chat command and tool orchestrator drive it.

The chat command builds a manager from its settings, loads the servers from TOML, connects each
enabled one and lists its tools; the orchestrator describes the tools to the model by attribute
(`tool.name`, `tool.description`, `tool.inputSchema`) and calls one by keyword; at the end of the
chat the statistics are read and the manager is shut down. No `async with` anywhere.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from gemma_mcp_cli import (
    CachedTool,
    MCPClientManager,
    MCPConfigLoader,
    MCPConnectionError,
    MCPServerConfig,
    MCPToolRegistry,
    MCPTransportType,
    load_mcp_servers,
    validate_mcp_config,
)
from tests.conftest import LOCAL_MEMORY, PYTHON, SERVERS, child_processes, stdio_server


def run(body: Callable[[], Awaitable[Any]], limit: float = 30) -> Any:
    """Run a coroutine on asyncio (gemma-cli's loop), inside a deadline."""

    async def main() -> Any:
        with anyio.fail_after(limit):
            return await body()

    return anyio.run(main, backend="asyncio")


def describe_tools(tools_by_server: dict[str, list[Any]]) -> list[str]:
    """Describe tools the way the orchestrator's prompt does: by attribute, schema as a dict."""
    lines = []
    for server, tools in tools_by_server.items():
        for tool in tools:
            schema = tool.inputSchema if hasattr(tool, "inputSchema") and tool.inputSchema else {}
            required = schema.get("required", [])
            params = [
                f"{name} ({spec.get('type', 'any')})" for name, spec in schema.get("properties", {}).items()
            ]
            lines.append(f"{server}.{tool.name}: {tool.description or 'No description'} {params} {required}")
    return lines


@pytest.fixture
def chat_config(write_config: Callable[..., Path]) -> Path:
    """The servers of a chat: the embedded one, a stdlib stand-in for rag-redis, one disabled."""
    return write_config(
        LOCAL_MEMORY
        + stdio_server("rag-redis", "legacy_rag_redis.py")
        + stdio_server("off", "faulty_server.py", "exit-early", enabled=False)
    )


def test_the_chat_commands_use_of_the_manager_runs_unchanged(chat_config: Path, no_orphans: None) -> None:
    async def chat() -> tuple[dict[str, list[Any]], Any, Any, dict[str, Any]]:
        manager = MCPClientManager(tool_cache_ttl=3600)
        servers = load_mcp_servers(chat_config)
        available_tools: dict[str, list[Any]] = {}
        for name, server_config in servers.items():
            await manager.connect_server(name, server_config)
            available_tools[name] = await manager.list_tools(name)
        by_keyword = await manager.call_tool(
            server="rag-redis",
            tool="store_memory",
            args={"content": "the sky is blue", "memory_type": "working"},
            max_retries=3,
            retry_delay=0.1,
        )
        by_position = await manager.call_tool("memory", "store_memory", {"content": "hi"}, 2, 0.1)
        stats = manager.get_stats()
        await manager.shutdown()
        return available_tools, by_keyword, by_position, stats

    tools, by_keyword, by_position, stats = run(chat)
    assert list(tools) == ["memory", "rag-redis"], "the disabled server is not loaded"
    prompt = describe_tools(tools)
    assert any(line.startswith("rag-redis.store_memory: ") and "content (string)" in line for line in prompt)
    assert any(line.startswith("memory.recall_memory: ") for line in prompt)
    # Our own callers read the same objects as dicts.
    assert tools["rag-redis"][0]["name"] == tools["rag-redis"][0].name == "store_memory"
    # The orchestrator puts the output in the conversation as JSON.
    assert json.loads(json.dumps(by_keyword))["isError"] is False
    assert by_keyword.content[0].text.startswith("Stored memory ")
    assert by_position.isError is False and by_position.structuredContent is not None
    rag = stats["servers"]["rag-redis"]
    assert (rag["total_requests"], rag["successful_requests"], rag["status"]) == (2, 2, "connected")
    assert rag["tools"]["store_memory"]["total_requests"] == 1
    assert stats["tool_cache"]["servers_cached"] == 2
    assert stats["tool_cache"]["valid_tools"] == len(tools["memory"]) + len(tools["rag-redis"])


def test_a_config_built_in_code_connects_and_a_scope_left_early_does_not_matter(no_orphans: None) -> None:
    config = MCPServerConfig(
        name="legacy",
        transport=MCPTransportType.STDIO,
        command=PYTHON,
        args=[str(SERVERS / "legacy_rag_redis.py")],
    )

    async def body() -> tuple[bool, list[str], bool, bool]:
        manager = MCPClientManager(3600.0)  # the original's only argument, by position
        with anyio.fail_after(20):  # a scope the caller opens around the first connect, and leaves
            connected = await manager.connect_server("rag", config)
        names = [tool.name for tool in await manager.list_tools("rag")]
        first = await manager.disconnect_server("rag")
        again = await manager.disconnect_server("rag")
        await manager.shutdown()
        return bool(connected), names, first, again

    connected, names, first, again = run(body)
    assert connected and names[:2] == ["store_memory", "recall_memory"]
    assert (first, again) == (True, False)


def test_tools_are_kept_for_the_ttl_and_refetched_on_force_refresh(
    chat_config: Path, no_orphans: None
) -> None:
    async def body() -> list[int]:
        manager = MCPClientManager(tool_cache_ttl=3600)
        await manager.connect_server("rag-redis", load_mcp_servers(chat_config)["rag-redis"])
        counts = []
        for refresh in (False, False, True):
            await manager.list_tools("rag-redis", force_refresh=refresh)
            counts.append(manager.get_stats()["servers"]["rag-redis"]["total_requests"])
        await manager.shutdown()
        return counts

    assert run(body) == [1, 1, 2]


def test_without_a_ttl_every_listing_asks_the_server(chat_config: Path, no_orphans: None) -> None:
    async def body() -> int:
        async with MCPClientManager(load_mcp_servers(chat_config)) as manager:
            await manager.list_tools("rag-redis")
            await manager.list_tools("rag-redis")
            return int(manager.get_stats()["servers"]["rag-redis"]["total_requests"])

    assert run(body) == 2


def test_a_server_field_named_like_a_dict_method_stays_data(chat_config: Path, no_orphans: None) -> None:
    async def body() -> Any:
        manager = MCPClientManager()
        await manager.connect_server("rag-redis", load_mcp_servers(chat_config)["rag-redis"])
        result = await manager.call_tool(server="rag-redis", tool="clear_memory", args={})
        await manager.shutdown()
        return result

    result = run(body)
    # An error result is returned, as the original returned it, not raised; reading a field the
    # server did not send is an AttributeError unless the field is one MCP defines as optional.
    assert result.isError is True and result["isError"] is True
    assert callable(result.items) and dict(result.items())["isError"] is True
    with pytest.raises(AttributeError):
        _ = result.no_such_field


NEVER_SHUT_DOWN = """
import asyncio, sys
from gemma_mcp_cli import MCPClientManager, load_mcp_servers

async def chat():
    manager = MCPClientManager(tool_cache_ttl=3600)
    for name, config in load_mcp_servers(sys.argv[1]).items():
        await manager.connect_server(name, config)
    print("connected", flush=True)

if sys.argv[2] == "asyncio.run":
    asyncio.run(chat())
else:  # a loop that is never closed: its tasks are never cancelled, only atexit remains
    asyncio.new_event_loop().run_until_complete(chat())
"""


def gone(pid: int) -> bool:
    """Tell whether a process has ended (a zombie waiting for its reaper has)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return True
    return state in {"Z", "X"}


@pytest.mark.parametrize("ending", ["asyncio.run", "abandoned loop"])
def test_a_manager_never_shut_down_leaves_no_server_behind(
    ending: str, write_config: Callable[..., Path], tmp_path: Path
) -> None:
    pidfile = tmp_path / "server.pid"
    # This server ignores both end of input and SIGTERM: only a SIGKILL to its group ends it.
    config = write_config(
        stdio_server("stubborn", "faulty_server.py", "ignore-term", "--pidfile", str(pidfile))
    )
    script = tmp_path / "chat.py"
    script.write_text(textwrap.dedent(NEVER_SHUT_DOWN))
    done = subprocess.run(
        [sys.executable, str(script), str(config), ending], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("connected\n", "")
    assert gone(int(pidfile.read_text()))
    assert not [pid for pid, _ in child_processes() if not gone(pid)]


def test_the_registry_keeps_invalidates_and_counts(tmp_path: Path) -> None:
    now = [1000.0]
    registry = MCPToolRegistry(tmp_path / "cache", default_ttl=60, clock=lambda: now[0])
    fetched: list[str] = []

    def fetcher(server: str) -> Callable[[], Awaitable[list[dict[str, str]]]]:
        async def fetch() -> list[dict[str, str]]:
            fetched.append(server)
            return [{"name": f"{server}-a"}, {"name": f"{server}-b"}]

        return fetch

    async def body() -> None:
        assert [t["name"] for t in await registry.get_tools("s1", fetcher("s1"))] == ["s1-a", "s1-b"]
        await registry.get_tools("s1", fetcher("s1"))
        await registry.get_tools("s2", fetcher("s2"))
        assert fetched == ["s1", "s2"]
        assert registry.get_cache_stats() == {
            "servers_cached": 2,
            "total_tools": 4,
            "expired_tools": 0,
            "valid_tools": 4,
        }
        now[0] += 61
        assert registry.get_cache_stats()["expired_tools"] == 4
        await registry.get_tools("s1", fetcher("s1"))  # stale: fetched again
        await registry.get_tools("s1", fetcher("s1"), force_refresh=True)
        assert fetched == ["s1", "s2", "s1", "s1"]
        await registry.invalidate("s1")
        assert registry.get_cache_stats()["servers_cached"] == 1
        await registry.invalidate()
        assert registry.get_cache_stats()["servers_cached"] == 0

    anyio.run(body)
    entry = CachedTool("s", {"name": "t"}, fetched_at=10.0, expires_at=70.0)
    assert (entry.cached_at, entry.ttl, entry.is_expired(69.0), entry.is_expired(70.0)) == (
        10.0,
        60.0,
        False,
        True,
    )


def test_invalidating_all_removes_the_disk_cache_but_not_foreign_files(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    registry = MCPToolRegistry(directory)
    config = MCPServerConfig(name="s", command="x")
    registry.put(config, "tools", [{"name": "t"}])
    foreign = directory / "notes.json"
    foreign.write_text('{"format": "something else"}')
    anyio.run(registry.invalidate)
    assert registry.get(config, "tools") is None
    assert foreign.exists()


def test_validate_mcp_config_returns_valid_and_messages(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    missing = tmp_path / "nonexistent.toml"
    assert validate_mcp_config(missing) == (False, [f"Configuration file not found: {missing}"])
    assert validate_mcp_config(write_config('[a]\ncommand = "x"\n', name="good.toml")) == (True, [])
    bad = write_config('[a]\ncommand = "x"\nreconect_delay = 1\n', name="bad.toml")
    valid, errors = validate_mcp_config(bad)
    assert not valid
    assert errors == [
        f"{bad}: servers.a.reconect_delay (line 3): unknown key; did you mean 'reconnect_delay'?"
    ]


def test_the_config_loader_has_the_original_methods(chat_config: Path, tmp_path: Path) -> None:
    loader = MCPConfigLoader(chat_config)
    assert list(loader.load_servers()) == ["memory", "rag-redis"]
    assert loader.get_enabled_servers() == ["memory", "rag-redis"]
    found = loader.load_server("off")
    assert found is not None and found.enabled is False
    assert loader.load_server("nope") is None
    assert loader.validate_config() == (True, [])
    valid, errors = MCPConfigLoader(tmp_path / "nonexistent.toml").validate_config()
    assert not valid and "Configuration file not found" in errors[0]


def test_the_readmes_library_example_runs_as_written(
    workdir: Path, capsys: pytest.CaptureFixture[str], no_orphans: None
) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## As a library", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    (workdir / "config").mkdir()
    (workdir / "config" / "mcp_servers.toml").write_text(stdio_server("rag-redis", "legacy_rag_redis.py"))
    namespace: dict[str, Any] = {}
    exec("async def example():\n" + textwrap.indent(example, "    "), namespace)
    run(namespace["example"])
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("store_memory: ") and "'content'" in printed[0]
    assert printed[-1].startswith("Stored memory ") and printed[-1].endswith(" 2")


def test_a_server_that_dies_mid_call_fails_that_call_and_shutdown_still_cleans_up(
    write_config: Callable[..., Path], no_orphans: None
) -> None:
    servers = load_mcp_servers(
        write_config(stdio_server("faulty", "faulty_server.py", "slow", "--delay", "0"))
    )

    async def body() -> tuple[str, str, dict[str, Any]]:
        manager = MCPClientManager(tool_cache_ttl=60)
        await manager.connect_server("faulty", servers["faulty"])
        try:
            await manager.call_tool(server="faulty", tool="crash", args={}, max_retries=3, retry_delay=0.01)
        except MCPConnectionError as error:
            crashed = error.message
        # The manager brings the server back for the next call (it is started again).
        again = await manager.call_tool(server="faulty", tool="peek", args={})
        stats = manager.get_stats()
        await manager.shutdown()
        return crashed, again.content[0].text, stats

    crashed, again, stats = run(body)
    assert "not retried: crash is not marked read-only or idempotent" in crashed
    assert again == "peeked"
    assert stats["servers"]["faulty"]["failed_requests"] == 1


def test_the_library_surface_is_loaded_name_by_name() -> None:
    # `import gemma_mcp_cli` runs before every module of the program (a warm call too): it loads
    # nothing, yet every public name, and the two submodules it used to load, resolve.
    code = textwrap.dedent(
        """
        import sys
        import gemma_mcp_cli
        loaded = sorted(m for m in ("typing", "enum", "gemma_mcp_cli.errors") if m in sys.modules)
        import gemma_mcp_cli as g
        names = [getattr(g, name).__name__ for name in ("MCPError", "ExitCode", "MCPTransportType")]
        print(loaded, names, int(g.errors.ExitCode.TOOL), g.enums.MCPTransportType.SSE.value)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split("\n")[0] == "[] ['MCPError', 'ExitCode', 'MCPTransportType'] 6 sse", done.stderr
    import gemma_mcp_cli

    with pytest.raises(AttributeError):
        _ = gemma_mcp_cli.not_a_name
