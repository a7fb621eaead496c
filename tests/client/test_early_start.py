"""A cold call starts its stdio server before importing the SDK, and then adopts it."""

from __future__ import annotations

import functools
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gemma_mcp_cli.client.transports import early_start
from gemma_mcp_cli.config.models import MCPServerConfig
from gemma_mcp_cli.names import file_stem
from tests.conftest import PYTHON, SERVERS, process_ended, stdio_server
from tests.servers.faulty_server import IGNORED_TERM_LINE
from tests.waiting import wait_until


def legacy_with_debug_log(write_config) -> str:
    """A config whose server logs each start and each stop to its stderr log."""
    argv = json.dumps([str(SERVERS / "legacy_rag_redis.py")])
    text = f'[legacy]\ncommand = {json.dumps(PYTHON)}\nargs = {argv}\nenv = {{ RUST_LOG = "debug" }}\n'
    return str(write_config(text))


def _text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def gemma(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gemma_mcp_cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_a_cold_call_adopts_the_server_it_started_early(write_config, workdir: Path, tmp_path: Path) -> None:
    config = legacy_with_debug_log(write_config)
    for front in ([], ["--no-session"]):  # the standard-library front end, then Typer
        done = gemma("--config", config, *front, "call", "legacy", "get_memory_stats")
        assert done.returncode == 0, done.stderr
    (log,) = tmp_path.rglob(f"{file_stem('legacy')}.log")
    text = log.read_text()
    # One server per call (none spawned a second), each stopped by closing its stdin.
    assert text.count("listening on stdio") == 2
    assert text.count("stdin closed, shutting down") == 2
    assert text.count("method=tools/call") == 2


def test_a_server_gets_the_environment_the_sdk_would_give_it() -> None:
    from mcp.client.stdio import DEFAULT_INHERITED_ENV_VARS, get_default_environment

    assert list(early_start._INHERITED) == DEFAULT_INHERITED_ENV_VARS
    environment = early_start.server_environment(MCPServerConfig(name="x", command="x", env={"A": "1"}))
    assert environment.items() >= (get_default_environment() | {"A": "1"}).items()


@pytest.mark.parametrize(
    "moments",
    [
        ("at once",),  # the second while the SDK still loads
        ("in the grace",),  # the second while the clean-up waits out the servers' SIGTERM grace
        ("at once", "in the grace"),  # a third during that wait, after asyncio gave SIGINT back its default
    ],
)
def test_repeated_ctrl_c_before_the_sdk_is_loaded_leaves_no_early_server(
    moments: tuple[str, ...], write_config, workdir: Path, tmp_path: Path, no_orphans: None
) -> None:
    pidfiles = [tmp_path / f"s{i}.pid" for i in range(3)]
    config = write_config(
        "".join(
            stdio_server(f"s{i}", "faulty_server.py", "ignore-term", "--pidfile", str(pidfile))
            for i, pidfile in enumerate(pidfiles)
        )
    )
    command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), "servers", "status"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(
        lambda: all(pidfile.exists() and pidfile.read_text().endswith("\n") for pidfile in pidfiles),
        what="the servers to start",
    )
    # Started early, while the SDK still loads: interrupt, and interrupt the clean-up too.
    process.send_signal(signal.SIGINT)
    for moment in moments:
        if moment == "in the grace":  # the clean-up has sent SIGTERM and waits for the servers
            wait_until(
                lambda: (
                    process.poll() is not None
                    or IGNORED_TERM_LINE in _text(tmp_path / "state" / "logs" / f"{file_stem('s0')}.log")
                ),
                what="the clean-up's SIGTERM (or the command's end)",
            )
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    # 130, or killed by a later SIGINT itself if it lands after the error is printed: a shell
    # reports both as 130.
    assert process.returncode in (130, -signal.SIGINT), stderr
    assert "Error: interrupted" in stderr and "Traceback" not in stderr
    for pidfile in pidfiles:  # they ignore SIGTERM and SIGINT: only the group's SIGKILL ends them
        pid = int(pidfile.read_text())
        wait_until(functools.partial(process_ended, pid), what=f"server {pid} to end")
