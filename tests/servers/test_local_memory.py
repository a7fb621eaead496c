"""Tests for the embedded local-memory MCP server."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import sys
import threading
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from anyio.streams.text import TextReceiveStream
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, TextContent, TextResourceContents
from mcp.types.version import LATEST_HANDSHAKE_VERSION

from gemma_mcp_cli._version import __version__
from gemma_mcp_cli.servers.local_memory import (
    DATA_DIR_ENV,
    DATABASE_FILENAME,
    MEMORY_TYPES,
    MemoryStore,
    create_server,
    resolve_data_dir,
)

T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MODULE = "gemma_mcp_cli.servers.local_memory"
TIMEOUT = 10
SUBPROCESS_TIMEOUT = 60


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv(DATA_DIR_ENV, str(directory))
    return directory


def with_client(scenario: Callable[[Client], Awaitable[T]]) -> T:
    """Run `scenario` against a fresh in-process server and return its result."""

    async def main() -> T:
        with anyio.fail_after(TIMEOUT):
            async with Client(create_server()) as client:
                return await scenario(client)

    return anyio.run(main)


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def payload(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    data: dict[str, Any] | None = result.structured_content
    assert data is not None
    return data


async def store(client: Client, content: str, **arguments: Any) -> dict[str, Any]:
    return payload(await client.call_tool("store_memory", {"content": content, **arguments}))


async def recall(client: Client, query: str, **arguments: Any) -> list[dict[str, Any]]:
    data = payload(await client.call_tool("recall_memory", {"query": query, **arguments}))
    assert data["count"] == len(data["memories"])
    memories: list[dict[str, Any]] = data["memories"]
    return memories


async def stats(client: Client) -> dict[str, Any]:
    return payload(await client.call_tool("get_memory_stats", {}))


def child_env(data_dir: Path) -> dict[str, str]:
    python_path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    return {DATA_DIR_ENV: str(data_dir), "PYTHONPATH": python_path}


def test_store_then_recall_returns_newest_first(data_dir: Path) -> None:
    async def scenario(client: Client) -> tuple[list[str], list[dict[str, Any]]]:
        ids = [(await store(client, f"project note {n}"))["id"] for n in range(3)]
        await store(client, "unrelated grocery list")
        return ids, await recall(client, "project")

    ids, memories = with_client(scenario)

    assert [memory["id"] for memory in memories] == ids[::-1]
    assert [memory["content"] for memory in memories] == [
        "project note 2",
        "project note 1",
        "project note 0",
    ]
    assert all(memory["memory_type"] == "short_term" and memory["importance"] == 0.5 for memory in memories)


def test_store_returns_id_and_readable_confirmation(data_dir: Path) -> None:
    async def scenario(client: Client) -> CallToolResult:
        return await client.call_tool(
            "store_memory", {"content": "x", "memory_type": "episodic", "importance": 1}
        )

    result = with_client(scenario)

    receipt = payload(result)
    assert set(receipt) == {"id", "memory_type", "importance", "created_at"}
    assert receipt["memory_type"] == "episodic"
    assert receipt["importance"] == 1.0
    assert receipt["id"] in text_of(result)
    assert text_of(result).startswith("Stored episodic memory")


def test_recall_matches_case_insensitively(data_dir: Path) -> None:
    async def scenario(client: Client) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        await store(client, "Meeting with ÜBER team")
        return await recall(client, "über TEAM"), await recall(client, "absent")

    found, missing = with_client(scenario)

    assert [memory["content"] for memory in found] == ["Meeting with ÜBER team"]
    assert missing == []


def test_recall_filters_by_memory_type(data_dir: Path) -> None:
    async def scenario(client: Client) -> list[dict[str, Any]]:
        await store(client, "fact: water boils at 100C", memory_type="semantic")
        await store(client, "fact: went hiking", memory_type="episodic")
        return await recall(client, "fact", memory_type="semantic")

    memories = with_client(scenario)

    assert [(memory["memory_type"], memory["content"]) for memory in memories] == [
        ("semantic", "fact: water boils at 100C")
    ]


def test_recall_limit_keeps_the_newest_matches(data_dir: Path) -> None:
    async def scenario(client: Client) -> list[dict[str, Any]]:
        for n in range(5):
            await store(client, f"entry {n}")
        return await recall(client, "entry", limit=2)

    memories = with_client(scenario)

    assert [memory["content"] for memory in memories] == ["entry 4", "entry 3"]


@pytest.mark.parametrize("limit", [0, 101])
def test_recall_rejects_limit_outside_range(data_dir: Path, limit: int) -> None:
    async def scenario(client: Client) -> CallToolResult:
        return await client.call_tool("recall_memory", {"query": "", "limit": limit})

    result = with_client(scenario)

    assert result.is_error
    assert "limit" in text_of(result)


def test_store_rejects_unknown_memory_type(data_dir: Path) -> None:
    async def scenario(client: Client) -> tuple[CallToolResult, dict[str, Any]]:
        result = await client.call_tool("store_memory", {"content": "x", "memory_type": "forever"})
        return result, await stats(client)

    result, counts = with_client(scenario)

    assert result.is_error
    assert "memory_type" in text_of(result)
    assert counts["total"] == 0


@pytest.mark.parametrize("importance", [-0.01, 1.01])
def test_store_rejects_importance_outside_unit_interval(data_dir: Path, importance: float) -> None:
    async def scenario(client: Client) -> tuple[CallToolResult, dict[str, Any]]:
        result = await client.call_tool("store_memory", {"content": "x", "importance": importance})
        return result, await stats(client)

    result, counts = with_client(scenario)

    assert result.is_error
    assert "importance" in text_of(result)
    assert counts["total"] == 0


@pytest.mark.parametrize("content", ["", "   \n"])
def test_store_rejects_blank_content(data_dir: Path, content: str) -> None:
    async def scenario(client: Client) -> tuple[CallToolResult, dict[str, Any]]:
        result = await client.call_tool("store_memory", {"content": content})
        return result, await stats(client)

    result, counts = with_client(scenario)

    assert result.is_error
    assert "content" in text_of(result)
    assert counts["total"] == 0


def test_stats_count_memories_per_type(data_dir: Path) -> None:
    async def scenario(client: Client) -> tuple[dict[str, Any], str]:
        for memory_type in ["working", "working", "long_term", "semantic"]:
            await store(client, "note", memory_type=memory_type)
        result = await client.call_tool("get_memory_stats", {})
        return payload(result), text_of(result)

    counts, text = with_client(scenario)

    assert counts == {
        "total": 4,
        "by_type": {"working": 2, "short_term": 0, "long_term": 1, "episodic": 0, "semantic": 1},
    }
    assert text.startswith("4 memories")


def test_clear_without_confirm_is_an_error_and_deletes_nothing(data_dir: Path) -> None:
    async def scenario(client: Client) -> tuple[CallToolResult, dict[str, Any]]:
        await store(client, "keep me")
        result = await client.call_tool("clear_memory", {})
        return result, await stats(client)

    result, counts = with_client(scenario)

    assert result.is_error
    assert "confirm=true" in text_of(result)
    assert counts["total"] == 1


def test_clear_with_confirm_deletes_only_the_given_type(data_dir: Path) -> None:
    async def scenario(client: Client) -> tuple[dict[str, Any], dict[str, Any]]:
        await store(client, "scratch a", memory_type="working")
        await store(client, "scratch b", memory_type="working")
        await store(client, "durable", memory_type="long_term")
        cleared = payload(await client.call_tool("clear_memory", {"memory_type": "working", "confirm": True}))
        return cleared, await stats(client)

    cleared, counts = with_client(scenario)

    assert cleared == {"deleted": 2, "memory_type": "working"}
    assert counts["total"] == 1
    assert counts["by_type"]["long_term"] == 1


def test_clear_with_confirm_and_no_type_deletes_everything(data_dir: Path) -> None:
    async def scenario(client: Client) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        for memory_type in MEMORY_TYPES:
            await store(client, "note", memory_type=memory_type)
        cleared = payload(await client.call_tool("clear_memory", {"confirm": True}))
        return cleared, await recall(client, "")

    cleared, remaining = with_client(scenario)

    assert cleared == {"deleted": len(MEMORY_TYPES), "memory_type": None}
    assert remaining == []


def test_stats_resource_matches_the_stats_tool(data_dir: Path) -> None:
    async def scenario(client: Client) -> tuple[Any, dict[str, Any], list[str]]:
        await store(client, "note", memory_type="episodic")
        listed = [str(resource.uri) for resource in (await client.list_resources()).resources]
        contents = (await client.read_resource("memory://stats")).contents
        return contents, await stats(client), listed

    contents, tool_stats, listed = with_client(scenario)

    assert listed == ["memory://stats"]
    assert len(contents) == 1
    assert isinstance(contents[0], TextResourceContents)
    assert contents[0].mime_type == "application/json"
    assert json.loads(contents[0].text) == tool_stats
    assert tool_stats["by_type"]["episodic"] == 1


def test_tools_declare_schemas_annotations_and_descriptions(data_dir: Path) -> None:
    tools = {tool.name: tool for tool in with_client(lambda client: client.list_tools()).tools}

    assert set(tools) == {"store_memory", "recall_memory", "get_memory_stats", "clear_memory"}
    store_props = tools["store_memory"].input_schema["properties"]
    assert store_props["memory_type"]["enum"] == list(MEMORY_TYPES)
    assert (store_props["importance"]["minimum"], store_props["importance"]["maximum"]) == (0, 1)
    assert store_props["content"]["minLength"] == 1
    limit = tools["recall_memory"].input_schema["properties"]["limit"]
    assert (limit["minimum"], limit["maximum"]) == (1, 100)
    annotations = {name: tool.annotations for name, tool in tools.items()}
    assert annotations["recall_memory"] is not None and annotations["recall_memory"].read_only_hint
    assert annotations["get_memory_stats"] is not None and annotations["get_memory_stats"].read_only_hint
    assert annotations["clear_memory"] is not None and annotations["clear_memory"].destructive_hint
    assert annotations["store_memory"] is not None
    assert annotations["store_memory"].read_only_hint is False
    assert annotations["store_memory"].idempotent_hint is False
    for tool in tools.values():
        assert tool.description and "\n" not in tool.description
        assert tool.output_schema is not None


def test_server_identifies_itself_with_package_version(data_dir: Path) -> None:
    async def scenario(client: Client) -> tuple[str, str] | None:
        info = client.server_info
        return None if info is None else (info.name, info.version)

    assert with_client(scenario) == ("local-memory", __version__)


def test_memories_persist_in_a_wal_database_in_the_data_dir(data_dir: Path) -> None:
    with_client(lambda client: store(client, "survives restarts"))

    memories = with_client(lambda client: recall(client, "restarts"))

    assert [memory["content"] for memory in memories] == ["survives restarts"]
    with closing(sqlite3.connect(data_dir / DATABASE_FILENAME)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_data_dir_is_created_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "nested" / "data"
    monkeypatch.setenv(DATA_DIR_ENV, str(directory))

    with_client(lambda client: store(client, "note"))

    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert (directory / DATABASE_FILENAME).is_file()


def test_data_dir_defaults_to_the_platform_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    requested: list[str] = []

    def fake_user_data_dir(appname: str) -> str:
        requested.append(appname)
        return str(tmp_path / "platform")

    monkeypatch.setattr("platformdirs.user_data_dir", fake_user_data_dir)

    assert resolve_data_dir() == tmp_path / "platform"
    assert requested == ["gemma-mcp"]


def test_concurrent_writers_on_a_fresh_database_all_succeed(tmp_path: Path) -> None:
    writers, per_writer = 20, 5
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        # A store per thread gives each writer its own schema setup and connections, like a process.
        store = MemoryStore(tmp_path)
        start.wait()
        try:
            for k in range(per_writer):
                store.store(f"writer {n} note {k}", "working", 0.5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT)

    assert errors == []
    assert MemoryStore(tmp_path).stats().total == writers * per_writer


def test_module_serves_tools_over_stdio(data_dir: Path) -> None:
    params = StdioServerParameters(command=sys.executable, args=["-m", MODULE], env=child_env(data_dir))

    async def main() -> tuple[list[str], CallToolResult]:
        with anyio.fail_after(SUBPROCESS_TIMEOUT):
            async with Client(stdio_client(params)) as client:
                names = [tool.name for tool in (await client.list_tools()).tools]
                return names, await client.call_tool("store_memory", {"content": "over stdio"})

    names, result = anyio.run(main)

    assert sorted(names) == ["clear_memory", "get_memory_stats", "recall_memory", "store_memory"]
    stored_id = payload(result)["id"]
    memories = with_client(lambda client: recall(client, "over stdio"))
    assert [memory["id"] for memory in memories] == [stored_id]


def test_module_writes_only_protocol_messages_to_stdout(data_dir: Path) -> None:
    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": LATEST_HANDSHAKE_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get_memory_stats"}},
    ]

    async def main() -> tuple[str, int | None]:
        with anyio.fail_after(SUBPROCESS_TIMEOUT):
            command = [sys.executable, "-m", MODULE]
            env = {**os.environ, **child_env(data_dir)}
            async with await anyio.open_process(command, env=env, stderr=None) as process:
                assert process.stdin is not None and process.stdout is not None
                await process.stdin.send("".join(json.dumps(r) + "\n" for r in requests).encode())
                output = ""
                async for chunk in TextReceiveStream(process.stdout):
                    output += chunk
                    if '"id":2' in output.replace(" ", "") and output.endswith("\n"):
                        break
                await process.stdin.aclose()
                output += "".join([chunk async for chunk in TextReceiveStream(process.stdout)])
                return output, await process.wait()

    output, returncode = anyio.run(main)

    messages = [json.loads(line) for line in output.splitlines()]
    assert all(message["jsonrpc"] == "2.0" for message in messages)
    assert [message.get("id") for message in messages] == [1, 2]
    assert messages[0]["result"]["serverInfo"] == {"name": "local-memory", "version": __version__}
    assert messages[1]["result"]["structuredContent"]["total"] == 0
    assert returncode == 0
