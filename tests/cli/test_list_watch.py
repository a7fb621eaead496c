"""`tools|resources|prompts list --watch`: a listing, then another each time a server says it changed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from tests.cli.conftest import Invoke, stdout_json
from tests.cli.live_servers import live_tables
from tests.cli.watch_process import LIMIT, records, watching, write_lists
from tests.conftest import process_ended, stdio_server
from tests.waiting import wait_until

KEY = {"tools": "name", "resources": "name", "prompts": "name"}


@pytest.fixture
def lists(tmp_path: Path) -> Path:
    path = tmp_path / "lists.json"
    write_lists(path, tools=["alpha"], resources=["alpha"], prompts=["alpha"])
    return path


def changing(name: str, lists: Path, record: Path, *extra: str, **keys: object) -> str:
    argv = ("--lists", str(lists), "--record", str(record), *extra)
    return stdio_server(name, "changing_server.py", *argv, **keys)


@pytest.fixture
def config(write_config: Callable[..., Path], lists: Path, tmp_path: Path) -> Path:
    return write_config(changing("ch", lists, tmp_path / "ch.jsonl"))


def names(document: dict[str, object], kind: str) -> list[str]:
    items = document[kind]
    assert isinstance(items, list)
    return [item["name"] for item in items]


@pytest.mark.parametrize("kind", ["tools", "resources", "prompts"])
def test_a_list_watch_prints_a_json_line_per_listing_and_refreshes_the_cache(
    cli: Invoke, config: Path, lists: Path, kind: str
) -> None:
    async def main() -> tuple[int, list[str], str]:
        async with watching(config, kind, "list", "ch", "--watch", "--count", "1", "--json") as watch:
            first = await watch.document()
            assert (first["changed"], names(first, kind)) == (None, ["alpha"])
            write_lists(lists, **{kind: ["alpha", "beta"]})
            second = await watch.document()
            assert (second["changed"], names(second, kind)) == ("ch", ["alpha", "beta"])
            assert second["errors"] == [] and second["time"] > first["time"]
            return await watch.ended()

    code, lines, stderr = anyio.run(main)
    assert (code, len(lines), stderr) == (0, 2, "")
    cached = cli("--config", str(config), kind, "list", "ch", "--offline", "--json")
    assert cached.exit_code == 0, cached.stderr
    assert names(stdout_json(cached), kind) == ["alpha", "beta"]


def test_a_table_watch_names_the_change_and_shows_hostile_names_escaped(config: Path, lists: Path) -> None:
    hostile = "b\x1b]0;pwned\x07\x1b[2J\u202eevil"

    async def main() -> tuple[int, list[str], str]:
        async with watching(config, "tools", "list", "ch", "--watch", "--count", "1") as watch:
            assert (await watch.line()).split() == ["SERVER", "TOOL", "DESCRIPTION"]
            await watch.line()
            write_lists(lists, tools=["alpha", hostile])
            return await watch.ended()

    code, lines, stderr = anyio.run(main)
    assert code == 0, stderr
    assert lines[2].endswith(" tools of 'ch' changed")
    assert any("b\\x1b]0;pwned\\x07\\x1b[2J\\u202eevil" in line for line in lines[3:])
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in "".join(lines)


def test_a_flood_of_list_changed_makes_a_few_relistings_not_thousands(
    write_config: Callable[..., Path], lists: Path, tmp_path: Path
) -> None:
    record = tmp_path / "flood.jsonl"
    config = write_config(changing("ch", lists, record, "--flood", "3000"), name="flood.toml")

    async def main() -> tuple[int, list[str], str]:
        async with watching(config, "tools", "list", "ch", "--watch", "--json") as watch:
            await watch.document()
            write_lists(lists, tools=["alpha", "beta"])
            while "beta" not in names(await watch.document(), "tools"):
                pass
            write_lists(lists, tools=["final"])
            while names(await watch.document(), "tools") != ["final"]:
                pass
            with anyio.fail_after(LIMIT):  # the server has sent all 6000 (it records each flood after it)
                while len(announced()) < 2:
                    await anyio.sleep(0.02)
            watch.interrupt()
            return await watch.ended()

    def announced() -> list[int]:
        return [e["times"] for e in records(record, "announced") if e["kind"] == "tools"]

    code, lines, _ = anyio.run(main)
    assert code == 130
    assert announced() == [3000, 3000]
    # 6000 notifications, merged while each re-listing is under way and for a moment after it.
    assert 3 <= len(lines) < 100
    (started,) = records(record, "started")
    wait_until(lambda: process_ended(started["pid"]), what="the server to be gone")


def test_a_server_that_dies_mid_watch_ends_it_with_one_line_and_exit_4(
    write_config: Callable[..., Path], lists: Path, tmp_path: Path
) -> None:
    record = tmp_path / "dying.jsonl"
    config = write_config(changing("ch", lists, record, "--die-on-change"), name="dying.toml")

    async def main() -> tuple[int, list[str], str]:
        async with watching(config, "tools", "list", "ch", "--watch") as watch:
            await watch.line()
            write_lists(lists, tools=["beta"])
            return await watch.ended()

    code, lines, stderr = anyio.run(main)
    assert code == 4
    assert stderr.splitlines() == ["Error: server 'ch' closed the connection during the watch"]
    assert len(lines) == 2  # the table alone: nothing was re-listed


def test_one_failing_server_leaves_the_others_watched_and_sets_the_exit_code(
    write_config: Callable[..., Path], lists: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.json"
    write_lists(other, tools=["one"])
    config = write_config(
        changing("ch", lists, tmp_path / "ch.jsonl")
        + changing("dying", other, tmp_path / "dying.jsonl", "--die-on-change", reconnect_delay=0.05)
        + stdio_server("absent", "no_such_server.py", reconnect_delay=0.05),
        name="many.toml",
    )
    argv = ("tools", "list", "ch", "dying", "absent", "--watch", "--count", "1", "--json")

    async def main() -> tuple[int, list[str], str]:
        async with watching(config, *argv) as watch:
            first = await watch.document()
            assert names(first, "tools") == ["alpha", "one"]
            assert [e["server"] for e in first["errors"]] == ["absent"]
            write_lists(other, tools=["two"])
            lost = await watch.document()
            assert lost["changed"] == "dying" and names(lost, "tools") == ["alpha"]
            assert [(e["server"], e["exit_code"]) for e in lost["errors"]] == [("dying", 4), ("absent", 4)]
            write_lists(lists, tools=["alpha", "beta"])
            last = await watch.document()
            assert last["changed"] == "ch" and names(last, "tools") == ["alpha", "beta"]
            return await watch.ended()

    code, _, stderr = anyio.run(main)
    assert code == 4  # as a listing: the first failing server's code, in configuration order
    assert json.loads(stderr.splitlines()[-1])["error"]["server"] == "dying"


def test_a_watch_with_no_change_ends_at_its_timeout(cli: Invoke, config: Path) -> None:
    result = cli("--config", str(config), "tools", "list", "ch", "--watch", "--timeout", "0.3", "--json")
    assert result.exit_code == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["changed"] is None


def test_a_watch_that_misses_its_count_by_the_timeout_exits_8(cli: Invoke, config: Path) -> None:
    args = ("tools", "list", "ch", "--watch", "--count", "2", "--timeout", "0.3")
    result = cli("--config", str(config), *args)
    assert result.exit_code == 8
    assert result.stderr.strip() == "Error: 0 of 2 changes of the tools within 0.3s"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--count", "1"), "Error: --count and --timeout go with --watch"),
        (("--timeout", "1"), "Error: --count and --timeout go with --watch"),
        (("--watch", "--offline"), "Error: --watch and --offline contradict each other"),
        (("--watch", "--format", "yaml"), "Error: --watch prints tables or JSON lines, not YAML"),
    ],
)
def test_watch_options_that_do_not_go_together_exit_2(
    cli: Invoke, config: Path, args: tuple[str, ...], message: str
) -> None:
    result = cli("--config", str(config), "tools", "list", "ch", *args)
    assert result.exit_code == 2
    assert message.removeprefix("Error: ") in result.stderr.splitlines()[0]  # yaml: the JSON envelope


@pytest.mark.parametrize("server", ["live", "live-legacy"])
def test_a_list_watch_follows_an_sdk_server_in_both_eras(
    write_config: Callable[..., Path], server: str
) -> None:
    config = write_config(live_tables(None, "--grow-tools", "0.2"), name="live.toml")

    async def main() -> tuple[int, list[str], str]:
        async with watching(config, "tools", "list", server, "--watch", "--count", "2", "--json") as watch:
            return await watch.ended()

    code, lines, stderr = anyio.run(main)
    assert code == 0, stderr
    documents = [json.loads(line) for line in lines]
    assert [d["changed"] for d in documents] == [None, server, server]
    grown = [len([n for n in names(d, "tools") if n.startswith("grown_")]) for d in documents]
    assert grown == sorted(grown) and grown[0] < grown[-1]
