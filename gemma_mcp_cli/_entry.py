"""The `gemma-mcp` program: a warm `call` is answered without loading the full command line."""

from __future__ import annotations

import sys


def main() -> None:
    """Run gemma-mcp."""
    from gemma_mcp_cli import _fast, _fast_lists, _interrupt

    _interrupt.enable()
    code = _fast.run(sys.argv[1:])
    if code is None:
        code = _fast_lists.run(sys.argv[1:])
    if code is not None:
        sys.stdout.flush()
        sys.exit(code)
    from gemma_mcp_cli.cli.app import main as full

    full()
