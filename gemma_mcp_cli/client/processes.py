"""Find and end the process groups of the stdio servers this process started."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterable
from pathlib import Path

_PROC = Path("/proc")
_EXIT_GRACE = 1.0  # seconds a server may take to end on SIGTERM when the interpreter exits
# The process groups of servers that are running now, in every manager of this process: a
# manager that is never shut down (nor left by `async with`) must not leave them behind.
_RUNNING: set[int] = set()
# Children that lead a session of their own and are not servers' strays: warm sessions this
# process started, which outlive it on purpose.
_SPARED: set[int] = set()


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


_PR_SET_CHILD_SUBREAPER = 36
_subreaper = False  # whether this process adopts its orphaned descendants


def become_subreaper() -> bool:
    """Make this process adopt its orphaned descendants (Linux), so none escapes the clean-up.

    A server's child that calls setsid() leaves the server's process group; when the server
    exits it would be reparented to init and live on. As a child subreaper, this process
    receives it instead, finds it among its own children and ends it.
    """
    global _subreaper
    if _subreaper or not sys.platform.startswith("linux"):
        return _subreaper
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        _subreaper = bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False
    return _subreaper


def spare(pid: int) -> None:
    """Never end this child in a clean-up: a warm session that was started to outlive the command."""
    _SPARED.add(pid)


def end_adopted(keep: set[int]) -> None:
    """End every child that leads a session of its own, except `keep`, and reap it.

    Only in a subreaper (the program, a session daemon): there every such child that is not
    a running server was a server's escaped descendant. A library's host may have children
    of its own; they are left alone.
    """
    if not _subreaper:
        return
    for pid in session_children() - keep - _SPARED:
        if end_group(pid):
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, 0)  # SIGKILL cannot be refused; reaping keeps no zombie


def end_children_now() -> None:
    """Kill every server's process group at once (the second Ctrl-C, SIGTERM or SIGHUP)."""
    for pgid in session_children() - _SPARED:  # every stdio server leads a session of its own (Linux)
        end_group(pgid)
    early = sys.modules.get("gemma_mcp_cli.client.transports.early_start")
    if early is not None:  # the servers started early, wherever /proc cannot list children
        early.end_abandoned()


def track_groups(pgids: Iterable[int]) -> None:
    """Remember servers' process groups, to end them when the interpreter exits."""
    _RUNNING.update(pgids)


def forget_groups(pgids: Iterable[int]) -> None:
    """Forget process groups that have been ended."""
    _RUNNING.difference_update(pgids)


def _group_alive(pgid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pgid, os.WNOHANG)  # a leader that is our child and gone is reaped, not counted
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # the number now belongs to someone else's group: not ours to end
    return True


@atexit.register
def end_running_groups() -> None:
    """End every server still running: SIGTERM, a short grace, then SIGKILL."""
    pending = {pgid for pgid in _RUNNING if _group_alive(pgid)}
    for pgid in pending:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + _EXIT_GRACE
    while pending and time.monotonic() < deadline:
        pending = {pgid for pgid in pending if _group_alive(pgid)}
        if pending:
            time.sleep(0.02)
    for pgid in pending:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    _RUNNING.clear()
