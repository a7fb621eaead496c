"""Mounted in a host that behaves like gemma-cli's root group: its options, its context, its wizard.

gemma-cli's root is a Click group with `--debug` and `--config FILE`; its callback makes a console
of its own, fills `ctx.obj` ("console", "debug", "config_path", the last defaulting to
~/.gemma_cli/config.toml) and runs a first-run wizard when that file is missing, which without a
terminal ends in `Aborted!` and exit 1. The plugin is added from its entry point, as gemma-cli does.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from gemma_mcp_cli.errors import program
from gemma_mcp_cli.plugin import make_command
from tests.conftest import stdio_server


class HostConsole:
    """The host's own console: what its callback prints goes here, never to our streams."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def print(self, text: str) -> None:
        self.stream.write(text + "\n")


def gemma_root(consoles: list[HostConsole]) -> click.Group:
    """Return a group that behaves like gemma-cli's `cli`."""

    @click.group()
    @click.option("--debug", is_flag=True, help="Enable debug mode with verbose output")
    @click.option("--config", type=click.Path(exists=True, path_type=Path), help="Path to configuration file")
    @click.pass_context
    def cli(ctx: click.Context, debug: bool, config: Path | None) -> None:
        """A stand-in for gemma-cli."""
        ctx.ensure_object(dict)
        console = HostConsole()
        consoles.append(console)
        ctx.obj["console"] = console
        ctx.obj["debug"] = debug
        ctx.obj["config_path"] = config or Path.home() / ".gemma_cli" / "config.toml"
        console.print("gemma-cli ready")
        if ctx.invoked_subcommand != "init" and not (Path.home() / ".gemma_cli" / "config.toml").exists():
            console.print("No configuration found. Running first-time setup...")
            raise click.Abort()  # the wizard's first prompt, with no terminal to answer it

    return cli


@pytest.fixture
def consoles() -> list[HostConsole]:
    return []


@pytest.fixture
def gemma(consoles: list[HostConsole], workdir: Path, no_orphans: None) -> click.Group:
    """Return the host with the plugin added from its entry point."""
    cli = gemma_root(consoles)
    for entry_point in entry_points(group="gemma_cli.plugins"):
        cli.add_command(entry_point.load())
    return cli


@pytest.fixture
def home_settings(isolated_home: Path) -> Path:
    """gemma-cli's own settings file, as its wizard leaves it (no [mcp] block here)."""
    path = isolated_home / ".gemma_cli" / "config.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text('[gemma]\ndefault_model = "none"\n')
    return path


@pytest.fixture
def alt_settings(tmp_path: Path) -> Path:
    """Another settings file whose [mcp] block names a servers file relative to itself."""
    folder = tmp_path / "alt"
    (folder / "config").mkdir(parents=True)
    (folder / "config" / "mcp_servers.toml").write_text(stdio_server("legacy", "legacy_rag_redis.py"))
    settings = folder / "config.toml"
    settings.write_text(
        '[gemma]\ndefault_model = "none"\n\n[mcp]\nservers_config = "config/mcp_servers.toml"\n'
    )
    return settings


def invoke(host: click.Group, *args: str) -> Result:
    return CliRunner().invoke(host, list(args), prog_name="gemma", catch_exceptions=False)


def test_a_fresh_home_is_stopped_by_the_hosts_wizard_before_the_plugin_runs(
    gemma: click.Group, consoles: list[HostConsole]
) -> None:
    result = invoke(gemma, "mcp", "validate")
    assert result.exit_code == 1
    assert "Aborted!" in result.stderr
    assert "first-time setup" in consoles[-1].stream.getvalue()


def test_with_the_hosts_file_in_place_validate_passes_in_ci(
    gemma: click.Group, home_settings: Path, consoles: list[HostConsole]
) -> None:
    result = invoke(gemma, "mcp", "validate", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["valid"] is True
    # The host's callback wrote to its own console; our stdout holds our one JSON document.
    assert consoles[-1].stream.getvalue() == "gemma-cli ready\n"


def test_the_readmes_ci_recipe_an_empty_settings_file_is_enough(
    gemma: click.Group, isolated_home: Path, write_config: Callable[..., Path]
) -> None:
    (isolated_home / ".gemma_cli").mkdir()
    (isolated_home / ".gemma_cli" / "config.toml").touch()
    good = write_config('[a]\ncommand = "x"\n', name="good.toml")
    bad = write_config('[a]\ncommand = "x"\nbogus = 1\n', name="bad.toml")
    assert invoke(gemma, "mcp", "validate", str(good)).exit_code == 0
    failed = invoke(gemma, "mcp", "validate", str(bad))
    assert failed.exit_code == 3
    assert "bogus" in failed.stdout + failed.stderr


def test_the_hosts_config_names_the_settings_whose_servers_are_used(
    gemma: click.Group, home_settings: Path, alt_settings: Path
) -> None:
    default = invoke(gemma, "mcp", "servers", "list", "--json")
    assert [s["name"] for s in json.loads(default.stdout)["servers"]] == ["local-memory"]
    listed = invoke(gemma, "--config", str(alt_settings), "mcp", "tools", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert {t["server"] for t in json.loads(listed.stdout)["tools"]} == {"legacy"}
    validated = invoke(gemma, "--config", str(alt_settings), "mcp", "validate", "--json")
    assert validated.exit_code == 0
    assert json.loads(validated.stdout)["config"] == str(alt_settings.parent / "config" / "mcp_servers.toml")


def test_call_with_arg_through_the_host(gemma: click.Group, home_settings: Path, alt_settings: Path) -> None:
    called = invoke(
        gemma, "--config", str(alt_settings), "mcp", "call", "legacy", "store_memory", "--arg", "content=hi"
    )
    assert called.exit_code == 0, called.stderr
    assert called.stdout.startswith("Stored memory ")
    assert called.stderr == ""
    tool_error = invoke(gemma, "--config", str(alt_settings), "mcp", "call", "legacy", "clear_memory")
    assert tool_error.exit_code == 6


def test_hints_name_the_program_as_typed(gemma: click.Group, home_settings: Path, alt_settings: Path) -> None:
    bad = invoke(
        gemma, "--config", str(alt_settings), "mcp", "call", "legacy", "store_memory", "--arg", "importance=x"
    )
    assert bad.exit_code == 7
    assert "Hint: 'gemma mcp tools show legacy store_memory' lists its parameters" in bad.stderr
    assert "gemma-mcp" not in bad.stderr
    assert program() == "gemma-mcp", "the name does not outlive the invocation"


def test_the_hosts_debug_flag_turns_on_verbose(
    gemma: click.Group, home_settings: Path, alt_settings: Path
) -> None:
    listing = ("mcp", "tools", "list", "legacy", "--refresh")
    quiet = invoke(gemma, "--config", str(alt_settings), *listing)
    loud = invoke(gemma, "--debug", "--config", str(alt_settings), *listing)
    assert quiet.exit_code == loud.exit_code == 0
    assert "[legacy stderr]" not in quiet.stderr
    assert "[legacy stderr]" in loud.stderr
    assert loud.stdout == quiet.stdout


def test_a_missing_relative_servers_config_names_the_settings_file_and_line(
    gemma: click.Group, home_settings: Path, tmp_path: Path, workdir: Path
) -> None:
    settings = tmp_path / "broken.toml"
    settings.write_text('[gemma]\nx = 1\n\n[mcp]\nenabled = true\nservers_config = "config/gone.toml"\n')
    result = invoke(gemma, "--config", str(settings), "mcp", "tools", "list")
    assert result.exit_code == 3
    first = result.stderr.splitlines()[0]
    assert first == (
        f"Error: configuration file config/gone.toml (from servers_config in {settings}, line 6) "
        f"does not exist; looked in {tmp_path} and {workdir}"
    )
    assert "Traceback" not in result.stderr


def test_a_relative_servers_config_is_also_found_from_the_current_folder(
    gemma: click.Group, home_settings: Path, tmp_path: Path, workdir: Path
) -> None:
    (workdir / "config").mkdir()
    (workdir / "config" / "mcp_servers.toml").write_text('[here]\ncommand = "x"\n')
    settings = tmp_path / "elsewhere" / "config.toml"
    settings.parent.mkdir()
    settings.write_text('[mcp]\nservers_config = "config/mcp_servers.toml"\n')
    result = invoke(gemma, "--config", str(settings), "mcp", "servers", "list", "--json")
    assert result.exit_code == 0, result.stderr
    assert [s["name"] for s in json.loads(result.stdout)["servers"]] == ["here"]


def test_make_command_takes_a_settings_file_and_a_servers_file(
    consoles: list[HostConsole], home_settings: Path, alt_settings: Path, write_config: Callable[..., Path]
) -> None:
    servers = write_config('[mine]\ncommand = "x"\n', name="servers.toml")
    host = gemma_root(consoles)
    host.add_command(make_command(servers_file=servers))
    mine = invoke(host, "mcp", "servers", "list", "--json")
    assert [s["name"] for s in json.loads(mine.stdout)["servers"]] == ["mine"]
    host.add_command(make_command(settings_file=alt_settings))
    theirs = invoke(host, "mcp", "servers", "list", "--json")
    assert [s["name"] for s in json.loads(theirs.stdout)["servers"]] == ["legacy"]


def test_a_servers_file_passed_as_the_settings_file_is_an_error_that_says_so(
    consoles: list[HostConsole], home_settings: Path, write_config: Callable[..., Path]
) -> None:
    servers = write_config('[mine]\ncommand = "x"\n', name="servers.toml")
    host = gemma_root(consoles)
    host.add_command(make_command(servers))  # the old positional argument is the settings file
    result = invoke(host, "mcp", "servers", "list")
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        (
            f"Error: {servers} is a servers file ([mine] has a command or url), not a settings file with an "
            "[mcp] section"
        ),
        f"Hint: pass it as make_command(servers_file=...), or run 'gemma mcp --config {servers} ...'",
    ]


def test_no_hint_in_the_source_spells_the_program_name() -> None:
    package = Path(__file__).resolve().parents[1] / "gemma_mcp_cli"
    spelled = [
        f"{path.relative_to(package)}:{number}"
        for path in package.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "hint" in line.lower() and "gemma-mcp " in line
    ]
    assert not spelled, f"use errors.program() so hints name the program as typed: {spelled}"


def test_a_host_settings_file_that_is_not_toml_exits_3_naming_it(
    gemma: click.Group, home_settings: Path, tmp_path: Path
) -> None:
    settings = tmp_path / "garbage.toml"
    settings.write_text("[mcp\nservers_config = \n")
    result = invoke(gemma, "--config", str(settings), "mcp", "servers", "list")
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: {settings}: cannot read gemma-cli settings")
    assert "Traceback" not in result.stderr


def test_a_host_context_with_odd_values_is_ignored(home_settings: Path, workdir: Path) -> None:
    @click.group()
    @click.pass_context
    def odd(ctx: click.Context) -> None:
        """A host whose context holds a config_path that is no path, and a debug that is no flag."""
        ctx.obj = {"config_path": 42, "debug": None}

    odd.add_command(make_command())
    result = invoke(odd, "mcp", "servers", "list", "--json")
    assert result.exit_code == 0, result.stderr
    assert [s["name"] for s in json.loads(result.stdout)["servers"]] == ["local-memory"]
