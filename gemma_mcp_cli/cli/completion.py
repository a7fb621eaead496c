"""Shell completion: server names from the config, tool/resource/prompt names from the cache.

Completion runs the program once per Tab press, so nothing here may start a server or
import the SDK, and no failure may reach the shell.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer
from typer._click.shell_completion import CompletionItem, add_completion_class
from typer._completion_classes import BashComplete, FishComplete, ZshComplete

from gemma_mcp_cli.sanitize import visible

SHELLS = ("bash", "zsh", "fish")


def _loaded(ctx: typer.Context) -> Any:
    from gemma_mcp_cli.config.loader import load_config

    # --config may come after the subcommand (see global_options) or before it.
    return load_config(ctx.params.get("global_config") or ctx.find_root().params.get("config"))


def complete_server(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Offer the enabled servers' names."""
    try:
        servers = _loaded(ctx).enabled()
    except Exception:  # completion must never break the shell
        return []
    return [(s.name, s.description or str(s.transport)) for s in servers if s.name.startswith(incomplete)]


def _cached(ctx: typer.Context, kind: str, key: str, incomplete: str) -> list[tuple[str, str]]:
    try:
        from gemma_mcp_cli.cli.connect import registry

        loaded = _loaded(ctx)
        config = loaded.servers[ctx.params["server"]]
        items = registry(loaded).get(config, kind, stale_ok=True) or []
    except Exception:  # completion must never break the shell
        return []
    found = []
    for item in items:
        name = str(item.get(key, ""))
        if name.startswith(incomplete):
            found.append((name, (item.get("description") or "").strip().split("\n")[0][:80]))
    return found


def complete_tool(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Offer the cached tool names of the server already given."""
    return _cached(ctx, "tools", "name", incomplete)


def complete_resource(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Offer the cached resource URIs of the server already given."""
    return _cached(ctx, "resources", "uri", incomplete)


def complete_prompt(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Offer the cached prompt names of the server already given."""
    return _cached(ctx, "prompts", "name", incomplete)


def offerable(value: str) -> bool:
    """Tell whether a value can be completed at all: one with a control or bidi character cannot.

    The shells read completions one per line, and a terminal would obey what the line holds.
    """
    return visible(value) == value and "\n" not in value and "\t" not in value


def quoted(value: str, shell: str) -> str:
    """Return a completed value as the shell must insert it to be one literal word.

    bash and zsh insert what they are given, so it is quoted here; fish escapes what it inserts.
    """
    return value if shell == "fish" else shlex.quote(value)


class _Offerable:
    """Only values that can be completed safely; help texts (server text) made visible."""

    def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
        found = super().get_completions(args, incomplete)  # type: ignore[misc]
        return [item for item in found if offerable(item.value)]


class QuotedBash(_Offerable, BashComplete):
    """bash: every value quoted; read with mapfile, so no line is split or globbed."""

    source_template = """
%(complete_func)s() {
    mapfile -t COMPREPLY < <(env COMP_WORDS="${COMP_WORDS[*]}" \\
                                 COMP_CWORD=$COMP_CWORD \\
                                 %(autocomplete_var)s=complete_bash $1)
    return 0
}

complete -o default -F %(complete_func)s %(prog_name)s
"""

    def format_completion(self, item: CompletionItem) -> str:
        return quoted(item.value, "bash")


class QuotedZsh(_Offerable, ZshComplete):
    """zsh: one `compadd` of quoted values, which the script evaluates and zsh inserts as given (-Q)."""

    def complete(self) -> str:
        args, incomplete = self.get_completion_args()
        items = self.get_completions(args, incomplete)
        if not items:
            return "_files"
        shown = " ".join(
            quoted(f"{i.value} -- {visible(i.help)}" if i.help else i.value, "zsh") for i in items
        )
        # Quoted twice: the script's eval takes one level off, and compadd -Q inserts the other.
        values = " ".join(quoted(quoted(item.value, "zsh"), "zsh") for item in items)
        return f"local -a shown; shown=({shown}); compadd -Q -U -l -d shown -- {values}"


class QuotedFish(_Offerable, FishComplete):
    """fish: values as they are (fish escapes them), help texts on one visible line."""

    def format_completion(self, item: CompletionItem) -> str:
        value = str(item.value)
        return f"{value}\t{visible(' '.join(item.help.split()))}" if item.help else value


def use_quoting_completion() -> None:
    """Complete with the classes above instead of Typer's (which insert values unquoted).

    Called after the command is built: building it registers Typer's own classes.
    """
    for shell, kind in (("bash", QuotedBash), ("zsh", QuotedZsh), ("fish", QuotedFish)):
        add_completion_class(kind, shell)


_TAB_SECONDS = 1.0  # a warm session answers in milliseconds; a Tab press never waits long


def complete_prompt_arg(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Offer `NAME=` for the prompt's cached arguments, then its values from a live warm session."""
    try:
        key, sep, partial = incomplete.partition("=")
        # While an option's value is completed, Click leaves the positionals unparsed: read the words.
        (server, prompt), pairs = _prompt_words(_typed_words())
        loaded = _loaded(ctx)
        config = loaded.servers[server]
        if not sep:
            return _argument_names(loaded, config, prompt, key)
        return _session_values(loaded, config.name, prompt, key, partial, pairs)
    except Exception:  # completion must never break the shell
        return []


def _typed_words() -> list[str]:
    """Return the words of the command line being completed, as the shell passed them."""
    import shlex

    # bash passes COMP_WORDS; Typer's zsh, fish and PowerShell scripts pass _TYPER_COMPLETE_ARGS.
    text = os.environ.get("COMP_WORDS") or os.environ.get("_TYPER_COMPLETE_ARGS", "")
    try:
        return shlex.split(text)
    except ValueError:  # an unclosed quote in the word being typed
        return text.split()


def _prompt_words(args: list[str]) -> tuple[tuple[str, str], list[str]]:
    """Return SERVER and PROMPT, and the --arg values, from the words after `prompts get`."""
    words = args[args.index("get", args.index("prompts")) + 1 :]
    positionals: list[str] = []
    pairs: list[str] = []
    taking = False
    for word in words:
        if taking:
            pairs.append(word)
            taking = False
        elif word in ("--arg", "-a"):
            taking = True
        elif word.startswith("--arg="):
            pairs.append(word.removeprefix("--arg="))
        elif not word.startswith("-"):
            positionals.append(word)
    server, prompt = positionals[:2]
    return (server, prompt), pairs


def _argument_names(loaded: Any, config: Any, prompt: str, incomplete: str) -> list[tuple[str, str]]:
    from gemma_mcp_cli.cli.connect import registry

    for item in registry(loaded).get(config, "prompts", stale_ok=True) or []:
        if item.get("name") == prompt:
            arguments = item.get("arguments") or []
            return [
                (f"{a['name']}=", (a.get("description") or "").strip().split("\n")[0][:80])
                for a in arguments
                if str(a.get("name", "")).startswith(incomplete)
            ]
    return []


def _session_values(
    loaded: Any, server: str, prompt: str, key: str, partial: str, pairs: list[str] | None
) -> list[tuple[str, str]]:
    """Ask a live session for the values (never a server of our own: a Tab press starts nothing)."""
    from gemma_mcp_cli.cli.render import one_line
    from gemma_mcp_cli.sessions import client as session_client

    session = session_client.session_key(server, loaded.source.path)
    info = session_client.read_info(session)
    if info is None or not session_client.usable(info):
        return []
    given = dict(pair.split("=", 1) for pair in pairs or [] if "=" in pair)
    given.pop(key, None)
    params = {"ref": {"type": "ref/prompt", "name": prompt}, "argument": key, "value": partial}
    request = {"op": "complete", "params": params | {"context": given}}
    found = session_client.ask(session, request, timeout=_TAB_SECONDS)
    values = [str(value) for value in found.get("values") or []]
    # A value holding characters a terminal would obey is not offered at all.
    return [(f"{key}={value}", "") for value in values if one_line(value) == value]


def script(shell: str) -> str:
    """Return the completion script for a shell, as the program itself generates it."""
    env = os.environ | {"_GEMMA_MCP_COMPLETE": f"source_{shell}"}
    done = subprocess.run(
        [sys.executable, "-m", "gemma_mcp_cli"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def write_scripts(directory: Path) -> None:
    """Regenerate completions/gemma-mcp.{bash,zsh,fish}."""
    for shell in SHELLS:
        (directory / f"gemma-mcp.{shell}").write_text(script(shell), encoding="utf-8")


if __name__ == "__main__":
    write_scripts(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("completions"))
