"""Warm sessions: start, use, list, stop; expiry, death, config change, concurrency, stale sockets."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gemma_mcp_cli.names import file_stem
from tests.conftest import process_ended, stdio_server
from tests.waiting import wait_for_text, wait_until

SLOW_STARTED = "slow: call started"  # what tests/servers/sdk_server.py's slow tool logs as it begins

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def config(write_config: Callable[..., Path], tmp_path: Path) -> Path:
    pidfile = tmp_path / "legacy.pid"
    return write_config(
        stdio_server("legacy", "legacy_rag_redis.py")
        + stdio_server("sdk", "sdk_server.py")
        + stdio_server("slow", "faulty_server.py", "slow", "--pidfile", str(pidfile), reconnect_delay=0.05)
    )


@pytest.fixture
def gemma(config: Path, workdir: Path) -> Iterator[Run]:
    """Run gemma-mcp as a process; stop every session the test started."""

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    yield run
    run("session", "stop", "--all")


def sessions(gemma: Run) -> list[dict[str, object]]:
    return list(json.loads(gemma("session", "list", "--json").stdout)["sessions"])


def test_start_use_list_stop(gemma: Run, tmp_path: Path) -> None:
    started = gemma("session", "start", "legacy", "--json")
    assert started.returncode == 0, started.stderr
    (info,) = json.loads(started.stdout)["sessions"]
    assert gemma("call", "legacy", "store_memory", "--arg", "content=warm").stdout.startswith(
        "Stored memory "
    )
    assert gemma("--no-session", "tools", "list", "legacy").returncode == 0
    (row,) = sessions(gemma)
    assert (row["server"], row["pid"], row["requests"]) == ("legacy", info["pid"], 1)
    directory = tmp_path / "state" / "sessions"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    (socket_file,) = directory.glob("*.sock")
    assert stat.S_IMODE(socket_file.stat().st_mode) == 0o600
    assert gemma("session", "stop", "legacy").returncode == 0
    assert sessions(gemma) == []
    wait_until(lambda: process_ended(int(str(info["pid"]))))


def test_a_session_that_cannot_connect_does_not_start(gemma: Run, write_config: Callable[..., Path]) -> None:
    result = gemma("session", "start", "nope")
    assert result.returncode == 3


def test_idle_session_stops_itself(gemma: Run) -> None:
    assert gemma("session", "start", "legacy", "--idle-timeout", "0.5").returncode == 0
    wait_until(lambda: sessions(gemma) == [])


# Every case reaches its session except two for legacy that stop in the client: the arguments
# rejected against the cached schema (exit 7) and the --dry-run, which sends nothing.
WARM_REQUESTS = {"legacy": 6, "sdk": 5}
CASES = [
    ("call", "legacy", "store_memory", "--arg", "content=same"),
    ("call", "legacy", "clear_memory"),
    ("call", "legacy", "clear_memory", "--json"),
    ("call", "legacy", "store_memory", "--arg", "importance=high"),
    ("call", "legacy", "store_memory", "--arg", "content=x", "--dry-run"),
    ("call", "legacy", "store_memroy"),
    ("tools", "list", "legacy", "--json"),
    ("tools", "show", "legacy", "recall_memory"),
    ("resources", "read", "sdk", "test://greeting"),
    ("call", "sdk", "add", "--arg", "a=2", "--arg", "b=3", "--json"),
    ("call", "sdk", "tiny_image"),
    ("prompts", "get", "sdk", "greet", "--arg", "name=Ada"),
    ("resources", "read", "sdk", "test://nope"),
]


def _normal(text: str) -> str:
    """Blank what legitimately differs between two runs: ids and times."""
    import re

    text = re.sub(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", "<id>", text)
    return re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z?", "<time>", text)


def test_output_and_exit_codes_are_the_same_with_and_without_a_session(gemma: Run) -> None:
    cold = [gemma(*case) for case in CASES]
    assert gemma("session", "start", "legacy", "sdk").returncode == 0
    warm = [gemma(*case) for case in CASES]
    served = {row["server"]: row["requests"] for row in sessions(gemma)}
    assert served == {server: WARM_REQUESTS[server] for server in ("legacy", "sdk")}
    for case, before, after in zip(CASES, cold, warm, strict=True):
        assert (after.returncode, _normal(after.stdout), _normal(after.stderr)) == (
            before.returncode,
            _normal(before.stdout),
            _normal(before.stderr),
        ), case


def test_a_dead_server_is_reconnected_by_its_session(gemma: Run, tmp_path: Path) -> None:
    (info,) = json.loads(gemma("session", "start", "slow", "--json").stdout)["sessions"]
    pidfile = tmp_path / "legacy.pid"
    first = int(pidfile.read_text())
    os.kill(first, signal.SIGKILL)
    listed = gemma("tools", "list", "slow", "--json", "--refresh")
    assert listed.returncode == 0, listed.stderr
    assert int(pidfile.read_text()) != first
    # A direct fallback would write the pidfile too: the session's own counter shows it served the listing.
    (row,) = sessions(gemma)
    assert (row["server"], row["pid"], row["requests"]) == ("slow", info["pid"], 1)


def test_a_config_change_stops_the_session_and_the_call_still_works(gemma: Run, config: Path) -> None:
    assert gemma("session", "start", "legacy").returncode == 0
    config.write_text(config.read_text().replace("[legacy]\n", "[legacy]\nrequest_timeout = 9.0\n"))
    result = gemma("call", "legacy", "store_memory", "--arg", "content=after")
    assert result.returncode == 0 and result.stdout.startswith("Stored memory ")
    wait_until(lambda: sessions(gemma) == [])


def test_twenty_clients_at_once(gemma: Run) -> None:
    assert gemma("session", "start", "legacy").returncode == 0
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(
            pool.map(lambda i: gemma("call", "legacy", "store_memory", "--arg", f"content=n{i}"), range(20))
        )
    assert [r.returncode for r in results] == [0] * 20
    (row,) = sessions(gemma)
    assert row["requests"] == 20
    recalled = gemma("call", "legacy", "recall_memory", "--arg", "query=n", "--arg", "limit=50")
    assert len(json.loads(recalled.stdout)) == 20


def test_a_killed_session_leaves_a_stale_socket_that_is_cleaned_up(gemma: Run, tmp_path: Path) -> None:
    (info,) = json.loads(gemma("session", "start", "legacy", "--json").stdout)["sessions"]
    os.kill(int(info["pid"]), signal.SIGKILL)
    wait_until(lambda: process_ended(int(info["pid"])))
    assert list((tmp_path / "state" / "sessions").glob("*.sock"))
    result = gemma("call", "legacy", "store_memory", "--arg", "content=fallback")
    assert result.returncode == 0 and result.stdout.startswith("Stored memory ")
    assert not list((tmp_path / "state" / "sessions").glob("*.sock"))


PROBE = """
import sys
from gemma_mcp_cli.cli.entry import main
sys.argv = ["gemma-mcp", *{args!r}]
try:
    main()
except SystemExit:
    pass
roots = {{"mcp", "pydantic", "typer", "rich", "anyio", "jsonschema"}}
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & roots)
sys.stderr.write("HEAVY=" + ",".join(heavy) + "\\n")
"""


def test_a_warm_call_uses_the_standard_library_only(gemma: Run, config: Path) -> None:
    assert gemma("session", "start", "legacy").returncode == 0
    args = ["--config", str(config), "call", "legacy", "store_memory", "--arg", "content=light"]
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.startswith("Stored memory "), done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("HEAVY=")] == ["HEAVY="]


# Modules a warm call has no use for; each costs it a measurable share of its time (see
# benchmarks/README.md, "The warm path"). socket and hashlib: the client uses _socket and _sha256.
# (threading is not among them: a socket path too long for an address is reached under a lock.)
NOT_WARM = {"typing", "dataclasses", "inspect", "tomllib", "platformdirs", "hashlib", "socket"}
NOT_WARM |= {
    "gemma_mcp_cli.errors",
    "gemma_mcp_cli.arguments",
    "gemma_mcp_cli.answers",
    "gemma_mcp_cli.state.trust",
}
LEAN_PROBE = """
import sys
from gemma_mcp_cli.cli.entry import main
sys.argv = ["gemma-mcp", *{args!r}]
try:
    main()
except SystemExit:
    pass
sys.stderr.write("LOADED=" + ",".join(sorted(sys.modules)) + "\\n")
"""


def test_a_warm_call_loads_only_what_it_uses(gemma: Run, config: Path) -> None:
    assert gemma("session", "start", "legacy").returncode == 0
    args = ["--config", str(config), "call", "legacy", "store_memory", "--arg", "content=lean"]
    done = subprocess.run(
        [sys.executable, "-c", LEAN_PROBE.format(args=args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.startswith("Stored memory "), done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("LOADED=")]
    assert NOT_WARM.isdisjoint(line.removeprefix("LOADED=").split(",")), line
    # The same call failing (a missing required argument) loads the error family, and says so.
    failed = gemma("call", "legacy", "store_memory")
    assert failed.returncode == 7 and failed.stderr.startswith("Error: "), failed.stderr
    (row,) = sessions(gemma)
    assert row["requests"] == 2  # both went through the session


def test_a_client_that_leaves_mid_request_does_not_disturb_others(
    gemma: Run, config: Path, tmp_path: Path
) -> None:
    assert gemma("session", "start", "sdk").returncode == 0
    command = [
        sys.executable,
        "-m",
        "gemma_mcp_cli",
        "--config",
        str(config),
        "call",
        "sdk",
        "slow",
        "--arg",
        "seconds=2",
    ]
    leaver = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_text(
        tmp_path / "state" / "logs" / f"{file_stem('sdk')}.log", SLOW_STARTED
    )  # its request is in the session
    leaver.kill()
    leaver.wait(timeout=10)
    assert gemma("call", "sdk", "echo", "--arg", "text=still here").stdout == "still here\n"
    # The abandoned call is counted when it ends: the session carried it to completion.
    wait_until(lambda: sessions(gemma)[0]["requests"] == 2, what="the abandoned call to finish")
    assert gemma("call", "sdk", "echo", "--arg", "text=and after").stdout == "and after\n"
    (row,) = sessions(gemma)
    assert (row["server"], row["requests"]) == ("sdk", 3)


def test_a_call_that_crashes_the_server_in_a_session_is_not_sent_twice(
    gemma: Run, write_config: Callable[..., Path], tmp_path: Path, workdir: Path
) -> None:
    once = tmp_path / "crashed"
    config = write_config(
        stdio_server("crashy", "faulty_server.py", "crash-mid-call", "--once", str(once)), name="crashy.toml"
    )
    run = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config)]
    assert (
        subprocess.run([*run, "session", "start", "crashy"], capture_output=True, timeout=60).returncode == 0
    )
    try:
        warm = subprocess.run([*run, "call", "crashy", "work"], capture_output=True, text=True, timeout=60)
        assert warm.returncode == 4, warm.stderr
        assert "not retried" in warm.stderr and warm.stdout == ""
        again = subprocess.run([*run, "call", "crashy", "work"], capture_output=True, text=True, timeout=60)
        assert again.stdout == "worked\n"  # the crash happened once: the first call was not repeated
    finally:
        subprocess.run([*run, "session", "stop", "--all"], capture_output=True, timeout=60)


def test_stopping_a_session_ends_its_servers_children(gemma: Run, write_config, tmp_path: Path) -> None:
    config = write_config(stdio_server("parent", "faulty_server.py", "spawn-child"), name="parent.toml")
    run = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config)]
    assert (
        subprocess.run([*run, "session", "start", "parent"], capture_output=True, timeout=60).returncode == 0
    )
    stopped = subprocess.run([*run, "session", "stop", "parent"], capture_output=True, text=True, timeout=60)
    assert stopped.returncode == 0, stopped.stderr
    log = next((tmp_path / "state" / "logs").glob(f"{file_stem('parent')}.log")).read_text()
    child = int(log.split("child pid ")[1].split()[0])
    wait_until(lambda: process_ended(child))


def test_a_malformed_request_does_not_take_the_session_down(gemma: Run, config: Path) -> None:
    from gemma_mcp_cli.errors import MCPUsageError
    from gemma_mcp_cli.sessions import client as session_client

    (info,) = json.loads(gemma("session", "start", "legacy", "--json").stdout)["sessions"]
    key = session_client.session_key("legacy", config)
    with pytest.raises(MCPUsageError, match="lacks"):
        session_client.ask(key, {"op": "call", "params": {}}, timeout=10)
    assert gemma("call", "legacy", "store_memory", "--arg", "content=still").returncode == 0
    assert [row["pid"] for row in sessions(gemma)] == [info["pid"]]


def test_concurrent_starts_leave_one_session(gemma: Run) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: gemma("session", "start", "legacy", "--json"), range(3)))
    assert [r.returncode for r in results] == [0, 0, 0]
    assert len({json.loads(r.stdout)["sessions"][0]["pid"] for r in results}) == 1
    assert len(sessions(gemma)) == 1


def test_a_different_environment_goes_direct(write_config, tmp_path: Path, workdir: Path) -> None:
    config = write_config(
        stdio_server("legacy", "legacy_rag_redis.py") + 'env = { MARK = "${MARK:-a}" }\n', name="env.toml"
    )
    run = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config)]
    clean = {k: v for k, v in os.environ.items() if k != "MARK"}
    assert (
        subprocess.run(
            [*run, "session", "start", "legacy"], capture_output=True, timeout=60, env=clean
        ).returncode
        == 0
    )
    try:
        other = subprocess.run(
            [*run, "call", "legacy", "get_memory_stats"],
            capture_output=True,
            timeout=60,
            env=clean | {"MARK": "b"},
        )
        assert other.returncode == 0
        listed = subprocess.run(
            [*run, "session", "list", "--json"], capture_output=True, timeout=60, env=clean
        )
        assert json.loads(listed.stdout)["sessions"][0]["requests"] == 0
    finally:
        subprocess.run([*run, "session", "stop", "--all"], capture_output=True, timeout=60)


def test_through_a_session_listings_skip_and_binary_results_are_written(
    write_config: Callable[..., Path], workdir: Path, tmp_path: Path
) -> None:
    from tests.servers.content_server import PNG_1X1

    config = write_config(stdio_server("content", "content_server.py"), name="content.toml")
    run = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config)]

    def gemma(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*run, *args], capture_output=True, text=True, timeout=60, check=False)

    try:
        assert gemma("session", "start", "content").returncode == 0
        listed = gemma("prompts", "list", "content", "--json")
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout)["skipped"][0]["server"] == "content"
        target = tmp_path / "warm.png"
        called = gemma("call", "content", "read_media_file", "--output", str(target))  # the quick warm path
        assert called.returncode == 0, called.stderr
        assert target.read_bytes() == PNG_1X1 and called.stdout.startswith("a picture and a sound\n")
        structured = gemma("call", "content", "read_text_file", "--arg", "path=a", "--structured")
        assert json.loads(structured.stdout) == {"content": "line one\nline two\n"}
    finally:
        gemma("session", "stop", "--all")
