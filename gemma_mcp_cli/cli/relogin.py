"""The inline re-login offer: a person at a terminal whose login lacks a scope may sign in again at once.

Only on an interactive terminal (stdin and stderr are ttys, not CI, not --json); once per command,
so a server that keeps refusing cannot loop.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from gemma_mcp_cli.cli import render

if TYPE_CHECKING:
    from gemma_mcp_cli.cli.invocation import Invocation
    from gemma_mcp_cli.errors import MCPError


def interactive() -> bool:
    """Tell whether a person is at the terminal (and no CI system is driving it)."""
    streams = (sys.stdin, sys.stderr)
    return all(s is not None and s.isatty() for s in streams) and not os.environ.get("CI")


def offer(invocation: Invocation, error: MCPError) -> bool:
    """Ask to sign in again for the server this error names; run the login; tell whether it did."""
    server = getattr(error, "login_server", None)  # set only when a login would help
    if not isinstance(server, str) or not interactive():
        return False
    render.message(error.message, style="yellow")
    sys.stderr.write(f"Sign in to {server} again now? [y/N] ")
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        return False
    import subprocess

    from gemma_mcp_cli.cli.invocation import state

    # A child `auth login` on this terminal: the same sign-in a person would run by hand.
    config = state(invocation).config
    command = [sys.executable, "-m", "gemma_mcp_cli", *(["--config", config] if config else [])]
    if subprocess.run([*command, "auth", "login", server], check=False).returncode != 0:
        return False
    render.message(f"Running the command again with the new login to {server}")
    return True
