"""A warm session passes its server's questions to the caller: its terminal, or its answer options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.test_asking_terminal import Terminal
from tests.conftest import stdio_server

# Its tests share servers started once for the module: one test worker runs them all (see conftest.py).
pytestmark = pytest.mark.xdist_group("relay")

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """Start one session of the asking server (and of its handshake-era twin) for the module."""
    home = tmp_path_factory.mktemp("relay")
    config = home / "mcp.toml"
    config.write_text(
        stdio_server("asking", "asking_server.py") + stdio_server("old", "asking_server.py", "--legacy-only")
    )
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {
        "GEMMA_MCP_STATE_DIR": str(home / "state"),
        "GEMMA_MCP_CACHE_DIR": str(home / "cache"),
        "HOME": str(home),
        "NO_COLOR": "1",
    }
    started = gemma_in(config, env)("session", "start", "asking", "old")
    assert started.returncode == 0, started.stderr
    yield config, env
    gemma_in(config, env)("session", "stop", "--all")


def gemma_in(config: Path, env: dict[str, str]) -> Run:
    def run(*args: str, input: str = "") -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, input=input, env=env)

    return run


@pytest.fixture
def gemma(warm: tuple[Path, dict[str, str]]) -> Run:
    return gemma_in(*warm)


def requests_served(gemma: Run) -> dict[str, int]:
    rows = json.loads(gemma("session", "list", "--json").stdout)["sessions"]
    return {row["server"]: int(row["requests"]) for row in rows}


@pytest.mark.parametrize("server", ["asking", "old"])
def test_a_session_relays_questions_to_the_callers_answers(gemma: Run, server: str) -> None:
    before = requests_served(gemma)[server]
    result = gemma("call", server, "two_questions", "--answers", '[{"answer": "a"}, "cancel"]', "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["result"]["content"][0]["text"].splitlines() == [
        'action=accept content={"answer": "a"}',
        "action=cancel content=null",
    ]
    assert [(e["answeredBy"], e["action"]) for e in document["asked"]] == [
        ("--answers", "accept"),
        ("--answers", "cancel"),
    ]
    assert "what is your favourite colour?; cancelled (--answers)" in result.stderr
    assert requests_served(gemma)[server] > before, "the session served it"


def test_a_session_without_an_answer_option_declines_and_says_so(gemma: Run) -> None:
    result = gemma("call", "asking", "register")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "action=decline content=null\n"
    assert "server 'asking' asked: Please register.; declined: no terminal to ask on" in result.stderr


def test_answers_that_do_not_fit_fail_the_same_through_a_session(gemma: Run) -> None:
    result = gemma("call", "asking", "register", "--accept-defaults")
    assert result.returncode == 7
    assert "Error: server 'asking' needs name, which has no default" in result.stderr


def test_a_session_relays_sampling_notes(gemma: Run) -> None:
    result = gemma("call", "asking", "ask_model")
    assert result.returncode == 5
    assert "asked for a model completion (sampling); declined: no sampling_command" in result.stderr


def test_a_call_with_roots_goes_direct(gemma: Run, tmp_path: Path) -> None:
    before = requests_served(gemma)["asking"]
    result = gemma("call", "asking", "show_roots", "--root", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"uri": tmp_path.as_uri(), "name": tmp_path.name}]
    assert requests_served(gemma)["asking"] == before


def test_a_session_relays_questions_to_the_callers_terminal(warm: tuple[Path, dict[str, str]]) -> None:
    config, env = warm
    term = Terminal(["--config", str(config), "call", "asking", "preferences"], env)
    try:
        term.expect("Server 'asking' asks: Choose your preferences.")
        term.expect("theme (string, required) {light | dark} [dark]: ")
        term.send("2")
        term.expect("size (integer) [3]: ")
        term.send("5")
        term.expect("Send these answers?")
        term.send("y")
        assert term.finish() == 0
    finally:
        term.kill()
    assert 'action=accept content={"size": 5, "theme": "dark"}' in term.seen
