"""`complete`: argument values from the server, for prompts and resource templates, direct and warm."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, stdout_json
from tests.cli.live_servers import live_tables
from tests.conftest import stdio_server


@pytest.fixture
def config(write_config: Callable[..., Path], tmp_path: Path) -> Path:
    return write_config(
        live_tables(tmp_path / "record.jsonl") + stdio_server("legacy", "legacy_rag_redis.py")
    )


def test_prompt_argument_is_completed_with_the_given_arguments_as_context(cli: Invoke, config: Path) -> None:
    result = cli(
        "--config", str(config), "complete", "live", "--prompt", "greet", "language=french", "name=a"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["amelie", "antoine"]


def test_resource_template_variable_is_completed_as_json(cli: Invoke, config: Path) -> None:
    result = cli(
        "--config", str(config), "complete", "live-legacy", "--resource", "file:///{project}/{path}",
        "project=alpha", "path=src", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert stdout_json(result) == {
        "server": "live-legacy",
        "ref": {"type": "ref/resource", "uri": "file:///{project}/{path}"},
        "argument": {"name": "path", "value": "src"},
        "values": ["src/main.py", "src/util.py"],
        "total": 2,
        "hasMore": False,
    }


def test_an_empty_partial_asks_for_every_value(cli: Invoke, config: Path) -> None:
    result = cli("--config", str(config), "complete", "live", "--prompt", "greet", "language=")
    assert result.stdout.splitlines() == ["english", "french", "german", "spanish"]


def test_a_completion_with_escape_sequences_is_printed_escaped(cli: Invoke, config: Path) -> None:
    result = cli("--config", str(config), "complete", "live", "--prompt", "greet", "name=a")
    assert result.exit_code == 0, result.stderr
    assert "a\\x1b]0;pwned\\x07name" in result.stdout.splitlines()
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    as_json = cli("--config", str(config), "complete", "live", "--prompt", "greet", "name=a", "--json")
    assert "a\x1b]0;pwned\x07name" in stdout_json(as_json)["values"]  # exact, JSON-escaped on the wire
    assert "\x1b" not in as_json.stdout


def test_a_server_without_completion_exits_5(cli: Invoke, config: Path) -> None:
    result = cli("--config", str(config), "complete", "legacy", "--prompt", "anything", "x=1")
    assert result.exit_code == 5
    assert result.stderr.strip() == "Error: server 'legacy' does not offer argument completion"


@pytest.mark.parametrize(
    "args",
    [
        ("--prompt", "greet"),  # nothing to complete
        ("name=a",),  # neither --prompt nor --resource
        ("--prompt", "greet", "--resource", "file:///{project}/{path}", "name=a"),
        ("--prompt", "greet", "name"),  # not ARG=VALUE
    ],
)
def test_a_malformed_completion_request_is_a_usage_error(
    cli: Invoke, config: Path, args: tuple[str, ...]
) -> None:
    result = cli("--config", str(config), "complete", "live", *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


def test_a_warm_session_answers_completions(config: Path, tmp_path: Path) -> None:
    def gemma(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)

    try:
        assert gemma("session", "start", "live").returncode == 0
        result = gemma("complete", "live", "--prompt", "greet", "language=german", "name=b")
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == ["bernd", "berta"]
    finally:
        gemma("session", "stop", "--all")
    record = (tmp_path / "record.jsonl").read_text().splitlines()
    started = [line for line in record if json.loads(line)["event"] == "server_started"]
    assert len(started) == 1  # the session's server, and no other
