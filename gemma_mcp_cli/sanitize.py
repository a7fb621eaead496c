"""Make text that came from a server or a file safe to show: the one place that decides what is unsafe.

A terminal obeys the control characters and escape sequences in what it prints: a server that
could print them could set the window title, clear the screen, write the clipboard (OSC 52) or
make the terminal type into the shell (`ESC[6n`). Bidi overrides make text read differently
from what it is. Such characters are shown as escapes (`\\x1b`, `\\u202e`) instead.
"""

from __future__ import annotations

import re

# C0 controls except newline and tab, DEL, C1 controls, and the bidi embeddings, overrides and isolates.
# Patterns as text, compiled (and kept) by `re` on first use: most commands that load this
# module never need them (a warm call printing to a pipe), and compiling them shows in its time.
_UNSAFE = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
# What JSON text may still hold raw once json.dumps has escaped C0 (it leaves these alone).
_UNSAFE_IN_JSON = "[\x7f-\x9f\u202a-\u202e\u2066-\u2069]"


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """Return `text` with every control, escape, C1 and bidi character shown as an escape."""
    return re.sub(_UNSAFE, _escape, text)


def json_text(dumped: str) -> str:
    """Escape C1, DEL and bidi characters in JSON text as \\uXXXX (json.dumps escapes only C0).

    Outside strings, JSON text holds none of them, so the result is the same JSON value.
    """
    return re.sub(_UNSAFE_IN_JSON, lambda found: f"\\u{ord(found.group()):04x}", dumped)
