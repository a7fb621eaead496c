"""Whether a person can be asked on the terminal: kept apart so that a warm call can tell cheaply."""

from __future__ import annotations

import os
import sys


def in_terminal() -> bool:
    """Tell whether a person can be asked: stdin and stderr are terminals, and this is not CI."""
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return sys.stdin.isatty() and sys.stderr.isatty() and not ci
