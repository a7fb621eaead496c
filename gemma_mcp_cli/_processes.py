"""Find and end the process groups of the stdio servers this process started."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

_PROC = Path("/proc")


def session_children() -> set[int]:
    """Return this process's children that lead a session of their own (stdio servers do).

    Linux only (read from /proc); elsewhere the set is empty and groups are left to the SDK.
    """
    me = os.getpid()
    found: set[int] = set()
    if not _PROC.is_dir():
        return found
    for stat in _PROC.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state, ppid, pgrp, session, ...
        fields = text[text.rindex(")") + 2 :].split()
        pid = int(stat.parent.name)
        if int(fields[1]) == me and int(fields[3]) == pid:
            found.add(pid)
    return found


def end_group(pgid: int) -> bool:
    """Kill what is left of a server's process group (its leader already gone); tell if any was."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, 0)
        os.killpg(pgid, signal.SIGKILL)
        return True
    return False
