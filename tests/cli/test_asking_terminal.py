"""A server that asks back, answered by a person: the CLI on a real pseudo-terminal."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import select
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.test_asking import asking_http  # noqa: F401  (the shared server fixture)
from tests.conftest import PYTHON, NetworkServer

_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_WAIT = 30.0  # seconds for any one prompt to appear (a cold start imports the SDK)


class Terminal:
    """`gemma-mcp ARGS` with stdin, stdout and stderr on one pseudo-terminal."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the program at once
            os.execve(PYTHON, [PYTHON, "-m", "gemma_mcp_cli", *args], env)
        self.seen = ""

    def expect(self, text: str) -> str:
        """Read until `text` has appeared; return everything read so far (escapes removed)."""
        deadline = time.monotonic() + _WAIT
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"no {text!r} on the terminal; it shows:\n{self.seen}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                self._read()
        return self.seen

    def _read(self) -> bool:
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # the program ended and the terminal closed
            return False
        self.seen += _ESCAPES.sub("", chunk.decode("utf-8", "replace")).replace("\r\n", "\n")
        return bool(chunk)

    def send(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def finish(self) -> int:
        """Read to the end; return the exit code."""
        deadline = time.monotonic() + _WAIT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            if ready and not self._read():
                break
        pidfd = os.pidfd_open(self.pid)  # readable once the process has ended
        try:
            ended, _, _ = select.select([pidfd], [], [], max(0.0, deadline - time.monotonic()))
        finally:
            os.close(pidfd)
        if not ended:
            self.kill()
            raise AssertionError(f"the program did not end; the terminal shows:\n{self.seen}")
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)


@pytest.fixture
def terminal(
    tmp_path: Path,
    asking_http: tuple[NetworkServer, Path],  # noqa: F811
) -> Iterator[Callable[..., Terminal]]:
    """Return a function that starts gemma-mcp on a terminal against the shared asking server."""
    config = tmp_path / "mcp.toml"
    config.write_text(f'[asking]\ntransport = "http"\nurl = "http://127.0.0.1:{asking_http[0].port}/mcp"\n')
    started: list[Terminal] = []
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"NO_COLOR": "1", "COLUMNS": "200"}

    def start(*args: str, extra_env: dict[str, str] | None = None) -> Terminal:
        started.append(Terminal(["--config", str(config), *args], env | (extra_env or {})))
        return started[-1]

    yield start
    for term in started:
        term.kill()


def test_the_user_is_asked_each_field_with_its_details_and_the_secret_is_not_echoed(
    terminal: Callable[..., Terminal],
) -> None:
    term = terminal("call", "asking", "register")
    term.expect("Server 'asking' asks: Please register.")
    term.expect("Name (string, required) - Your name: ")
    term.send("")  # a required field cannot be skipped
    term.expect("an answer is required")
    term.send("Ann")
    term.expect("Age (integer) [30]: ")
    term.send("200")
    term.expect("200 is greater than the maximum of 150")
    term.send("")
    term.expect("Favourite colour (string) {red | green | blue} [green]: ")
    term.send("3")
    term.expect("Subscribe to news (boolean) [false]: ")
    term.send("y")
    term.expect("Password (string) - A secret; do not echo: ")
    term.send("hunter2-secret")
    term.expect("Send these answers?")
    term.send("")
    assert term.finish() == 0
    shown = term.seen
    result = 'action=accept content={"age": 30, "colour": "blue", "name": "Ann", "password": "<14 chars>", '
    assert result + '"subscribe": true}' in shown
    assert "hunter2-secret" not in shown


def test_end_of_input_at_a_prompt_cancels_the_question(terminal: Callable[..., Terminal]) -> None:
    term = terminal("call", "asking", "register")
    term.expect("Name (string, required)")
    os.write(term.fd, b"\x04")
    assert term.finish() == 0
    assert "action=cancel content=null" in term.seen


def test_the_user_may_decline_after_filling_the_form(terminal: Callable[..., Terminal]) -> None:
    term = terminal("call", "asking", "preferences")
    term.expect("theme (string, required) {light | dark} [dark]: ")
    term.send("light")
    term.expect("size (integer) [3]: ")
    term.send("")
    term.expect("Send these answers?")
    term.send("n")
    assert term.finish() == 0
    assert "action=decline content=null" in term.seen


def test_answer_options_win_over_the_terminal(terminal: Callable[..., Terminal]) -> None:
    term = terminal("call", "asking", "preferences", "--accept-defaults")
    assert term.finish() == 0
    assert 'action=accept content={"size": 3, "theme": "dark"}' in term.seen
    assert "Send these answers?" not in term.seen


def test_ci_is_not_a_person_even_on_a_terminal(terminal: Callable[..., Terminal]) -> None:
    term = terminal("call", "asking", "preferences", extra_env={"CI": "true"})
    assert term.finish() == 0
    assert "declined: no terminal to ask on" in term.seen


def browser(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """Return a $BROWSER that writes the URL it is given to a file, and that file."""
    opened = tmp_path / "opened.txt"
    script = tmp_path / "browser.py"
    script.write_text(f"import sys, pathlib\npathlib.Path({str(opened)!r}).write_text(sys.argv[1])\n")
    return {"BROWSER": f"{PYTHON} {script} %s"}, opened


def test_a_link_opens_in_the_browser_when_the_user_agrees(
    terminal: Callable[..., Terminal], tmp_path: Path
) -> None:
    env, opened = browser(tmp_path)
    term = terminal("call", "asking", "open_link", extra_env=env)
    term.expect("https://example.com/login?session=abc123")
    term.expect("Open it in the browser?")
    term.send("y")
    assert term.finish() == 0
    assert "action=accept content=null" in term.seen
    assert opened.read_text() == "https://example.com/login?session=abc123"


def test_a_link_that_is_not_http_is_never_opened(terminal: Callable[..., Terminal], tmp_path: Path) -> None:
    env, opened = browser(tmp_path)
    link = "javascript:alert(1)"
    term = terminal("call", "asking", "open_link", "--args", json.dumps({"url": link}), extra_env=env)
    term.expect("Open it in the browser?")
    term.send("y")
    assert term.finish() == 0
    assert "not opening it: only http and https links are opened" in term.seen
    assert not opened.exists()


def test_ctrl_c_at_a_prompt_ends_the_command_with_130(terminal: Callable[..., Terminal]) -> None:
    term = terminal("call", "asking", "register")
    term.expect("Name (string, required)")
    os.write(term.fd, b"\x03")
    assert term.finish() == 130
    assert "Error: interrupted" in term.seen


def test_server_text_in_the_prompts_is_shown_escaped(terminal: Callable[..., Terminal]) -> None:
    term = terminal("call", "asking", "hostile_form")
    term.expect("An\\x1b[31mswer (string) - say\\x9b1m \\u2066it\\u2069: ")
    term.send("ok")
    term.expect("Send these answers?")
    term.send("c")
    assert term.finish() == 0
    assert "Fine\\x1b[2J\\x1b]52;c;aGVsbG8=\\x07 \\u202egnp.exe\\u202c" in term.seen
    assert "action=cancel content=null" in term.seen
