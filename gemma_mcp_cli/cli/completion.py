"""Shell completion: server names from the config, tool/resource/prompt names from the cache.

Completion runs the program once per Tab press, so nothing here may start a server or
import the SDK, and no failure may reach the shell.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer

SHELLS = ("bash", "zsh", "fish")


def _loaded(ctx: typer.Context) -> Any:
    from gemma_mcp_cli.config.loader import load_config

    root = ctx.find_root()
    return load_config(root.params.get("config"))


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
