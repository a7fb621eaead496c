"""`--help` without Typer: the pages Typer prints, generated into `help_text.py`.

`gemma-mcp [COMMAND...] --help` (or `-h`), and a bare group that shows its help (`gemma-mcp`,
`gemma-mcp tools`), are answered from the generated pages when the output is what Typer would
print: the words name a command exactly, nothing else is on the line, and the terminal is at
least as wide as the pages were taken at (Click wraps help for a narrower one; Typer does that).
Anything else returns None and takes the ordinary path.
"""

from __future__ import annotations

import os
import sys

COMPLETION = "_GEMMA_MCP_COMPLETE"  # Click's completion variable for the program gemma-mcp


def columns() -> int:
    """Return the terminal width Click would wrap help for (shutil.get_terminal_size's rules)."""
    try:
        given = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        given = 0
    if given > 0:
        return given
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def run(argv: list[str]) -> int | None:
    """Print a command's help page; return the exit code, or None to take the ordinary path."""
    if COMPLETION in os.environ:
        return None  # the shell asks for completions (tests/cli/test_completion.py generates the scripts so)
    asked = argv[-1:] in (["--help"], ["-h"])
    words = argv[:-1] if asked else argv
    if any(word.startswith("-") or not word or word != word.strip() or " " in word for word in words):
        return None
    from gemma_mcp_cli.cli.quick import help_text

    key = " ".join(words)
    page = help_text.PAGES.get(key)
    if page is None or (not asked and key not in help_text.BARE) or columns() < help_text.COLUMNS:
        return None
    stream = sys.stdout if asked else sys.stderr  # a bare group's help is a usage error (exit 2)
    stream.write(page)
    stream.flush()
    return 0 if asked else 2
