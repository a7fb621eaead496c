"""Every command's `--help`, generated from the Typer app into `cli/quick/help_text.py`.

Typer stays the one definition of the command line; this writes down what it prints, so that
the standard-library front end (`cli/quick/show_help.py`) can print it without loading Typer, Click,
pydantic and every command module (about 80 ms before a word is shown). The pages are taken at
Click's default width: a terminal of 80 columns or more, or no terminal (Click wraps help to at
most 78 columns of text either way). A narrower terminal is left to Typer, which wraps for it.
`tests/cli/test_help_pages.py` checks that the module is current; regenerate it with

    python -m gemma_mcp_cli.cli.help_pages
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

PROGRAM = "gemma-mcp"
COLUMNS = 80  # the terminal width the pages are taken at (Click caps help text at 78 columns)
TARGET = Path(__file__).resolve().parent / "quick" / "help_text.py"


def command_paths(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Return every visible command of the Click tree under `command`, with its words."""
    found = [(path, command)]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not getattr(sub, "hidden", False):
            found += command_paths(sub, (*path, name))
    return found


def pages() -> tuple[dict[str, str], list[str]]:
    """Return each command's help page (by its words, "" for the root) and the commands whose
    bare invocation shows help (on stderr, exit 2: Click's `no_args_is_help`)."""
    from gemma_mcp_cli.cli.app import app

    root = typer.main.get_command(app)  # what the program runs (cli/app.py:main)
    found: dict[str, str] = {}
    bare: list[str] = []
    for words, command in command_paths(root):
        found[" ".join(words)] = page(root, words)
        if getattr(command, "no_args_is_help", False):
            bare.append(" ".join(words))
    return found, bare


def page(root: Any, words: tuple[str, ...]) -> str:
    """Return what `gemma-mcp WORDS --help` prints, run in this process at the pages' width.

    Not through Typer's test runner: it forces Click's width to 80, where the program wraps at 78.
    """
    out = io.StringIO()
    with _columns(COLUMNS), contextlib.redirect_stdout(out):
        code = root.main([*words, "--help"], prog_name=PROGRAM, standalone_mode=False)
    if code not in (0, None):
        raise RuntimeError(f"{PROGRAM} {' '.join(words)} --help exited {code}")
    return out.getvalue()


@contextlib.contextmanager
def _columns(count: int) -> Iterator[None]:
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(count)
    try:
        yield
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def module_text() -> str:
    """Return the source of the generated module."""
    found, bare = pages()
    lines = [
        '"""Every command\'s --help, as Typer prints it at the default width. Generated: do not edit.',
        "",
        "Regenerate with `python -m gemma_mcp_cli.cli.help_pages` (tests/cli/test_help_pages.py",
        'checks that this is current). Read by cli/quick/show_help.py."""',
        "",
        f"COLUMNS = {COLUMNS}",
        f"PROGRAM = {PROGRAM!r}",
        f"BARE = frozenset({sorted(bare)!r})",
        "PAGES = {",
    ]
    lines += [f"    {words!r}: {text!r}," for words, text in found.items()]
    lines += ["}", ""]
    return "\n".join(lines)


def write(target: Path = TARGET) -> None:
    """Regenerate the module."""
    target.write_text(module_text(), encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET)
