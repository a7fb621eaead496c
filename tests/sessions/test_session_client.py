"""The session client's own rules, in process: keys, descriptions, liveness, the JSON-lines channel.

The peer in the channel tests is a real Unix socket served by a thread, speaking the session's
JSON lines; the daemon side is covered end to end in test_sessions.py and test_session_proofs.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gemma_mcp_cli import errors
from gemma_mcp_cli.config.environment import env_fingerprint
from gemma_mcp_cli.sessions import client
from tests.conftest import process_ended
from tests.waiting import wait_until


@pytest.fixture
def sessions(tmp_path: Path) -> Path:
    folder = client.sessions_dir()
    folder.mkdir(parents=True, mode=0o700)
    assert folder == tmp_path / "state" / "sessions"
    return folder


def describe(key: str, **info: Any) -> None:
    client.info_path(key).write_text(json.dumps(info))


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_key_is_16_hex_digits_per_server_and_config_file(tmp_path: Path, workdir: Path) -> None:
    config = tmp_path / "c.toml"
    key = client.session_key("a", config)
    assert len(key) == 16 and int(key, 16) >= 0
    assert key == client.session_key("a", Path("../c.toml"))  # the same file, however named
    assert len({key, client.session_key("b", config), client.session_key("a", None)}) == 3
    assert client.session_key("a", None) == client.session_key("a", None)


def test_the_files_of_a_session_sit_in_the_user_only_folder(sessions: Path) -> None:
    assert client.info_path("k") == sessions / "k.json"
    assert client.socket_path("k") == sessions / "k.sock"


def test_a_live_sessions_description_is_read(sessions: Path) -> None:
    describe("k", pid=os.getpid(), server="s")
    assert client.read_info("k") == {"pid": os.getpid(), "server": "s"}
    assert client.all_sessions() == [{"pid": os.getpid(), "server": "s", "key": "k"}]


def test_a_dead_sessions_files_are_removed_when_read(sessions: Path) -> None:
    describe("k", pid=dead_pid())
    client.socket_path("k").write_text("")
    assert client.read_info("k") is None
    assert list(sessions.iterdir()) == []
    assert client.all_sessions() == []


@pytest.mark.parametrize("text", ["not json", "[]", '{"server": "s"}', '{"pid": "x"}', '{"pid": null}'])
def test_a_broken_description_is_no_session(sessions: Path, text: str) -> None:
    client.info_path("k").write_text(text)
    assert client.read_info("k") is None


def test_a_folder_others_can_enter_is_not_trusted(sessions: Path) -> None:
    describe("k", pid=os.getpid())
    sessions.chmod(0o755)
    assert client.read_info("k") is None
    sessions.chmod(0o700)
    assert client.read_info("k") is not None


def test_no_folder_no_sessions(tmp_path: Path) -> None:
    assert client.read_info("k") is None and client.all_sessions() == []


def test_a_session_is_usable_only_from_the_environment_it_resolved_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MARK", "a")
    info = {"env_names": ["MARK"], "env_hash": env_fingerprint(["MARK"])}
    assert client.usable(info)
    monkeypatch.setenv("MARK", "b")
    assert not client.usable(info)
    assert not client.usable({"env_names": "MARK", "env_hash": env_fingerprint(["MARK"])})
    assert not client.usable({})


def test_liveness_of_processes() -> None:
    assert client.alive(os.getpid())
    assert not client.alive(dead_pid())
    assert not client.is_session_process(os.getpid())  # alive, but not a session daemon
    assert not client.is_session_process(dead_pid())


def test_a_zombie_is_not_alive() -> None:
    child = subprocess.Popen(["true"])
    wait_until(lambda: process_ended(child.pid))  # exited, not yet reaped
    assert not client.alive(child.pid)
    child.wait()


def test_remove_never_takes_a_newer_or_a_live_sessions_files(sessions: Path) -> None:
    describe("k", pid=os.getpid())
    client.remove("k", owner=os.getpid() + 1)
    client.remove("k", only_if_dead=True)
    assert client.info_path("k").exists()
    client.remove("k", owner=os.getpid())
    assert not client.info_path("k").exists()
    describe("k", pid=dead_pid())
    client.socket_path("k").write_text("")
    client.remove("k", only_if_dead=True)
    assert list(sessions.iterdir()) == []
    client.remove("k")  # nothing left to remove is fine


# --- the channel ---------------------------------------------------------------------------------

Peer = Callable[[bytes], list[bytes]]


@pytest.fixture
def peer(sessions: Path) -> Iterator[Callable[[Peer, str], list[bytes]]]:
    """Serve one connection on a session socket with `answer(request) -> reply lines`."""
    threads: list[threading.Thread] = []
    listeners: list[socket.socket] = []

    def serve(answer: Peer, key: str = "k") -> list[bytes]:
        received: list[bytes] = []
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        path = client.socket_path(key)
        here = Path.cwd()
        os.chdir(path.parent)  # the path may be longer than a socket address allows
        try:
            listener.bind(path.name)
        finally:
            os.chdir(here)
        listener.listen(1)
        listeners.append(listener)

        def one() -> None:
            conn, _ = listener.accept()
            with conn, conn.makefile("rb") as lines:
                request = lines.readline()
                received.append(request)
                for reply in answer(request):
                    conn.sendall(reply)

        thread = threading.Thread(target=one, daemon=True)
        thread.start()
        threads.append(thread)
        return received

    yield serve
    for listener in listeners:
        listener.close()
    for thread in threads:
        thread.join(timeout=10)


def test_ask_sends_one_line_passes_events_on_and_returns_the_result(peer: Any) -> None:
    received = peer(lambda _: [b'{"event": "progress", "progress": 1}\n', b'{"result": {"ok": 1}}\n'])
    events: list[dict[str, Any]] = []
    assert client.ask("k", {"op": "info"}, events.append, timeout=10) == {"ok": 1}
    assert events == [{"event": "progress", "progress": 1}]
    assert [json.loads(line) for line in received] == [{"op": "info"}]


def test_events_without_a_listener_are_skipped(peer: Any) -> None:
    peer(lambda _: [b'{"event": "log"}\n', b'{"result": 7}\n'])
    assert client.ask("k", {"op": "x"}, timeout=10) == 7


def test_a_reported_error_is_raised_with_its_kind_and_exit_code(peer: Any) -> None:
    document = client.error_document(errors.MCPTimeoutError("too slow", server="s", hint="wait"))
    peer(lambda _: [json.dumps({"error": document}).encode() + b"\n"])
    with pytest.raises(errors.MCPTimeoutError) as raised:
        client.ask("k", {"op": "call"}, timeout=10)
    assert (raised.value.message, raised.value.server, raised.value.hint) == ("too slow", "s", "wait")
    assert raised.value.exit_code == errors.ExitCode.TIMEOUT


@pytest.mark.parametrize("replies", [[], [b"not json\n"], [b'{"event": "progress"}\n']])
def test_no_answer_or_a_broken_one_is_a_lost_session(peer: Any, replies: list[bytes]) -> None:
    peer(lambda _: replies)
    with pytest.raises(client.SessionLost):
        client.ask("k", {"op": "call"}, timeout=10)


def test_a_stale_socket_is_unavailable_and_cleaned_up(sessions: Path) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(os.fspath(client.socket_path("k")))
    stale.close()  # bound, never listening: connections are refused
    describe("k", pid=dead_pid())
    with pytest.raises(client.SessionUnavailable):
        client.ask("k", {"op": "call"}, timeout=10)
    assert list(sessions.iterdir()) == []
    with pytest.raises(client.SessionUnavailable):
        client.ask("gone", {"op": "call"}, timeout=10)


def test_a_stale_reply_says_the_request_was_not_run(peer: Any) -> None:
    peer(lambda _: [b'{"error": {"type": "stale", "message": "stopping"}}\n'])
    with pytest.raises(client.StaleSessionError, match="stopping") as raised:
        client.ask("k", {"op": "call"}, timeout=10)
    assert isinstance(raised.value, client.SessionUnavailable)


def test_a_socket_path_too_long_for_an_address_is_reached_through_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, peer: Any
) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    monkeypatch.setenv("GEMMA_MCP_STATE_DIR", str(deep))
    client.sessions_dir().mkdir(parents=True, mode=0o700)
    assert len(os.fsencode(client.socket_path("k"))) >= client.SOCKET_LIMIT
    peer(lambda _: [b'{"result": "far"}\n'])
    here = Path.cwd()
    assert client.ask("k", {"op": "x"}, timeout=10) == "far"
    assert Path.cwd() == here


# Each class that names a kind of its own; one that inherits its kind comes back as that ancestor.
FAMILY = [
    c for c in client._subclasses(errors.MCPError) if c.__module__ == errors.__name__ and "kind" in vars(c)
]


@pytest.mark.parametrize("cls", FAMILY)
def test_every_error_survives_the_trip_through_a_session(cls: type[errors.MCPError]) -> None:
    original = cls("m", server="s", hint="h")
    back = client.error_from(client.error_document(original))
    assert type(back) is cls
    assert (back.message, back.server, back.hint, back.exit_code) == ("m", "s", "h", original.exit_code)


def test_codes_and_transience_survive_too() -> None:
    server = client.error_from(client.error_document(errors.MCPServerError("m", code=-32602)))
    assert isinstance(server, errors.MCPServerError) and server.code == -32602
    final = client.error_from(client.error_document(errors.MCPConnectionError("m", transient=False)))
    assert isinstance(final, errors.MCPConnectionError) and final.transient is False
    assert client.error_document(errors.MCPUsageError("m"))["code"] is None
    assert client.error_document(errors.MCPUsageError("m"))["transient"] is True


def test_an_unknown_error_kind_becomes_a_plain_error() -> None:
    error = client.error_from({"type": "martian", "message": "m"})
    assert type(error) is errors.MCPError and str(error) == "m"
    assert str(client.error_from({})) == ""


def test_uptime_counts_from_the_start() -> None:
    import time

    assert 99 < client.uptime({"started_at": time.time() - 100}) < 200
    assert client.uptime({}) < 1


def test_the_built_in_configurations_key_is_stable_across_versions() -> None:
    import hashlib

    # A session started by one version must be found by the next: the key's recipe is pinned.
    assert client.session_key("a", None) == hashlib.sha256(b"<built-in>\0a").hexdigest()[:16]


def test_a_session_daemon_is_recognised_by_its_command_line() -> None:
    code = "import sys; print('running', flush=True); sys.stdin.read()"
    looks_like = [sys.executable, "-c", code, "gemma_mcp_cli.sessions.daemon"]
    child = subprocess.Popen(looks_like, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline() == b"running\n"  # past exec: /proc shows its own command line
        assert client.is_session_process(child.pid)
    finally:
        child.stdin.close()
        child.stdout.close()
        child.wait(timeout=30)


def test_asking_whether_a_process_is_alive_does_not_signal_it() -> None:
    child = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    try:
        assert client.alive(child.pid)
        child.stdin.write(b"still here\n")
        child.stdin.flush()
        assert child.stdout.readline() == b"still here\n"  # a hangup would have ended it
    finally:
        child.stdin.close()
        child.stdout.close()
        child.wait(timeout=30)


def test_a_process_whose_name_holds_a_parenthesis_is_read_correctly(tmp_path: Path) -> None:
    import shutil

    odd = tmp_path / "x) Z (y"  # the name sits in parentheses in /proc/PID/stat
    odd.symlink_to(shutil.which("cat") or "/bin/cat")
    child = subprocess.Popen([str(odd)], stdin=subprocess.PIPE)
    assert child.stdin is not None
    try:
        assert client.alive(child.pid)
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def test_a_refused_socket_of_a_live_session_keeps_its_description(sessions: Path) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(os.fspath(client.socket_path("k")))
    stale.close()
    describe("k", pid=os.getpid())  # its process still runs: perhaps it is only starting up
    with pytest.raises(client.SessionUnavailable, match="refused"):
        client.ask("k", {"op": "call"}, timeout=10)
    assert client.info_path("k").exists()


def test_a_session_that_does_not_answer_in_time_is_lost(peer: Any) -> None:
    release = threading.Event()

    def hold(_: bytes) -> list[bytes]:
        release.wait(timeout=30)
        return []

    peer(hold)
    try:
        with pytest.raises(client.SessionLost, match=r"^the session stopped answering \(timed out\)$"):
            client.ask("k", {"op": "call"}, timeout=0.2)
    finally:
        release.set()


@pytest.mark.parametrize(
    ("replies", "message"),
    [
        ([], "the session ended before answering"),
        ([b"not json\n"], "the session sent a broken reply"),
    ],
)
def test_a_lost_session_says_what_happened(peer: Any, replies: list[bytes], message: str) -> None:
    peer(lambda _: replies)
    with pytest.raises(client.SessionLost, match=f"^{message}$"):
        client.ask("k", {"op": "call"}, timeout=10)


def test_defaults_of_a_reported_error() -> None:
    assert str(client.error_from({"type": "stale"})) == "stale session"
    error = client.error_from({"type": "connection", "message": "m"})
    assert isinstance(error, errors.MCPConnectionError) and error.transient is True


def test_a_subclass_that_inherits_a_kind_does_not_take_its_errors_over() -> None:
    class Detailed(errors.MCPServerError):
        """Carries more, names no kind of its own (as a command's own failure type might)."""

    back = client.error_from(client.error_document(errors.MCPServerError("m", code=1)))
    assert type(back) is errors.MCPServerError and Detailed.kind == "server"
    assert type(client.error_from({"type": "internal", "message": "m"})) is errors.MCPError
