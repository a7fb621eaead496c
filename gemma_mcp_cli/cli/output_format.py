"""`--format table|json|jsonl|yaml` on every command that has `--json` (its short form)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.global_options import extend


class OutputFormat(StrEnum):
    """How a command prints its answer."""

    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    YAML = "yaml"


FormatOpt = Annotated[
    OutputFormat | None,
    typer.Option(
        "--format",
        metavar="[table|json|jsonl|yaml]",
        help="table (for people), json (as --json), jsonl (one item a line) or yaml.",
        show_default=False,
    ),
]


def choose(ctx: Any, given: dict[str, Any], kwargs: dict[str, Any]) -> None:
    """Turn --format into --json plus how the one document is written."""
    chosen = given.get("format")
    if chosen is None:
        return
    if kwargs.get("as_json") and chosen is not OutputFormat.JSON:
        raise typer.BadParameter(f"--json and --format {chosen} disagree", param_hint="--format")
    render.use_format(str(chosen))
    kwargs["as_json"] = chosen is not OutputFormat.TABLE


# `batch` writes JSON lines whatever is asked: its --json is about the summary on stderr.
_FIXED = {"batch"}


def install(app: typer.Typer, path: str = "") -> None:
    """Give every command with `--json` (and no --format of its own) the --format option."""
    for info in app.registered_commands:
        name = f"{path} {info.name}".strip()
        if info.callback is not None and name not in _FIXED and _takes_json(info.callback):
            info.callback = extend(info.callback, {"format": (FormatOpt, None)}, choose)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            install(group.typer_instance, f"{path} {group.name}".strip())


def _takes_json(command: Any) -> bool:
    """Tell whether a command has --json and no --format of its own (`stats` has one)."""
    import inspect
    from typing import get_args

    parameters = inspect.signature(command, eval_str=True).parameters.values()
    # Typer keeps an option's first name as its `default`, the others as `param_decls`.
    declared = [
        (getattr(meta, "default", None), *(getattr(meta, "param_decls", None) or ()))
        for p in parameters
        for meta in get_args(p.annotation)[1:]
    ]
    return any("--json" in d for d in declared) and not any("--format" in d for d in declared)
