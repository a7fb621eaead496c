"""The root command: global options and the one list of command groups."""

from __future__ import annotations

from typing import Annotated

import typer

from gemma_mcp_cli._version import __version__
from gemma_mcp_cli.cli import (
    auth,
    batch,
    call,
    complete,
    help_style,
    lock,
    output_format,
    prompts,
    render,
    resources,
    servers,
    session,
    stats,
    tools,
    trust,
    validate,
    wait,
)
from gemma_mcp_cli.cli.global_options import (
    ConfigOpt,
    HeaderOpt,
    LogLevelOpt,
    NoSessionOpt,
    RetriesOpt,
    TransportOpt,
    VerboseOpt,
    headers,
    install,
)
from gemma_mcp_cli.cli.invocation import AppState
from gemma_mcp_cli.errors import PROGRAM

app = typer.Typer(
    name="gemma-mcp",
    help="List, call and check MCP servers from a terminal, a script or CI.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rendering it with rich costs more than the rest of --help
    context_settings={"help_option_names": ["-h", "--help"]},
)

# The command groups, alphabetical: the one place a command is registered.
app.add_typer(auth.app, name="auth")
app.command("batch")(batch.command)
app.command("call")(call.command)
app.command("complete")(complete.command)
app.command("lock")(lock.command)
app.add_typer(prompts.app, name="prompts")
app.add_typer(resources.app, name="resources")
app.add_typer(servers.app, name="servers")
app.add_typer(session.app, name="session")
app.command("stats")(stats.command)
app.add_typer(tools.app, name="tools")
app.command("trust")(trust.command)
app.command("validate")(validate.command)
app.command("wait")(wait.command)
install(app)  # the global options, after the subcommand too
output_format.install(app)  # --format wherever --json is
help_style.install(app)  # SERVER and KEY=VALUE placeholders, and examples


def main() -> None:
    """Run the gemma-mcp command line."""
    from gemma_mcp_cli.cli.completion import use_quoting_completion

    command = typer.main.get_command(app)  # what `app()` runs (its pretty exceptions are off)
    use_quoting_completion()
    command(prog_name="gemma-mcp")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gemma-mcp {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
    retries: RetriesOpt = None,
    transport: TransportOpt = None,
    header: HeaderOpt = None,
    no_session: NoSessionOpt = False,
    log_level: LogLevelOpt = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """List, call and check MCP servers from a terminal, a script or CI."""
    render.reset()
    # Hints name the program as typed: `gemma-mcp`, or the host's path to us (`gemma mcp`).
    program = PROGRAM.set(ctx.command_path)
    ctx.call_on_close(lambda: PROGRAM.reset(program))
    ctx.obj = AppState(
        config=config,
        verbose=verbose,
        retries=retries,
        no_session=no_session,
        log_level=log_level and str(log_level),
        transport=transport and str(transport),
        headers=headers(header),
    )
