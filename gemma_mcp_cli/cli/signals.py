"""Ctrl-C, SIGTERM and SIGHUP end the command cleanly; a second one ends it at once.

The first signal cancels the command, which then stops its servers in order (bounded, but a
server that ignores SIGTERM takes seconds). SIGTERM (what `timeout`, CI cancellation and `kill`
send) and SIGHUP (a closed terminal or ssh session) do what Ctrl-C does, and the command exits
with 128 + the signal's number (130, 143, 129). asyncio turns a second Ctrl-C into a
KeyboardInterrupt raised wherever the code happens to be, which can leave a server waiting on
an interrupted clean-up or break the task groups' bookkeeping. So in the program itself (not
in a host that mounts the commands, nor in tests that run them in-process) a second signal
kills every server's process group and exits straight away.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: the entry point loads this
if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType
    from typing import NoReturn

    from gemma_mcp_cli.errors import MCPInterruptedError

_enabled = False
_STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_WHAT: dict[int, str] = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated", signal.SIGHUP: "hung up"}
_received: int | None = None  # the first signal that asked this process to stop


def enable() -> None:
    """Make SIGTERM and SIGHUP stop the program as Ctrl-C does (called by its entry point)."""
    global _enabled
    _enabled = True
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        _keep_ignoring_ctrl_c()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _as_interrupt)


def _keep_ignoring_ctrl_c() -> None:
    """Started with SIGINT ignored (a background job of a script): go on ignoring it, stop cleanly.

    asyncio cancels the running command on a signal only if Python's own SIGINT handler is in
    place when the loop starts; without it, SIGTERM would end the command mid-flight, and its
    servers would never hear that their requests were cancelled. So Python's handler is put
    back, for asyncio to find, and SIGINT itself is blocked: it stays undelivered, as ignored.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _as_interrupt(signum: int, frame: FrameType | None) -> None:
    """Outside the servers' lifetime: raise where Ctrl-C would, remembering which signal it was."""
    global _received
    if _received is not None:
        _exit_now()
    _received = signum
    raise KeyboardInterrupt


def interruption() -> MCPInterruptedError:
    """Return the error that says which signal stopped the command, with its exit code."""
    from gemma_mcp_cli.errors import ExitCode, MCPInterruptedError

    signum = _received or signal.SIGINT
    error = MCPInterruptedError(_WHAT.get(signum, "interrupted") + _named(signum))
    error.exit_code = ExitCode(128 + signum)
    return error


def _named(signum: int) -> str:
    return "" if signum == signal.SIGINT else f" ({signal.Signals(signum).name})"


@contextlib.contextmanager
def second_interrupt_exits() -> Iterator[None]:
    """Within the block, the first signal does what Ctrl-C did before; the second ends the process."""
    import threading

    if not _enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    from gemma_mcp_cli.client.processes import become_subreaper

    become_subreaper()  # servers start in this block: their escaped children come back to us
    previous = {signum: signal.getsignal(signum) for signum in _STOPPING}
    interrupt = previous[signal.SIGINT]

    def handler(signum: int, frame: FrameType | None) -> None:
        global _received
        if _received is not None:
            _exit_now()
        _received = signum
        if callable(interrupt):
            interrupt(signal.SIGINT, frame)  # asyncio's own: cancel the command's task
        else:
            raise KeyboardInterrupt

    for signum in _STOPPING:
        signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum in _STOPPING:
            if signal.getsignal(signum) is handler:
                signal.signal(signum, previous[signum])


def _exit_now() -> NoReturn:
    from gemma_mcp_cli.client.processes import end_children_now

    end_children_now()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    sys.stderr.write(f"Error: {interruption().message}\n")
    sys.stderr.flush()
    os._exit(int(interruption().exit_code))
