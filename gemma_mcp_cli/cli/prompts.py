"""`prompts`: list prompts, render one."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gemma_mcp_cli import arguments
from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.boundary import run_async
from gemma_mcp_cli.cli.completion import complete_prompt_arg
from gemma_mcp_cli.cli.connect import open_manager, registry
from gemma_mcp_cli.cli.content import asked_entry, describe
from gemma_mcp_cli.cli.list_watch import list_or_watch
from gemma_mcp_cli.cli.listings import ListingView
from gemma_mcp_cli.cli.loading import config_for
from gemma_mcp_cli.cli.options import (
    FieldsOpt,
    JsonOpt,
    OfflineOpt,
    PromptArg,
    RefreshOpt,
    ServerArg,
    ServersArg,
)
from gemma_mcp_cli.cli.watch import ChangesOpt, ListWatchOpt, WatchTimeoutOpt
from gemma_mcp_cli.errors import MCPUsageError

app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="List the servers' prompts and render one."
)
PromptArgOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--arg", "-a", metavar="KEY=VALUE", help="key=value; repeatable.", autocompletion=complete_prompt_arg
    ),
]


PROMPTS = ListingView(
    "prompts",
    lambda manager, name: manager.list_prompts(name),
    ("SERVER", "PROMPT", "ARGUMENTS", "DESCRIPTION"),
    lambda p: (p["server"], p["name"], _arguments(p), p.get("description")),
)


@app.command("list")
def list_prompts(
    ctx: typer.Context,
    servers: ServersArg = None,
    refresh: RefreshOpt = False,
    offline: OfflineOpt = False,
    fields: FieldsOpt = None,
    watch: ListWatchOpt = False,
    count: ChangesOpt = None,
    timeout: WatchTimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the prompts of the named servers, or of every enabled server (cached)."""
    options = {"refresh": refresh, "offline": offline, "fields": fields, "as_json": as_json}
    list_or_watch(ctx, PROMPTS, servers, options | {"watch": watch, "count": count, "timeout": timeout})


@app.command("get")
def get_prompt(
    ctx: typer.Context,
    server: ServerArg,
    prompt: PromptArg,
    arg: PromptArgOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Render a prompt with its arguments."""

    async def work() -> None:
        loaded = config_for(ctx)
        name = loaded.server(server).name
        values = dict(_pair(p) for p in arg or [])
        cached = registry(loaded).get(loaded.servers[name], "prompts")
        async with open_manager(ctx, loaded, start=[name]) as manager:
            known = cached if cached is not None else await manager.list_prompts(name)
            definition = next((p for p in known if p.get("name") == prompt), None)
            if definition is not None:  # an unknown prompt: the server names the ones it has
                arguments.check_prompt(name, definition, values)
            result = await manager.get_prompt(name, prompt, values)
        if as_json:
            render.emit_json(
                {"server": name, "prompt": prompt, "result": result} | asked_entry(manager.asked)
            )
            return
        for message in result.get("messages") or []:
            content = message.get("content") or {}
            text = content.get("text") if content.get("type") == "text" else describe(content)
            render.emit_text(f"{message.get('role')}: {text}")

    run_async(ctx, as_json, work)


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise MCPUsageError(f"--arg {text!r} must look like key=value")
    return key, value


def _arguments(prompt: dict[str, Any]) -> str:
    return ", ".join(a["name"] + ("" if a.get("required") else "?") for a in prompt.get("arguments") or [])
