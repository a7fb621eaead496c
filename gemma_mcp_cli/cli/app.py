"""The root command: global options and the one list of command groups."""

from __future__ import annotations

from typing import Annotated

import typer
import typer.core

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
    tasks,
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

# The answer options are global, but read where people write them too: after the subcommand.
ANSWER_FLAGS = ("--accept-defaults", "--decline", "--cancel")
ANSWER_VALUES = ("--answers", "--root")


class _Root(typer.core.TyperGroup):
    """The root group: the answer options may come anywhere on the line, as global options."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        return super().parse_args(ctx, hoist_answer_options(args))


def hoist_answer_options(args: list[str]) -> list[str]:
    """Move the answer options (and their values) in front of the subcommand."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            rest += args[i:]
            break
        if word in ANSWER_FLAGS or (word.split("=", 1)[0] in ANSWER_VALUES and "=" in word):
            front.append(word)
        elif word in ANSWER_VALUES and i + 1 < len(args):
            front += args[i : i + 2]
            i += 1
        else:
            rest.append(word)
        i += 1
    return front + rest


app = typer.Typer(
    name="gemma-mcp",
    cls=_Root,
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
app.add_typer(tasks.app, name="tasks")
app.add_typer(tools.app, name="tools")
app.command("trust")(trust.command)
app.command("validate")(validate.command)
app.command("wait")(wait.command)
install(app)  # the global options, after the subcommand too
output_format.install(app)  # --format wherever --json is
help_style.install(app)  # SERVER and KEY=VALUE placeholders, and examples


def main() -> None:
    """Run the gemma-mcp command line."""
    from gemma_mcp_cli import _collection
    from gemma_mcp_cli.cli.completion import use_quoting_completion

    command = typer.main.get_command(app)  # what `app()` runs (its pretty exceptions are off)
    use_quoting_completion()
    _collection.resume()  # a command that may run for hours collects as usual
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
    answers: Annotated[
        str | None,
        typer.Option(
            "--answers",
            help="Answers for a server that asks back: a JSON object (or a list, one per question), "
            "@FILE, or - for standard input.",
        ),
    ] = None,
    accept_defaults: Annotated[
        bool, typer.Option("--accept-defaults", help="Answer a server's questions with their defaults.")
    ] = False,
    decline: Annotated[bool, typer.Option("--decline", help="Decline every question a server asks.")] = False,
    cancel: Annotated[bool, typer.Option("--cancel", help="Cancel every question a server asks.")] = False,
    root: Annotated[
        list[str] | None,
        typer.Option("--root", help="A directory the servers may work in (MCP roots); repeatable."),
    ] = None,
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
        answers=answers,
        accept_defaults=accept_defaults,
        decline=decline,
        cancel=cancel,
        roots=list(root or []),
    )
