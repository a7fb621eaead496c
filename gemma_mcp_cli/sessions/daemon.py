"""A warm session: one background process that keeps one server connected.

Started by `gemma-mcp session start`, or by a command for a server with `keep_alive`, as
`python -m gemma_mcp_cli.sessions.daemon` (see `launch`). It serves
JSON-line requests on a user-only Unix socket, concurrently, through one manager; it stops
after its idle timeout, when its server's configuration changes, when the server dies and
cannot be brought back, or when asked.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from anyio.abc import SocketStream, TaskStatus

from gemma_mcp_cli import arguments
from gemma_mcp_cli.client.manager import MCPClientManager
from gemma_mcp_cli.client.processes import become_subreaper, end_children_now
from gemma_mcp_cli.client.tasks import CONNECT_MODE, TERMINAL
from gemma_mcp_cli.config.environment import env_fingerprint, env_names
from gemma_mcp_cli.config.loader import LoadedConfig, load_config
from gemma_mcp_cli.errors import MCPConnectionError, MCPError, MCPUsageError
from gemma_mcp_cli.sanitize import visible
from gemma_mcp_cli.sessions.client import (
    error_document,
    info_path,
    remove,
    session_key,
    sessions_dir,
    socket_path,
    starting_path,
)
from gemma_mcp_cli.sessions.relay import CURRENT, ClientLink, RelayAsker
from gemma_mcp_cli.sessions.watches import WATCHES, relay_watch
from gemma_mcp_cli.state.cache import MCPToolRegistry, fingerprint
from gemma_mcp_cli.state.files import open_private, private_dir, write_atomically
from gemma_mcp_cli.state.stats import StatsStore

_LINE_LIMIT = 16 * 1024 * 1024  # one request; tool arguments can be large, not unbounded
_TASK_LIFE = 24 * 3600.0  # seconds a task with no (or a longer) ttl keeps an idle session up


class Session:
    """The served state: the manager, the counters, and the reasons to stop."""

    def __init__(
        self, name: str, config_path: Path | None, idle_timeout: float, started_by: str = "session_start"
    ) -> None:
        self.name = name
        self.started_by = started_by
        self.config_path = config_path
        self.idle_timeout = idle_timeout
        self.key = session_key(name, config_path)
        self.loaded: LoadedConfig = load_config(config_path)
        self.config = self.loaded.server(name)
        self.fingerprint = fingerprint(self.config)
        self.stamp = self._stamp()
        text = config_path.read_text(encoding="utf-8", errors="replace") if config_path else ""
        self.env_names = env_names(text)
        self.started_at = time.time()
        self.last_request_at = time.time()
        self.requests = 0
        self.active = 0
        self.stopping = anyio.Event()
        self.signalled: int | None = None  # the signal that asked the session to stop
        self.relay = RelayAsker()
        self.stats = StatsStore(keep_open=True)
        self.manager = MCPClientManager(
            {name: self.config},
            asker=self.relay,
            cache=MCPToolRegistry(default_ttl=self.loaded.settings.tool_cache_ttl),
            stats=self.stats,
            retries=self.loaded.settings.retry_count,
            health_checks=False,
        )
        # Tasks need a handshake-era connection (they left the protocol in 2026-07-28): a second
        # connection, opened on the first tasks request, keeps them for the session's life.
        self.task_manager = MCPClientManager(
            {name: self.config},
            asker=self.relay,
            stats=StatsStore(),
            retries=self.loaded.settings.retry_count,
            health_checks=False,
            protocol=CONNECT_MODE,
        )
        self.open_tasks: dict[str, float] = {}  # unfinished tasks started here, and when they expire

    def note_task(self, task: Any) -> None:
        """Keep the session up while a task it started runs (at most until the task's ttl)."""
        if not isinstance(task, dict) or not isinstance(task.get("taskId"), str):
            return
        if task.get("status") in TERMINAL:
            self.open_tasks.pop(task["taskId"], None)
        elif task["taskId"] in self.open_tasks or task.get("started"):
            ttl = task.get("ttl")
            life = ttl / 1000 if isinstance(ttl, int | float) and ttl > 0 else _TASK_LIFE
            self.open_tasks[task["taskId"]] = time.time() + min(life, _TASK_LIFE)

    def busy_with_tasks(self) -> bool:
        """Tell whether a task started here may still be running."""
        now = time.time()
        for task_id, until in list(self.open_tasks.items()):
            if until < now:
                del self.open_tasks[task_id]
        return bool(self.open_tasks)

    def _stamp(self) -> str | None:
        """Return the digest of the configuration file's content (an edit may keep mtime and size)."""
        try:
            data = self.config_path.read_bytes() if self.config_path else None
        except OSError:
            return None
        return hashlib.sha256(data).hexdigest() if data is not None else None

    def config_changed(self) -> bool:
        """Tell whether the server's effective configuration is no longer what this session serves."""
        if self._stamp() == self.stamp:
            return False
        try:
            current = load_config(self.config_path).server(self.name)
        except MCPError:
            return True
        self.stamp = self._stamp()
        return fingerprint(current) != self.fingerprint

    def info(self) -> dict[str, Any]:
        """Return the session's description and counters."""
        return {
            "server": self.name,
            "config": str(self.config_path) if self.config_path else None,
            "pid": os.getpid(),
            "socket": str(socket_path(self.key)),
            "started_at": self.started_at,
            "idle_timeout": self.idle_timeout,
            "started_by": self.started_by,
            "requests": self.requests,
            "last_request_at": self.last_request_at,
            "idle_s": 0.0 if self.active else round(time.time() - self.last_request_at, 1),
            "env_names": self.env_names,
            "env_hash": env_fingerprint(self.env_names),
        }


async def _operate(session: Session, request: dict[str, Any], send: Any) -> Any:
    """Carry out one request with the session's manager."""
    manager, name, op = session.manager, session.name, request.get("op")
    params = request.get("params") or {}

    async def progress(_server: str, done: float, total: float | None, message: str | None) -> None:
        await send({"event": "progress", "progress": done, "total": total, "message": message})

    if op == "call":
        definition = await manager.get_tool(name, params["tool"])
        values = arguments.build(
            name, params["tool"], definition, params.get("args") or {}, params.get("pairs")
        )
        if params.get("dry_run"):
            return {"dry_run": values}
        on_progress = progress if request.get("progress") else None
        return await manager.call_tool(
            name, params["tool"], values, timeout=params.get("timeout"), on_progress=on_progress
        )
    if op in _TASK_OPS:
        return await _operate_task(session, op, params, progress if request.get("progress") else None)
    link = CURRENT.get()
    if op in WATCHES and link is not None:
        return await relay_watch(manager, name, str(op), params, link, session.stopping)
    if op == "call_tool":
        return await manager.call_tool(
            name,
            params["tool"],
            params.get("arguments"),
            timeout=params.get("timeout"),
            on_progress=progress if request.get("progress") else None,
        )
    simple: dict[str, Callable[[], Awaitable[Any]]] = {
        "list_tools": lambda: manager.list_tools(name),
        "get_tool": lambda: manager.get_tool(name, params["tool"]),
        "list_resources": lambda: manager.list_resources(name),
        "list_resource_templates": lambda: manager.list_resource_templates(name),
        "read_resource": lambda: manager.read_resource(name, params["uri"]),
        "list_prompts": lambda: manager.list_prompts(name),
        "get_prompt": lambda: manager.get_prompt(name, params["prompt"], params.get("arguments")),
        "health_check": lambda: manager.health_check(name),
        "complete": lambda: manager.complete(
            name, params["ref"], params["argument"], params["value"], params.get("context")
        ),
    }
    if op not in simple:
        raise MCPError(f"a session does not know the request {op!r}")
    return await simple[op]()


_TASK_OPS = frozenset({"start_task", "task_result", "get_task", "cancel_task", "list_tasks"})


async def _operate_task(session: Session, op: str, params: dict[str, Any], on_progress: Any) -> Any:
    """Carry out one tasks request over the session's handshake-era connection."""
    manager, name = session.task_manager, session.name
    if op == "start_task":
        task = await manager.start_task(
            name, params["tool"], params.get("arguments"), ttl_ms=params.get("ttl_ms")
        )
        session.note_task(task | {"started": True})
        return task
    if op == "task_result":
        try:
            return await manager.task_result(
                name, params["task_id"], timeout=params.get("timeout"), on_progress=on_progress
            )
        finally:
            task_id = params["task_id"]
            with contextlib.suppress(MCPError):
                session.note_task(await manager.get_task(name, task_id))
    if op == "list_tasks":
        listed = await manager.list_tasks(name, params.get("known") or [])
        for task in listed:
            session.note_task(task)
        return listed
    task_id = params["task_id"]
    done = await (manager.get_task if op == "get_task" else manager.cancel_task)(name, task_id)
    session.note_task(done)
    return done


async def _handle(session: Session, stream: SocketStream) -> None:
    """Serve one client: read its request, stream events, write the reply."""
    async with stream:

        async def send(message: dict[str, Any]) -> None:
            # A client that left mid-request costs only its own replies; the others go on.
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                await stream.send(json.dumps(message).encode() + b"\n")

        request = await _read_request(stream)
        if request is None:
            return
        session.active += 1  # until the reply is out: a stopping session waits for it
        link = ClientLink(send, interactive=request.get("interactive") is True)
        session.relay.links.append(link)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(link.pump, stream)
                await link.finish(await _served(session, request, link))
        finally:
            session.relay.links.remove(link)
            session.active -= 1
        if request.get("op") == "stop":
            session.stopping.set()  # after the reply, so the client hears it


async def _served(session: Session, request: dict[str, Any], link: ClientLink) -> dict[str, Any]:
    """Return the reply to a request, with what its server asks sent to the client that made it."""
    token = CURRENT.set(link)
    try:
        return await _reply(session, request, _progress_to(link))
    except Exception as exc:  # one bad request must not take the session (and its clients) down
        traceback.print_exc()
        return {"error": error_document(MCPError(f"internal error in the session: {exc!r}"))}
    finally:
        CURRENT.reset(token)


def _progress_to(link: ClientLink) -> Callable[[dict[str, Any]], Awaitable[None]]:
    async def send(event: dict[str, Any]) -> None:
        link.post(event)

    return send


async def _read_request(stream: SocketStream) -> dict[str, Any] | None:
    """Read one JSON line; None for a client that left, sent too much, or sent no JSON object."""
    buffer = b""
    while b"\n" not in buffer:
        if len(buffer) > _LINE_LIMIT:
            return None
        try:
            buffer += await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            return None
    try:
        request = json.loads(buffer.split(b"\n", 1)[0])
    except ValueError:
        return None
    return request if isinstance(request, dict) and isinstance(request.get("params", {}), dict) else None


async def _reply(session: Session, request: dict[str, Any], send: Any) -> dict[str, Any]:
    """Return the final reply to one request (a result or an error)."""
    op = request.get("op")
    if op == "info":
        return {"result": session.info() | {"stale": session.config_changed()}}
    if op == "stop":
        return {"result": {"stopped": True}}
    if session.stopping.is_set() or session.config_changed():
        session.stopping.set()
        return {"error": {"type": "stale", "message": f"the session for '{session.name}' is stopping"}}
    try:
        return {"result": await _operate(session, request, send)}
    except KeyError as missing:
        return {"error": error_document(MCPUsageError(f"the request lacks {missing}"))}
    except MCPError as error:
        if isinstance(error, MCPConnectionError):
            session.stopping.set()  # the server is gone and the retry policy could not bring it back
        return {"error": error_document(error)}
    finally:
        session.requests += 1
        session.last_request_at = time.time()
        # SQLite may wait on other writers; the event loop serves the other clients meanwhile.
        await anyio.to_thread.run_sync(session.manager.flush_stats)


async def serve(session: Session, lock_fd: int | None = None) -> None:
    """Connect the server, publish the socket, and serve until a reason to stop."""
    directory = private_dir(sessions_dir())
    with _exclusive(directory / f"{session.key}.lock", lock_fd):
        async with session.manager:
            await session.manager.connect_server(session.name)
            # Entered once the server runs, so that leaving it never takes that server for an
            # escaped child to end; left first, so it ends its own server itself.
            async with session.task_manager:
                await _serve_connected(session)
    session.stats.close()  # after the manager's exit, which records the last requests


async def _serve_connected(session: Session) -> None:
    """Publish the socket and serve until a reason to stop."""
    listener = await _listen(socket_path(session.key))
    session.last_request_at = time.time()  # idle from now: connecting may have taken a while
    try:
        async with anyio.create_task_group() as tg:
            # Signals are watched before the session is listed: a SIGTERM sent as soon as it
            # shows up in `session list` still stops it (and its server) cleanly.
            await tg.start(_watch_signals, session)
            write_atomically(info_path(session.key), json.dumps(session.info()).encode(), mode=0o600)
            starting_path(session.key).unlink(missing_ok=True)  # served: nobody need wait for it
            tg.start_soon(listener.serve, lambda s: _handle(session, s), tg)
            tg.start_soon(_watch_idle, session)
            await session.stopping.wait()
            await _drain(session, listener)
            tg.cancel_scope.cancel()
    finally:
        remove(session.key, owner=os.getpid())
        with contextlib.suppress(anyio.ClosedResourceError):
            await listener.aclose()


async def _drain(session: Session, listener: Any) -> None:
    """Stop taking requests, then let the ones under way finish (within a bound)."""
    remove(session.key, owner=os.getpid())  # new clients go direct from now on
    with anyio.move_on_after(session.config.request_timeout + 5):
        while session.active:
            await anyio.sleep(0.05)


@contextlib.contextmanager
def _exclusive(path: Path, inherited: int | None = None) -> Iterator[None]:
    """Hold the lock that makes this the only session for its key; exit quietly if another has it.

    The launcher takes the lock before spawning and passes it on (`inherited`): locking it
    again here only confirms it, while a second session's lock on the file fails.
    """
    import fcntl

    descriptor = (
        inherited if inherited is not None else open_private(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    )
    os.set_inheritable(descriptor, False)  # a server holding it would keep the lock past this session
    with os.fdopen(descriptor, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _AlreadyRunning from None
        yield


class _AlreadyRunning(Exception):
    """Another process serves this server's session already."""


_STOPPING = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


async def _watch_signals(
    session: Session, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
) -> None:
    """Stop cleanly (servers and their children too) on SIGTERM, SIGINT or SIGHUP; a second kills."""
    with anyio.open_signal_receiver(*_STOPPING) as signals:
        task_status.started()  # the handlers are in place
        async for signum in signals:
            session.signalled = signum
            session.stopping.set()
            break
    # The receiver is gone and the clean-up may take seconds: a second signal ends it at once.
    for signum in _STOPPING:
        signal.signal(signum, lambda *_: _kill_now(session))


def _kill_now(session: Session) -> None:
    end_children_now()
    remove(session.key, owner=os.getpid())
    os._exit(128 + (session.signalled or signal.SIGTERM))


async def _listen(path: Path) -> Any:
    """Listen on a Unix socket only the user can use (bound by a short name if the path is long)."""
    path.unlink(missing_ok=True)
    here = Path.cwd()
    os.chdir(path.parent)  # sockaddr_un holds ~100 bytes; the relative name always fits
    try:
        listener = await anyio.create_unix_listener(path.name, mode=0o600)
    finally:
        os.chdir(here)
    return listener


async def _watch_idle(session: Session) -> None:
    """Stop the session once nobody has used it for its idle timeout."""
    while True:
        await anyio.sleep(min(1.0, session.idle_timeout))
        idle = time.time() - session.last_request_at
        if not session.active and not session.busy_with_tasks() and idle >= session.idle_timeout:
            session.stopping.set()
            return


def main() -> None:
    """Run one session in the foreground (session start runs it detached)."""
    parser = argparse.ArgumentParser(prog="python -m gemma_mcp_cli.sessions.daemon")
    parser.add_argument("--server", required=True)
    parser.add_argument("--config")
    parser.add_argument("--idle-timeout", type=float, default=600.0)
    parser.add_argument("--started-by", default="session_start")
    parser.add_argument("--lock-fd", type=int)  # the session's lock, taken by the launcher
    options = parser.parse_args()
    config = Path(options.config) if options.config else None
    become_subreaper()  # the server's children that escape its group with setsid() come back here
    try:
        session = Session(options.server, config, options.idle_timeout, options.started_by)
        anyio.run(serve, session, options.lock_fd)
        if session.signalled is not None:
            sys.exit(128 + session.signalled)
    except _AlreadyRunning:
        return  # a concurrent `session start` won; the caller finds that session
    except MCPError as error:
        # `session start` shows this line: the reason the session could not start.
        sys.stderr.write(visible(f"Error: {error.message}") + "\n")
        sys.exit(int(error.exit_code))


if __name__ == "__main__":
    main()
