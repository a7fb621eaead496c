"""`wait`: block until servers answer a handshake and a listing, with backoff; exit 8 at the deadline."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from gemma_mcp_cli.cli.readiness import pause
from tests.cli.conftest import Invoke, stderr_json, stdout_json
from tests.conftest import PYTHON, SERVERS, NetworkServer, free_port, python_server, stdio_server


def test_wait_returns_once_a_late_http_server_answers(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    port = free_port()
    config = write_config(f'[late]\ntransport = "http"\nurl = "http://127.0.0.1:{port}/mcp"\n')
    command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), "wait", "late"]
    waiter = subprocess.Popen(
        [*command, "--timeout", "300", "--interval", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = None
    try:
        assert waiter.stderr is not None
        first = waiter.stderr.readline()  # the first retry: nothing listens on the port yet
        assert first.startswith("waiting for late: ") and "connection refused" in first, first
        server = NetworkServer(
            [PYTHON, str(SERVERS / "sdk_server.py"), "--transport", "streamable-http", "--port", str(port)],
            port,
            tmp_path / "late.log",
        )
        stdout, stderr = waiter.communicate(timeout=300)
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.communicate()
        if server is not None:
            server.close()
    assert waiter.returncode == 0, stderr
    assert stdout.startswith("ready  late  after "), stdout


def test_wait_for_a_ready_server_exits_0_with_its_handshake(
    cli: Invoke, write_config: Callable[..., Path]
) -> None:
    config = write_config(stdio_server("legacy", "legacy_rag_redis.py"))
    done = cli("--config", str(config), "wait", "legacy", "--json")
    assert done.exit_code == 0, done.stderr
    (entry,) = stdout_json(done)["servers"]
    assert (entry["name"], entry["ready"], entry["attempts"], entry["error"]) == ("legacy", True, 1, None)
    assert entry["serverInfo"]["name"] == "rag-redis-mcp-server"
    assert entry["protocolVersion"] == "2024-11-05"


def test_the_deadline_exits_8_naming_each_server_never_ready(
    cli: Invoke, write_config: Callable[..., Path]
) -> None:
    config = write_config(
        stdio_server("legacy", "legacy_rag_redis.py")
        + stdio_server("broken", "faulty_server.py", "exit-early")
        + stdio_server("also", "faulty_server.py", "exit-early")
    )
    done = cli(
        "--config",
        str(config),
        "wait",
        "legacy",
        "broken",
        "also",
        "--timeout",
        "4",
        "--interval",
        "0.05",
        "--json",
    )
    assert done.exit_code == 8
    entries = {e["name"]: e for e in stdout_json(done)["servers"]}
    assert entries["legacy"]["ready"] is True
    for name in ("broken", "also"):
        assert entries[name]["ready"] is False and entries[name]["attempts"] >= 2
        assert "cannot open database" in entries[name]["error"]["message"]
    error = stderr_json(done)["error"]
    assert error["exit_code"] == 8 and "broken (" in error["message"] and "also (" in error["message"]


def test_an_unknown_server_fails_at_once_with_exit_3(cli: Invoke, write_config: Callable[..., Path]) -> None:
    config = write_config(stdio_server("legacy", "legacy_rag_redis.py"))
    done = cli("--config", str(config), "wait", "ghost", "--timeout", "600")
    assert done.exit_code == 3 and "unknown server 'ghost'" in done.stderr


def test_credentials_in_a_url_never_reach_the_output(cli: Invoke) -> None:
    url = f"http://user:s3cret-token@127.0.0.1:{free_port()}/mcp"
    done = cli("wait", url, "--timeout", "2", "--interval", "0.05")
    assert done.exit_code == 8
    assert "s3cret-token" not in done.stdout + done.stderr
    assert "127.0.0.1" in done.stderr


def test_pauses_grow_from_the_interval_with_jitter_and_stay_capped() -> None:
    rng = random.Random(7)
    first = [pause(0.1, 1, rng) for _ in range(50)]
    assert all(0.05 <= p <= 0.1 for p in first) and len(set(first)) > 1
    assert all(0.1 <= pause(0.1, 30, rng) <= 2.0 for _ in range(50))
    assert pause(0.1, 3, rng) > 0.1 * 1.5**2 / 2 - 1e-9
    assert all(2.5 <= pause(5.0, 9, rng) <= 5.0 for _ in range(20))  # a long interval is its own cap


def test_a_refused_login_ends_the_wait_at_once_with_exit_9(
    cli: Invoke, write_config: Callable[..., Path], tmp_path: Path
) -> None:
    server = python_server("auth_server.py", "bearer", "--token", "right-token", log=tmp_path / "bearer.log")
    try:
        config = write_config(f'[api]\ntransport = "http"\nurl = "http://127.0.0.1:{server.port}/mcp"\n')
        done = cli("--config", str(config), "wait", "api", "--timeout", "600", "--json")
    finally:
        server.close()
    assert done.exit_code == 9
    (entry,) = stdout_json(done)["servers"]
    assert (entry["ready"], entry["attempts"], entry["error"]["type"]) == (False, 1, "auth")
    assert stderr_json(done)["error"]["exit_code"] == 9
