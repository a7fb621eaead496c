"""Warm sessions, the client side: where they live, whether one is live, how to ask it.

Standard library only: a warm `call` must cost little more than starting the interpreter.
A session is a background process holding one server connected; it listens on a Unix socket
in a directory only the user can enter and speaks JSON lines: one request, then events
(progress, logs) and one final reply.

Every import here is paid by each warm call, so this module keeps to the cheap ones: the
socket is `_socket`, the C module that `socket` wraps (`socket` builds its enums at import,
a few milliseconds that a warm call would spend before sending a byte), and the digests
come from `config.environment.sha256_hex` (no OpenSSL load). The error family is loaded
only when a session reports an error.
"""

from __future__ import annotations

import _socket
import contextlib
import json
import os
import time
from pathlib import Path

from gemma_mcp_cli.config.environment import env_fingerprint, sha256_hex
from gemma_mcp_cli.state.paths import state_dir

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see above)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from gemma_mcp_cli.errors import MCPError

    # An event from the session; for an `ask` event, it returns the answer line to send back.
    Event = Callable[[dict[str, Any]], dict[str, Any] | None]

SOCKET_LIMIT = 100  # bytes; a longer path is bound and reached through its directory
_CHUNK = 65536  # bytes read from the socket at a time


def sessions_dir() -> Path:
    """Return the user-only directory that holds the sessions' sockets and descriptions."""
    return state_dir() / "sessions"


def session_key(server: str, config: Path | None) -> str:
    """Return the name shared by one server's session files, per configuration file."""
    text = f"{config.resolve() if config else '<built-in>'}\0{server}"
    return sha256_hex(text.encode())[:16]


def info_path(key: str) -> Path:
    """Return the file describing a session (pid, server, socket, start time)."""
    return sessions_dir() / f"{key}.json"


def socket_path(key: str) -> Path:
    """Return a session's socket."""
    return sessions_dir() / f"{key}.sock"


def read_info(key: str) -> dict[str, Any] | None:
    """Return a session's description if its process is alive; remove a dead one's files."""
    if not _trusted(sessions_dir()):
        return None
    try:
        info = json.loads(info_path(key).read_text(encoding="utf-8"))
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not alive(pid):
        remove(key, only_if_dead=True)
        return None
    return info if isinstance(info, dict) else None


def started_info(key: str, limit: float) -> dict[str, Any] | None:
    """Return a session's description, waiting up to `limit` seconds for one that is starting.

    The launcher leaves a marker naming the session's process (`starting_path`), which the
    session removes once it serves. A command that finds the marker, its process alive and no
    description yet (the session that the previous command of a loop launched, still loading
    the SDK) waits for it: it is ahead of a cold start of our own. A session that cannot start
    exits (after its server's connection_timeout at most), and the wait ends with it.
    """
    if key in WARMING:
        return None  # this command launched it for the next one, and works on without it
    info = read_info(key)
    deadline = time.monotonic() + limit
    while info is None and _starting(key) and time.monotonic() < deadline:
        time.sleep(_START_POLL)
        info = read_info(key)
    # The session publishes its description before it removes the note: it may have done both
    # between the last two looks.
    return info if info is not None else read_info(key)


_START_POLL = 0.005  # seconds between looks at a starting session
WARMING: set[str] = set()  # keys of the keep-alive sessions this process launched for the next command
START_WAIT = 30.0  # seconds at most; a session gives up by itself after its server's connection_timeout


def starting_path(key: str) -> Path:
    """Where the launcher notes the pid of a session that has not served yet."""
    return sessions_dir() / f"{key}.starting"


def _starting(key: str) -> bool:
    """Tell whether the session process the launcher noted is alive (it has not served yet)."""
    if not _trusted(sessions_dir()):
        return False  # read_info uses no session from here either
    try:
        descriptor = os.open(starting_path(key), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        if time.time() - os.fstat(descriptor).st_mtime > START_WAIT:
            return False  # left by a session that never served: its pid may be another's by now
        pid = int(os.read(descriptor, 32).decode("ascii").strip())
    except (OSError, ValueError):
        return False
    finally:
        os.close(descriptor)
    return is_session_process(pid)


def _trusted(directory: Path) -> bool:
    """Use sessions only from a directory that is ours and closed to everybody else."""
    try:
        status = directory.stat()
    except OSError:
        return False
    return status.st_uid == os.getuid() and not status.st_mode & 0o077


def usable(info: dict[str, Any]) -> bool:
    """Whether this process's environment is the one the session resolved its configuration in."""
    names = info.get("env_names")
    return isinstance(names, list) and env_fingerprint([str(n) for n in names]) == info.get("env_hash")


def is_session_process(pid: int) -> bool:
    """Whether a pid is (still) a session process, not another program that got its number."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return alive(pid)  # no /proc here: trust the signal test
    return b"gemma_mcp_cli.sessions.daemon" in command  # daemon_start (launch), or daemon itself


def alive(pid: int) -> bool:
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


def remove(key: str, *, only_if_dead: bool = False, owner: int | None = None) -> None:
    """Remove a session's socket and description (a stale one's, or one's own on the way out).

    Never a newer session's: with `owner`, only if the description names that pid; with
    `only_if_dead`, only if the process it names is gone.
    """
    try:
        pid = int(json.loads(info_path(key).read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        pid = None
    if (owner is not None and pid not in (owner, None)) or (only_if_dead and pid is not None and alive(pid)):
        return
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


_CHDIR: list[Any] = []  # a lock: connecting by a relative name changes the working directory briefly


def _chdir_lock() -> Any:
    if not _CHDIR:
        import threading

        _CHDIR.append(threading.Lock())
    return _CHDIR[0]


class SessionUnavailable(ConnectionError):
    """Nothing was sent: no session listens (or it refused the request unread). Safe to go direct."""


class SessionLost(Exception):
    """The request went out and the session ended before answering: it may have run."""


@contextlib.contextmanager
def _connected(path: Path, timeout: float | None) -> Iterator[Any]:
    client = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    client.settimeout(timeout)
    try:
        _connect(client, path)
        yield client
    finally:
        client.close()


def _connect(client: Any, path: Path) -> None:
    if len(os.fsencode(path)) < SOCKET_LIMIT:
        client.connect(os.fspath(path))
        return
    with _chdir_lock():  # too long for sockaddr_un: connect by a short relative name
        here = os.open(".", os.O_RDONLY)
        try:
            os.chdir(path.parent)
            client.connect(path.name)
        finally:
            os.fchdir(here)
            os.close(here)


def open_socket(key: str, request: dict[str, Any]) -> Any:
    """Connect to a session and send one request; return the socket its events and reply come on.

    For a request that streams (a watch): the caller reads the lines itself. Raises
    SessionUnavailable when the request could not be sent.
    """
    client = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        _connect(client, socket_path(key))
        client.sendall(json.dumps(request).encode() + b"\n")
    except OSError as exc:  # nothing was started: the caller may go direct
        client.close()
        remove(key, only_if_dead=True)
        raise SessionUnavailable(str(exc)) from None
    return client


def ask(
    key: str, request: dict[str, Any], on_event: Event | None = None, timeout: float | None = None
) -> Any:
    """Send one request to a session; return its result or raise the error it reports.

    Raises SessionUnavailable when nothing was sent (the caller may go direct) and
    SessionLost when the request went out but no answer came back.
    """
    try:
        with _connected(socket_path(key), timeout) as client:
            client.sendall(json.dumps(request).encode() + b"\n")
            return _replies(client, on_event)
    except SessionUnavailable:
        raise  # a stale session refused the request unread
    except (ConnectionRefusedError, FileNotFoundError) as exc:
        remove(key, only_if_dead=True)  # nothing listens there any more: a stale socket
        raise SessionUnavailable(str(exc)) from None
    except OSError as exc:
        raise SessionLost(f"the session stopped answering ({exc})") from None


def _replies(client: Any, on_event: Event | None) -> Any:
    for line in _lines(client):
        try:
            message = json.loads(line)
        except ValueError:
            raise SessionLost("the session sent a broken reply") from None
        if "event" in message:
            answer = on_event(message) if on_event is not None else None
            if answer is not None:  # the session asked (the server asked it): answer on the line
                client.sendall(json.dumps(answer).encode() + b"\n")
            continue
        if "error" in message:
            raise error_from(message["error"])
        return message.get("result")
    raise SessionLost("the session ended before answering")


def _lines(client: Any) -> Iterator[bytes]:
    """Yield the lines a socket receives, each with its newline; then an unfinished last one."""
    pending: list[bytes] = []
    while chunk := client.recv(_CHUNK):
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            yield b"".join([*pending, chunk[start : end + 1]])
            pending, start = [], end + 1
        if start < len(chunk):
            pending.append(chunk[start:])
    if pending:
        yield b"".join(pending)


class StaleSessionError(SessionUnavailable):
    """The session serves an older configuration of the server; it did nothing and is stopping."""


def error_from(data: dict[str, Any]) -> Exception:
    """Rebuild the error a session reported, with its kind and exit code."""
    from gemma_mcp_cli.errors import MCPError

    if data.get("type") == "stale":
        return StaleSessionError(data.get("message", "stale session"))
    # The class nearest the root names a kind: a subclass elsewhere that inherits its kind
    # (say, one that only carries more data) must not take over errors it never raised.
    kinds: dict[str, type[MCPError]] = {}
    for known in _subclasses(MCPError):
        kinds.setdefault(known.kind, known)
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


def answer_line(number: Any, answer: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Return the line that answers a session's `ask` event: the answer, or why there is none."""
    from gemma_mcp_cli.errors import MCPError

    try:
        return {"answer": number, "result": answer()}
    except MCPError as error:
        return {"answer": number, "error": error_document(error)}


def uptime(info: dict[str, Any]) -> float:
    """Return how long a session has been running, in seconds."""
    return time.time() - float(info.get("started_at", time.time()))
