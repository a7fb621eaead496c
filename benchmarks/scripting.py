"""Time the scripting commands against their targets: `batch` and `tools search`.

Run by hand (never in CI), from the repository root:

    .venv/bin/python benchmarks/scripting.py [--runs N] [--calls N] [--cold-runs N]

Uses the runner of benchmarks/run.py (fresh directories per run, interleaved groups, wall time
from spawn to exit). The cases:

- `batch-N`: `gemma-mcp batch FILE` of N `store_memory` calls (default 1,000) to the
  dependency-free stdio server (tests/servers/legacy_rag_redis.py), default concurrency;
  `batch-N-ordered` the same with `--ordered` (one request at a time);
- `plain-sdk-batch-N` and `plain-sdk-batch-N-sequential`: benchmarks/plain_sdk_batch.py sending
  the same N requests over one connection with the official SDK alone, 8 at a time and 1 at a time;
- `call-cold`: one cold `gemma-mcp call` of the same tool, run `--cold-runs` times (default 20):
  N separate cold calls are estimated as N times its median;
- `tools-search-10` / `tools-list-cached-10`: `tools search memory --json` and `tools list
  --json` over a filled cache of 10 servers.

It prints a Markdown table and the ratios next to their targets; it judges nothing itself.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from run import (
    CALL,
    HERE,
    PYTHON,
    Case,
    Check,
    Result,
    Runner,
    compile_bytecode,
    expect_text,
    expect_tools,
    find_cli,
    header,
    measure,
    table,
)

PLAIN_SDK_BATCH = HERE / "plain_sdk_batch.py"


def expect_results(count: int) -> Check:
    """Return a check that stdout holds `count` result lines and none of them an error."""

    def check(stdout: str) -> str | None:
        lines = stdout.splitlines()
        if len(lines) != count:
            return f"{len(lines)} result lines, expected {count}"
        failed = [line for line in lines if '"error"' in line or '"isError":true' in line.replace(" ", "")]
        return f"{len(failed)} failed: {failed[0][:200]}" if failed else None

    return check


def expect_matches(stdout: str) -> str | None:
    """Check that `tools search --json` found tools of all 10 servers."""
    try:
        found = json.loads(stdout)["tools"]
    except (ValueError, KeyError):
        return f"not a search document: {stdout[:200]!r}"
    return None if found and not json.loads(stdout)["errors"] else f"no matches: {stdout[:200]!r}"


def cases(requests: Path, calls: int, cold_runs: int) -> list[Case]:
    """Return the cases, the batch ones reading `requests` (N JSON lines)."""
    batch = ("batch", str(requests))
    sdk = (PYTHON, str(PLAIN_SDK_BATCH), "stdlib", "--calls", str(calls))
    return [
        Case(f"batch-{calls}", f"gemma-mcp batch of {calls} calls", batch, config="stdlib",
             group="batch", check=expect_results(calls)),
        Case(f"batch-{calls}-ordered", f"gemma-mcp batch --ordered of {calls} calls", (*batch, "--ordered"),
             config="stdlib", group="batch", check=expect_results(calls)),
        Case(f"plain-sdk-batch-{calls}", f"plain SDK, {calls} calls, 8 at a time", sdk, cli=False,
             group="batch", check=expect_results(calls)),
        Case(f"plain-sdk-batch-{calls}-sequential", f"plain SDK, {calls} calls, 1 at a time",
             (*sdk, "--concurrency", "1"), cli=False, group="batch", check=expect_results(calls)),
        Case("call-cold", "one cold gemma-mcp call", CALL, config="stdlib", group="cold",
             min_runs=cold_runs, check=expect_text("Stored memory")),
        Case("tools-search-10", "tools search memory --json, 10 servers cached",
             ("tools", "search", "memory", "--json"), config="stdlib-x10", cached=True, group="search",
             runs_factor=2, check=expect_matches),
        Case("tools-list-cached-10", "tools list --json, 10 servers cached", ("tools", "list", "--json"),
             config="stdlib-x10", cached=True, group="search", runs_factor=2, check=expect_tools(10)),
    ]  # fmt: skip


def median(results: dict[str, Result], name: str) -> float | None:
    result = results.get(name)
    return statistics.median(result.walls) if result and result.walls and result.error is None else None


def ratios(results: dict[str, Result], calls: int) -> list[str]:
    """Return the target lines: each ratio of medians beside what it should be."""
    batch, cold = median(results, f"batch-{calls}"), median(results, "call-cold")
    sdk, sdk_sequential = (
        median(results, f"plain-sdk-batch-{calls}"),
        median(results, f"plain-sdk-batch-{calls}-sequential"),
    )
    ordered = median(results, f"batch-{calls}-ordered")
    search, listing = median(results, "tools-search-10"), median(results, "tools-list-cached-10")
    rows = [
        (f"{calls} cold calls (estimated) / batch", cold * calls if cold else None, batch, ">= 20"),
        ("batch / plain SDK (8 at a time)", batch, sdk, "<= 1.5"),
        ("batch --ordered / plain SDK (1 at a time)", ordered, sdk_sequential, "<= 1.5"),
        ("tools search / cached tools list, 10 servers", search, listing, "<= 1 (as fast)"),
    ]
    lines = ["", "| ratio of medians | value | target |", "|---|---:|---|"]
    for label, top, bottom, target in rows:
        value = f"{top / bottom:.2f}" if top and bottom else "n/a"
        lines.append(f"| {label} | {value} | {target} |")
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time batch and tools search against their targets.")
    parser.add_argument("--runs", type=int, default=5, help="counted runs per case (default 5)")
    parser.add_argument("--calls", type=int, default=1000, help="requests per batch (default 1000)")
    parser.add_argument("--cold-runs", type=int, default=20, help="cold calls to time (default 20)")
    args = parser.parse_args(argv)
    if min(args.runs, args.calls, args.cold_runs) < 1:
        parser.error("--runs, --calls and --cold-runs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cli = find_cli()
    compile_bytecode()
    started = time.perf_counter()
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="gemma-mcp-bench-") as scratch:
        requests = Path(scratch) / "requests.jsonl"
        line = {"server": "stdlib", "tool": "store_memory"}
        requests.write_text(
            "".join(
                json.dumps(line | {"arguments": {"content": f"bench {i}"}}) + "\n" for i in range(args.calls)
            ),
            encoding="utf-8",
        )
        runner = Runner(Path(scratch), cli)
        selected = cases(requests, args.calls, args.cold_runs)
        for group in dict.fromkeys(case.group for case in selected):
            for result in measure(runner, [c for c in selected if c.group == group], args.runs):
                results[result.case.name] = result
    lines = [*header(cli), *table(list(results.values())), *ratios(results, args.calls)]
    errors = [f"- {name}: {r.error}" for name, r in results.items() if r.error]
    lines += ["", *errors] if errors else []
    lines.append(f"\nTotal time {time.perf_counter() - started:.0f} s.")
    print("\n".join(lines))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
