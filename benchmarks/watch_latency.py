"""Time how long `resources watch` takes to put an update on stdout (run by hand, never in CI).

    .venv/bin/python benchmarks/watch_latency.py [--updates N] [--tick SECONDS]

Starts `gemma-mcp resources watch live counter://value [--read] --json --count N` against
tests/servers/live_server.py with `--tick` (the server changes the resource every SECONDS and
stamps the new contents with `time.time()` before it sends the notification), once on a
2026-07-28 connection (`subscriptions/listen`) and once on a 2025-11-25 one (`resources/subscribe`,
via the server's `--legacy`). For every line, the latency is the time this script read the line
from the pipe minus the server's stamp: the notification, the client's re-read of the resource
(`--read`: an extra round trip, so this is an upper bound on the notification alone) and the
write to stdout. Without `--read` ("notification" rows), the latency is the time the line was
read minus the time the server recorded (in its `--record` file) just before it sent the
latest notification: the notification alone, relayed and written. The tick (default 0.2 s)
must be longer than that latency for the match to be right. Same machine, same clock. The
first update is left out (connection warm-up).
Each era is measured twice: on a connection of the watch's own, and through a warm session
(`session start` first; the session relays each update over its socket, and the re-read goes
through it too). It prints a Markdown table; it judges nothing itself.
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


def config(tick: float, record: Path) -> str:
    """Return the two servers' TOML tables."""
    tables = []
    for name, extra in (("live", []), ("live-legacy", ["--legacy"])):
        args = [str(SERVER), "--tick", str(tick), "--record", str(record), *extra]
        tables.append(f"[{name}]\ncommand = {json.dumps(sys.executable)}\nargs = {json.dumps(args)}\n")
    return "\n".join(tables)


def latencies(config_path: Path, server: str, updates: int, record: Path, *, read: bool) -> list[float]:
    """Watch `updates` updates; return each line's delay after the server's stamp, in ms."""
    argv = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config_path), "resources", "watch"]
    argv += [server, "counter://value", "--json", "--count", str(updates), *(["--read"] if read else [])]
    record.unlink(missing_ok=True)
    found, seen_at = [], []
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            seen = time.time()
            seen_at.append(seen)
            if read:
                (content,) = json.loads(line)["contents"]
                found.append((seen - json.loads(content["text"])["timestamp"]) * 1000)
        if process.wait() != 0:
            raise SystemExit(
                f"{server}: exit {process.returncode}: {process.stderr.read() if process.stderr else ''}"
            )
    if not read:
        lines = record.read_text(encoding="utf-8").splitlines()
        bumps = sorted(e["time"] for e in map(json.loads, lines) if e["event"] == "bumped")
        found = [(seen - max(t for t in bumps if t <= seen)) * 1000 for seen in seen_at]
    return found[1:]


def session(config_path: Path, server: str, action: str) -> None:
    """Start or stop the server's warm session."""
    argv = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config_path), "session", action, server]
    subprocess.run(argv, check=True, capture_output=True)


def main() -> None:
    """Measure both eras and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--updates", type=int, default=101)
    parser.add_argument("--tick", type=float, default=0.2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        os.environ.update(
            {f"GEMMA_MCP_{k}_DIR": str(Path(temp) / k.lower()) for k in ("CACHE", "STATE", "DATA")}
        )
        path = Path(temp) / "live.toml"
        record = Path(temp) / "record.jsonl"
        path.write_text(config(args.tick, record), encoding="utf-8")
        print("| connection | updates | median ms | p95 ms | max ms |")
        print("|---|---:|---:|---:|---:|")
        for server, era in (
            ("live", "2026-07-28, subscriptions/listen"),
            ("live-legacy", "2025-11-25, resources/subscribe"),
        ):
            for warm, read in ((False, False), (True, False), (False, True), (True, True)):
                if warm:
                    session(path, server, "start")
                try:
                    found = latencies(path, server, args.updates, record, read=read)
                finally:
                    if warm:
                        session(path, server, "stop")
                p95 = statistics.quantiles(found, n=20)[-1]
                what = "notification + --read" if read else "notification"
                how = f"{era}, {'through a warm session' if warm else 'direct'}, {what}"
                median = statistics.median(found)
                print(f"| {how} | {len(found)} | {median:.1f} | {p95:.1f} | {max(found):.1f} |")


if __name__ == "__main__":
    main()
