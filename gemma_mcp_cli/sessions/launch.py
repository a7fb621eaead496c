"""Starting and stopping warm sessions: `session start` waits until one serves, keep-alive does not.

One launch for both. The launcher takes the session's lock itself and hands it to the
process it spawns, so two commands at once never start two sessions for one server: the
second finds the lock held and leaves the starting (or running) session alone. Standard
library only: keep-alive runs inside a cold command, and must cost it no more than a spawn.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gemma_mcp_cli.errors import MCPConfigError, MCPConnectionError, MCPError
from gemma_mcp_cli.sessions import client as session_client

if TYPE_CHECKING:
    from gemma_mcp_cli.config.loader import LoadedConfig

START_GRACE = 10.0  # seconds beyond the server's connection_timeout for a session to come up
STOP_GRACE = 15.0  # seconds a session may take to stop when asked before it is killed
BY_COMMAND, BY_KEEP_ALIVE = "session_start", "keep_alive"  # what `session list` says started it
_POLL = 0.05


@dataclass
class Spawned:
    """A session process just started, and where its stderr goes (to say why it failed)."""

    pid: int
    log: Path
    offset: int

    def exit_status(self) -> int | None:
        """Return the process's exit status once it has ended (reaping it), else None."""
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return None if session_client.alive(self.pid) else 0
        return os.waitstatus_to_exitcode(status) if pid else None

    def reason(self, status: int) -> str:
        """Return the last `Error:` line the process wrote, or its exit status."""
        from gemma_mcp_cli.state.files import open_private

        with os.fdopen(open_private(self.log), "rb") as written:
            written.seek(self.offset)
            fresh = written.read().decode(errors="replace")
        lines = [line for line in fresh.splitlines() if line.startswith("Error:")]
        return lines[-1].removeprefix("Error: ") if lines else f"it exited with status {status}"


def spawn(name: str, config: Path | None, idle_timeout: float, *, started_by: str) -> Spawned | None:
    """Start a session process detached, holding its lock for it; None when one runs or starts already.

    Raises MCPConfigError when the sessions folder or the session log cannot be written.
    """
    from gemma_mcp_cli.client.processes import spare
    from gemma_mcp_cli.state.files import open_private, private_dir
    from gemma_mcp_cli.state.paths import log_dir

    key = session_client.session_key(name, config)
    try:
        directory = private_dir(session_client.sessions_dir())
        lock = open_private(directory / f"{key}.lock", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    except OSError as exc:
        raise MCPConfigError(
            f"cannot write the sessions folder: {exc.strerror or exc}", server=name
        ) from None
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # another process serves this server's session, or is starting it
        try:
            log = private_dir(log_dir()) / f"session-{key}.log"
            errors = open_private(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        except OSError as exc:
            reason = f"cannot write the session log in {log_dir()}: {exc.strerror or exc}"
            raise MCPConfigError(reason, server=name) from None
        try:
            offset = os.fstat(errors).st_size
            command = [sys.executable, "-m", "gemma_mcp_cli.sessions.daemon_start", "--server", name]
            command += ["--idle-timeout", repr(float(idle_timeout)), "--started-by", started_by]
            command += ["--lock-fd", str(lock)]
            command += ["--config", str(config.resolve())] if config else []
            pid = _detached(command, stderr=errors, keep=lock)
            _note_starting(key, pid)
        except OSError as exc:
            raise MCPConfigError(
                f"cannot start a session process: {exc.strerror or exc}", server=name
            ) from None
        finally:
            os.close(errors)
    finally:
        os.close(lock)  # the session holds the lock through its own copy of the descriptor
    spare(pid)  # a session outlives this command: its clean-up of servers' strays must not end it
    return Spawned(pid, log, offset)


def _note_starting(key: str, pid: int) -> None:
    """Note the new session's pid until it serves: the next command waits for it (started_info)."""
    from gemma_mcp_cli.state.files import write_atomically

    with contextlib.suppress(OSError):  # without the note, the next command only goes direct
        write_atomically(session_client.starting_path(key), str(pid).encode(), mode=0o600)


def _detached(command: list[str], *, stderr: int, keep: int) -> int:
    """Spawn a process in a session of its own, with only `keep` and its stderr passed on."""
    os.set_inheritable(keep, True)
    try:
        return os.posix_spawn(
            command[0],
            command,
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_DUP2, stderr, 2),
            ],
            setsid=True,
            setsigdef=(signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM, signal.SIGHUP),
        )
    finally:
        os.set_inheritable(keep, False)


def keep_warm(loaded: LoadedConfig, name: str) -> bool:
    """Start a server's keep-alive session in the background, if its configuration asks for one.

    Never waits for it and never fails the command: a session is only a way to be faster.
    Nothing starts for a project configuration that is not trusted, for a server that has a
    session (live, starting, or one this environment cannot use), or when keep_alive is off.
    """
    from gemma_mcp_cli.state.trust import needs_trust

    config = loaded.servers.get(name)
    if config is None or not config.keep_alive or name in loaded.problems or needs_trust(loaded.source):
        return False
    if session_client.read_info(session_client.session_key(name, loaded.source.path)) is not None:
        return False
    return keep_warm_plain(loaded.source.path, name, config.keep_alive)


def keep_warm_plain(config: Path | None, name: str, keep_alive: float) -> bool:
    """Launch a keep-alive session for the next command; tell whether one was launched.

    `keep_warm` calls it once its checks hold; a cold call calls it as it begins, from what a
    plain file says (see config.plain: the plain reader made those checks, the caller trust),
    since the earlier a session starts the sooner the next command of a loop finds it serving.
    Never fails the command.
    """
    try:
        started = spawn(name, config, keep_alive, started_by=BY_KEEP_ALIVE)
    except MCPError:
        return False
    if started is not None:
        session_client.WARMING.add(session_client.session_key(name, config))
    return started is not None


def start_and_wait(loaded: LoadedConfig, name: str, idle_timeout: float) -> dict[str, Any]:
    """Start one server's session (or find the one running), wait until it serves, and describe it."""
    key = session_client.session_key(name, loaded.source.path)
    live = session_client.read_info(key)
    if live is not None and session_client.usable(live) and not describe(live | {"key": key}).get("stale"):
        return live
    if live is not None:
        stop(live | {"key": key})  # it serves an older configuration or environment
    deadline = time.monotonic() + loaded.servers[name].connection_timeout + START_GRACE
    spawned: Spawned | None = None
    while time.monotonic() < deadline:
        if spawned is None:  # while another process holds the lock, its session is on the way
            spawned = spawn(name, loaded.source.path, idle_timeout, started_by=BY_COMMAND)
        info = session_client.read_info(key)
        if info is not None:
            return info
        status = spawned.exit_status() if spawned is not None else None
        if spawned is not None and status is not None:
            reason = spawned.reason(status)
            raise MCPConnectionError(f"the session for '{name}' did not start: {reason}", server=name)
        time.sleep(_POLL)
    if spawned is not None:
        _signal(spawned.pid, signal.SIGTERM)  # the session ends its server (and its children) on SIGTERM
        log = spawned.log
        raise MCPConnectionError(f"the session for '{name}' did not start in time (see {log})", server=name)
    raise MCPConnectionError(f"the session for '{name}' did not start in time", server=name)


def describe(info: dict[str, Any]) -> dict[str, Any]:
    """Ask a session for its counters (falling back to what its description says)."""
    try:
        live = session_client.ask(info["key"], {"op": "info"}, timeout=5.0)
    except (ConnectionError, OSError, MCPError, session_client.SessionLost):
        live = info
    return {
        "server": live["server"],
        "pid": live["pid"],
        "config": live.get("config"),
        "uptime_s": round(session_client.uptime(live), 1),
        "requests": live.get("requests", 0),
        "idle_s": live.get("idle_s", 0.0),
        "idle_timeout": live.get("idle_timeout"),
        "started_by": live.get("started_by", BY_COMMAND),
        "stale": bool(live.get("stale")),
    }


def stop(info: dict[str, Any]) -> str:
    """Ask a session to stop; end it by signal if it does not go within a few seconds."""
    pid = int(info["pid"])
    try:
        session_client.ask(info["key"], {"op": "stop"}, timeout=5.0)
    except (ConnectionError, OSError, MCPError, session_client.SessionLost):
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline and _running(pid):
        time.sleep(_POLL)
    if _running(pid):
        _signal(pid, signal.SIGKILL)
    session_client.remove(info["key"], only_if_dead=True)
    return str(info["server"])


def _running(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # one this process started: reap it, or it stays a zombie
    return session_client.is_session_process(pid) and session_client.alive(pid)


def _signal(pid: int, number: int) -> None:
    """Signal a session process, and never another program that got its pid."""
    if session_client.is_session_process(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, number)
