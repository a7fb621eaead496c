"""The collector is held off only by gemma-mcp's own start, and always handed back."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gemma_mcp_cli import _collection
from tests.conftest import stdio_server


@pytest.fixture
def collector_on() -> Iterator[None]:
    assert gc.isenabled()
    yield
    gc.enable()
    gc.unfreeze()


def test_pause_holds_the_collector_off_and_resume_turns_it_back_on(collector_on: None) -> None:
    _collection.pause()
    assert not gc.isenabled()
    _collection.resume()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0  # what was loaded is out of the collector's sight


def test_resume_leaves_a_collector_someone_else_turned_off(collector_on: None) -> None:
    gc.disable()
    _collection.pause()
    _collection.resume()
    assert not gc.isenabled()


def test_resume_without_pause_changes_nothing(collector_on: None) -> None:
    _collection.resume()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


PROBE = (
    "import atexit, gc, sys; from gemma_mcp_cli.cli.entry import main; "
    "atexit.register(lambda: print('collector on:', gc.isenabled(), file=sys.stderr)); "
    "sys.argv = ['gemma-mcp', *sys.argv[1:]]; main()"
)


def test_the_full_command_line_runs_with_the_collector_on() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, "--no-such-option"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "collector on: True" in done.stderr


def test_a_cold_call_turns_the_collector_back_on_once_the_sdk_is_loaded(tmp_path: Path) -> None:
    # The quick front end's cold call runs the tool with the SDK loaded: a tool that runs for hours
    # must not run with the collector off.
    config = tmp_path / "servers.toml"
    config.write_text(stdio_server("stdlib", "legacy_rag_redis.py"))
    argv = ["--config", str(config), "call", "stdlib", "store_memory", "--arg", "content=hi"]
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "collector on: True" in done.stderr


def test_a_warm_call_runs_with_the_collector_on(tmp_path: Path) -> None:
    # Through a session the tool may run for minutes while the front end waits on the socket.
    config = tmp_path / "servers.toml"
    config.write_text(stdio_server("stdlib", "legacy_rag_redis.py"))
    gemma = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config)]
    started = subprocess.run([*gemma, "session", "start", "stdlib"], capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    try:
        argv = ["--config", str(config), "call", "stdlib", "store_memory", "--arg", "content=hi"]
        done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert "collector on: True" in done.stderr
        listed = subprocess.run([*gemma, "session", "list", "--json"], capture_output=True, text=True)
        assert '"requests": 1' in listed.stdout  # the call went through the session
    finally:
        subprocess.run([*gemma, "session", "stop", "--all"], capture_output=True, text=True)
