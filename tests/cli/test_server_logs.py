"""`--log-level`: the servers' log notifications on stderr, from the chosen level up, made safe."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke
from tests.cli.live_servers import live_tables


@pytest.fixture
def config(write_config: Callable[..., Path], tmp_path: Path) -> Path:
    return write_config(live_tables(tmp_path / "record.jsonl"))


@pytest.mark.parametrize("server", ["live", "live-legacy"])
def test_log_level_shows_the_servers_logs_from_that_level_up(cli: Invoke, config: Path, server: str) -> None:
    result = cli("--config", str(config), "--log-level", "error", "call", server, "log_all")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert f"[{server}/live-test] error: error message" in lines
    assert f"[{server}/live-test] emergency: emergency message" in lines
    assert "warning" not in result.stderr and "info message" not in result.stderr


def test_legacy_server_is_sent_logging_set_level(cli: Invoke, config: Path, tmp_path: Path) -> None:
    result = cli("--config", str(config), "--log-level", "notice", "call", "live-legacy", "log_all")
    assert result.exit_code == 0, result.stderr
    events = [json.loads(line) for line in (tmp_path / "record.jsonl").read_text().splitlines()]
    assert {"event": "set_level", "level": "notice"} in [
        {k: v for k, v in e.items() if k != "time"} for e in events
    ]
    assert result.stdout.strip() == "sent 6"  # notice..emergency: the server filtered by the set level
    assert "info message" not in result.stderr


def test_log_message_with_escape_sequences_reaches_stderr_escaped(cli: Invoke, config: Path) -> None:
    result = cli("--config", str(config), "--log-level", "warning", "call", "live", "log_all")
    assert result.exit_code == 0, result.stderr
    warning = next(line for line in result.stderr.splitlines() if "] warning: " in line)
    assert warning == (
        "[live/live-test] warning: clear\\x1b[2J osc52\\x1b]52;c;aGVsbG8=\\x07 "
        "bidi\\u202eevil\\u202c\\x0afake [other] line"
    )
    for raw in ("\x1b", "\x07", "\u202e", "\u202c"):
        assert raw not in result.stderr
    assert not any(line.startswith("fake [other]") for line in result.stderr.splitlines())


def test_without_log_level_no_server_logs_are_shown(cli: Invoke, config: Path) -> None:
    result = cli("--config", str(config), "call", "live", "log_all")
    assert result.exit_code == 0, result.stderr
    assert "live-test" not in result.stderr


def test_unknown_log_level_is_a_usage_error(cli: Invoke, config: Path) -> None:
    result = cli("--config", str(config), "--log-level", "loud", "call", "live", "log_all")
    assert result.exit_code == 2


def test_log_level_after_the_subcommand_means_the_same(cli: Invoke, config: Path) -> None:
    result = cli("--config", str(config), "call", "live", "log_all", "--log-level", "alert")
    assert result.exit_code == 0, result.stderr
    assert "[live/live-test] alert: alert message" in result.stderr.splitlines()
    assert "critical message" not in result.stderr
