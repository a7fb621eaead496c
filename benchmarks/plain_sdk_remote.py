"""Baseline for the remote cold calls: one tool call over HTTP or SSE with nothing but the official SDK.

Usage: python benchmarks/plain_sdk_remote.py {http|sse} URL

Connects with `mcp.Client` (a URL string is Streamable HTTP; `sse_client(URL)` is the SSE
transport), calls `echo` with `text="bench"` (what `gemma-mcp call SERVER echo --arg
text=bench` sends) and prints the text of the result. Started against
`tests/servers/sdk_server.py` by `benchmarks/cold_transports.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.sse import sse_client


async def call(kind: str, url: str) -> int:
    """Call echo once, print the text content, and return an exit status."""
    server: Any = url if kind == "http" else sse_client(url)
    async with Client(server) as client:
        result = await client.call_tool("echo", {"text": "bench"})
    for item in result.content:
        text = getattr(item, "text", None)
        if isinstance(text, str):
            print(text)
    return 1 if result.is_error else 0


def main() -> int:
    """Run one call over the transport and URL named on the command line."""
    if len(sys.argv) != 3 or sys.argv[1] not in ("http", "sse"):
        raise SystemExit(f"usage: {Path(sys.argv[0]).name} {{http|sse}} URL")
    status: int = anyio.run(call, sys.argv[1], sys.argv[2])
    return status


if __name__ == "__main__":
    sys.exit(main())
