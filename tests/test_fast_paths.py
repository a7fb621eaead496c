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


def probe(args: list[str], env: dict[str, str] | None = None, *, entry: bool = False) -> list[str]:
    """Run a command in a fresh interpreter; return the heavy packages it imported.

    With `entry`, through the program's own entry point (warm and snapshot paths), where
    Typer, pydantic and rich count as heavy too.
    """
    code = PROBE.format(args=args)
    if entry:
        code = code.replace("gemma_mcp_cli.cli.app import main", "gemma_mcp_cli._entry import main")
        code = code.replace('"anyio"}}', '"anyio", "typer", "pydantic", "rich"}}').replace(
            '"anyio"}', '"anyio", "typer", "pydantic", "rich"}'
        )
    done = subprocess.run(
        [sys.executable, "-c", code],
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


def gemma(config: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gemma_mcp_cli", "--config", config, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=env)


LISTINGS = [
    ["servers", "list"],
    ["servers", "list", "--all", "--json"],
    ["tools", "list"],
    ["tools", "list", "--json"],
    ["tools", "list", "legacy", "--json", "--offline"],
]


def test_listings_from_the_snapshot_match_the_full_path(write_config, workdir: Path) -> None:
    config = str(
        write_config(
            stdio_server("legacy", "legacy_rag_redis.py") + stdio_server("off", "x.py", enabled=False)
        )
    )
    assert gemma(config, "tools", "list").returncode == 0  # fills the cache and the snapshot
    for args in LISTINGS:
        fast, full = gemma(config, *args), gemma(config, "--no-session", *args)
        assert (fast.returncode, fast.stdout, fast.stderr) == (full.returncode, full.stdout, full.stderr), (
            args
        )
        assert probe(["--config", config, *args], entry=True) == ["HEAVY="], args


def test_a_changed_config_or_environment_is_not_answered_from_the_snapshot(
    write_config, workdir: Path
) -> None:
    path = write_config(stdio_server("legacy", "legacy_rag_redis.py") + 'description = "${WHO:-first}"\n')
    config = str(path)
    assert gemma(config, "tools", "list").returncode == 0
    assert "first" in gemma(config, "servers", "list").stdout
    assert "second" in gemma(config, "servers", "list", env=os.environ | {"WHO": "second"}).stdout
    path.write_text(path.read_text().replace("first", "third"))
    assert "third" in gemma(config, "servers", "list").stdout
