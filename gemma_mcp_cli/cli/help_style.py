"""Help that reads like help: SERVER and KEY=VALUE placeholders, one usage line, examples last.

Typer shows arguments as `{server} <str>` and options as `--arg <list[str]>`; every command is
given `PlainHelpCommand` instead, which prints them as Click and man pages do, and ends with
the command's examples from `EXAMPLES` (a test checks that every command has some).
"""

from __future__ import annotations

import re
from typing import Any

import typer
from typer.core import TyperCommand

EXAMPLES: dict[str, tuple[str, ...]] = {
    "batch": ("gemma-mcp batch requests.jsonl --ordered", "gemma-mcp batch - < requests.jsonl --fail-fast"),
    "lock": ("gemma-mcp lock", "gemma-mcp lock --check"),
    "wait": ("gemma-mcp wait local-memory", "gemma-mcp wait http://127.0.0.1:8000/mcp --timeout 60"),
    "tools search": (
        "gemma-mcp tools search 'recall memory'",
        "gemma-mcp tools search files fs --limit 3 --json",
    ),
    "call": (
        "gemma-mcp call local-memory store_memory --arg content='buy milk' --arg importance=0.8",
        "gemma-mcp call fs read_media_file --arg path=cat.png --output cat.png",
    ),
    "stats": ("gemma-mcp stats", "gemma-mcp stats local-memory --format prometheus"),
    "validate": ("gemma-mcp validate", "gemma-mcp validate config/mcp_servers.toml --connect --strict"),
    "auth login": ("gemma-mcp auth login remote", "gemma-mcp auth login remote --no-browser"),
    "auth status": ("gemma-mcp auth status", "gemma-mcp auth status --json"),
    "auth logout": ("gemma-mcp auth logout remote",),
    "prompts list": ("gemma-mcp prompts list", "gemma-mcp prompts list everything --json"),
    "prompts get": ("gemma-mcp prompts get everything args-prompt --arg city=Oslo",),
    "resources list": ("gemma-mcp resources list", "gemma-mcp resources list everything --json"),
    "resources templates": ("gemma-mcp resources templates everything",),
    "resources watch": (
        "gemma-mcp resources watch live counter://value --count 3",
        "gemma-mcp resources watch live counter://value --read --json",
    ),
    "complete": (
        "gemma-mcp complete everything --prompt complex_prompt temperature=0",
        "gemma-mcp complete live --prompt greet language=en name=A --json",
    ),
    "resources read": (
        "gemma-mcp resources read everything demo://resource/static/document/features.md",
        "gemma-mcp resources read sdk test://blob.bin --output blob.bin",
    ),
    "servers status": ("gemma-mcp servers status", "gemma-mcp servers status local-memory --json"),
    "servers import": (
        "gemma-mcp servers import --from cursor",
        "gemma-mcp servers import --from vscode --write",
    ),
    "servers add": (
        "gemma-mcp servers add docs https://mcp.example.com/mcp -H 'Authorization: Bearer ${DOCS_TOKEN}'",
        "gemma-mcp servers add fs -- npx -y @modelcontextprotocol/server-filesystem .",
    ),
    "servers remove": ("gemma-mcp servers remove docs",),
    "servers enable": ("gemma-mcp servers enable docs",),
    "servers disable": ("gemma-mcp servers disable docs",),
    "servers list": ("gemma-mcp servers list", "gemma-mcp servers list --all --json"),
    "servers show": ("gemma-mcp servers show local-memory",),
    "session start": ("gemma-mcp session start local-memory", "gemma-mcp session start --idle-timeout 3600"),
    "session list": ("gemma-mcp session list",),
    "session stop": ("gemma-mcp session stop local-memory", "gemma-mcp session stop --all"),
    "tasks list": ("gemma-mcp tasks list", "gemma-mcp tasks list remote --json"),
    "tasks get": ("gemma-mcp tasks get remote 786512e2",),
    "tasks result": (
        "gemma-mcp tasks result remote 786512e2 --wait",
        "gemma-mcp tasks result remote 786512e2 --json",
    ),
    "tasks cancel": ("gemma-mcp tasks cancel remote 786512e2",),
    "trust": ("gemma-mcp trust", "gemma-mcp trust --list"),
    "tools list": ("gemma-mcp tools list", "gemma-mcp tools list local-memory --json | jq '.tools[].name'"),
    "tools show": ("gemma-mcp tools show local-memory store_memory",),
}

# Typer's type labels, as the placeholders Click and man pages use.
_PLACEHOLDERS = {
    "str": "TEXT",
    "int": "N",
    "int range": "N",
    "float": "NUMBER",
    "float range": "NUMBER",
    "path": "PATH",
}


class PlainHelpCommand(TyperCommand):
    """A Typer command whose help names its placeholders and ends with examples."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """Return `[OPTIONS] SERVER TOOL`, `[SERVER]...`: the usage line's pieces."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument" and not getattr(param, "hidden", False):
                pieces.append(_usage(param))
        return [piece for piece in pieces if piece]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        """Write the Arguments and Options sections with plain placeholders."""
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((_name(param), record[1]))
            else:
                options.append((_option(param, record[0]), record[1]))
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def format_epilog(self, ctx: Any, formatter: Any) -> None:
        """Write the examples as they are: Click would rewrap them into one paragraph."""
        if not self.epilog:
            return
        formatter.write_paragraph()
        formatter.write_text("Examples:")
        with formatter.indentation():
            for line in self.epilog.splitlines():
                formatter.write(f"{'':>{formatter.current_indent}}{line}\n")


def _name(param: Any) -> str:
    name = str(param.metavar or param.name.upper())
    return name + ("..." if param.nargs != 1 and not name.startswith("[") else "")


def _usage(param: Any) -> str:
    name = str(param.metavar or param.name.upper())
    if not name or name.startswith("["):
        return name
    if not param.required:
        name = f"[{name}]"
    return name + ("..." if param.nargs != 1 else "")


def _option(param: Any, shown: str) -> str:
    """Return `-a, --arg TEXT` for Typer's `-a, --arg <list[str]>`, `[a|b]` for `<a|b>`."""
    found = re.search(r" <([^>]*)>$", shown)
    if param.metavar is not None or found is None:
        return shown
    label = found.group(1).removeprefix("list[").removesuffix("]")
    placeholder = f"[{label}]" if "|" in label else _PLACEHOLDERS.get(label, "VALUE")
    return shown[: found.start()] + " " + placeholder


def install(app: typer.Typer, path: str = "") -> None:
    """Give every command of `app` (and its groups) plain help and its examples."""
    for info in app.registered_commands:
        name = f"{path} {info.name}".strip()
        if info.cls in (None, TyperCommand):  # Typer's own default: one of its own was not chosen
            info.cls = PlainHelpCommand
        if info.epilog is None and name in EXAMPLES:
            info.epilog = "\n".join(EXAMPLES[name])
    for group in app.registered_groups:
        if group.typer_instance is not None:
            install(group.typer_instance, f"{path} {group.name}".strip())
