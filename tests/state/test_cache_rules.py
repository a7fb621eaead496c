"""The cache's edges, value by value: names on disk, exact expiry, what drop leaves, describe."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gemma_mcp_cli.state.cache import MCPToolRegistry, fingerprint
from tests.state.conftest import Clock, server

TOOLS = [{"name": "echo", "inputSchema": {"type": "object"}}]


def test_a_fingerprint_is_32_hex_digits_and_ignores_key_order() -> None:
    one = fingerprint(server(env={"A": "1", "B": "2"}))
    assert re.fullmatch(r"[0-9a-f]{32}", one)
    assert one == fingerprint(server(env={"B": "2", "A": "1"}))
    assert one != fingerprint(server(env={"A": "1", "B": "3"}))


def test_the_default_folder_is_the_cache_dir(tmp_path: Path) -> None:
    assert MCPToolRegistry().directory == tmp_path / "cache"


def test_a_file_name_keeps_safe_characters_and_adds_a_digest(registry: MCPToolRegistry) -> None:
    assert re.fullmatch(r"Ab_c-9\.z-[0-9a-f]{12}\.json", registry.path("Ab_c-9.z").name)
    assert re.fullmatch(r"a_b_c_-[0-9a-f]{12}\.json", registry.path("a/b c:/").name)
    assert registry.path("a/b").parent == registry.directory
    assert registry.path("a/b") != registry.path("a_b")  # the digest tells them apart


def test_an_entry_is_stale_from_the_instant_it_expires(registry: MCPToolRegistry, clock: Clock) -> None:
    config = server()
    registry.put(config, "tools", TOOLS)
    clock.now += 59.999
    assert registry.get(config, "tools") == TOOLS
    clock.now = 1060.0
    assert registry.get(config, "tools") is None
    assert registry.entry_for("s", fingerprint(config), "tools") is None  # stale unless asked for
    assert registry.entry(config, "tools") is None and registry.tool(config, "echo") is None
    assert registry.entry_for("s", fingerprint(config), "tools", stale_ok=True) is not None


def test_a_sub_second_lifetime_is_still_stored(registry: MCPToolRegistry) -> None:
    config = server()
    registry.put(config, "tools", TOOLS, hint=0.5)
    assert registry.get(config, "tools") == TOOLS


@pytest.mark.parametrize(
    "bad", [{"expires_at": 2000.0, "fetched_at": "x"}, {"expires_at": "x", "fetched_at": 1.0}]
)
def test_an_entry_with_a_non_numeric_time_is_a_miss(
    registry: MCPToolRegistry, bad: dict[str, object]
) -> None:
    config = server()
    registry.put(config, "tools", TOOLS)
    path = registry.path("s")
    document = json.loads(path.read_text())
    document["entries"]["tools"] |= bad
    path.write_text(json.dumps(document))
    assert registry.entry_for("s", fingerprint(config), "tools", stale_ok=True) is None


def test_dropping_the_last_kind_removes_the_file(registry: MCPToolRegistry) -> None:
    config = server()
    registry.put(config, "tools", TOOLS)
    registry.drop(config, "tools")
    assert not registry.path("s").exists()


def test_dropping_a_kind_that_is_not_there_keeps_the_others(registry: MCPToolRegistry) -> None:
    config = server()
    registry.drop(config, "tools")  # nothing cached at all: fine
    registry.put(config, "tools", TOOLS)
    registry.put(config, "resources", [])
    registry.drop(config, "prompts")
    assert registry.get(config, "tools") == TOOLS and registry.get(config, "resources") == []


def test_the_folder_is_created_with_its_parents(tmp_path: Path, clock: Clock) -> None:
    registry = MCPToolRegistry(tmp_path / "a" / "b" / "c", clock=clock)
    registry.put(server(), "tools", TOOLS)
    assert registry.get(server(), "tools") == TOOLS


def test_describe_rounds_to_a_tenth_and_shows_stale_entries(registry: MCPToolRegistry, clock: Clock) -> None:
    config = server()
    registry.put(config, "tools", TOOLS)
    clock.now = 1012.345
    (row,) = registry.describe(config)
    assert row == {
        "server": "s",
        "kind": "tools",
        "entries": 1,
        "age_s": 12.3,
        "expires_in_s": 47.7,
        "fresh": True,
    }
    clock.now = 1060.0
    (row,) = registry.describe(config)
    assert (row["fresh"], row["expires_in_s"]) == (False, 0.0)


def test_nothing_cached_has_no_tool(registry: MCPToolRegistry) -> None:
    assert registry.tool(server(), "echo") is None
    registry.put(server(), "tools", TOOLS)
    assert registry.tool(server(), "nope") is None
    found = registry.tool(server(), "echo")
    assert found is not None and (found.name, found.server, found.fetched_at) == ("echo", "s", 1000.0)
