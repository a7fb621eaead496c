"""`stats` across invocations, and many invocations at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, stdout_json
from tests.conftest import stdio_server


@pytest.fixture
def legacy(cli: Invoke, write_config) -> Invoke:
    path = write_config(stdio_server("legacy", "legacy_rag_redis.py"))
    return lambda *args, **kw: cli("--config", str(path), *args, **kw)


def test_stats_count_requests_of_every_invocation(legacy: Invoke) -> None:
    legacy("call", "legacy", "store_memory", "--arg", "content=a")
    legacy("call", "legacy", "store_memory", "--arg", "content=b")
    assert legacy("call", "legacy", "clear_memory").exit_code == 6
    document = stdout_json(legacy("stats", "--format", "json"))
    server = document["servers"]["legacy"]
    assert (server["total_requests"], server["successful_requests"], server["failed_requests"]) == (4, 3, 1)
    assert server["tools"]["store_memory"]["total_requests"] == 2
    assert server["tools"]["clear_memory"]["last_error"].startswith("tool clear_memory on 'legacy' failed")
    assert server["p95_latency"] >= server["p50_latency"] > 0
    table = legacy("stats")
    assert table.stdout.splitlines()[0].split()[:3] == ["SERVER", "TOOL", "TOTAL"]
    prom = legacy("stats", "legacy", "--format", "prometheus").stdout
    assert 'gemma_mcp_requests_total{server="legacy",method="tools/list",tool="",outcome="success"} 1' in prom


def test_stats_reset_and_the_cache_view(legacy: Invoke) -> None:
    legacy("tools", "list")
    (row,) = stdout_json(legacy("stats", "cache", "--json"))["cache"]
    assert (row["server"], row["kind"], row["entries"], row["fresh"]) == ("legacy", "tools", 4, True)
    assert stdout_json(legacy("stats", "reset", "legacy", "--json")) == {"deleted": 1, "server": "legacy"}
    assert stdout_json(legacy("stats", "--json")) == {"servers": {}}
    assert "no requests recorded yet" in legacy("stats").stderr


def test_twenty_invocations_at_once_all_succeed_and_are_all_counted(write_config, tmp_path: Path) -> None:
    # The dependency-free server keeps the twenty clients, not twenty SDK servers, the load: the
    # shared state under test is the client's statistics database and cache. (Concurrent writers
    # of the local-memory database are tested in tests/servers/test_local_memory.py.)
    config = write_config(stdio_server("legacy", "legacy_rag_redis.py"))
    env = os.environ | {"GEMMA_MCP_CONFIG": str(config)}
    command = [sys.executable, "-m", "gemma_mcp_cli", "call", "legacy", "store_memory"]
    processes = [
        subprocess.Popen(
            [*command, "--arg", f"content=note {i}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for i in range(20)
    ]
    outcomes = [(p.wait(timeout=240), *p.communicate()) for p in processes]
    assert [code for code, _, _ in outcomes] == [0] * 20, [err for _, _, err in outcomes if err]
    done = subprocess.run(
        [sys.executable, "-m", "gemma_mcp_cli", "stats", "legacy", "--json"],
        env=env,
        capture_output=True,
        timeout=60,
        check=True,
    )
    counted = json.loads(done.stdout)["servers"]["legacy"]["tools"]["store_memory"]
    assert (counted["total_requests"], counted["failed_requests"]) == (20, 0)
    cached = list((tmp_path / "cache").rglob("*.json"))
    assert cached, "the calls cached the server's tools"
    for path in cached:
        json.loads(path.read_text())
