"""Run a stdio MCP server as a child and record its peak RSS when it exits.

Usage: python -I -S benchmarks/server_rss.py OUTFILE COMMAND [ARG...]

`benchmarks/run.py` puts this in front of a server's command, in extra runs that are not
timed, to learn the server's own peak RSS: `os.wait4` on the client only sees the server
through the client. The server inherits stdin, stdout and stderr; this process gives its own
copies up, forwards termination signals, waits for the server, and writes one line to OUTFILE:
the server's `ru_maxrss` and this wrapper's own peak RSS (`VmHWM`), both in KiB. Linux counts
the memory of the process that starts a program into that program's `ru_maxrss`, so the second
figure is the floor below which the first cannot go. (The wrapper's own `ru_maxrss` would not
do: it holds the client's RSS, counted in the same way when the client started the wrapper.)
Imports are kept to the bare minimum to keep that floor low.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType


def high_water_mark() -> int:
    """Return this process's peak RSS in KiB, from /proc/self/status (0 if unavailable)."""
    try:
        fd = os.open("/proc/self/status", os.O_RDONLY)
    except OSError:
        return 0
    try:
        status = os.read(fd, 1 << 16).decode("ascii", "replace")
    finally:
        os.close(fd)
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> int:
    """Start the server, wait for it, record the figures, and pass its exit status on."""
    if len(sys.argv) < 3:
        sys.stderr.write("usage: server_rss.py OUTFILE COMMAND [ARG...]\n")
        return 2
    outfile, argv = sys.argv[1], sys.argv[2:]
    floor = high_water_mark()
    pid = os.fork()
    if pid == 0:  # the child becomes the server
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)

    def forward(signum: int, frame: FrameType | None) -> None:
        os.kill(pid, signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    # Give up our copies of the pipes, so that the client sees EOF when the server exits.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    _, status, usage = os.wait4(pid, 0)
    with open(outfile, "w", encoding="ascii") as out:  # noqa: PTH123 (pathlib is not imported on purpose)
        out.write(f"{usage.ru_maxrss} {floor}\n")
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code  # killed by a signal: the shell's convention


if __name__ == "__main__":
    sys.exit(main())
