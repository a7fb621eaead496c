"""Shell completion: the shipped scripts are current; names come from the config and the cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gemma_mcp_cli.cli.completion import SHELLS, script
from tests.conftest import stdio_server

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("shell", SHELLS)
def test_shipped_completion_script_is_current(shell: str) -> None:
    shipped = (REPO / "completions" / f"gemma-mcp.{shell}").read_text(encoding="utf-8")
    assert shipped == script(shell), "run: python -m gemma_mcp_cli.cli.completion completions"


def complete(config: Path, words: str) -> list[str]:
    env = os.environ | {
        "GEMMA_MCP_CONFIG": str(config),
        "_GEMMA_MCP_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }
    done = subprocess.run(
        [sys.executable, "-m", "gemma_mcp_cli"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_server_names_complete_from_the_config(write_config, workdir: Path) -> None:
    config = write_config(
        stdio_server("legacy", "legacy_rag_redis.py")
        + stdio_server("local", "legacy_rag_redis.py")
        + stdio_server("off", "x.py", enabled=False)
    )
    assert complete(config, "gemma-mcp call l") == ["legacy", "local"]
    assert complete(config, "gemma-mcp tools list ") == ["legacy", "local"]


def test_tool_resource_and_prompt_names_complete_from_the_cache(write_config, workdir: Path) -> None:
    config = write_config(stdio_server("legacy", "legacy_rag_redis.py"))
    assert complete(config, "gemma-mcp call legacy ") == []  # nothing cached yet, and no server started
    for kind in ("tools", "resources"):
        subprocess.run(
            [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), kind, "list"],
            capture_output=True,
            timeout=60,
            check=True,
        )
    assert complete(config, "gemma-mcp call legacy re") == ["recall_memory"]
    assert complete(config, "gemma-mcp tools show legacy ") == [
        "store_memory",
        "recall_memory",
        "get_memory_stats",
        "clear_memory",
    ]
    assert complete(config, "gemma-mcp resources read legacy mem") == ["memory://stats"]


def test_completion_with_a_broken_config_offers_nothing(write_config, workdir: Path) -> None:
    config = write_config("[broken\n")
    assert complete(config, "gemma-mcp call ") == []


def test_a_config_given_after_the_subcommand_is_the_one_completed_from(write_config, workdir: Path) -> None:
    default = write_config(stdio_server("alpha", "legacy_rag_redis.py"))
    other = write_config(stdio_server("legacy", "legacy_rag_redis.py"), name="other.toml")
    assert complete(default, "gemma-mcp call ") == ["alpha"]
    assert complete(default, f"gemma-mcp call --config {other} ") == ["legacy"]


def test_prompt_argument_values_complete_from_a_warm_session_only(
    write_config, workdir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "record.jsonl"
    config = write_config(stdio_server("live", "live_server.py", "--record", str(record)))

    def gemma(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)

    words = "gemma-mcp prompts get live greet --arg language=french --arg name=a"
    assert complete(config, words) == []  # no session: nothing, and no server started for a Tab press
    assert not record.exists()
    try:
        assert gemma("session", "start", "live").returncode == 0
        assert gemma("prompts", "list", "live").returncode == 0  # caches the argument names
        assert complete(config, "gemma-mcp prompts get live greet --arg ") == ["language=", "name="]
        assert complete(config, words) == ["name=amelie", "name=antoine"]
        # Without a language the server also offers a name holding an OSC sequence: left out.
        offered = complete(config, "gemma-mcp prompts get live greet --arg name=a")
        assert offered == [
            f"name={n}" for n in ("alba", "albert", "alejandro", "alice", "amelie", "anke", "antoine")
        ]
    finally:
        gemma("session", "stop", "--all")
