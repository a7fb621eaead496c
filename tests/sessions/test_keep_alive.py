"""keep_alive: the first command that connects starts the server's session; the next ones are warm."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from gemma_mcp_cli.config.loader import load_config
from gemma_mcp_cli.sessions import client as session_client
from gemma_mcp_cli.sessions import launch
from tests.conftest import process_ended, stdio_server
from tests.waiting import run_bounded, wait_until

Run = Callable[..., subprocess.CompletedProcess[str]]


def gemma_with(config: Path) -> Run:
    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), *args]
        # capture_output waits for end of file on both pipes: a session that kept the command's
        # stdout or stderr open would hang this until its idle timeout (and fail the test).
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=env)

    return run


@pytest.fixture
def config(write_config: Callable[..., Path]) -> Path:
    return write_config(
        stdio_server("legacy", "legacy_rag_redis.py", keep_alive=60, reconnect_delay=0.05)
        + stdio_server("off", "legacy_rag_redis.py")
    )


@pytest.fixture
def gemma(config: Path, workdir: Path) -> Iterator[Run]:
    """Run gemma-mcp as a process; stop every session the test left (keep-alive ones included)."""
    run = gemma_with(config)
    yield run
    run("session", "stop", "--all")


def sessions(gemma: Run) -> list[dict[str, Any]]:
    listed = gemma("session", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return list(json.loads(listed.stdout)["sessions"])


def session_of(server: str, config: Path) -> dict[str, Any] | None:
    return session_client.read_info(session_client.session_key(server, config))


def wait_for_session(server: str, config: Path, other_than: object = None) -> dict[str, Any]:
    """Wait until the server's session (one other than pid `other_than`) serves; return its description."""
    found: dict[str, Any] = {}

    def serving() -> bool:
        info = session_of(server, config)
        if info is None or info["pid"] == other_than:
            return False
        found.update(info)
        return True

    wait_until(serving, what=f"a session for {server}")
    return found


def never_launched(server: str, config: Path) -> bool:
    """Whether no session was ever started for the server: the launcher creates its lock file first."""
    key = session_client.session_key(server, config)
    return not (session_client.sessions_dir() / f"{key}.lock").exists()


def stored(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode == 0 and result.stdout.startswith("Stored memory ")


def test_the_first_call_starts_a_session_and_the_next_calls_use_it(gemma: Run, config: Path) -> None:
    first = gemma("call", "legacy", "store_memory", "--arg", "content=one")
    assert stored(first), first.stderr
    started = wait_for_session("legacy", config)
    assert (started["started_by"], started["idle_timeout"]) == ("keep_alive", 60.0)
    for n in range(3):
        assert stored(gemma("call", "legacy", "store_memory", "--arg", f"content=warm{n}"))
    (row,) = sessions(gemma)
    # The session's own counter: the three later calls went through it, the first did not.
    assert (row["server"], row["pid"], row["requests"], row["started_by"]) == (
        "legacy",
        started["pid"],
        3,
        "keep_alive",
    )
    assert "keep-alive" in gemma("session", "list").stdout
    recalled = gemma("call", "legacy", "recall_memory", "--arg", "query=warm", "--arg", "limit=10")
    assert len(json.loads(recalled.stdout)) == 3


def test_a_listing_that_connects_starts_the_session_too(gemma: Run, config: Path) -> None:
    assert gemma("tools", "list", "legacy", "--json").returncode == 0
    started = wait_for_session("legacy", config)
    assert gemma("tools", "list", "legacy", "--refresh", "--json").returncode == 0
    assert [(r["pid"], r["requests"]) for r in sessions(gemma)] == [(started["pid"], 1)]


def test_keep_alive_is_off_by_default(gemma: Run, config: Path) -> None:
    assert stored(gemma("call", "off", "store_memory", "--arg", "content=x"))
    assert never_launched("off", config)
    assert sessions(gemma) == []


@pytest.mark.parametrize(
    "args",
    [
        ["--no-session", "call", "legacy", "store_memory", "--arg", "content=x"],
        ["call", "legacy", "store_memory", "--arg", "content=x", "--no-session"],
        ["--no-session", "tools", "list", "legacy"],
        ["--verbose", "call", "legacy", "store_memory", "--arg", "content=x"],
    ],
)
def test_no_session_neither_uses_nor_starts_one(gemma: Run, config: Path, args: list[str]) -> None:
    assert gemma(*args).returncode == 0
    assert never_launched("legacy", config)


def test_no_session_leaves_a_running_keep_alive_session_unused(gemma: Run, config: Path) -> None:
    assert stored(gemma("call", "legacy", "store_memory", "--arg", "content=one"))
    started = wait_for_session("legacy", config)
    assert stored(gemma("--no-session", "call", "legacy", "store_memory", "--arg", "content=two"))
    assert [(r["pid"], r["requests"]) for r in sessions(gemma)] == [(started["pid"], 0)]


def test_an_idle_keep_alive_session_stops_itself(
    write_config: Callable[..., Path], workdir: Path, no_orphans: None
) -> None:
    # The idle time must outlast the first command's own exit, which a loaded machine slows down
    # by seconds, or the session ends before the test sees it.
    config = write_config(stdio_server("brief", "legacy_rag_redis.py", keep_alive=5), name="brief.toml")
    gemma = gemma_with(config)
    try:
        assert stored(gemma("call", "brief", "store_memory", "--arg", "content=x"))
        started = wait_for_session("brief", config)
        assert started["idle_timeout"] == 5
        wait_until(lambda: process_ended(int(started["pid"])), what="the idle session to stop")
        assert session_of("brief", config) is None
        assert not list(session_client.sessions_dir().glob("*.sock"))
    finally:
        gemma("session", "stop", "--all")


def test_a_config_change_bypasses_the_old_session_and_a_new_one_serves(gemma: Run, config: Path) -> None:
    assert stored(gemma("call", "legacy", "store_memory", "--arg", "content=one"))
    old = wait_for_session("legacy", config)
    config.write_text(config.read_text().replace("[legacy]\n", "[legacy]\nrequest_timeout = 9.0\n"))
    assert stored(gemma("call", "legacy", "store_memory", "--arg", "content=after"))  # answered direct
    wait_until(lambda: process_ended(int(old["pid"])), what="the stale session to stop")
    assert stored(gemma("call", "legacy", "store_memory", "--arg", "content=again"))
    new = wait_for_session("legacy", config, other_than=old["pid"])
    assert stored(gemma("call", "legacy", "store_memory", "--arg", "content=warm"))
    (row,) = sessions(gemma)
    assert row["pid"] == new["pid"] and row["requests"] >= 1


def test_turning_keep_alive_off_stops_the_session_at_its_next_use(gemma: Run, config: Path) -> None:
    assert stored(gemma("call", "legacy", "store_memory", "--arg", "content=one"))
    old = wait_for_session("legacy", config)
    config.write_text(config.read_text().replace("keep_alive = 60\n", "", 1))
    assert stored(gemma("call", "legacy", "store_memory", "--arg", "content=two"))
    wait_until(lambda: process_ended(int(old["pid"])), what="the session to stop")
    assert stored(gemma("call", "legacy", "store_memory", "--arg", "content=three"))
    assert sessions(gemma) == []


def test_a_dead_server_is_brought_back_by_its_keep_alive_session(gemma: Run, config: Path) -> None:
    assert stored(gemma("call", "legacy", "store_memory", "--arg", "content=one"))
    started = wait_for_session("legacy", config)
    (server,) = _children(int(started["pid"]))
    os.kill(server, signal.SIGKILL)
    wait_until(lambda: server not in _children(int(started["pid"])), what="the server to be reaped")
    assert stored(gemma("call", "legacy", "store_memory", "--arg", "content=two"))
    (again,) = _children(int(started["pid"]))
    assert again != server
    (row,) = sessions(gemma)
    assert (row["pid"], row["requests"]) == (started["pid"], 1)  # the session served it, not a fallback


def _children(pid: int) -> set[int]:
    """Return a process's live children (a session's: its server)."""
    found: set[int] = set()
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        found |= {int(child) for child in listing.read_text().split() if not process_ended(int(child))}
    return found


def test_a_dead_session_is_replaced_by_the_next_command(gemma: Run, config: Path) -> None:
    assert stored(gemma("call", "legacy", "store_memory", "--arg", "content=one"))
    old = wait_for_session("legacy", config)
    os.kill(int(old["pid"]), signal.SIGKILL)
    wait_until(lambda: process_ended(int(old["pid"])))
    assert stored(gemma("call", "legacy", "store_memory", "--arg", "content=two"))  # direct, and restarts
    new = wait_for_session("legacy", config, other_than=old["pid"])
    assert stored(gemma("call", "legacy", "store_memory", "--arg", "content=three"))
    assert [(r["pid"], r["requests"]) for r in sessions(gemma)] == [(new["pid"], 1)]


def test_commands_at_once_start_one_session(gemma: Run, config: Path) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda i: gemma("call", "legacy", "store_memory", "--arg", f"content=n{i}"), range(4))
        )
    assert all(stored(r) for r in results), [r.stderr for r in results]
    wait_for_session("legacy", config)
    daemons = [pid for pid in _daemon_pids() if str(config.resolve()) in _cmdline(pid)]
    assert len(daemons) == 1 and len(sessions(gemma)) == 1


def _daemon_pids() -> list[int]:
    numbers = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    return [pid for pid in numbers if "sessions.daemon" in _cmdline(pid) and not process_ended(pid)]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_the_launcher_holds_the_lock_so_a_second_launch_starts_nothing(config: Path, workdir: Path) -> None:
    first = launch.spawn("legacy", config, 30, started_by=launch.BY_KEEP_ALIVE)
    assert first is not None
    try:
        assert launch.spawn("legacy", config, 30, started_by=launch.BY_KEEP_ALIVE) is None
        info = wait_for_session("legacy", config)
        assert info["pid"] == first.pid
        assert launch.spawn("legacy", config, 30, started_by=launch.BY_KEEP_ALIVE) is None
    finally:
        key = session_client.session_key("legacy", config)
        launch.stop({"pid": first.pid, "key": key, "server": "legacy"})
    wait_until(lambda: first.exit_status() is not None or process_ended(first.pid), what="the session to end")


def _stop_here(server: str, config: Path) -> None:
    """Stop a session this test process spawned (and reap it)."""
    info = session_of(server, config)
    if info is not None:
        launch.stop(info | {"key": session_client.session_key(server, config)})


def test_session_start_waits_for_a_session_another_command_is_starting(gemma: Run, config: Path) -> None:
    spawned = launch.spawn("legacy", config, 30, started_by=launch.BY_KEEP_ALIVE)
    assert spawned is not None
    try:
        started = gemma("session", "start", "legacy", "--json")
        assert started.returncode == 0, started.stderr
        (info,) = json.loads(started.stdout)["sessions"]
        assert (info["pid"], info["started_by"]) == (spawned.pid, "keep_alive")
    finally:
        _stop_here("legacy", config)


def test_an_untrusted_project_config_never_starts_a_session(
    workdir: Path, tmp_path: Path, write_config: Callable[..., Path]
) -> None:
    (workdir / "config").mkdir()
    project = workdir / "config" / "mcp_servers.toml"
    project.write_text(stdio_server("legacy", "legacy_rag_redis.py", keep_alive=60), encoding="utf-8")
    run = [sys.executable, "-m", "gemma_mcp_cli"]
    for args in (["call", "legacy", "store_memory", "--arg", "content=x"], ["tools", "list"]):
        done = subprocess.run([*run, *args], capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 3 and "not trusted" in done.stderr, done.stderr
    assert not session_client.sessions_dir().exists() or not list(session_client.sessions_dir().iterdir())


def test_the_launch_refuses_an_untrusted_project_config_itself(workdir: Path) -> None:
    from gemma_mcp_cli.config.loader import load_config

    (workdir / "config").mkdir()
    project = workdir / "config" / "mcp_servers.toml"
    project.write_text(stdio_server("legacy", "legacy_rag_redis.py", keep_alive=60), encoding="utf-8")
    loaded = load_config()
    assert loaded.source.path == project and loaded.servers["legacy"].keep_alive == 60
    assert launch.keep_warm(loaded, "legacy") is False
    assert never_launched("legacy", project)


def test_a_command_does_not_wait_for_the_keep_alive_session_it_launched(
    write_config: Callable[..., Path], workdir: Path
) -> None:
    path = write_config(stdio_server("legacy", "legacy_rag_redis.py", keep_alive=60))
    loaded = load_config(str(path))
    assert launch.keep_warm(loaded, "legacy")
    key = session_client.session_key("legacy", path)
    try:
        # It launched the session for the next command, and works on with its own connection.
        assert session_client.started_info(key, 600) is None
        assert wait_for_session("legacy", path)["started_by"] == "keep_alive"
        assert session_client.started_info(key, 600) is None  # not even once it serves
    finally:
        session_client.WARMING.discard(key)
        _stop_here("legacy", path)


def test_a_planted_link_for_the_lock_starts_nothing_and_the_command_still_works(
    gemma: Run, config: Path, tmp_path: Path
) -> None:
    from gemma_mcp_cli.state.files import private_dir

    key = session_client.session_key("legacy", config)
    target = tmp_path / "elsewhere"
    (private_dir(session_client.sessions_dir()) / f"{key}.lock").symlink_to(target)
    assert stored(gemma("call", "legacy", "store_memory", "--arg", "content=x"))
    assert stored(gemma("call", "legacy", "store_memory", "--arg", "content=y"))
    assert not target.exists()  # the link was never followed
    assert sessions(gemma) == []


def test_waiting_for_a_starting_session_returns_it_once_it_serves(config: Path, workdir: Path) -> None:
    spawned = launch.spawn("legacy", config, 30, started_by=launch.BY_KEEP_ALIVE)
    assert spawned is not None
    key = session_client.session_key("legacy", config)
    try:
        # Microseconds after the launch the session cannot serve yet (it is still loading the SDK).
        assert session_client.read_info(key) is None
        info = session_client.started_info(key, 60)
        assert info is not None and info["pid"] == spawned.pid
    finally:
        launch.stop({"pid": spawned.pid, "key": key, "server": "legacy"})


def test_a_session_that_fails_to_start_is_not_waited_for_past_its_end(
    write_config: Callable[..., Path], workdir: Path
) -> None:
    config = write_config(
        stdio_server("early", "faulty_server.py", "exit-early", keep_alive=60, reconnect_delay=0.05)
    )
    spawned = launch.spawn("early", config, 30, started_by=launch.BY_KEEP_ALIVE)
    assert spawned is not None
    key = session_client.session_key("early", config)
    # The session exits when its server does, and lets its lock go: the wait ends there, not at
    # the limit (which would fail this test's bound).
    assert run_bounded(lambda: session_client.started_info(key, 600)) is None
    wait_until(lambda: spawned.exit_status() is not None or process_ended(spawned.pid), what="its end")


@pytest.mark.parametrize(
    ("options", "requests"),
    [([], 1), (["--retries", "0"], 2)],  # the quick front end; the full command line (tools/list first)
    ids=["quick", "full"],
)
def test_the_call_after_the_one_that_started_a_session_goes_through_it(
    gemma: Run, config: Path, workdir: Path, options: list[str], requests: int
) -> None:
    # The launch is what a first keep-alive call does; the call right after it finds the session
    # still starting and waits for it rather than starting the server again on its own.
    spawned = launch.spawn("legacy", config, 60, started_by=launch.BY_KEEP_ALIVE)
    assert spawned is not None
    assert stored(gemma(*options, "call", "legacy", "store_memory", "--arg", "content=next"))
    (row,) = sessions(gemma)
    assert (row["pid"], row["requests"]) == (spawned.pid, requests)
    logs = (workdir.parent / "state" / "logs").glob("legacy-*.log")
    started = sum(path.read_text().count("listening on stdio") for path in logs)
    assert started == 1  # the session's server alone: the call started none of its own


def test_a_starting_note_that_names_no_live_session_is_not_waited_for(config: Path, workdir: Path) -> None:
    # A stale note (its session died before serving), or one naming a process that is no session
    # (a planted one): the command goes direct at once instead of waiting out the limit.
    key = session_client.session_key("legacy", config)
    directory = session_client.sessions_dir()
    directory.mkdir(parents=True, mode=0o700, exist_ok=True)
    note = session_client.starting_path(key)
    for pid in (2**22 + 12345, os.getpid()):
        note.write_text(str(pid))
        assert run_bounded(lambda: session_client.started_info(key, 600)) is None
    # A planted link in its place is not followed, even to a note naming a live session; nor is
    # a note older than any start takes (its pid may be another session's by now).
    spawned = launch.spawn("legacy", config, 30, started_by=launch.BY_KEEP_ALIVE)
    assert spawned is not None
    try:
        old = time.time() - session_client.START_WAIT - 5
        os.utime(note, (old, old))
        assert run_bounded(lambda: session_client.started_info(key, 600)) is None
        elsewhere = workdir / "planted.starting"
        elsewhere.write_text(str(spawned.pid))
        note.unlink()
        note.symlink_to(elsewhere)
        assert run_bounded(lambda: session_client.started_info(key, 600)) is None
    finally:
        launch.stop({"pid": spawned.pid, "key": key, "server": "legacy"})


def test_a_session_that_served_leaves_no_starting_note(gemma: Run, config: Path) -> None:
    assert stored(gemma("call", "legacy", "store_memory", "--arg", "content=one"))
    wait_for_session("legacy", config)
    key = session_client.session_key("legacy", config)
    assert not session_client.starting_path(key).exists()  # a session stopping later is not "starting"


def test_a_dry_run_starts_no_session(gemma: Run, config: Path) -> None:
    assert gemma("--no-session", "tools", "list", "legacy").returncode == 0  # fills the cache
    dry = gemma("call", "legacy", "store_memory", "--arg", "content=x", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert never_launched("legacy", config)
