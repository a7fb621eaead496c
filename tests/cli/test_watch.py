"""`resources watch`: each update of a subscribed resource, in both eras, until --count or --timeout."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import anyio
import pytest

from tests.cli.conftest import Invoke
from tests.cli.live_servers import LIMIT, events, interrupt_once, live_tables
from tests.conftest import PYTHON, SERVERS, NetworkServer, free_port, stdio_server


@pytest.fixture
def config(write_config: Callable[..., Path]) -> Path:
    still = stdio_server("still", "live_server.py", request_timeout=20.0)  # nothing ever changes
    return write_config(
        live_tables(None, "--tick", "0.1") + still + stdio_server("legacy", "legacy_rag_redis.py")
    )


@pytest.mark.parametrize("server", ["live", "live-legacy"])
def test_watch_prints_one_json_line_per_update_until_count(cli: Invoke, config: Path, server: str) -> None:
    result = cli(
        "--config", str(config), "resources", "watch", server, "counter://value", "--count", "3", "--json"
    )
    assert result.exit_code == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(events) == 3
    for event in events:
        # The server also announces a resource nobody subscribed to: it is never shown.
        assert set(event) == {"server", "uri", "time"}
        assert (event["server"], event["uri"]) == (server, "counter://value")
        assert datetime.fromisoformat(event["time"]).tzinfo is not None
    times = [datetime.fromisoformat(event["time"]) for event in events]
    assert times == sorted(times)


@pytest.mark.parametrize("server", ["live", "live-legacy"])
def test_watch_with_read_carries_the_new_contents(cli: Invoke, config: Path, server: str) -> None:
    args = ("resources", "watch", server, "counter://value", "--read", "--count", "2", "--json")
    result = cli("--config", str(config), *args)
    assert result.exit_code == 0, result.stderr
    values = []
    for line in result.stdout.splitlines():
        (content,) = json.loads(line)["contents"]
        assert content["uri"] == "counter://value"
        values.append(json.loads(content["text"])["value"])
    assert len(values) == 2 and values[0] < values[1]


def test_watched_contents_with_escape_sequences_are_printed_escaped(cli: Invoke, config: Path) -> None:
    result = cli(
        "--config", str(config), "resources", "watch", "live", "note://hostile", "--read", "--count", "1"
    )
    assert result.exit_code == 0, result.stderr
    stamp, *text = result.stdout.splitlines()
    assert stamp.endswith(" note://hostile")
    assert text == [
        "  clear\\x1b[2J osc52\\x1b]52;c;aGVsbG8=\\x07 bidi\\u202eevil\\u202c",
        "  fake [other] line",
    ]
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in result.stdout


def test_watch_ends_at_its_timeout_with_exit_0(cli: Invoke, config: Path) -> None:
    result = cli(
        "--config", str(config), "resources", "watch", "still", "counter://value", "--timeout", "0.5"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""


def test_watch_that_misses_its_count_by_the_timeout_exits_8(cli: Invoke, config: Path) -> None:
    args = ("resources", "watch", "still", "counter://value", "--count", "1", "--timeout", "0.5")
    result = cli("--config", str(config), *args)
    assert result.exit_code == 8
    assert result.stderr.strip() == "Error: 0 of 1 updates from server 'still' within 0.5s"


def test_watch_on_a_server_without_subscriptions_exits_5(cli: Invoke, config: Path) -> None:
    result = cli("--config", str(config), "resources", "watch", "legacy", "memory://stats", "--count", "1")
    assert result.exit_code == 5
    assert result.stderr.strip() == "Error: server 'legacy' does not offer resource subscriptions"


@pytest.mark.parametrize(("server", "subscribed"), [("live", "listening"), ("live-legacy", "subscribed")])
def test_ctrl_c_ends_a_watch_with_130_and_unsubscribes(
    write_config: Callable[..., Path], tmp_path: Path, server: str, subscribed: str
) -> None:
    record = tmp_path / "record.jsonl"
    config = write_config(live_tables(record), name="recorded.toml")
    argv = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), "resources", "watch"]
    code = interrupt_once([*argv, server, "counter://value"], record, subscribed, signal.SIGINT)
    assert code == 130
    if server == "live-legacy":  # 2026 has no unsubscribe: closing the listen stream is the end
        assert [e["uri"] for e in events(record, "unsubscribed")] == ["counter://value"]


@pytest.mark.parametrize(("server", "subscribed"), [("live", "listening"), ("live-legacy", "subscribed")])
def test_a_server_that_dies_during_a_watch_ends_it_with_exit_4(
    write_config: Callable[..., Path], tmp_path: Path, server: str, subscribed: str
) -> None:
    record = tmp_path / "record.jsonl"
    config = write_config(live_tables(record), name="recorded.toml")
    argv = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), "resources", "watch"]

    async def main() -> tuple[int, str]:
        watcher = await anyio.open_process([*argv, server, "counter://value"])
        try:
            with anyio.fail_after(LIMIT):
                while not events(record, subscribed):
                    await anyio.sleep(0.02)
                (started,) = events(record, "server_started")
                os.kill(started["pid"], signal.SIGKILL)
                code = await watcher.wait()
            assert watcher.stderr is not None
            return code, (await watcher.stderr.receive()).decode()
        finally:
            if watcher.returncode is None:
                watcher.kill()
            await watcher.aclose()

    code, stderr = anyio.run(main)
    assert code == 4, stderr
    # Killed before or after the subscription was acknowledged: either way, one line and exit 4.
    assert stderr.startswith(f"Error: server '{server}' closed the connection during ")


def test_watch_over_streamable_http(cli: Invoke, write_config: Callable[..., Path], tmp_path: Path) -> None:
    port = free_port()
    argv = [PYTHON, str(SERVERS / "live_server.py"), "--http", str(port), "--tick", "0.1"]
    server = NetworkServer(argv, port, tmp_path / "http.log")
    try:
        config = write_config(
            f'[web]\ntransport = "http"\nurl = "http://127.0.0.1:{port}/mcp"\n', name="web.toml"
        )
        args = ("resources", "watch", "web", "counter://value", "--read", "--count", "2", "--json")
        result = cli("--config", str(config), *args)
    finally:
        server.close()
    assert result.exit_code == 0, result.stderr
    values = [
        json.loads(json.loads(line)["contents"][0]["text"])["value"] for line in result.stdout.splitlines()
    ]
    assert len(values) == 2 and values[0] < values[1]
