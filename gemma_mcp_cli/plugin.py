"""Mount gemma-mcp into gemma-cli: a real Click command `mcp` that forwards to the Typer app.

Typer vendors its own Click, so its app cannot be added to a real Click group directly.
This command takes every argument as it is and runs the Typer app on them, passing its
help, usage errors and exit codes through. From the host it takes three things only: its
settings file (`ctx.obj["config_path"]`, gemma-cli's `--config`), its debug flag
(`ctx.obj["debug"]`, gemma-cli's `--debug`, which turns on `--verbose`) and the name it was
typed as (`gemma mcp`), which hints then use. The host's console and anything its root
callback does are not ours to change: a callback that exits (gemma-cli's first-run wizard,
when ~/.gemma_cli/config.toml is missing) ends the command before this one runs.

gemma-cli loads it with two lines:

    for entry_point in importlib.metadata.entry_points(group="gemma_cli.plugins"):
        cli.add_command(entry_point.load())
"""

from __future__ import annotations

import contextlib
import os
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from gemma_mcp_cli.config.discovery import SETTINGS_ENV
from gemma_mcp_cli.errors import PROGRAM, MCPConfigError

PathLike = str | os.PathLike[str]
_GIVEN = {ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT, ParameterSource.PROMPT}


def run_app(args: Sequence[str], prog_name: str = "gemma mcp") -> int:
    """Run the gemma-mcp command line on `args` and return its exit code."""
    from gemma_mcp_cli.cli.app import app

    token = PROGRAM.set(prog_name)
    try:
        app(args=list(args), prog_name=prog_name, standalone_mode=True)
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    finally:
        PROGRAM.reset(token)
    return 0


def make_command(
    settings_file: PathLike | None = None,
    servers_file: PathLike | None = None,
    *,
    settings_path: PathLike | None = None,
) -> click.Command:
    """Return the `mcp` Click command.

    `settings_file` is the host's settings file (with an `[mcp]` block), if not the one its
    context names; `servers_file` is the servers configuration to use unless `--config` or
    $GEMMA_MCP_CONFIG names another. `settings_path` is the old name of `settings_file`.
    """
    settings_file = settings_file if settings_file is not None else settings_path

    @click.command(
        "mcp",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
        add_help_option=False,
        short_help="List, call and check MCP servers.",
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    @click.pass_context
    def mcp(ctx: click.Context, args: tuple[str, ...]) -> None:
        """List, call and check MCP servers (gemma-mcp)."""
        host = _host_options(ctx)
        settings = settings_file if settings_file is not None else _host_settings(ctx, host)
        argv = _with_host_options(list(args), servers_file, debug=bool(host.get("debug")))
        with _settings_env(settings):
            refused = _refuse_servers_file(settings, ctx.command_path, as_json="--json" in args)
            code = refused or run_app(argv, ctx.command_path)
        ctx.exit(code)

    return mcp


def _host_options(ctx: click.Context) -> Mapping[str, Any]:
    """Return the nearest host context object that is a mapping (gemma-cli's `ctx.obj`), or {}."""
    current = ctx.parent
    while current is not None:
        if isinstance(current.obj, Mapping):
            return current.obj
        current = current.parent
    return {}


def _host_settings(ctx: click.Context, host: Mapping[str, Any]) -> PathLike | None:
    """Return the host's settings file when it should be read: named by the user, or no variable set.

    gemma-cli always fills `config_path` (its default when `--config` is absent); only a file the
    user named outranks $GEMMA_MCP_SETTINGS.
    """
    path = host.get("config_path")
    if not isinstance(path, str | os.PathLike):
        return None
    named = _source_of_config(ctx) in _GIVEN | {None}
    return path if named or not os.environ.get(SETTINGS_ENV) else None


def _source_of_config(ctx: click.Context) -> ParameterSource | None:
    """Return how the host's `--config` got its value (None: no host context has that option)."""
    current = ctx.parent
    while current is not None:
        source = current.get_parameter_source("config")
        if source is not None:
            return source
        current = current.parent
    return None


def _with_host_options(args: list[str], servers_file: PathLike | None, *, debug: bool) -> list[str]:
    """Put the host's choices in front of the user's arguments, which come later and so win."""
    front: list[str] = []
    if servers_file is not None and not os.environ.get("GEMMA_MCP_CONFIG") and not _names_config(args):
        front += ["--config", os.fspath(servers_file)]
    if debug and args:
        front.append("--verbose")
    return front + args


def _names_config(args: list[str]) -> bool:
    before_separator = args[: args.index("--")] if "--" in args else args
    return any(a in ("--config", "-c") or a.startswith("--config=") for a in before_separator)


@contextlib.contextmanager
def _settings_env(settings: PathLike | None) -> Iterator[None]:
    """Point $GEMMA_MCP_SETTINGS at the host's file while the command runs (and its children start)."""
    if settings is None:
        yield
        return
    before = os.environ.get(SETTINGS_ENV)
    os.environ[SETTINGS_ENV] = os.fspath(settings)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(SETTINGS_ENV, None)
        else:
            os.environ[SETTINGS_ENV] = before


def _refuse_servers_file(settings: PathLike | None, program: str, *, as_json: bool) -> int:
    """Stop with exit 3 if the settings file given is a servers file (make_command's old mix-up)."""
    if settings is None:
        return 0
    try:
        document = tomllib.loads(Path(settings).expanduser().read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return 0  # reading the settings reports it, with the file's name
    servers = [
        name
        for name, table in document.items()
        if isinstance(table, dict) and ("command" in table or "url" in table)
    ]
    if "mcp" in document or not servers:
        return 0
    from gemma_mcp_cli.cli import render

    error = MCPConfigError(
        f"{settings} is a servers file ([{servers[0]}] has a command or url), not a settings file "
        "with an [mcp] section",
        hint=f"pass it as make_command(servers_file=...), or run '{program} --config {settings} ...'",
    )
    render.failure(error, as_json=as_json)
    return int(error.exit_code)


mcp = make_command()
