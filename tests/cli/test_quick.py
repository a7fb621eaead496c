"""Commands that need no server never pay for importing the SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import stdio_server

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import sys
from {module} import main
sys.argv = ["gemma-mcp", *{args!r}]
try:
    main()
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {roots!r})
sys.stderr.write("HEAVY=" + ",".join(heavy) + "\\n")
"""
SDK = ("mcp", "mcp_types", "httpx", "httpx2", "starlette", "anyio")
TYPER = ("typer", "rich")


def run_probe(
    args: list[str], env: dict[str, str] | None = None, *, entry: bool = False, roots: tuple[str, ...] = SDK
) -> subprocess.CompletedProcess[str]:
    """Run a command in a fresh interpreter, which reports on stderr what it imported of `roots`.

    With `entry`, through the program's own entry point (the front ends), else Typer's app.
    """
    module = "gemma_mcp_cli.cli.entry" if entry else "gemma_mcp_cli.cli.app"
    code = PROBE.format(module=module, args=args, roots=set(roots))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False, env=env
    )


def probe(args: list[str], env: dict[str, str] | None = None, *, entry: bool = False) -> list[str]:
    """Return the heavy packages a command imported (through the entry point, Typer,
    pydantic and rich count as heavy too)."""
    roots = (*SDK, *TYPER, "pydantic") if entry else SDK
    done = run_probe(args, env, entry=entry, roots=roots)
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
    # From the environment, the description is redacted: "first" gone proves the snapshot was not used.
    changed = gemma(config, "servers", "list", env=os.environ | {"WHO": "second"}).stdout
    assert "first" not in changed and "second" not in changed and "***" in changed
    path.write_text(path.read_text().replace("first", "third"))
    assert "third" in gemma(config, "servers", "list").stdout


COLD_CALLS = [  # a command line and its exit code
    (["call", "legacy", "get_memory_stats"], 0),
    (["call", "legacy", "recall_memory", "--arg", "query=x", "--json"], 0),
    (["call", "legacy", "clear_memory"], 6),  # the tool reports an error
    (["call", "legacy", "clear_memory", "--json"], 6),
    (["call", "legacy", "store_memory", "--arg", "content=x", "--arg", "importance=2"], 7),
    (["call", "legacy", "store_memory", "--args", '{"content": "x"}', "--dry-run"], 0),
    (["call", "legacy", "nosuch", "--json"], 5),
    (["call", "ghost", "get_memory_stats"], 3),
    (["call", "legacy", "get_memory_stats", "--args", "@missing.json"], 2),
    (["call", "legacy", "get_memory_stats", "--timeout", "nan"], 2),  # left to the full path
    (["call", "legacy", "get_memory_stats", "--timeout", "100000"], 2),  # out of bounds: left to it too
    (["call", "legacy", "get_memory_stats", "--timeout", "0.0001"], 2),  # below the least timeout
]


@pytest.mark.parametrize(("args", "code"), COLD_CALLS, ids=[" ".join(args[1:]) for args, _ in COLD_CALLS])
def test_cold_calls_without_typer_match_the_full_path(
    args: list[str], code: int, write_config, workdir: Path
) -> None:
    # The front end runs first, on an empty cache; the full path then finds the cache it filled.
    config = str(write_config(stdio_server("legacy", "legacy_rag_redis.py")))
    fast, full = gemma(config, *args), gemma(config, "--no-session", *args)
    assert (fast.returncode, fast.stdout, fast.stderr) == (full.returncode, full.stdout, full.stderr)
    assert fast.returncode == code, fast.stderr
    if args == COLD_CALLS[0][0]:
        assert fast.stdout.startswith('{"total_memories": 0')


def test_a_cold_call_reads_its_command_line_without_typer(write_config, workdir: Path) -> None:
    config = str(write_config(stdio_server("legacy", "legacy_rag_redis.py")))
    done = run_probe(["--config", config, "call", "legacy", "get_memory_stats"], entry=True, roots=TYPER)
    assert '"total_memories": 0' in done.stdout, done.stderr
    assert "HEAVY=\n" in done.stderr  # the SDK was loaded to make the call, Typer was not


def test_a_first_servers_list_of_a_file_that_is_not_plain_validates_without_typer_and_saves_a_snapshot(
    write_config, workdir: Path, tmp_path: Path
) -> None:
    # A `${VAR}` reference takes the models (a plain file is listed without them: test_plain.py).
    config = str(
        write_config(
            stdio_server("legacy", "legacy_rag_redis.py", description="${WHO:-someone}")
            + stdio_server("off", "x.py", enabled=False)
        )
    )
    for args in (["servers", "list"], ["servers", "list", "--all", "--json"]):
        for snapshot in tmp_path.rglob("config-*.json"):
            snapshot.unlink()  # as after an install or an edit: nothing saved for this file yet
        first = run_probe(["--config", config, *args], entry=True, roots=(*SDK, *TYPER))
        assert "HEAVY=\n" in first.stderr, first.stderr
        assert list(tmp_path.rglob("config-*.json")), "the first run saves the snapshot"
        full = gemma(config, "--no-session", *args)
        assert (first.stdout, full.returncode) == (full.stdout, 0), args


def test_session_list_and_stop_are_answered_without_typer_as_the_full_path_would(
    write_config, workdir: Path
) -> None:
    config = str(write_config(stdio_server("legacy", "legacy_rag_redis.py")))
    for args in (["session", "list"], ["session", "list", "--json"], ["session", "stop", "--all"]):
        fast, full = gemma(config, *args), gemma(config, "--no-session", *args)  # nothing running
        assert (fast.returncode, fast.stdout, fast.stderr) == (full.returncode, full.stdout, full.stderr), (
            args
        )
    assert gemma(config, "session", "start", "legacy").returncode == 0
    try:
        listed = run_probe(
            ["--config", config, "session", "list", "--json"], entry=True, roots=(*SDK, *TYPER)
        )
        assert "HEAVY=\n" in listed.stderr, listed.stderr
        full = json.loads(gemma(config, "--no-session", "session", "list", "--json").stdout)["sessions"]
        fast = json.loads(listed.stdout)["sessions"]
        timeless = [{k: v for k, v in row.items() if k not in ("uptime_s", "idle_s")} for row in fast]
        assert timeless == [{k: v for k, v in row.items() if k not in ("uptime_s", "idle_s")} for row in full]
        assert [row["server"] for row in fast] == ["legacy"]
        stopped = run_probe(
            ["--config", config, "session", "stop", "legacy", "--json"], entry=True, roots=TYPER
        )
        assert (json.loads(stopped.stdout), "HEAVY=\n" in stopped.stderr) == ({"stopped": ["legacy"]}, True)
        assert json.loads(gemma(config, "session", "list", "--json").stdout) == {"sessions": []}
    finally:
        gemma(config, "session", "stop", "--all")
    refused = gemma(config, "session", "stop")  # nothing named: the full path says what is missing
    assert refused.returncode == 2 and "give --all" in refused.stderr
