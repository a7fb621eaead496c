"""Warm sessions, the client side: where they live, whether one is live, how to ask it.

Standard library only: a warm `call` must cost little more than starting the interpreter.
A session is a background process holding one server connected; it listens on a Unix socket
in a directory only the user can enter and speaks JSON lines: one request, then events
(progress, logs) and one final reply.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gemma_mcp_cli._paths import state_dir
from gemma_mcp_cli.errors import MCPError

SOCKET_LIMIT = 100  # bytes; a longer path is bound and reached through its directory
Event = Callable[[dict[str, Any]], None]


def sessions_dir() -> Path:
    """Return the user-only directory that holds the sessions' sockets and descriptions."""
    return state_dir() / "sessions"


def session_key(server: str, config: Path | None) -> str:
    """Return the name shared by one server's session files, per configuration file."""
    text = f"{config.resolve() if config else '<built-in>'}\0{server}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def info_path(key: str) -> Path:
    """Return the file describing a session (pid, server, socket, start time)."""
    return sessions_dir() / f"{key}.json"


def socket_path(key: str) -> Path:
    """Return a session's socket."""
    return sessions_dir() / f"{key}.sock"


def read_info(key: str) -> dict[str, Any] | None:
    """Return a session's description if its process is alive; remove a dead one's files."""
    try:
        info = json.loads(info_path(key).read_text(encoding="utf-8"))
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid):
        remove(key)
        return None
    return info if isinstance(info, dict) else None


def _alive(pid: int) -> bool:
    """Tell whether a process runs (a zombie, killed but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc here: the signal test is all there is
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"


def remove(key: str) -> None:
    """Remove a session's socket and description (a stale one, or on its way out)."""
    for path in (socket_path(key), info_path(key)):
        path.unlink(missing_ok=True)


def all_sessions() -> list[dict[str, Any]]:
    """Return every live session's description (cleaning up after dead ones)."""
    found = []
    for path in sorted(sessions_dir().glob("*.json")) if sessions_dir().is_dir() else []:
        info = read_info(path.stem)
        if info is not None:
            found.append(info | {"key": path.stem})
    return found


@contextlib.contextmanager
def _connected(path: Path, timeout: float | None) -> Iterator[socket.socket]:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(timeout)
    try:
        if len(os.fsencode(path)) < SOCKET_LIMIT:
            client.connect(os.fspath(path))
        else:  # too long for sockaddr_un: connect by a short relative name
            here = os.open(".", os.O_RDONLY)
            try:
                os.chdir(path.parent)
                client.connect(path.name)
            finally:
                os.fchdir(here)
                os.close(here)
        yield client
    finally:
        client.close()


def ask(
    key: str, request: dict[str, Any], on_event: Event | None = None, timeout: float | None = None
) -> Any:
    """Send one request to a session; return its result or raise the error it reports.

    Raises ConnectionError when the session cannot be reached (the caller falls back).
    """
    try:
        return _ask(key, request, on_event, timeout)
    except (ConnectionRefusedError, FileNotFoundError):
        remove(key)  # nothing listens there any more: a stale socket
        raise


def _ask(key: str, request: dict[str, Any], on_event: Event | None, timeout: float | None) -> Any:
    with _connected(socket_path(key), timeout) as client:
        client.sendall(json.dumps(request).encode() + b"\n")
        with client.makefile("rb") as replies:
            for line in replies:
                message = json.loads(line)
                if "event" in message:
                    if on_event is not None:
                        on_event(message)
                    continue
                if "error" in message:
                    raise error_from(message["error"])
                return message.get("result")
    raise ConnectionError("the session closed the connection without a reply")


class StaleSessionError(ConnectionError):
    """The session serves an older configuration of the server and is stopping."""


def error_from(data: dict[str, Any]) -> Exception:
    """Rebuild the error a session reported, with its kind and exit code."""
    if data.get("type") == "stale":
        return StaleSessionError(data.get("message", "stale session"))
    kinds = {cls.kind: cls for cls in _subclasses(MCPError)}
    cls = kinds.get(str(data.get("type")), MCPError)
    error = cls.__new__(cls)
    MCPError.__init__(error, str(data.get("message", "")), server=data.get("server"), hint=data.get("hint"))
    for name, value in (("code", data.get("code")), ("transient", data.get("transient", True))):
        setattr(error, name, value)
    return error


def _subclasses(cls: type[MCPError]) -> list[type[MCPError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found += _subclasses(sub)
    return found


def error_document(error: MCPError) -> dict[str, Any]:
    """Return what a session sends for an error (the envelope plus the hint and code)."""
    return error.as_dict() | {
        "hint": error.hint,
        "code": getattr(error, "code", None),
        "transient": getattr(error, "transient", True),
    }


def uptime(info: dict[str, Any]) -> float:
    """Return how long a session has been running, in seconds."""
    return time.time() - float(info.get("started_at", time.time()))
