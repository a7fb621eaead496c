"""Start a stdio server before the SDK is imported, so that its start-up overlaps the import.

A cold command spends about 0.6 s importing the SDK before it could spawn a server, and a
server written on an SDK (or started through npx) takes as long again to start. So a command
starts its servers first, exactly as the SDK would (same command, environment, working
directory, stderr log and process group), and the connection adopts the running process
instead of spawning another. Nothing here imports the SDK.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gemma_mcp_cli.client.processes import end_adopted, end_group, session_children
from gemma_mcp_cli.enums import MCPTransportType
from gemma_mcp_cli.state.files import open_private, private_dir
from gemma_mcp_cli.state.paths import log_file

if TYPE_CHECKING:
    from anyio import Event
    from anyio.abc import Process

    from gemma_mcp_cli.config.models import MCPServerConfig

# What the SDK passes to a server of the parent's environment (its get_default_environment;
# a test keeps the two lists equal), and what we pass besides: our settings and the locale.
_INHERITED = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")
_PASSED_PREFIXES = ("GEMMA_MCP_", "XDG_", "LC_")
_PASSED_NAMES = ("LANG", "TMPDIR", "TZ")
_LOG_LIMIT = 1 << 20  # rotate a server's stderr log past 1 MiB, when a run begins
RUN_LOG_LIMIT = 16 << 20  # and past 16 MiB while it runs
_EXIT_GRACE = 2.0  # seconds a server has to exit once its stdin is closed, and again after SIGTERM
_POLL = 0.01


def server_environment(config: MCPServerConfig) -> dict[str, str]:
    """Return the environment a stdio server starts with."""
    env = {key: os.environ[key] for key in _INHERITED if not os.environ.get(key, "()").startswith("()")}
    for key, value in os.environ.items():
        if key.startswith(_PASSED_PREFIXES) or key in _PASSED_NAMES:
            env[key] = value
    return env | config.env


def open_log(path: Path) -> tuple[TextIO, int]:
    """Open a server's stderr log for appending; return it and where this run's lines begin."""
    private_dir(path.parent)
    # Another invocation may rotate the same log at the same moment; either rotation will do.
    with contextlib.suppress(FileNotFoundError):
        if path.lstat().st_size > _LOG_LIMIT:
            path.replace(path.with_suffix(".log.1"))
    # Opened by name (the log's `name` is its path, which rotation needs), never through a link.
    log = open(path, "a", encoding="utf-8", opener=lambda name, flags: open_private(Path(name), flags))  # noqa: SIM115
    return log, log.tell()


def rotate_in_place(path: Path, keep: int) -> None:
    """Keep the last `keep` bytes of a log as NAME.log.1 and empty the log, which stays open."""
    with os.fdopen(open_private(path), "rb") as log:
        log.seek(0, os.SEEK_END)
        log.seek(max(0, log.tell() - keep))
        tail = log.read(keep)
    with os.fdopen(
        open_private(path.with_suffix(".log.1"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb"
    ) as kept:
        kept.write(tail)
    os.truncate(path, 0)


@dataclass
class Started:
    """A server process started ahead of its connection."""

    config: MCPServerConfig
    process: Process
    log: TextIO
    log_offset: int
    claimed: bool = False  # a connection adopted it
    stopped: bool = False  # it was stopped and its group ended


_started: dict[str, Started] = {}


def claim(config: MCPServerConfig) -> Started | None:
    """Hand the process started for exactly this configuration to its first connection."""
    started = _started.get(config.name)
    if started is None or started.claimed or started.config != config:
        return None
    started.claimed = True
    return started


@asynccontextmanager
async def started_early(configs: Iterable[MCPServerConfig], log_dir: Path) -> AsyncIterator[None]:
    """Start stdio servers now, for connections opened within; end what is left of them after.

    A server that cannot be started here is left to its connection, which reports why. One
    that no connection adopted was never sent anything: it is stopped at once, all in parallel.
    """
    import anyio

    mine: list[Started] = []
    before = session_children()
    try:
        for config in configs:
            started = await _start(config, log_dir) if _eligible(config) else None
            if started is not None:
                _started[config.name] = started
                mine.append(started)
        yield
    finally:
        try:
            with anyio.CancelScope(shield=True):
                async with anyio.create_task_group() as tg:
                    for started in mine:
                        if not started.claimed:
                            tg.start_soon(functools.partial(stop, started, graceful=False))
        finally:
            # No awaits from here: another Ctrl-C may cancel the waits above, never this.
            for started in mine:
                del _started[started.config.name]
                _end(started)
            if mine:  # what the servers' children left behind with setsid() came back to us
                end_adopted(keep=before)


def _end(started: Started) -> None:
    """End a server's group unless it was stopped, and release its handles; never awaits."""
    if not started.stopped:
        end_group(started.process.pid)
        started.stopped = True
    _close_transport(started.process)
    started.log.close()


@atexit.register
def end_abandoned() -> None:
    """At exit, end the servers whose clean-up was abandoned (a third Ctrl-C can do that)."""
    for started in list(_started.values()):
        _end(started)
    _started.clear()


def _eligible(config: MCPServerConfig) -> bool:
    return (
        config.transport is MCPTransportType.STDIO
        and config.command is not None
        and sys.platform != "win32"
        and config.name not in _started
    )


async def _start(config: MCPServerConfig, log_dir: Path) -> Started | None:
    import anyio

    assert config.command is not None
    try:
        log, offset = open_log(log_file(config.name, log_dir))
    except OSError:
        return None  # the connection meets the same problem and reports it
    try:
        process = await anyio.open_process(
            [config.command, *config.args],
            env=server_environment(config),
            stderr=log,
            cwd=config.cwd,
            start_new_session=True,
        )
    except (OSError, ValueError):
        log.close()
        return None
    return Started(config, process, log, offset)


async def start_now(config: MCPServerConfig, log: TextIO) -> Started:
    """Start a stdio server for a connection, in a session of its own; raise if it cannot start."""
    import anyio

    assert config.command is not None
    process = await anyio.open_process(
        [config.command, *config.args],
        env=server_environment(config),
        stderr=log,
        cwd=config.cwd,
        start_new_session=True,
    )
    return Started(config, process, log, log.tell(), claimed=True)


async def stop(started: Started, *, graceful: bool = True, unanswered: Event | None = None) -> None:
    """Stop a server and end its process group; every wait is bounded.

    Gracefully, as the SDK's own stdio shutdown does: close stdin and wait, then SIGTERM to the
    group and wait, then SIGKILL. A server that was never sent anything gets SIGTERM at once, and
    so does one that asks us something meanwhile (`unanswered`, an event): it waits for us.
    """
    process = started.process
    await _close(process.stdin)
    signals = (None, signal.SIGTERM, signal.SIGKILL) if graceful else (signal.SIGTERM, signal.SIGKILL)
    try:
        for signum in signals:
            if signum is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signum)
            if await _exited(process, _EXIT_GRACE, unanswered if signum is None else None):
                break
    except BaseException:
        _close_transport(process)  # cancelled mid-wait: release it now, the loop may be closing
        raise
    finally:
        end_group(process.pid)  # what the server left running in its group
        started.stopped = True
    await _close(process.stdout)
    _close_transport(process)


def _close_transport(process: Process) -> None:
    """Close the asyncio subprocess transport, which would otherwise warn when collected."""
    transport = getattr(getattr(process, "_process", None), "_transport", None)
    with contextlib.suppress(PermissionError, RuntimeError):
        close = getattr(transport, "close", None)
        if callable(close):
            close()


async def _close(stream: object) -> None:
    import anyio

    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
            await aclose()


async def _exited(process: Process, within: float, unanswered: Event | None = None) -> bool:
    import anyio

    with anyio.move_on_after(within):
        while process.returncode is None:
            if unanswered is not None and unanswered.is_set():
                return False
            await anyio.sleep(_POLL)
        return True
    return False
