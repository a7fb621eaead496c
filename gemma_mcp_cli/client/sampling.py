"""Answer a server's sampling request with the user's own command (`sampling_command`).

The command gets the request as one JSON document on stdin (the `sampling/createMessage`
params with MCP's wire names, plus `server`) and answers with the reply text on stdout. It
runs under the server's request timeout and is killed, with all it started, when that ends.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from typing import Any

import anyio

from gemma_mcp_cli.client.processes import end_group
from gemma_mcp_cli.errors import MCPServerError, MCPTimeoutError

_OUTPUT_LIMIT = 1024 * 1024  # bytes of reply text taken from the command


async def run_sampling_command(
    command: Sequence[str], document: dict[str, Any], timeout: float, *, server: str
) -> str:
    """Run the command with the request on stdin; return its stdout as the reply text."""
    name = command[0]
    try:
        process = await anyio.open_process(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own group, so a timeout ends whatever it started
        )
    except OSError as exc:
        raise MCPServerError(
            f"sampling_command {name!r} for server '{server}' cannot start: {exc.strerror or exc}",
            server=server,
        ) from None
    out, err = bytearray(), bytearray()
    try:
        with anyio.fail_after(timeout):
            async with anyio.create_task_group() as tg:
                tg.start_soon(_drain, process.stdout, out)
                tg.start_soon(_drain, process.stderr, err)
                tg.start_soon(_feed, process.stdin, json.dumps(document).encode())
            code = await process.wait()
    except TimeoutError:
        raise MCPTimeoutError(
            f"sampling_command {name!r} for server '{server}' did not answer within {timeout:g}s",
            server=server,
        ) from None
    finally:
        end_group(process.pid)
        await process.aclose()
    if code != 0:
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise MCPServerError(
            f"sampling_command {name!r} for server '{server}' exited with {code}"
            + (f": {last[0][:200]}" if last[0] else ""),
            server=server,
        )
    return out[:_OUTPUT_LIMIT].decode("utf-8", "replace").removesuffix("\n")


async def _feed(stream: Any, data: bytes) -> None:
    try:
        await stream.send(data)
    except (anyio.BrokenResourceError, OSError):
        pass  # it stopped reading its input: it is judged by its exit status
    finally:
        await stream.aclose()


async def _drain(stream: Any, into: bytearray) -> None:
    async for chunk in stream:
        if len(into) < _OUTPUT_LIMIT:
            into += chunk
