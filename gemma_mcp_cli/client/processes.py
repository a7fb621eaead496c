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
    if not _PROC.is_dir():
        return set()
    return {pid for pid in _children(me) if _session_of(pid, parent=me) == pid}


def _children(me: int) -> set[int]:
    """Return the pids of this process's children: from each thread's list, else by a full scan."""
    found: set[int] = set()
    listed = False
    for children in (_PROC / str(me) / "task").glob("*/children"):
        with contextlib.suppress(OSError, ValueError):
            found |= {int(pid) for pid in children.read_text().split()}
            listed = True
    return found if listed else every_process()


def every_process() -> set[int]:
    """Return every pid in /proc (kernels without CONFIG_PROC_CHILDREN list no children)."""
    return {int(stat.parent.name) for stat in _PROC.glob("[0-9]*/stat")}


def _session_of(pid: int, *, parent: int) -> int | None:
    """Return the session id of `pid` if it is a child of `parent`, else None."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # Fields after the parenthesised command: state, ppid, pgrp, session, ...
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[3]) if int(fields[1]) == parent else None


def end_group(pgid: int) -> bool:
    """Kill what is left of a server's process group (its leader already gone); tell if any was."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, 0)
        os.killpg(pgid, signal.SIGKILL)
        return True
    return False
