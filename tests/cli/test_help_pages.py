"""`--help` from the generated pages: current, the same as Typer's, and left to Typer when it would differ."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from gemma_mcp_cli.cli import help_pages
from gemma_mcp_cli.cli.quick import help_text

HEAVY = ("typer", "click", "rich", "pydantic", "mcp")
PROBE = """
import sys
from gemma_mcp_cli.cli.entry import main
sys.argv = ["gemma-mcp", *sys.argv[1:]]
try:
    main()
finally:
    loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))
    sys.stderr.write("HEAVY=" + ",".join(loaded) + "\\n")
"""
TYPER = """
import sys
from gemma_mcp_cli.cli.app import main
sys.argv = ["gemma-mcp", *sys.argv[1:]]
main()
"""


def run(code: str, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | env
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60, env=environment
    )


def fast(args: list[str], **env: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run the program's entry point; return what it did, and the heavy packages it loaded."""
    done = run(PROBE.format(heavy=HEAVY), args, **env)
    *lines, last = done.stderr.splitlines() or [""]
    done.stderr = "".join(f"{line}\n" for line in lines)
    return done, last


def through_typer(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """Run Typer's command line itself, which the pages were generated from."""
    return run(TYPER, args, **env)


def test_the_generated_pages_are_current() -> None:
    assert help_pages.TARGET.read_text(encoding="utf-8") == help_pages.module_text(), (
        "regenerate with: python -m gemma_mcp_cli.cli.help_pages"
    )


def test_every_visible_command_has_a_page() -> None:
    from gemma_mcp_cli.cli.app import app

    root = typer.main.get_command(app)
    words = {" ".join(path) for path, _ in help_pages.command_paths(root)}
    assert set(help_text.PAGES) == words and {"", "call", "tools list", "session start"} <= words


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        ["call", "--help"],
        ["tools", "-h"],
        ["servers", "list", "--help"],
        ["resources", "watch", "--help"],
        [],  # a bare group: its help on stderr, exit 2
        ["session"],
    ],
)
def test_a_page_is_what_typer_prints_without_loading_typer(args: list[str], workdir: Path) -> None:
    done, heavy = fast(args)
    full = through_typer(args)
    assert (done.returncode, done.stdout, done.stderr) == (full.returncode, full.stdout, full.stderr)
    assert heavy == "HEAVY=" and (done.stdout or done.stderr).startswith("Usage: gemma-mcp")


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["call", "--help"], {"COLUMNS": "60"}),  # narrower than the pages: Typer wraps for it
        (["call", "srv", "tool", "--help"], {}),  # arguments before --help
        (["--config", "x.toml", "tools", "--help"], {}),  # an option before it
        (["nosuch", "--help"], {}),  # an unknown command: Typer's error
        (["servers list", "--help"], {}),  # one word with a space is not two
        (["call", "--help", "--help"], {}),
        (["call"], {}),  # a command (not a group) without its arguments
    ],
)
def test_anything_else_is_left_to_typer(args: list[str], env: dict[str, str], workdir: Path) -> None:
    done, heavy = fast(args, **env)
    full = through_typer(args, **env)
    assert (done.returncode, done.stdout, done.stderr) == (full.returncode, full.stdout, full.stderr)
    assert "typer" in heavy


def test_a_narrow_terminal_gets_narrower_help_than_the_pages(workdir: Path) -> None:
    narrow = through_typer(["call", "--help"], COLUMNS="60").stdout
    assert narrow != help_text.PAGES["call"] and max(map(len, narrow.splitlines()[:12])) <= 60
    assert fast(["call", "--help"], COLUMNS="120")[0].stdout == help_text.PAGES["call"]
