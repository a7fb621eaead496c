"""Time how long `resources watch` takes to put an update on stdout (run by hand, never in CI).

    .venv/bin/python benchmarks/watch_latency.py [--updates N] [--tick SECONDS]

Starts `gemma-mcp resources watch live counter://value --read --json --count N` against
tests/servers/live_server.py with `--tick` (the server changes the resource every SECONDS and
stamps the new contents with `time.time()` before it sends the notification), once on a
2026-07-28 connection (`subscriptions/listen`) and once on a 2025-11-25 one (`resources/subscribe`,
via the server's `--legacy`). For every line, the latency is the time this script read the line
from the pipe minus the server's stamp: the notification, the client's re-read of the resource
(`--read`: an extra round trip, so this is an upper bound on the notification alone) and the
write to stdout. Same machine, same clock. The first update is left out (connection warm-up).
It prints a Markdown table; it judges nothing itself.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "tests" / "servers" / "live_server.py"


def config(tick: float) -> str:
    """Return the two servers' TOML tables."""
    tables = []
    for name, extra in (("live", []), ("live-legacy", ["--legacy"])):
        args = [str(SERVER), "--tick", str(tick), *extra]
        tables.append(f"[{name}]\ncommand = {json.dumps(sys.executable)}\nargs = {json.dumps(args)}\n")
    return "\n".join(tables)


def latencies(config_path: Path, server: str, updates: int) -> list[float]:
    """Watch `updates` updates; return each line's delay after the server's stamp, in ms."""
    argv = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config_path), "resources", "watch"]
    argv += [server, "counter://value", "--read", "--json", "--count", str(updates)]
    found = []
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            seen = time.time()
            (content,) = json.loads(line)["contents"]
            found.append((seen - json.loads(content["text"])["timestamp"]) * 1000)
        if process.wait() != 0:
            raise SystemExit(
                f"{server}: exit {process.returncode}: {process.stderr.read() if process.stderr else ''}"
            )
    return found[1:]


def main() -> None:
    """Measure both eras and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--updates", type=int, default=101)
    parser.add_argument("--tick", type=float, default=0.05)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        os.environ.update(
            {f"GEMMA_MCP_{k}_DIR": str(Path(temp) / k.lower()) for k in ("CACHE", "STATE", "DATA")}
        )
        path = Path(temp) / "live.toml"
        path.write_text(config(args.tick), encoding="utf-8")
        print("| connection | updates | median ms | p95 ms | max ms |")
        print("|---|---:|---:|---:|---:|")
        for server, era in (
            ("live", "2026-07-28, subscriptions/listen"),
            ("live-legacy", "2025-11-25, resources/subscribe"),
        ):
            found = latencies(path, server, args.updates)
            p95 = statistics.quantiles(found, n=20)[-1]
            print(f"| {era} | {len(found)} | {statistics.median(found):.1f} | {p95:.1f} | {max(found):.1f} |")


if __name__ == "__main__":
    main()
