"""`keep_alive`: per server, or every server's default from the settings; bad values are config errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gemma_mcp_cli.config.loader import check_config, load_config, load_settings
from gemma_mcp_cli.errors import MCPConfigError


def test_keep_alive_is_off_unless_set(write_config: Callable[..., Path]) -> None:
    loaded = load_config(write_config('[a]\ncommand = "x"\n[b]\ncommand = "x"\nkeep_alive = 30\n'))
    assert (loaded.servers["a"].keep_alive, loaded.servers["b"].keep_alive) == (None, 30.0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "greater than or equal to 0"),
        ("inf", "finite number"),
        ("nan", "finite number"),
        ("1e9", "less than or equal to 86400"),
        ('"60"', "valid number, got str '60'"),
        ("true", "valid number, got bool True"),
    ],
)
def test_a_bad_keep_alive_is_an_error_at_its_line(
    write_config: Callable[..., Path], value: str, message: str
) -> None:
    report = check_config(write_config(f'[ok]\ncommand = "x"\n\n[a]\ncommand = "x"\nkeep_alive = {value}\n'))
    ((server, problem),) = report.problems()
    assert (server, problem.field, problem.line) == ("a", "keep_alive", 6)
    assert message in problem.message


def test_the_settings_give_every_server_its_default_and_a_server_overrides_it(
    write_config: Callable[..., Path], isolated_home: Path
) -> None:
    settings = isolated_home / ".gemma_cli" / "config.toml"
    settings.parent.mkdir()
    settings.write_text("[mcp]\nkeep_alive = 120\n")
    config = write_config(
        '[a]\ncommand = "x"\n[b]\ncommand = "x"\nkeep_alive = 0\n[c]\ncommand = "x"\nkeep_alive = 5\n'
    )
    servers = load_config(config).servers
    assert [servers[name].keep_alive for name in "abc"] == [120.0, 0.0, 5.0]


@pytest.mark.parametrize(
    ("text", "message"), [("-5", "greater than or equal to 0"), ("inf", "finite number")]
)
def test_a_bad_keep_alive_in_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.setenv("GEMMA_MCP_KEEP_ALIVE", text)
    with pytest.raises(MCPConfigError, match=rf"GEMMA_MCP_KEEP_ALIVE: keep_alive: .*{message}"):
        load_settings()


def test_a_bad_keep_alive_stops_the_command_with_exit_3_and_one_line(
    write_config: Callable[..., Path], workdir: Path
) -> None:
    config = write_config('[a]\ncommand = "x"\nkeep_alive = -2\n')
    done = subprocess.run(
        [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), "call", "a", "t"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3
    assert done.stderr.startswith(f"Error: {config}: servers.a.keep_alive (line 3): ")
    assert "Traceback" not in done.stderr


def test_a_changed_keep_alive_variable_is_seen_by_the_quick_listing(
    write_config: Callable[..., Path], workdir: Path
) -> None:
    import os

    config = write_config('[a]\ncommand = "x"\n')
    run = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), "servers", "list"]
    assert subprocess.run(run, capture_output=True, timeout=60, check=False).returncode == 0
    bad = os.environ | {"GEMMA_MCP_KEEP_ALIVE": "-1"}
    done = subprocess.run(run, capture_output=True, text=True, timeout=60, check=False, env=bad)
    assert done.returncode == 3 and "GEMMA_MCP_KEEP_ALIVE" in done.stderr
