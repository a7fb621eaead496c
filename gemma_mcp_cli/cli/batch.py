"""`batch`: JSON-lines requests over one connection per server, JSON-lines results."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

import typer

from gemma_mcp_cli.cli.boundary import run_async
from gemma_mcp_cli.cli.options import JsonOpt, TimeoutOpt
from gemma_mcp_cli.errors import MCPUsageError

FileArg = Annotated[
    str, typer.Argument(help="A file of JSON lines, or - for standard input.", show_default=False)
]
ConcurrencyOpt = Annotated[
    int, typer.Option("--concurrency", "-j", min=1, max=256, help="Requests in flight per server.")
]
OrderedOpt = Annotated[
    bool, typer.Option("--ordered", help="One request at a time per server; results in input order.")
]
FailFastOpt = Annotated[
    bool, typer.Option("--fail-fast", help="Stop at the first failure; cancel the requests in flight.")
]


def command(
    ctx: typer.Context,
    file: FileArg = "-",
    concurrency: ConcurrencyOpt = 8,
    ordered: OrderedOpt = False,
    fail_fast: FailFastOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run JSON-lines requests (tools/call, resources/read, prompts/get); print one JSON line per result."""

    async def work() -> None:
        from gemma_mcp_cli.cli.batch_input import read_requests
        from gemma_mcp_cli.cli.loading import config_for
        from gemma_mcp_cli.cli.run_batch import run_batch

        if timeout is not None and not math.isfinite(timeout):
            raise MCPUsageError("--timeout must be a finite number of seconds")
        entries = read_requests(_read(file))
        loaded = config_for(ctx)
        await run_batch(
            ctx,
            loaded,
            entries,
            concurrency=concurrency,
            ordered=ordered,
            fail_fast=fail_fast,
            timeout=timeout,
        )

    run_async(ctx, as_json, work)


def _read(file: str) -> str:
    """Return the whole input (the batch is checked before anything is sent)."""
    try:
        if file == "-":
            return sys.stdin.read()
        return Path(file).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise MCPUsageError(f"cannot read {file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise MCPUsageError(
            f"{'standard input' if file == '-' else file} is not UTF-8: {exc.reason}"
        ) from None
