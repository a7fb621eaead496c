"""`tools list` over several servers at once, and `tools show`."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Invoke, stderr_json, stdout_json
from tests.conftest import stdio_server


def test_tools_list_covers_every_enabled_server_and_follows_pages(cli: Invoke, servers_config: Path) -> None:
    result = cli("--config", str(servers_config), "tools", "list", "--json")
    assert result.exit_code == 0, result.stderr
    document = stdout_json(result)
    assert document["errors"] == []
    by_server: dict[str, list[str]] = {}
    for tool in document["tools"]:
        by_server.setdefault(tool["server"], []).append(tool["name"])
        assert "inputSchema" in tool
    assert list(by_server) == ["legacy", "sdk", "paged", "memory"]
    assert by_server["paged"] == [f"tool_{i:02d}" for i in range(25)]
    assert by_server["legacy"] == ["store_memory", "recall_memory", "get_memory_stats", "clear_memory"]
    assert "typed" in by_server["sdk"]


def test_tools_list_of_named_servers_prints_a_table(cli: Invoke, servers_config: Path) -> None:
    result = cli("--config", str(servers_config), "tools", "list", "legacy")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SERVER", "TOOL", "DESCRIPTION"]
    assert [line.split()[1] for line in lines[1:]] == [
        "store_memory",
        "recall_memory",
        "get_memory_stats",
        "clear_memory",
    ]


def test_partial_failure_lists_what_worked_and_exits_with_the_first_failure(
    cli: Invoke, write_config
) -> None:
    path = write_config(
        stdio_server("legacy", "legacy_rag_redis.py")
        + stdio_server("early", "faulty_server.py", "exit-early", max_reconnect_attempts=0)
        + stdio_server("silent", "faulty_server.py", "no-init", connection_timeout=1.0)
    )
    result = cli("--config", str(path), "tools", "list", "--json")
    assert result.exit_code == 4
    document = stdout_json(result)
    assert {t["server"] for t in document["tools"]} == {"legacy"}
    assert [(e["server"], e["type"], e["exit_code"]) for e in document["errors"]] == [
        ("early", "connection", 4),
        ("silent", "timeout", 8),
    ]
    assert stderr_json(result)["error"]["server"] == "early"
    human = cli("--config", str(path), "tools", "list")
    assert human.exit_code == 4
    assert "store_memory" in human.stdout
    assert [line.split(":")[0] for line in human.stderr.splitlines() if line.startswith("Error")] == [
        "Error",
        "Error",
    ]


def test_tools_show_lists_parameters(cli: Invoke, servers_config: Path) -> None:
    result = cli("--config", str(servers_config), "tools", "show", "sdk", "typed")
    assert result.exit_code == 0
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    assert rows["count"][1:3] == ["integer", "yes"]
    assert rows["mode"][1:5] == ["string", "no", '"fast"', '"fast",']
    assert rows["maybe"][1:4] == ["string", "|", "null"]


def test_tools_show_json_carries_the_whole_tool(cli: Invoke, servers_config: Path) -> None:
    document = stdout_json(cli("--config", str(servers_config), "tools", "show", "sdk", "echo", "--json"))
    assert document["server"] == "sdk"
    assert document["tool"]["annotations"]["readOnlyHint"] is True
    assert document["tool"]["inputSchema"]["required"] == ["text"]


def test_tools_show_unknown_tool_exits_5(cli: Invoke, servers_config: Path) -> None:
    result = cli("--config", str(servers_config), "tools", "show", "legacy", "recall")
    assert result.exit_code == 5
    assert "did you mean 'recall_memory'" in result.stderr
