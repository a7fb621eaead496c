"""Cached listings: answered without starting a server, refreshed on demand, offline on request."""

from __future__ import annotations

from pathlib import Path

import pytest

from gemma_mcp_cli.names import file_stem
from tests.cli.conftest import Invoke, stderr_json, stdout_json
from tests.conftest import stdio_server


@pytest.fixture
def legacy(cli: Invoke, write_config) -> Invoke:
    path = write_config(stdio_server("legacy", "legacy_rag_redis.py"))
    return lambda *args, **kw: cli("--config", str(path), *args, **kw)


def starts(tmp_path: Path) -> int:
    """Count how many times the legacy server started (it logs one line per start)."""
    log = tmp_path / "state" / "logs" / f"{file_stem('legacy')}.log"
    return log.read_text().count("listening on stdio") if log.exists() else 0


def test_second_tools_list_is_served_from_the_cache(legacy: Invoke, tmp_path: Path) -> None:
    first = legacy("tools", "list", "--json")
    assert starts(tmp_path) == 1
    second = legacy("tools", "list", "--json")
    assert starts(tmp_path) == 1
    assert stdout_json(first) == stdout_json(second)
    legacy("tools", "list", "--refresh")
    assert starts(tmp_path) == 2


def test_tools_show_and_dry_run_use_the_cache(legacy: Invoke, tmp_path: Path) -> None:
    legacy("tools", "list")
    shown = legacy("tools", "show", "legacy", "store_memory", "--json")
    assert stdout_json(shown)["tool"]["name"] == "store_memory"
    dry = legacy("call", "legacy", "store_memory", "--arg", "content=x", "--dry-run")
    assert stdout_json(dry)["arguments"] == {"content": "x"}
    rejected = legacy("call", "legacy", "store_memory", "--arg", "importance=high")
    assert rejected.exit_code == 7
    assert starts(tmp_path) == 1
    assert legacy("tools", "show", "legacy", "store").exit_code == 5
    assert starts(tmp_path) == 1


def test_offline_without_a_cache_exits_3_with_a_hint(legacy: Invoke, tmp_path: Path) -> None:
    result = legacy("tools", "list", "--offline", "--json")
    assert result.exit_code == 3
    assert stdout_json(result)["errors"][0]["type"] == "config"
    assert "nothing is cached" in stderr_json(result)["error"]["message"]
    assert starts(tmp_path) == 0
    human = legacy("tools", "show", "legacy", "store_memory", "--offline")
    assert (
        human.exit_code == 3
        and "Hint: run 'gemma-mcp tools list legacy' once without --offline" in human.stderr
    )


def test_offline_serves_a_stale_listing(cli: Invoke, write_config, tmp_path: Path) -> None:
    path = write_config(stdio_server("legacy", "legacy_rag_redis.py", tool_cache_ttl=0.001))
    cli("--config", str(path), "resources", "list")
    stale = stdout_json(cli("--config", str(path), "resources", "list", "--offline", "--json"))["resources"]
    assert [r["uri"] for r in stale] == ["memory://stats"]
    assert starts(tmp_path) == 1
    result = cli("--config", str(path), "prompts", "list", "--offline")
    assert result.exit_code == 3


def test_refresh_and_offline_together_are_a_usage_error(legacy: Invoke) -> None:
    assert legacy("tools", "list", "--refresh", "--offline").exit_code == 2


def test_editing_the_config_makes_the_cache_miss(cli: Invoke, write_config, tmp_path: Path) -> None:
    path = write_config(stdio_server("legacy", "legacy_rag_redis.py"))
    cli("--config", str(path), "tools", "list")
    path.write_text(stdio_server("legacy", "legacy_rag_redis.py", request_timeout=9.0))
    assert cli("--config", str(path), "tools", "list", "--offline").exit_code == 3
    cli("--config", str(path), "tools", "list")
    assert starts(tmp_path) == 2


def test_invalid_params_from_the_server_drops_the_cached_tools(cli: Invoke, write_config) -> None:
    path = write_config(stdio_server("legacy", "legacy_rag_redis.py"))
    cli("--config", str(path), "tools", "list")
    # recall_memory on this server answers -32602 for an unknown tool name only; fake a stale
    # cache instead: a cached tool the server no longer has is rejected by the server.
    from gemma_mcp_cli.config.loader import load_mcp_servers
    from gemma_mcp_cli.state.cache import MCPToolRegistry

    config = load_mcp_servers(path)["legacy"]
    registry = MCPToolRegistry()
    registry.put(config, "tools", [{"name": "retired", "inputSchema": {"type": "object"}}])
    result = cli("--config", str(path), "call", "legacy", "retired")
    assert result.exit_code == 5
    assert registry.get(config, "tools") is None
