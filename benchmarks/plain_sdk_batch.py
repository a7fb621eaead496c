"""Baseline for `batch`: N tool calls over one connection with nothing but the official MCP SDK.

Usage: python benchmarks/plain_sdk_batch.py [--calls N] [--concurrency C] {local-memory|stdlib}

Starts the named stdio server once with `mcp.Client(StdioServerParameters(...))`, sends N
`store_memory` calls (`content="bench I"`, as `gemma-mcp batch` does for the same JSON lines),
C at a time, and prints one line of JSON per result. This is the least a Python MCP client can
do for those requests over one connection, so `gemma-mcp batch` is compared against it.
"""

from __future__ import annotations

import argparse
import json
import sys

import anyio
from mcp import Client
from plain_sdk_call import server_parameters


async def run(which: str, calls: int, concurrency: int) -> int:
    """Send the calls, print each result as it arrives, and return an exit status."""
    failures = 0
    limiter = anyio.CapacityLimiter(concurrency)
    async with Client(server_parameters(which)) as client:

        async def one(index: int) -> None:
            nonlocal failures
            async with limiter:
                result = await client.call_tool("store_memory", {"content": f"bench {index}"})
            failures += bool(result.is_error)
            document = result.model_dump(mode="json", by_alias=True, exclude_none=True)
            sys.stdout.write(json.dumps({"id": index, "result": document}) + "\n")

        async with anyio.create_task_group() as tg:
            for index in range(calls):
                tg.start_soon(one, index)
    sys.stdout.flush()
    return 1 if failures else 0


def main() -> int:
    """Run the calls against the server named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("server", choices=["local-memory", "stdlib"])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    status: int = anyio.run(run, args.server, args.calls, args.concurrency)
    return status


if __name__ == "__main__":
    sys.exit(main())
