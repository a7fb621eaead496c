"""`python -m gemma_mcp_cli.sessions.daemon_start`: how `launch` starts a session's process.

A session's start is a cold command's: it loads the SDK before it can serve, and the next command
of a loop waits for it. The garbage collector is held off while `daemon` loads, as `gemma-mcp`
holds it for a cold call (see `_collection`), and turned back on before the session serves.
"""

from __future__ import annotations

from gemma_mcp_cli import _collection


def main() -> None:
    """Load the session's modules with the collector held off, then run the session."""
    _collection.pause()
    from gemma_mcp_cli.sessions import daemon

    _collection.resume()
    daemon.main()


if __name__ == "__main__":
    main()
