"""Tasks (MCP 2025-11-25): `call --task` / `--detach` and `tasks list|get|result|cancel`.

Against `tests/servers/tasks_server.py` (SDK: takes seconds, reports progress, records each
`tasks/cancel`) over stdio, over HTTP (one server for the module: HTTP servers keep their tasks
between invocations) and through a warm session, and against `hostile_tasks_server.py` for
what a server should never be able to do to us.
"""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, stderr_json
from tests.cli.live_servers import LIMIT, events, interrupt_once
from tests.conftest import PYTHON, SERVERS, NetworkServer, free_port, stdio_server
from tests.waiting import wait_until

# Its tests share servers started once for the module: one test worker runs them all (see conftest.py).
pytestmark = pytest.mark.xdist_group("tasks")


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One SDK tasks server over Streamable HTTP for the module; yield its URL and record file."""
    folder = tmp_path_factory.mktemp("tasks-http")
    record = folder / "record.jsonl"
    port = free_port()
    argv = [PYTHON, str(SERVERS / "tasks_server.py"), "--http", str(port), "--record", str(record)]
    server = NetworkServer(argv, port, folder / "http.log")
    try:
        yield f"http://127.0.0.1:{port}/mcp", record
    finally:
        server.close()


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return tmp_path / "record.jsonl"


@pytest.fixture
def config(write_config: Callable[..., Path], record: Path, http_server: tuple[str, Path]) -> Path:
    url, _ = http_server
    hostile = "".join(
        stdio_server(
            mode, "hostile_tasks_server.py", "--mode", mode, "--marker", str(record.with_suffix(".marks"))
        )
        for mode in ("evil-id", "long-id", "huge-list", "never-result", "no-tasks", "evil-input")
    )
    return write_config(
        stdio_server("tasks", "tasks_server.py", "--record", str(record), request_timeout=20.0)
        + stdio_server("plain", "sdk_server.py")
        + f'[remote]\ntransport = "http"\nurl = "{url}"\nrequest_timeout = 20.0\n'
        + hostile
    )


def run(cli: Invoke, config: Path, *args: str) -> tuple[int, str, str]:
    result = cli("--config", str(config), *args)
    return result.exit_code, result.stdout, result.stderr


# ---------------------------------------------------------------- direct stdio


def test_call_task_waits_for_the_result_and_remembers_the_task(
    cli: Invoke, config: Path, record: Path
) -> None:
    code, out, err = run(
        cli, config, "call", "tasks", "slow_count", "--arg", "seconds=0.3", "--task", "--json"
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["server"] == "tasks" and document["tool"] == "slow_count"
    assert document["result"]["content"] == [{"type": "text", "text": "counted 3 steps"}]
    (started,) = events(record, "task_started")
    assert document["taskId"] == started["taskId"]
    code, out, _ = run(cli, config, "tasks", "list", "--json")
    assert code == 0
    # The stdio server is gone with the call: its task is forgotten, not reported.
    assert json.loads(out) == {"tasks": [], "errors": []}


def test_plain_text_of_a_task_call_is_the_result(cli: Invoke, config: Path) -> None:
    code, out, err = run(cli, config, "call", "tasks", "slow_count", "--arg", "seconds=0.1", "--task")
    assert (code, out) == (0, "counted 1 steps\n"), err


def test_a_task_whose_tool_failed_exits_6(cli: Invoke, config: Path) -> None:
    code, _, err = run(cli, config, "call", "tasks", "fail_later", "--arg", "seconds=0.1", "--task")
    assert code == 6
    assert "the work failed on purpose" in err


def test_a_task_that_failed_without_a_result_exits_5(cli: Invoke, config: Path) -> None:
    result = cli(
        "--config", str(config), "call", "tasks", "crash_later", "--arg", "seconds=0.1", "--task", "--json"
    )
    assert result.exit_code == 5
    error = stderr_json(result)["error"]
    assert error["type"] == "task_failed" and "the worker crashed" in error["message"]


def test_a_tool_that_forbids_tasks_is_refused_with_exit_5(cli: Invoke, config: Path, record: Path) -> None:
    code, _, err = run(cli, config, "call", "tasks", "echo", "--arg", "text=hi", "--task")
    assert code == 5
    assert "cannot run as a task" in err and "Hint: call it without --task" in err
    assert events(record, "task_started") == []


def test_a_server_without_tasks_is_refused_with_exit_5(cli: Invoke, config: Path) -> None:
    code, _, err = run(cli, config, "call", "plain", "echo", "--arg", "text=hi", "--task")
    assert code == 5
    assert "does not offer tasks" in err


def test_a_server_whose_tool_claims_tasks_without_the_capability_is_refused(
    cli: Invoke, config: Path
) -> None:
    code, _, err = run(cli, config, "call", "no-tasks", "work", "--task")
    assert code == 5
    assert "server 'no-tasks' does not offer tasks" in err


def test_a_timeout_while_waiting_cancels_the_task_and_exits_8(
    cli: Invoke, config: Path, record: Path
) -> None:
    code, _, err = run(
        cli, config, "call", "tasks", "slow_count", "--arg", "seconds=60", "--task", "--timeout", "1"
    )
    assert code == 8, err
    (started,) = events(record, "task_started")
    assert [e["taskId"] for e in events(record, "tasks_cancel")] == [started["taskId"]]
    assert [e["taskId"] for e in events(record, "task_cancelled")] == [started["taskId"]]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_while_waiting_cancels_the_task(
    config: Path, record: Path, signum: int, code: int
) -> None:
    argv = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config)]
    argv += ["call", "tasks", "slow_count", "--arg", "seconds=60", "--task"]
    assert interrupt_once(argv, record, "task_started", signum) == code
    (started,) = events(record, "task_started")
    assert [e["taskId"] for e in events(record, "tasks_cancel")] == [started["taskId"]]


def test_a_task_that_needs_input_asks_through_its_wait_and_completes(
    cli: Invoke, config: Path, record: Path, tmp_path: Path
) -> None:
    argv = [
        "--answers",
        '{"name": "Ada"}',
        "call",
        "tasks",
        "ask_later",
        "--arg",
        "seconds=0.1",
        "--task",
        "--json",
    ]
    code, out, err = run(cli, config, *argv)
    assert code == 0, err
    document = json.loads(out)
    assert document["result"]["content"] == [{"type": "text", "text": "hello Ada"}]
    (asked,) = document["asked"]
    assert (asked["message"], asked["action"], asked["answeredBy"]) == ("Your name?", "accept", "--answers")
    (answered,) = events(record, "answered")
    assert answered["taskId"] == document["taskId"] and answered["content"] == {"name": "Ada"}
    (entry,) = (tmp_path / "state" / "tasks").iterdir()
    assert json.loads(entry.read_text())["status"] == "completed"


def test_a_task_whose_tool_failed_is_remembered_as_failed(cli: Invoke, config: Path, tmp_path: Path) -> None:
    code, _, _ = run(cli, config, "call", "tasks", "fail_later", "--arg", "seconds=0.1", "--task")
    assert code == 6
    (entry,) = (tmp_path / "state" / "tasks").iterdir()
    assert json.loads(entry.read_text())["status"] == "failed"


# ---------------------------------------------------------------- HTTP: tasks outlive the invocation


def test_detach_over_http_prints_the_id_and_a_later_invocation_fetches_the_result(
    cli: Invoke, config: Path, http_server: tuple[str, Path]
) -> None:
    code, out, err = run(cli, config, "call", "remote", "slow_count", "--arg", "seconds=0.3", "--detach")
    assert code == 0, err
    task_id = out.strip()
    assert len(out.splitlines()) == 1 and task_id
    assert f"tasks result remote {task_id} --wait" in err
    code, out, err = run(cli, config, "tasks", "result", "remote", task_id, "--wait", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert (document["server"], document["tool"], document["taskId"]) == ("remote", "slow_count", task_id)
    assert document["result"]["content"][0]["text"] == "counted 3 steps"
    code, out, _ = run(cli, config, "tasks", "get", "remote", task_id, "--json")
    assert code == 0
    got = json.loads(out)
    assert got["server"] == "remote" and got["tool"] == "slow_count"
    assert got["task"]["taskId"] == task_id and got["task"]["status"] == "completed"
    code, out, _ = run(cli, config, "tasks", "list", "--json")
    assert code == 0
    listed = {t["taskId"]: t for t in json.loads(out)["tasks"]}
    assert listed[task_id]["server"] == "remote" and listed[task_id]["tool"] == "slow_count"


def test_a_tool_list_cached_from_a_2026_connection_does_not_hide_task_support(
    cli: Invoke, config: Path, http_server: tuple[str, Path]
) -> None:
    code, out, err = run(cli, config, "tools", "list", "remote", "--json")  # cached, 2026-07-28
    assert code == 0, err
    assert all("execution" not in tool for tool in json.loads(out)["tools"])
    code, out, err = run(cli, config, "call", "remote", "slow_count", "--arg", "seconds=0.1", "--task")
    assert (code, out) == (0, "counted 1 steps\n"), err


def test_detach_json_describes_the_task(cli: Invoke, config: Path, http_server: tuple[str, Path]) -> None:
    code, out, err = run(
        cli, config, "call", "remote", "slow_count", "--arg", "seconds=0.1", "--detach", "--json"
    )
    assert code == 0, err
    document = json.loads(out)
    assert set(document) == {"server", "tool", "task"}
    assert document["task"]["status"] == "working" and document["task"]["taskId"]


def test_result_without_wait_of_a_running_task_exits_8_with_a_hint(
    cli: Invoke, config: Path, http_server: tuple[str, Path]
) -> None:
    _, out, _ = run(cli, config, "call", "remote", "slow_count", "--arg", "seconds=30", "--detach")
    task_id = out.strip()
    result = cli("--config", str(config), "tasks", "result", "remote", task_id)
    assert result.exit_code == 8
    assert "still working" in result.stderr and "--wait" in result.stderr
    result = cli("--config", str(config), "tasks", "result", "remote", task_id, "--wait", "--timeout", "0.5")
    assert result.exit_code == 8
    # Waiting with tasks result never cancels: the task was not started by this invocation.
    _, record = http_server
    assert task_id not in [e["taskId"] for e in events(record, "tasks_cancel")]
    code, out, err = run(cli, config, "tasks", "cancel", "remote", task_id, "--json")
    assert code == 0, err
    assert json.loads(out)["task"]["status"] == "cancelled"
    assert task_id in [e["taskId"] for e in events(record, "tasks_cancel")]
    result = cli("--config", str(config), "tasks", "result", "remote", task_id, "--json")
    assert result.exit_code == 130
    assert stderr_json(result)["error"]["type"] == "task_cancelled"


def test_a_detached_task_waiting_for_input_is_answered_by_a_later_tasks_result_wait(
    cli: Invoke, config: Path, http_server: tuple[str, Path], tmp_path: Path
) -> None:
    _, record = http_server
    code, out, err = run(cli, config, "call", "remote", "ask_later", "--arg", "seconds=0.1", "--detach")
    assert code == 0, err
    task_id = out.strip()

    def waiting_for_input() -> bool:  # once its work reaches the question (asked in a process of its own:
        code, out, err = gemma(config, "tasks", "get", "remote", task_id, "--json")  # this one has a loop)
        assert code == 0, err
        return bool(json.loads(out)["task"]["status"] == "input_required")

    wait_until(waiting_for_input, what="the task to ask")
    result = cli("--config", str(config), "tasks", "result", "remote", task_id)
    assert result.exit_code == 8
    assert f"task {task_id} on 'remote' is waiting for input (waiting for a name)" in result.stderr
    assert "--wait' to answer it" in result.stderr
    answers = ["--answers", '{"name": "Grace"}']
    code, out, err = run(cli, config, *answers, "tasks", "result", "remote", task_id, "--wait", "--json")
    assert code == 0, err
    assert json.loads(out)["result"]["content"][0]["text"] == "hello Grace"
    assert [e["content"] for e in events(record, "answered") if e["taskId"] == task_id] == [{"name": "Grace"}]
    remembered = [json.loads(p.read_text()) for p in (tmp_path / "state" / "tasks").iterdir()]
    assert [(e["taskId"], e["status"]) for e in remembered] == [(task_id, "completed")]
    assert remembered[0]["tool"] == "ask_later" and remembered[0]["createdAt"]  # kept, not replaced


def test_an_unknown_task_id_exits_5(cli: Invoke, config: Path, http_server: tuple[str, Path]) -> None:
    for command in ("get", "result", "cancel"):
        code, _, err = run(cli, config, "tasks", command, "remote", "no-such-task")
        assert code == 5, (command, err)
        assert "unknown task" in err


def test_remembered_tasks_are_private_files_with_safe_names(
    cli: Invoke, config: Path, tmp_path: Path, http_server: tuple[str, Path]
) -> None:
    code, _, err = run(cli, config, "call", "remote", "slow_count", "--arg", "seconds=0.1", "--detach")
    assert code == 0, err
    folder = tmp_path / "state" / "tasks"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    (entry,) = folder.iterdir()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert len(entry.stem) == 32 and all(c in "0123456789abcdef" for c in entry.stem)


# ---------------------------------------------------------------- warm session (stdio)


def gemma(config: Path, *args: str) -> tuple[int, str, str]:
    """Run gemma-mcp as a process (one that starts a session must not be this test's process)."""
    argv = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=LIMIT, check=False)
    return done.returncode, done.stdout, done.stderr


def test_detach_on_stdio_starts_a_session_that_keeps_the_task(
    cli: Invoke, config: Path, record: Path
) -> None:
    try:
        code, out, err = gemma(config, "call", "tasks", "slow_count", "--arg", "seconds=30", "--detach")
        assert code == 0, err
        assert "started a session for tasks" in err
        task_id = out.strip()
        code, out, _ = run(cli, config, "session", "list", "--json")
        assert [s["server"] for s in json.loads(out)["sessions"]] == ["tasks"]
        code, out, err = run(cli, config, "tasks", "get", "tasks", task_id, "--json")
        assert code == 0, err
        assert json.loads(out)["task"]["status"] == "working"
        code, out, _ = run(cli, config, "tasks", "list", "tasks", "--json")
        assert [t["taskId"] for t in json.loads(out)["tasks"]] == [task_id]
        code, out, err = run(cli, config, "tasks", "cancel", "tasks", task_id, "--json")
        assert code == 0, err
        assert json.loads(out)["task"]["status"] == "cancelled"
        assert [e["taskId"] for e in events(record, "task_cancelled")] == [task_id]
        code, out, err = run(cli, config, "call", "tasks", "slow_count", "--arg", "seconds=0.2", "--detach")
        assert code == 0, err
        assert "started a session" not in err, err  # the live one serves it
        code, out, err = run(cli, config, "tasks", "result", "tasks", out.strip(), "--wait")
        assert (code, out) == (0, "counted 2 steps\n"), err
        code, out, err = run(cli, config, "call", "tasks", "slow_count", "--arg", "seconds=0.1", "--task")
        assert (code, out) == (0, "counted 1 steps\n"), err
    finally:
        cli("--config", str(config), "session", "stop", "--all")


def test_detach_on_stdio_with_no_session_refuses_with_a_hint(cli: Invoke, config: Path, record: Path) -> None:
    result = cli("--config", str(config), "--no-session", "call", "tasks", "slow_count", "--detach")
    assert result.exit_code == 2
    assert "needs a warm session" in result.stderr and "session start tasks" in result.stderr
    assert not record.exists()


# ---------------------------------------------------------------- hostile servers


def test_a_task_id_with_a_path_and_escapes_never_becomes_a_path_or_reaches_the_terminal(
    cli: Invoke, config: Path, tmp_path: Path
) -> None:
    code, out, err = run(cli, config, "tasks", "get", "evil-id", "../../x")
    # The server answers with its own id whatever was asked: printed escaped, field by field.
    assert code == 0, err
    assert "\x1b" not in out and "\u202e" not in out
    code, out, err = run(cli, config, "call", "evil-id", "work", "--task", "--json")
    assert code == 0, err
    assert json.loads(out)["taskId"].startswith("../../x\x1b]0;PWNED")
    assert "\x1b" not in out  # JSON escapes it
    files = list((tmp_path / "state" / "tasks").iterdir())
    assert len(files) == 1 and ".." not in files[0].name and "\x1b" not in files[0].name
    assert not (tmp_path / "x").exists() and not (tmp_path / "state" / "x").exists()


def test_a_status_message_with_escapes_reaches_the_terminal_escaped(cli: Invoke, config: Path) -> None:
    result = cli("--config", str(config), "tasks", "result", "evil-input", "t1")
    assert result.exit_code == 8
    assert "is waiting for input (name?" in result.stderr
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr and "\\x1b]0;PWNED" in result.stderr


def test_a_task_id_of_100000_characters_is_refused(cli: Invoke, config: Path, tmp_path: Path) -> None:
    code, _, err = run(cli, config, "call", "long-id", "work", "--task")
    assert code == 5
    assert "task id of 100000 characters" in err
    assert not (tmp_path / "state" / "tasks").exists() or not any((tmp_path / "state" / "tasks").iterdir())


def test_an_endless_tasks_list_is_bounded(cli: Invoke, config: Path) -> None:
    code, out, err = run(cli, config, "tasks", "list", "huge-list", "--json")
    assert code == 0, err
    assert len(json.loads(out)["tasks"]) == 10_000


def test_a_tasks_result_that_never_comes_times_out_cancels_and_exits_8(
    cli: Invoke, config: Path, record: Path
) -> None:
    code, _, err = run(cli, config, "call", "never-result", "work", "--task", "--timeout", "0.5")
    assert code == 8, err
    assert "tasks/cancel" in record.with_suffix(".marks").read_text().splitlines()


def test_ctrl_c_while_waiting_through_a_session_cancels_the_task(config: Path, record: Path) -> None:
    try:
        code, _, err = gemma(config, "session", "start", "tasks")
        assert code == 0, err
        argv = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config)]
        argv += ["call", "tasks", "slow_count", "--arg", "seconds=60", "--task"]
        assert interrupt_once(argv, record, "task_started", signal.SIGINT) == 130
        (started,) = events(record, "task_started")
        assert [e["taskId"] for e in events(record, "tasks_cancel")] == [started["taskId"]]
        code, out, err = gemma(config, "tasks", "get", "tasks", started["taskId"], "--json")
        assert code == 0, err
        assert json.loads(out)["task"]["status"] == "cancelled"
    finally:
        gemma(config, "session", "stop", "--all")
