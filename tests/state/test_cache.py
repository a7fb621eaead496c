"""The disk cache: freshness, fingerprints, corruption, concurrency, permissions."""

from __future__ import annotations

import json
import stat
import threading

import pytest

from gemma_mcp_cli.state.cache import MCPToolRegistry, fingerprint
from tests.state.conftest import Clock, server

TOOLS = [
    {"name": "echo", "inputSchema": {"type": "object"}},
    {"name": "add", "inputSchema": {"type": "object"}},
]


def test_fresh_listing_is_served_until_it_expires(registry: MCPToolRegistry, clock: Clock) -> None:
    registry.put(server(), "tools", TOOLS)
    assert registry.get(server(), "tools") == TOOLS
    clock.now += 59
    assert registry.get(server(), "tools") == TOOLS
    clock.now += 2
    assert registry.get(server(), "tools") is None
    assert registry.get(server(), "tools", stale_ok=True) == TOOLS


def test_server_ttl_overrides_the_default_and_zero_disables(registry: MCPToolRegistry, clock: Clock) -> None:
    registry.put(server(tool_cache_ttl=5), "tools", TOOLS)
    clock.now += 6
    assert registry.get(server(tool_cache_ttl=5), "tools") is None
    registry.put(server(tool_cache_ttl=0), "tools", TOOLS)
    assert registry.get(server(tool_cache_ttl=0), "tools", stale_ok=True) is None


def test_a_servers_shorter_hint_wins(registry: MCPToolRegistry, clock: Clock) -> None:
    registry.put(server(), "tools", TOOLS, hint=2.0)
    clock.now += 3
    assert registry.get(server(), "tools") is None


def test_editing_the_config_invalidates_the_entry(registry: MCPToolRegistry) -> None:
    registry.put(server(args=["a"]), "tools", TOOLS)
    assert registry.get(server(args=["b"]), "tools") is None
    assert fingerprint(server(args=["a"])) != fingerprint(server(args=["b"]))
    assert registry.get(server(args=["a"]), "tools") == TOOLS


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"\xff\xfe",
        b"[]",
        b'{"format": "other"}',
        b'{"format": "gemma-mcp-cache/1", "server": "t"}',
    ],
)
def test_corrupt_truncated_or_foreign_file_is_a_miss(registry: MCPToolRegistry, content: bytes) -> None:
    registry.put(server(), "tools", TOOLS)
    registry.path("s").write_bytes(content)
    assert registry.get(server(), "tools") is None
    registry.put(server(), "tools", TOOLS)
    assert registry.get(server(), "tools") == TOOLS


def test_entries_of_other_kinds_survive_a_write_and_a_drop(registry: MCPToolRegistry) -> None:
    registry.put(server(), "tools", TOOLS)
    registry.put(server(), "prompts", [{"name": "p"}])
    registry.drop(server(), "tools")
    assert registry.get(server(), "tools") is None
    assert registry.get(server(), "prompts") == [{"name": "p"}]
    registry.drop(server())
    assert not registry.path("s").exists()


def test_cache_file_is_readable_by_the_user_alone(registry: MCPToolRegistry) -> None:
    registry.put(server(), "tools", TOOLS)
    assert stat.S_IMODE(registry.path("s").stat().st_mode) == 0o600
    assert stat.S_IMODE(registry.directory.stat().st_mode) == 0o700


def test_concurrent_writers_and_readers_never_see_a_broken_file(registry: MCPToolRegistry) -> None:
    bad: list[object] = []

    def write(n: int) -> None:
        for i in range(30):
            registry.put(server(), "tools", [{"name": f"t{n}-{i}"}])

    def read() -> None:
        for _ in range(200):
            text = registry.path("s").read_text() if registry.path("s").exists() else "{}"
            try:
                json.loads(text)
            except ValueError as exc:  # a torn write would show here
                bad.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)] + [threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert bad == []
    (tool,) = registry.get(server(), "tools") or []
    assert tool["name"].endswith("-29")
    assert [p.name for p in registry.directory.iterdir()] == [registry.path("s").name]


def test_cached_tool_carries_its_times(registry: MCPToolRegistry, clock: Clock) -> None:
    registry.put(server(), "tools", TOOLS)
    found = registry.tool(server(), "add")
    assert found is not None and (found.server, found.name, found.fetched_at, found.expires_at) == (
        "s",
        "add",
        1000.0,
        1060.0,
    )
    assert registry.tool(server(), "nope") is None


def test_describe_reports_entries_age_and_expiry(registry: MCPToolRegistry, clock: Clock) -> None:
    registry.put(server(), "tools", TOOLS)
    clock.now += 10
    assert registry.describe(server()) == [
        {"server": "s", "kind": "tools", "entries": 2, "age_s": 10.0, "expires_in_s": 50.0, "fresh": True}
    ]
