"""Commands that need no server never pay for importing the SDK."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import stdio_server

REPO = Path(__file__).resolve().parent.parent
PROBE = """
import sys
from gemma_mcp_cli.cli.app import main
sys.argv = ["gemma-mcp", *{args!r}]
try:
    main()
except SystemExit:
    pass
roots = {{"mcp", "mcp_types", "httpx", "httpx2", "starlette", "anyio"}}
heavy = sorted(m for m in sys.modules if m.split(".")[0] in roots)
sys.stderr.write("HEAVY=" + ",".join(heavy) + "\\n")
"""


def probe(args: list[str], env: dict[str, str] | None = None) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    return [line for line in done.stderr.splitlines() if line.startswith("HEAVY=")] or [done.stderr]


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["tools", "--help"],
        ["servers", "list"],
        ["servers", "list", "--json"],
        ["servers", "show", "local-memory"],
        ["validate", str(REPO / "config" / "mcp_servers.toml")],
    ],
)
def test_command_does_not_import_the_sdk(args: list[str], workdir: Path) -> None:
    assert probe(args) == ["HEAVY="]


def test_cached_commands_do_not_import_the_sdk(write_config, workdir: Path) -> None:
    config = str(write_config(stdio_server("legacy", "legacy_rag_redis.py")))
    warm = subprocess.run(
        [sys.executable, "-m", "gemma_mcp_cli", "--config", config, "tools", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert warm.returncode == 0, warm.stderr
    for args in (
        ["tools", "list", "--json"],
        ["tools", "list", "--offline"],
        ["tools", "show", "legacy", "store_memory"],
        ["call", "legacy", "store_memory", "--arg", "content=x", "--dry-run"],
    ):
        assert probe(["--config", config, *args]) == ["HEAVY="], args


def test_completion_does_not_import_the_sdk(write_config, workdir: Path) -> None:
    config = str(write_config(stdio_server("legacy", "legacy_rag_redis.py")))
    env = os.environ | {
        "GEMMA_MCP_CONFIG": config,
        "_GEMMA_MCP_COMPLETE": "complete_bash",
        "COMP_WORDS": "gemma-mcp call ",
        "COMP_CWORD": "2",
    }
    assert probe([], env) == ["HEAVY="]
