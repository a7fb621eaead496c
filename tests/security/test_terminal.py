"""Server text never drives the user's terminal: the client runs under a real pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.security.conftest import Gemma, hostile_table
from tests.servers.hostile_server import HOSTILE

# What would act on the terminal if it arrived raw (UTF-8 bytes, as the terminal receives them).
ACTIVE = [b"\x1b]0;", b"\x1b[2J", b"\x1b]52;", b"\x1b[6n", "\x9b".encode(), "\u202e".encode(), b"\x07"]
SHOWN = rb"\x1b]0;PWNED\x07\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07\x1b[6n\x9b31m\u202eevil"


@pytest.fixture
def hostile_config(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.toml"
    path.write_text(hostile_table("hostile", tmp_path / "marker"), encoding="utf-8")
    return path


def on_terminal(cwd: Path, *args: str) -> tuple[int, bytes]:
    """Run the program with stdout and stderr on one pseudo-terminal; return its status and every byte."""
    controller, terminal = pty.openpty()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="400")
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gemma_mcp_cli", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    received = bytearray()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], deadline - time.monotonic())
            if not ready:
                break
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: every end of the terminal is closed, the program has exited
                break
            if not chunk:
                break
            received += chunk
    finally:
        os.close(controller)
    return process.wait(timeout=60), bytes(received)


def assert_inert(received: bytes) -> None:
    for sequence in ACTIVE:
        assert sequence not in received, (sequence, received)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["tools", "list"], 0),
        (["tools", "show", "hostile", "echo"], 0),
        (["servers", "status"], 0),
        (["call", "hostile", "echo"], 0),  # the text result itself
        (["call", "hostile", "fail"], 5),  # a JSON-RPC error message
        (["call", "hostile", "bad"], 6),  # an isError result's text
        (["--verbose", "call", "hostile", "echo"], 0),  # the server's stderr, quoted
    ],
)
def test_server_text_reaches_a_terminal_only_as_visible_escapes(
    workdir: Path, hostile_config: Path, args: list[str], code: int
) -> None:
    status, received = on_terminal(workdir, "--config", str(hostile_config), *args)
    assert status == code, received
    assert_inert(received)
    assert SHOWN in received or b"evil" not in received


def test_the_escaped_text_is_shown_for_results_errors_and_stderr(workdir: Path, hostile_config: Path) -> None:
    for args in (
        ["call", "hostile", "echo"],
        ["call", "hostile", "fail"],
        ["--verbose", "call", "hostile", "bad"],
    ):
        _, received = on_terminal(workdir, "--config", str(hostile_config), *args)
        assert SHOWN in received, (args, received)
    _, verbose = on_terminal(workdir, "--config", str(hostile_config), "--verbose", "call", "hostile", "echo")
    assert b"[hostile stderr] calling echo " + SHOWN in verbose


def test_raw_lets_the_user_have_the_bytes_on_a_terminal(workdir: Path, hostile_config: Path) -> None:
    status, received = on_terminal(
        workdir, "--config", str(hostile_config), "call", "hostile", "echo", "--raw"
    )
    assert status == 0
    assert HOSTILE.encode() in received


def test_a_call_result_to_a_pipe_stays_byte_exact(gemma: Gemma, hostile_config: Path) -> None:
    done = gemma("--config", str(hostile_config), "call", "hostile", "echo")
    assert done.returncode == 0
    assert done.stdout == HOSTILE + "\n"


def test_error_lines_are_escaped_on_a_pipe_too(gemma: Gemma, hostile_config: Path) -> None:
    done = gemma("--config", str(hostile_config), "call", "hostile", "fail")
    assert done.returncode == 5
    assert "\x1b" not in done.stderr and "\u202e" not in done.stderr
    assert SHOWN.decode() in done.stderr


def test_json_escapes_c1_and_bidi_characters_too(gemma: Gemma, hostile_config: Path) -> None:
    done = gemma("--config", str(hostile_config), "call", "hostile", "echo", "--json")
    assert done.returncode == 0
    for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert raw not in done.stdout
    assert "\\u009b" in done.stdout and "\\u202e" in done.stdout
    assert json.loads(done.stdout)["result"]["content"][0]["text"] == HOSTILE
    failed = gemma("--config", str(hostile_config), "call", "hostile", "fail", "--json")
    assert "\x9b" not in failed.stderr and "\u202e" not in failed.stderr
    assert json.loads(failed.stderr)["error"]["message"].endswith(HOSTILE + " (invalid params)")
