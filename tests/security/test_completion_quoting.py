"""Shell completion never inserts code: a hostile cached tool name, Tab, then Enter, in each shell."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from gemma_mcp_cli.cli.completion import offerable, quoted
from tests.security.conftest import Gemma, hostile_table

REPO = Path(__file__).resolve().parents[2]
HOSTILE_NAME = "x;touch PWNED;#"
SHELL_SETUP = {
    "bash": (["bash", "--norc", "--noprofile", "-i"], [f"source {REPO}/completions/gemma-mcp.bash"]),
    "zsh": (
        ["zsh", "-f", "-i"],
        ["autoload -U compinit && compinit -u", f"source {REPO}/completions/gemma-mcp.zsh"],
    ),
    "fish": (["fish", "--no-config", "-i"], [f"source {REPO}/completions/gemma-mcp.fish"]),
}


@pytest.mark.parametrize("shell", ["bash", "zsh"])
@pytest.mark.parametrize("value", [HOSTILE_NAME, "$(touch PWNED)", "`touch PWNED`", "a'b", "plain-name", "*"])
def test_quoted_values_read_back_as_one_literal_word(shell: str, value: str, tmp_path: Path) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    done = subprocess.run(
        [shell, "-c", f"printf '%s\\n' {quoted(value, shell)}"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.stdout == value + "\n"
    assert not (tmp_path / "PWNED").exists()


def test_values_with_controls_are_not_offered() -> None:
    assert (
        not offerable("a\nb")
        and not offerable("a\tb")
        and not offerable("a\x1b[2Jb")
        and not offerable("\u202eab")
    )
    assert offerable(HOSTILE_NAME)


@pytest.fixture
def cached_hostile_tool(gemma: Gemma, tmp_path: Path, workdir: Path) -> tuple[Path, Path]:
    """A config whose cached tools include HOSTILE_NAME, and a `gemma-mcp` on PATH that records its argv."""
    config = tmp_path / "hostile.toml"
    config.write_text(
        hostile_table("hostile", tmp_path / "marker", "--tool-name", HOSTILE_NAME), encoding="utf-8"
    )
    assert gemma("--config", str(config), "tools", "list").returncode == 0
    bin_dir, argv_file = tmp_path / "bin", tmp_path / "argv.txt"
    bin_dir.mkdir()
    wrapper = bin_dir / "gemma-mcp"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'if [ -n "$_GEMMA_MCP_COMPLETE" ]; then exec {sys.executable} -m gemma_mcp_cli "$@"; fi\n'
        f'printf "%s\\n" "$@" > {argv_file}\n'
    )
    wrapper.chmod(0o755)
    return config, argv_file


def _controlling_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def drive(shell: str, typed: str, cwd: Path, env: dict[str, str], done: Path) -> bytes:
    """Type a line and Tab then Enter into an interactive shell on a pseudo-terminal; return its output."""
    argv, setup = SHELL_SETUP[shell]
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
        preexec_fn=_controlling_terminal,  # fish refuses to run interactively without one
    )
    os.close(terminal)
    output = bytearray()
    script = "".join(line + "\n" for line in setup) + typed + "\t\n"
    os.write(controller, script.encode())
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and not done.exists() and not (cwd / "PWNED").exists():
            ready, _, _ = select.select([controller], [], [], 0.5)
            if ready:
                try:
                    output += os.read(controller, 65536)
                except OSError:
                    break
    finally:
        process.kill()
        process.wait(timeout=30)
        os.close(controller)
    return bytes(output)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_tab_then_enter_on_a_hostile_tool_name_runs_nothing(
    shell: str, cached_hostile_tool: tuple[Path, Path], workdir: Path, tmp_path: Path
) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    config, argv_file = cached_hostile_tool
    env = dict(
        os.environ, PATH=f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}", GEMMA_MCP_CONFIG=str(config)
    )
    env |= {"TERM": "dumb", "HISTFILE": str(tmp_path / "history")}
    output = drive(shell, "gemma-mcp call hostile x", workdir, env, argv_file)
    assert not (workdir / "PWNED").exists(), output
    assert argv_file.exists(), output
    assert argv_file.read_text().splitlines() == ["call", "hostile", HOSTILE_NAME]
