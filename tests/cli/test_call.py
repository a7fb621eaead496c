"""`call`: typed arguments, results, and every exit code a call can end with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gemma_mcp_cli.names import file_stem
from tests.cli.conftest import Invoke, stderr_json, stdout_json
from tests.conftest import stdio_server


@pytest.fixture
def call(cli: Invoke, servers_config: Path) -> Invoke:
    """Run `gemma-mcp --config <test servers> call ...`."""
    return lambda *args, **kw: cli("--config", str(servers_config), "call", *args, **kw)


def test_call_on_an_old_protocol_server_prints_its_text(call: Invoke) -> None:
    result = call("legacy", "store_memory", "--arg", "content=hello", "--arg", "importance=0.9")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Stored memory ")
    assert result.stderr == ""


def test_call_with_json_keeps_wire_names(call: Invoke) -> None:
    document = stdout_json(call("legacy", "store_memory", "--arg", "content=x", "--json"))
    assert (document["server"], document["tool"]) == ("legacy", "store_memory")
    assert document["result"]["isError"] is False
    assert document["result"]["content"][0]["type"] == "text"


def test_tool_error_result_exits_6_with_its_text_on_stderr(call: Invoke) -> None:
    result = call("legacy", "clear_memory")
    assert result.exit_code == 6
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: tool clear_memory on 'legacy' failed:")
    assert "confirm" in line


def test_tool_error_with_json_prints_the_result_and_the_envelope(call: Invoke) -> None:
    result = call("legacy", "clear_memory", "--json")
    assert result.exit_code == 6
    assert stdout_json(result)["result"]["isError"] is True
    error = stderr_json(result)["error"]
    assert (error["type"], error["exit_code"], error["server"]) == ("tool", 6, "legacy")
    assert error["message"].startswith("tool clear_memory on 'legacy' failed: ")


def test_unknown_tool_exits_5_naming_close_tools(call: Invoke) -> None:
    result = call("legacy", "store_memroy", "--arg", "content=x")
    assert result.exit_code == 5
    assert "has no tool 'store_memroy'; did you mean 'store_memory'" in result.stderr


def test_arguments_that_break_the_schema_exit_7_before_sending(call: Invoke, tmp_path: Path) -> None:
    result = call(
        "legacy", "store_memory", "--arg", "importance=high", "--arg", "memory_type=forever", "--arg", "x=1"
    )
    assert result.exit_code == 7
    message = result.stderr.splitlines()[0]
    for key in (
        "content: required",
        "importance: 'high' is not of type 'number'",
        "memory_type:",
        "x: not a parameter",
    ):
        assert key in message
    log = (tmp_path / "state" / "logs" / f"{file_stem('legacy')}.log").read_text()
    assert "tools/call" not in log and "listening on stdio" in log


def test_dry_run_checks_and_prints_the_request_without_calling(call: Invoke) -> None:
    result = call("legacy", "store_memory", "--arg", "content=kept", "--arg", "importance=1", "--dry-run")
    assert result.exit_code == 0
    assert stdout_json(result) == {
        "server": "legacy",
        "tool": "store_memory",
        "arguments": {"content": "kept", "importance": 1},
        "dry_run": True,
    }
    assert call("legacy", "recall_memory", "--arg", "query=kept").stdout.strip() == "[]"


def test_args_object_from_text_file_and_stdin_with_arg_applied_over_it(call: Invoke, tmp_path: Path) -> None:
    file = tmp_path / "args.json"
    file.write_text(json.dumps({"content": "from-file", "importance": 0.2}))
    for source, stdin in ((f"@{file}", None), ("-", file.read_text()), (file.read_text(), None)):
        result = call(
            "legacy", "store_memory", "--args", source, "--arg", "importance=0.7", "--dry-run", input=stdin
        )
        assert stdout_json(result)["arguments"] == {"content": "from-file", "importance": 0.7}


def test_bad_args_json_is_a_usage_error(call: Invoke) -> None:
    result = call("legacy", "store_memory", "--args", "{not json")
    assert result.exit_code == 2
    assert "--args" in result.stderr and "not valid JSON" in result.stderr


def test_arguments_are_converted_by_schema_type(call: Invoke) -> None:
    result = call(
        "sdk",
        "typed",
        "--arg",
        "count=5",
        "--arg",
        "ratio=2.5",
        "--arg",
        "flag=true",
        "--arg",
        "code=007",
        "--arg",
        'tags=["a","b"]',
        "--arg",
        'opts:={"k": 1}',
        "--arg",
        "mode=slow",
        "--arg",
        "maybe=null",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    received = stdout_json(result)["result"]["structuredContent"]
    assert received == {
        "count": 5,
        "ratio": 2.5,
        "flag": True,
        "code": "007",
        "tags": ["a", "b"],
        "opts": {"k": 1},
        "mode": "slow",
        "maybe": None,
    }
    assert json.dumps(received["code"]) == '"007"' and json.dumps(received["count"]) == "5"


def test_structured_and_non_text_content_are_printed_for_people(call: Invoke) -> None:
    added = call("sdk", "add", "--arg", "a=2", "--arg", "b=3")
    assert json.loads(added.stdout) == {"sum": 5}
    image = call("sdk", "tiny_image")
    assert image.exit_code == 0
    assert image.stdout.strip().startswith("[image image/png ") and image.stdout.strip().endswith(" B]")
    embedded = call("sdk", "embedded")
    assert embedded.stdout.strip().startswith("[resource test://embedded")


def test_image_with_json_carries_the_data_whole(call: Invoke) -> None:
    (block,) = stdout_json(call("sdk", "tiny_image", "--json"))["result"]["content"]
    assert block["type"] == "image" and block["mimeType"] == "image/png" and len(block["data"]) > 20


def test_progress_tool_completes_and_log_messages_show_with_verbose(
    cli: Invoke, servers_config: Path
) -> None:
    done = cli(
        "--config", str(servers_config), "call", "sdk", "progress", "--arg", "steps=3", "--arg", "delay=0.01"
    )
    assert done.exit_code == 0
    assert done.stdout.strip() == "finished 3 steps"
    assert done.stderr == ""
    logged = cli(
        "--config", str(servers_config), "--verbose", "call", "sdk", "log", "--arg", "message=hello-log"
    )
    assert logged.exit_code == 0
    assert "hello-log" in logged.stderr


def test_a_request_slower_than_the_timeout_exits_8(call: Invoke) -> None:
    result = call("sdk", "slow", "--arg", "seconds=30", "--timeout", "0.5")
    assert result.exit_code == 8
    assert "did not answer tools/call slow within 0.5s" in result.stderr


def test_unknown_and_disabled_servers_exit_3(call: Invoke) -> None:
    unknown = call("legasy", "x")
    assert unknown.exit_code == 3 and "did you mean 'legacy'" in unknown.stderr
    disabled = call("early", "x")
    assert disabled.exit_code == 3 and "disabled" in disabled.stderr


def test_command_not_on_path_exits_4_naming_it(cli: Invoke, write_config) -> None:
    path = write_config('[gone]\ncommand = "surely-not-an-installed-command"\n')
    result = cli("--config", str(path), "call", "gone", "x")
    assert result.exit_code == 4
    assert (
        result.stderr.splitlines()[0]
        == "Error: cannot start server 'gone': 'surely-not-an-installed-command' was not found"
    )


def test_server_exiting_at_start_up_exits_4_with_its_stderr(cli: Invoke, write_config) -> None:
    path = write_config(stdio_server("early", "faulty_server.py", "exit-early", max_reconnect_attempts=0))
    result = cli("--config", str(path), "call", "early", "work")
    assert result.exit_code == 4
    assert "closed the connection during start-up" in result.stderr
    assert "fatal: cannot open database /nonexistent/db.sqlite" in result.stderr


def test_server_that_never_answers_initialize_times_out_with_8(cli: Invoke, write_config) -> None:
    path = write_config(stdio_server("silent", "faulty_server.py", "no-init", connection_timeout=1.0))
    result = cli("--config", str(path), "call", "silent", "work")
    assert result.exit_code == 8
    assert "did not finish start-up and handshake within 1s" in result.stderr


def test_server_slower_than_request_timeout_exits_8(cli: Invoke, write_config) -> None:
    path = write_config(
        stdio_server("slow", "faulty_server.py", "slow", "--delay", "30", request_timeout=0.5)
    )
    result = cli("--config", str(path), "call", "slow", "work", "--json")
    assert result.exit_code == 8
    assert stderr_json(result)["error"]["type"] == "timeout"


def test_server_crashing_mid_call_exits_4_with_its_stderr(cli: Invoke, write_config) -> None:
    path = write_config(stdio_server("crash", "faulty_server.py", "crash-mid-call"))
    result = cli("--config", str(path), "call", "crash", "work")
    assert result.exit_code == 4
    assert "closed the connection during tools/call work" in result.stderr
    assert "panicked at src/main.rs:42" in result.stderr


def test_non_json_on_stdout_is_named_in_the_error(cli: Invoke, write_config) -> None:
    path = write_config(stdio_server("garbage", "faulty_server.py", "garbage"))
    result = cli("--config", str(path), "call", "garbage", "work")
    assert result.exit_code == 4
    assert "wrote non-JSON-RPC to stdout: 'this is not json' during tools/call work" in result.stderr
    assert "Traceback" not in result.stderr


def test_verbose_shows_the_servers_stderr(cli: Invoke, servers_config: Path) -> None:
    quiet = cli("--config", str(servers_config), "call", "sdk", "write_stderr", "--arg", "text=marker-42")
    assert quiet.exit_code == 0 and "marker-42" not in quiet.stderr
    loud = cli(
        "--config", str(servers_config), "-v", "call", "sdk", "write_stderr", "--arg", "text=marker-42"
    )
    assert "[sdk stderr] marker-42" in loud.stderr


def test_a_state_folder_that_cannot_hold_logs_exits_3_naming_it(
    cli: Invoke, write_config, tmp_path: Path
) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "logs").write_text("not a folder")
    path = write_config(stdio_server("legacy", "legacy_rag_redis.py"))
    result = cli("--config", str(path), "call", "legacy", "get_memory_stats")
    assert result.exit_code == 3
    log = tmp_path / "state" / "logs" / f"{file_stem('legacy')}.log"
    assert result.stderr.splitlines() == [
        f"Error: cannot write the stderr log of server 'legacy' ({log}): {log.parent} is not a folder",
        "Hint: the state directory ($GEMMA_MCP_STATE_DIR) must be a writable folder",
    ]
