"""A second Ctrl-C ends the command at once, and the servers it started with it.

The first Ctrl-C cancels the command, which then stops its servers in order (bounded, but a
server that ignores SIGTERM takes seconds). asyncio turns a second Ctrl-C into a
KeyboardInterrupt raised wherever the code happens to be, which can leave a server waiting on
an interrupted clean-up or break the task groups' bookkeeping. So in the program itself (not
in a host that mounts the commands, nor in tests that run them in-process) a second Ctrl-C
kills every server's process group and exits with 130 straight away.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import NoReturn

_enabled = False


def enable() -> None:
    """Let a second Ctrl-C end this process at once (called by the program's entry point)."""
    global _enabled
    _enabled = True


@contextlib.contextmanager
def second_interrupt_exits() -> Iterator[None]:
    """Within the block, the first Ctrl-C does what it did before; the second ends the process."""
    if not _enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    pressed = 0

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal pressed
        pressed += 1
        if pressed > 1:
            _exit_now()
        if callable(previous):
            previous(signum, frame)
        else:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGINT) is handler:
            signal.signal(signal.SIGINT, previous)


def _exit_now() -> NoReturn:
    from gemma_mcp_cli.client.processes import end_group, session_children

    for pgid in session_children():  # every stdio server leads a session of its own (Linux)
        end_group(pgid)
    early = sys.modules.get("gemma_mcp_cli.client.transports.early_start")
    if early is not None:  # the servers started early, wherever /proc cannot list children
        early.end_abandoned()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    sys.stderr.write("Error: interrupted\n")
    sys.stderr.flush()
    os._exit(130)
