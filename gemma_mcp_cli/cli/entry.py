"""The `gemma-mcp` program: a warm `call` is answered without loading the full command line."""

from __future__ import annotations

import sys


def main() -> None:
    """Run gemma-mcp."""
    from gemma_mcp_cli import _collection

    _collection.pause()  # resumed once the SDK or the full command line is loaded
    from gemma_mcp_cli.cli import signals
    from gemma_mcp_cli.cli.quick import call, show_help

    signals.enable()
    try:
        code = show_help.run(sys.argv[1:])
        if code is None:
            code = call.run(sys.argv[1:])
        if code is None:
            from gemma_mcp_cli.cli.quick import lists, search, sessions  # not loaded by a warm call

            code = lists.run(sys.argv[1:])
            if code is None:
                code = search.run(sys.argv[1:])
            if code is None:
                code = sessions.run(sys.argv[1:])
        if code is not None:
            sys.stdout.flush()
            sys.exit(code)
        from gemma_mcp_cli.cli.app import main as full

        full()
    except KeyboardInterrupt:  # a signal before (or after) any command's own boundary
        sys.stderr.write(f"Error: {signals.interruption().message}\n")
        sys.exit(int(signals.interruption().exit_code))
