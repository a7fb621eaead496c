"""Mount gemma-mcp into gemma-cli: a real Click command `mcp` that forwards to the Typer app.

Typer vendors its own Click, so its app cannot be added to a real Click group directly.
This command takes every argument as it is and runs the Typer app on them, passing its
help, usage errors and exit codes through. It uses nothing of the host's context, so the
host's root callback (a wizard, a dummy console when piped) cannot change what it does.

gemma-cli loads it with two lines:

    for entry_point in importlib.metadata.entry_points(group="gemma_cli.plugins"):
        cli.add_command(entry_point.load())
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import click

from gemma_mcp_cli.config.discovery import SETTINGS_ENV


def run_app(args: Sequence[str], prog_name: str = "gemma mcp") -> int:
    """Run the gemma-mcp command line on `args` and return its exit code."""
    from gemma_mcp_cli.cli.app import app

    try:
        app(args=list(args), prog_name=prog_name, standalone_mode=True)
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def make_command(settings_path: str | os.PathLike[str] | None = None) -> click.Command:
    """Return the `mcp` Click command; `settings_path` is the host's config file, if not the default."""

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
        if settings_path is not None:
            os.environ.setdefault(SETTINGS_ENV, os.fspath(settings_path))
        parent = ctx.parent.info_name if ctx.parent and ctx.parent.info_name else "gemma"
        ctx.exit(run_app(args, prog_name=f"{parent} {ctx.info_name}"))

    return mcp


mcp = make_command()
