"""Mounted into a host: a real Click group loading the plugin by entry point, and a Typer host."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

import click
import pytest
import typer
from click.testing import CliRunner as ClickRunner
from typer.testing import CliRunner as TyperRunner

from tests.conftest import stdio_server


@pytest.fixture
def gemma(workdir: Path, no_orphans: None) -> click.Group:
    """Return a Click host shaped like gemma-cli, with plugins loaded the way it loads them."""

    @click.group()
    @click.pass_context
    def cli(ctx: click.Context) -> None:
        """A stand-in for gemma-cli's root group; its callback state must not matter."""
        ctx.obj = {"console": None}

    for entry_point in entry_points(group="gemma_cli.plugins"):
        cli.add_command(entry_point.load())
    return cli


def invoke(host: click.Group, *args: str) -> click.testing.Result:
    return ClickRunner().invoke(host, list(args), prog_name="gemma", catch_exceptions=False)


def test_the_plugin_is_found_by_its_entry_point(gemma: click.Group) -> None:
    assert "mcp" in gemma.commands


def test_help_passes_through(gemma: click.Group) -> None:
    result = invoke(gemma, "mcp", "--help")
    assert result.exit_code == 0
    assert "Usage: gemma mcp" in result.output
    assert "tools" in result.output and "validate" in result.output
    assert invoke(gemma, "mcp", "tools", "--help").exit_code == 0


def test_usage_errors_exit_2(gemma: click.Group) -> None:
    assert invoke(gemma, "mcp", "tools", "list", "--no-such-option").exit_code == 2
    assert invoke(gemma, "mcp", "no-such-command").exit_code == 2


def test_commands_and_exit_codes_pass_through(gemma: click.Group, write_config) -> None:
    config = str(write_config(stdio_server("legacy", "legacy_rag_redis.py")))
    listed = invoke(gemma, "mcp", "--config", config, "tools", "list", "--json")
    assert listed.exit_code == 0
    assert [t["name"] for t in json.loads(listed.stdout)["tools"]][:2] == ["store_memory", "recall_memory"]
    called = invoke(gemma, "mcp", "--config", config, "call", "legacy", "store_memory", "--arg", "content=hi")
    assert called.exit_code == 0 and called.stdout.startswith("Stored memory ")
    assert invoke(gemma, "mcp", "--config", config, "call", "legacy", "clear_memory").exit_code == 6
    assert invoke(gemma, "mcp", "--config", config, "call", "legacy", "store_memory").exit_code == 7
    assert invoke(gemma, "mcp", "--config", config, "call", "nope", "x").exit_code == 3


def test_validate_in_ci_passes_and_fails_with_the_right_code(gemma: click.Group, write_config) -> None:
    good = str(write_config('[a]\ncommand = "x"\n', name="good.toml"))
    bad = str(write_config('[a]\ncommand = "x"\nbogus = 1\n', name="bad.toml"))
    assert invoke(gemma, "mcp", "validate", good).exit_code == 0
    result = invoke(gemma, "mcp", "validate", bad)
    assert result.exit_code == 3
    assert "bogus" in result.output


def test_disabled_in_the_hosts_settings_exits_3(gemma: click.Group, tmp_path: Path) -> None:
    settings = tmp_path / "gemma.toml"
    settings.write_text("[mcp]\nenabled = false\n")
    from gemma_mcp_cli.plugin import make_command

    gemma.add_command(make_command(settings), name="mcp")
    result = invoke(gemma, "mcp", "servers", "list")
    assert result.exit_code == 3
    assert f"MCP is disabled by gemma-cli's settings ([mcp] in {settings})" in result.output


def test_a_typer_host_mounts_the_app_with_add_typer(workdir: Path, write_config) -> None:
    from gemma_mcp_cli.cli.app import app as mcp_app

    host = typer.Typer()

    @host.callback()
    def root() -> None:
        """A Typer host."""

    host.add_typer(mcp_app, name="mcp")
    result = TyperRunner().invoke(host, ["mcp", "servers", "list", "--json"])
    assert result.exit_code == 0
    assert [s["name"] for s in json.loads(result.stdout)["servers"]] == ["local-memory"]
    assert TyperRunner().invoke(host, ["mcp", "servers", "show", "nope"]).exit_code == 3
    config = str(write_config('[mine]\ncommand = "x"\n'))
    mine = TyperRunner().invoke(host, ["mcp", "--config", config, "servers", "list", "--json"])
    assert [s["name"] for s in json.loads(mine.stdout)["servers"]] == ["mine"]
