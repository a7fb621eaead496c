"""`tools search`: rank tools across servers, from the cache without starting them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gemma_mcp_cli.cli.tool_search import rank, signature, words
from tests.cli.conftest import Invoke, stdout_json
from tests.cli.test_quick import probe
from tests.conftest import stdio_server


@pytest.fixture
def config(write_config: Callable[..., Path]) -> Path:
    return write_config(
        stdio_server("legacy", "legacy_rag_redis.py")
        + stdio_server("schema", "schema_server.py")
        + stdio_server("faulty", "faulty_server.py", "exit-early", enabled=False)
    )


def gemma(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_search_ranks_tools_across_servers(cli: Invoke, config: Path) -> None:
    done = cli("--config", str(config), "tools", "search", "search notes", "--json")
    assert done.exit_code == 0, done.stderr
    found = stdout_json(done)
    assert found["errors"] == []
    best = found["tools"][0]
    assert (best["server"], best["name"], best["title"]) == ("schema", "search", "Search notes")
    assert best["signature"] == "search(query: string, limit?: number, mode?: string)"
    assert set(best) == {"server", "name", "title", "description", "signature", "score"}  # no schemas
    memory = stdout_json(cli("--config", str(config), "tools", "search", "memory", "--json"))["tools"]
    assert {t["server"] for t in memory} == {"legacy"} and len(memory) == 4
    by_parameter = stdout_json(cli("--config", str(config), "tools", "search", "importance", "--json"))
    assert [t["name"] for t in by_parameter["tools"]] == ["store_memory"]


def test_search_answers_from_the_cache_as_the_full_path_would(config: Path, workdir: Path) -> None:
    assert gemma(config, "tools", "list").returncode == 0  # fills the cache and the snapshot
    for args in (
        ["tools", "search", "store"],
        ["tools", "search", "memory", "legacy", "--json", "--limit", "2"],
        ["tools", "search", "nothing-like-it", "--json"],
        ["tools", "search", "query", "--offline", "-n", "1"],
    ):
        fast, full = gemma(config, *args), gemma(config, "--no-session", *args)
        assert (fast.returncode, fast.stdout, fast.stderr) == (full.returncode, full.stdout, full.stderr), (
            args
        )
        assert probe(["--config", str(config), *args], entry=True) == ["HEAVY="], args


def test_search_without_a_cache_lists_the_servers_and_refresh_asks_again(cli: Invoke, config: Path) -> None:
    done = cli("--config", str(config), "tools", "search", "store", "--json")
    assert done.exit_code == 0 and stdout_json(done)["tools"][0]["name"] in {"store", "store_memory"}

    def requests() -> int:
        document = stdout_json(cli("--config", str(config), "stats", "legacy", "--format", "json"))
        return int(document["servers"]["legacy"]["total_requests"])

    before = requests()
    cached = cli("--config", str(config), "tools", "search", "store", "legacy", "--json")
    assert requests() == before  # answered from the cache: nothing was asked
    again = cli("--config", str(config), "tools", "search", "store", "legacy", "--refresh", "--json")
    assert requests() == before + 1
    assert stdout_json(again) == stdout_json(cached)
    assert stdout_json(again)["tools"][0]["name"] == "store_memory"


def test_a_disabled_or_unknown_server_exits_3(cli: Invoke, config: Path) -> None:
    assert cli("--config", str(config), "tools", "search", "x", "ghost").exit_code == 3
    assert cli("--config", str(config), "tools", "search", "x", "faulty").exit_code == 3


def test_hostile_tool_text_stays_escaped_in_json(cli: Invoke, write_config: Callable[..., Path]) -> None:
    config = write_config(stdio_server("schema", "schema_server.py", "--name-prefix", "\x1b[2J\u202e"))
    done = cli("--config", str(config), "tools", "search", "search", "--json")
    assert done.exit_code == 0
    assert "\x1b" not in done.stdout
    assert json.loads(done.stdout)["tools"][0]["name"] == "\x1b[2J\u202esearch"


def test_words_split_at_every_seam() -> None:
    assert words("getMemoryStats store_memory HTTPServer v2") == [
        "get",
        "memory",
        "stats",
        "store",
        "memory",
        "http",
        "server",
        "v",
        "2",
    ]


def test_rank_survives_tools_of_any_shape() -> None:
    tools: list[dict[str, Any]] = [
        {"name": "a", "inputSchema": "not a schema", "description": 5},
        {"name": "b", "inputSchema": {"properties": ["x"], "required": {"y": 1}}},
        {"name": "find_things", "annotations": "x"},
    ]
    assert [t["name"] for t in rank("find", tools)] == ["find_things"]
    assert signature(tools[1]) == "b()"
    assert rank("", tools) == []
