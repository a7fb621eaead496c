"""A cold call starts its stdio server before importing the SDK, and then adopts it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gemma_mcp_cli import _early
from gemma_mcp_cli.models import MCPServerConfig
from tests.conftest import PYTHON, SERVERS


def legacy_with_debug_log(write_config) -> str:
    """A config whose server logs each start and each stop to its stderr log."""
    argv = json.dumps([str(SERVERS / "legacy_rag_redis.py")])
    text = f'[legacy]\ncommand = {json.dumps(PYTHON)}\nargs = {argv}\nenv = {{ RUST_LOG = "debug" }}\n'
    return str(write_config(text))


def gemma(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gemma_mcp_cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_a_cold_call_adopts_the_server_it_started_early(write_config, workdir: Path, tmp_path: Path) -> None:
    config = legacy_with_debug_log(write_config)
    for front in ([], ["--no-session"]):  # the standard-library front end, then Typer
        done = gemma("--config", config, *front, "call", "legacy", "get_memory_stats")
        assert done.returncode == 0, done.stderr
    (log,) = tmp_path.rglob("legacy.log")
    text = log.read_text()
    # One server per call (none spawned a second), each stopped by closing its stdin.
    assert text.count("listening on stdio") == 2
    assert text.count("stdin closed, shutting down") == 2
    assert text.count("method=tools/call") == 2


def test_a_server_gets_the_environment_the_sdk_would_give_it() -> None:
    from mcp.client.stdio import DEFAULT_INHERITED_ENV_VARS, get_default_environment

    assert list(_early._INHERITED) == DEFAULT_INHERITED_ENV_VARS
    environment = _early.server_environment(MCPServerConfig(name="x", command="x", env={"A": "1"}))
    assert environment.items() >= (get_default_environment() | {"A": "1"}).items()
