"""Watching through a warm session: the session's server is the one that is subscribed, once.

A direct connection would start a server of its own (a second `server_started` in the record)
and subscribe there; these tests see one server, one subscription, and the session's counter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest

from tests.cli.live_servers import live_tables
from tests.cli.watch_process import records, watching, write_lists
from tests.conftest import stdio_server
from tests.waiting import wait_until

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def lists(tmp_path: Path) -> Path:
    path = tmp_path / "lists.json"
    write_lists(path, tools=["alpha"])
    return path


@pytest.fixture
def config(write_config: Callable[..., Path], tmp_path: Path, lists: Path) -> Path:
    changing = ("changing_server.py", "--lists", str(lists), "--record", str(tmp_path / "ch.jsonl"))
    return write_config(
        live_tables(tmp_path / "live.jsonl", "--tick", "0.1")
        + stdio_server("ch", *changing)
        + stdio_server("dying", *changing, "--die-on-change")
    )


@pytest.fixture
def gemma(config: Path, workdir: Path, no_orphans: None) -> Iterator[Run]:
    """Run gemma-mcp as a process; stop every session the test started."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)

    yield run
    run("session", "stop", "--all")


def start(gemma: Run, server: str) -> None:
    done = gemma("session", "start", server)
    assert done.returncode == 0, done.stderr


def requests(gemma: Run, server: str) -> int:
    listed = gemma("session", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = [row for row in json.loads(listed.stdout)["sessions"] if row["server"] == server]
    return int(row["requests"])


@pytest.mark.parametrize(("server", "subscribed"), [("live", "listening"), ("live-legacy", "subscribed")])
def test_resources_watch_goes_through_the_session_and_subscribes_its_server_once(
    gemma: Run, config: Path, tmp_path: Path, server: str, subscribed: str
) -> None:
    start(gemma, server)
    watched = gemma("resources", "watch", server, "counter://value", "--count", "2", "--json")
    assert watched.returncode == 0, watched.stderr
    lines = [json.loads(line) for line in watched.stdout.splitlines()]
    assert [(e["server"], e["uri"]) for e in lines] == [(server, "counter://value")] * 2
    record = tmp_path / "live.jsonl"
    assert len(records(record, "server_started")) == 1  # the session's server, no other
    assert len(records(record, subscribed)) == 1
    wait_until(lambda: requests(gemma, server) == 1, what="the session to count the watch")
    if server == "live-legacy":  # the session unsubscribes once the watcher has gone
        wait_until(lambda: len(records(record, "unsubscribed")) == 1, what="the unsubscribe")


def test_two_watchers_share_one_subscription_until_the_last_leaves(
    gemma: Run, config: Path, tmp_path: Path
) -> None:
    record = tmp_path / "live.jsonl"
    start(gemma, "live-legacy")
    argv = ("resources", "watch", "live-legacy", "counter://value", "--json")

    async def main() -> int:
        async with watching(config, *argv) as first:
            await first.document()
            async with watching(config, *argv, "--count", "2") as second:
                code, lines, stderr = await second.ended()
                assert (code, len(lines)) == (0, 2), stderr
            # The second watcher has gone; the first one's subscription must still deliver.
            assert (await first.document())["uri"] == "counter://value"
            assert records(record, "unsubscribed") == []
            first.interrupt()
            code, _, _ = await first.ended()
            return code

    assert anyio.run(main) == 130
    assert len(records(record, "server_started")) == 1
    assert len(records(record, "subscribed")) == 1
    wait_until(lambda: len(records(record, "unsubscribed")) == 1, what="the last watcher's unsubscribe")
    still = gemma("resources", "read", "live-legacy", "counter://value", "--json")
    assert still.returncode == 0, still.stderr  # the session serves on


def test_a_list_watch_through_the_session_hears_the_sessions_server(
    gemma: Run, config: Path, tmp_path: Path, lists: Path
) -> None:
    start(gemma, "ch")

    async def main() -> tuple[int, list[str], str]:
        async with watching(config, "tools", "list", "ch", "--watch", "--count", "1", "--json") as watch:
            assert [t["name"] for t in (await watch.document())["tools"]] == ["alpha"]
            write_lists(lists, tools=["alpha", "beta"])
            changed = await watch.document()
            assert changed["changed"] == "ch"
            assert [t["name"] for t in changed["tools"]] == ["alpha", "beta"]
            return await watch.ended()

    code, _, stderr = anyio.run(main)
    assert code == 0, stderr
    record = tmp_path / "ch.jsonl"
    assert len(records(record, "started")) == 1  # the session's server heard, and re-listed
    assert [r["method"] for r in records(record, "request")].count("tools/list") == 2
    wait_until(lambda: requests(gemma, "ch") == 3, what="the listing, the watch and the re-listing")


def test_a_sessions_server_that_dies_mid_watch_ends_it_with_exit_4(
    gemma: Run, config: Path, lists: Path
) -> None:
    start(gemma, "dying")

    async def main() -> tuple[int, list[str], str]:
        async with watching(config, "tools", "list", "dying", "--watch") as watch:
            await watch.line()
            write_lists(lists, tools=["beta"])
            return await watch.ended()

    code, _, stderr = anyio.run(main)
    assert code == 4
    assert stderr.splitlines() == ["Error: server 'dying' closed the connection during the watch"]
