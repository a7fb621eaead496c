"""`batch`: JSON-lines requests over one connection per server, one JSON line per result."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Invoke, stderr_json
from tests.conftest import stdio_server


@pytest.fixture
def config(write_config: Callable[..., Path]) -> Path:
    return write_config(
        stdio_server("legacy", "legacy_rag_redis.py")
        + stdio_server("faulty", "faulty_server.py", "spawn-child")
        + '[gone]\ncommand = "surely-not-an-installed-command"\n'
        + stdio_server("silent", "faulty_server.py", "no-init", connection_timeout=1.0)
    )


def lines(*requests: Any) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in requests)


def results(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def store(content: str, **extra: Any) -> dict[str, Any]:
    return {"server": "legacy", "tool": "store_memory", "arguments": {"content": content}, **extra}


def test_mixed_requests_each_get_a_line_and_the_first_failure_sets_the_exit_code(
    cli: Invoke, config: Path
) -> None:
    batch = lines(
        store("a", id="first"),
        {"server": "legacy", "tool": "store_memory", "arguments": {"content": "b", "importance": 5}},
        "not json",
        {"server": "ghost", "tool": "x"},
        {"server": "legacy", "tool": "nosuch"},
        {"server": "legacy", "tool": "clear_memory"},
        {"server": "legacy", "method": "resources/read", "uri": "memory://stats"},
        {"server": "legacy", "method": "prompts/get", "prompt": "nosuch"},
    )
    done = cli("--config", str(config), "batch", "--json", input=batch)
    assert done.exit_code == 7, done.stderr  # line 2's invalid arguments come first in input order
    by_line = {r["line"]: r for r in results(done.stdout)}
    assert sorted(by_line) == list(range(1, 9))
    assert by_line[1]["id"] == "first" and by_line[1]["result"]["isError"] is False
    assert by_line[1]["result"]["content"][0]["text"].startswith("Stored memory ")
    codes = {line: r["error"]["exit_code"] for line, r in by_line.items() if "error" in r}
    assert codes == {2: 7, 3: 2, 4: 3, 5: 5, 6: 6, 8: 5}
    assert by_line[2]["id"] == 2 and "importance" in by_line[2]["error"]["message"]
    assert by_line[6]["result"]["isError"] is True  # a tool error keeps the result beside the error
    assert json.loads(by_line[7]["contents"][0]["text"])["total_memories"] == 1  # line 2 was never sent
    assert set(by_line[5]) == {"id", "line", "server", "tool", "error"}
    assert set(by_line[5]["error"]) == {"type", "exit_code", "message", "server"}
    error = stderr_json(done)["error"]
    assert (error["exit_code"], error["type"]) == (7, "invalid_arguments")
    assert "6 of 8 request(s) failed; the first, on line 2" in error["message"]


def test_all_successes_exit_0_and_ordered_runs_in_input_order(cli: Invoke, config: Path) -> None:
    recall = {"server": "legacy", "tool": "recall_memory", "arguments": {"query": "note", "limit": 50}}
    batch = lines(*(store(f"note {i}") for i in range(20)), recall)
    done = cli("--config", str(config), "batch", "--ordered", input=batch)
    assert done.exit_code == 0, done.stderr
    found = results(done.stdout)
    assert [r["line"] for r in found] == list(range(1, 22))
    assert "note 19" in found[-1]["result"]["content"][0]["text"]  # every store ran before the recall


def test_concurrent_batch_answers_every_request_once(cli: Invoke, config: Path) -> None:
    batch = lines(*(store(f"n{i}", id=f"r{i}") for i in range(200)))
    done = cli("--config", str(config), "batch", "--concurrency", "16", input=batch)
    assert done.exit_code == 0, done.stderr
    assert sorted(r["id"] for r in results(done.stdout)) == sorted(f"r{i}" for i in range(200))


def test_fail_fast_stops_at_the_first_failure(cli: Invoke, config: Path) -> None:
    failing = {"server": "legacy", "tool": "clear_memory"}
    done = cli(
        "--config",
        str(config),
        "batch",
        "--ordered",
        "--fail-fast",
        input=lines(store("a"), failing, store("b")),
    )
    assert done.exit_code == 6
    assert [r["line"] for r in results(done.stdout)] == [1, 2]


def test_fail_fast_with_a_malformed_line_sends_nothing(cli: Invoke, config: Path, tmp_path: Path) -> None:
    done = cli("--config", str(config), "batch", "--fail-fast", input=lines(store("a"), "[1, 2]"))
    assert done.exit_code == 2
    (only,) = results(done.stdout)
    assert only["line"] == 2 and "JSON object" in only["error"]["message"]
    logs = tmp_path / "state" / "logs"
    assert not logs.exists() or not list(logs.iterdir())  # no server was started
    assert cli("--config", str(config), "batch", input=lines(store("a"), "[1, 2]")).exit_code == 2
    assert list(logs.iterdir())  # without --fail-fast the good line ran


def test_fail_fast_cancels_requests_in_flight(cli: Invoke, config: Path) -> None:
    slow = {"server": "faulty", "tool": "work", "arguments": {"seconds": 600}, "id": "slow"}
    quick = {"server": "faulty", "tool": "work", "arguments": {"seconds": 0}, "id": "quick"}
    bad = {"server": "legacy", "tool": "clear_memory", "id": "bad"}
    done = cli("--config", str(config), "batch", "--fail-fast", input=lines(slow, quick, bad))
    assert done.exit_code == 6, done.stderr  # no_orphans: the server and its child are gone too
    assert "slow" not in {r["id"] for r in results(done.stdout)}


def test_a_server_that_cannot_start_fails_its_requests_after_one_attempt(cli: Invoke, config: Path) -> None:
    batch = lines(*({"server": "gone", "tool": "t", "id": i} for i in range(50)), store("ok"))
    done = cli("--config", str(config), "batch", input=batch)
    assert done.exit_code == 4
    found = results(done.stdout)
    assert len(found) == 51
    assert {r["error"]["exit_code"] for r in found if r["server"] == "gone"} == {4}
    assert [r["line"] for r in found if "result" in r] == [51]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"server": "legacy"}', "tool must be a non-empty string"),
        ('{"server": "legacy", "method": "tools/list"}', "method must be one of"),
        ('{"server": "legacy", "tool": "t", "arguments": [1]}', "arguments must be a JSON object"),
        ('{"server": "legacy", "tool": "t", "id": {"a": 1}}', "id must be a string or a number"),
        ('{"server": "legacy", "tool": "t", "argumnets": {}}', "unknown key(s) 'argumnets'"),
        ('{"server": "legacy", "method": "prompts/get", "prompt": "p", "arguments": {"n": 1}}', "strings"),
        ('{"server": 5, "tool": "t"}', "server must be a non-empty string"),
    ],
)
def test_malformed_lines_are_error_lines_of_their_own(
    cli: Invoke, config: Path, line: str, problem: str
) -> None:
    done = cli("--config", str(config), "batch", input=lines(line, store("fine")))
    assert done.exit_code == 2
    bad, good = sorted(results(done.stdout), key=lambda r: r["line"])
    assert problem in bad["error"]["message"] and bad["error"]["type"] == "usage"
    assert good["result"]["isError"] is False


def test_server_text_is_escaped_in_every_result_line(cli: Invoke, config: Path) -> None:
    hostile = "\x1b]0;owned\x07\x1b[31mred\r\n\u202e"
    recall = {"server": "legacy", "tool": "recall_memory", "arguments": {"query": "red"}}
    done = cli("--config", str(config), "batch", "--ordered", input=lines(store(hostile), recall))
    assert done.exit_code == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout and "\r" not in done.stdout
    assert len(done.stdout.splitlines()) == 2  # a newline in server text never splits a result line
    (memory,) = json.loads(results(done.stdout)[1]["result"]["content"][0]["text"])
    assert memory["content"] == hostile  # escaped on the way out, intact for the program reading it


def test_input_from_a_file_and_a_missing_file(cli: Invoke, config: Path, tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_text(lines(store("from file")), encoding="utf-8")
    done = cli("--config", str(config), "batch", str(requests))
    assert done.exit_code == 0 and len(results(done.stdout)) == 1
    missing = cli("--config", str(config), "batch", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    empty = cli("--config", str(config), "batch", input="\n\n")
    assert (empty.exit_code, empty.stdout) == (0, "")


def test_batch_goes_through_a_warm_session(config: Path, workdir: Path) -> None:
    def gemma(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), *args]
        return subprocess.run(command, input=input, capture_output=True, text=True, timeout=60, check=False)

    assert gemma("session", "start", "legacy").returncode == 0
    try:
        done = gemma("batch", input=lines(*(store(f"w{i}") for i in range(5))))
        assert done.returncode == 0, done.stderr
        assert len(results(done.stdout)) == 5
        (session,) = json.loads(gemma("session", "list", "--json").stdout)["sessions"]
        assert session["requests"] >= 5
    finally:
        gemma("session", "stop", "--all")


def test_a_server_that_never_answers_costs_one_connection_attempt(cli: Invoke, config: Path) -> None:
    calls = [{"server": "silent", "tool": "work", "id": i} for i in range(20)]
    reads = [{"server": "silent", "method": "resources/read", "uri": f"x://{i}"} for i in range(20)]
    done = cli("--config", str(config), "--retries", "0", "batch", input=lines(*calls, *reads))
    assert done.exit_code == 8, done.stderr
    found = results(done.stdout)
    assert len(found) == 40
    assert len({json.dumps(r["error"]) for r in found}) == 1  # one attempt's error, given to every request
