"""Baseline for the benchmarks: one tool call with nothing but the official MCP SDK.

Usage: python benchmarks/plain_sdk_call.py {local-memory|stdlib}

Starts the named stdio server with `mcp.Client(StdioServerParameters(...))`, calls
`store_memory` with `content="bench"` (what `gemma-mcp call SERVER store_memory --arg
content=bench` sends) and prints the text of the result. This is the least a Python MCP client
can do for that call, so `gemma-mcp call` is compared against it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

REPO = Path(__file__).resolve().parent.parent
STDLIB_SERVER = REPO / "tests" / "servers" / "legacy_rag_redis.py"


def server_parameters(which: str) -> StdioServerParameters:
    """Return how to start the named server with the interpreter running this script."""
    # The SDK passes only a minimal environment to the server; the data directory must follow.
    env = {key: value for key, value in os.environ.items() if key == "GEMMA_MCP_DATA_DIR"}
    if which == "local-memory":
        args = ["-m", "gemma_mcp_cli.servers.local_memory"]
    elif which == "stdlib":
        args = [str(STDLIB_SERVER)]
    else:
        raise SystemExit(f"usage: {Path(sys.argv[0]).name} {{local-memory|stdlib}} (got {which!r})")
    return StdioServerParameters(command=sys.executable, args=args, env=env)


async def call(params: StdioServerParameters) -> int:
    """Call store_memory once, print the text content, and return an exit status."""
    async with Client(params) as client:
        result = await client.call_tool("store_memory", {"content": "bench"})
    for item in result.content:
        text = getattr(item, "text", None)
        if isinstance(text, str):
            print(text)
    return 1 if result.is_error else 0


def main() -> int:
    """Run one call against the server named on the command line."""
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: {Path(sys.argv[0]).name} {{local-memory|stdlib}}")
    params = server_parameters(sys.argv[1])
    status: int = anyio.run(call, params)
    return status


if __name__ == "__main__":
    sys.exit(main())
