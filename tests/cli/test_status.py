"""`servers status` and `validate --connect`: reach every server, report how it answers."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Invoke, stdout_json
from tests.conftest import stdio_server


def test_status_reports_each_servers_protocol_and_identity(cli: Invoke, servers_config: Path) -> None:
    result = cli("--config", str(servers_config), "servers", "status", "legacy", "sdk", "--json")
    assert result.exit_code == 0, result.stderr
    rows = {row["name"]: row for row in stdout_json(result)["servers"]}
    assert rows["legacy"]["protocolVersion"] == "2024-11-05"
    assert rows["legacy"]["serverInfo"]["name"] == "rag-redis-mcp-server"
    assert rows["sdk"]["protocolVersion"] == "2026-07-28"
    assert rows["sdk"]["serverInfo"] == {"name": "sdk-test", "version": "1.2.3"}
    for row in rows.values():
        assert row["ok"] is True and row["error"] is None and row["latency_ms"] >= 0


def test_status_marks_a_dead_server_and_exits_4(cli: Invoke, write_config) -> None:
    path = write_config(
        stdio_server("legacy", "legacy_rag_redis.py")
        + stdio_server("early", "faulty_server.py", "exit-early", max_reconnect_attempts=0)
    )
    result = cli("--config", str(path), "servers", "status")
    assert result.exit_code == 4
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert lines["legacy"].split()[1] == "ok"
    assert lines["early"].split()[1] == "down"


def test_validate_connect_lists_each_servers_tools(cli: Invoke, write_config) -> None:
    path = write_config(
        stdio_server("legacy", "legacy_rag_redis.py") + stdio_server("off", "x.py", enabled=False)
    )
    result = cli("validate", str(path), "--connect", "--json")
    assert result.exit_code == 0, result.stderr
    servers = {s["name"]: s for s in stdout_json(result)["servers"]}
    assert servers["legacy"]["connect"]["tools"] == [
        "store_memory",
        "recall_memory",
        "get_memory_stats",
        "clear_memory",
    ]
    assert servers["off"]["connect"] is None


def test_validate_connect_fails_with_the_servers_exit_code(cli: Invoke, write_config) -> None:
    path = write_config(stdio_server("early", "faulty_server.py", "exit-early", max_reconnect_attempts=0))
    result = cli("validate", str(path), "--connect")
    assert result.exit_code == 4
    assert "connect: failed:" in result.stdout
