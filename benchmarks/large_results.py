"""Time one `gemma-mcp call` whose result is a single line of 1, 10 and 100 MB (by hand, never in CI).

Each size runs `gemma-mcp call big work` against tests/servers/faulty_server.py in its
`huge-result` mode (one text block of N MB, on one stdout line) with stdout to /dev/null, from
fresh state directories, and reports the wall time (spawn to exit) and the client's peak RSS.
The peak is the kernel's high-water mark (VmHWM) of the gemma-mcp process alone, read from
/proc every few milliseconds while it runs (the server's own memory is not counted). Linux only.

    .venv/bin/python benchmarks/large_results.py --runs 3 --sizes 1 10 100
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "tests" / "servers" / "faulty_server.py"


def config_for(size_mb: float, folder: Path) -> Path:
    """Write a config whose one server answers every call with `size_mb` of text on one line."""
    path = folder / "big.toml"
    args = [str(SERVER), "huge-result", "--size", f"{size_mb:g}"]
    path.write_text(
        f"[big]\ncommand = {json.dumps(sys.executable)}\nargs = {json.dumps(args)}\n"
        f"max_response_mb = {max(64.0, size_mb * 2):g}\nrequest_timeout = 300.0\n",
        encoding="utf-8",
    )
    return path


def high_water_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def run_once(size_mb: float) -> tuple[float, int]:
    """Return (seconds, peak RSS in KB) of one call."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMMA_MCP_", "XDG_"))}
        env |= {f"GEMMA_MCP_{d}_DIR": str(folder / d.lower()) for d in ("CACHE", "STATE", "DATA")}
        env["HOME"] = str(folder)
        command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config_for(size_mb, folder))]
        began = time.perf_counter()
        argv = [*command, "call", "big", "work"]
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=env, cwd=folder)
        peak = 0
        while process.poll() is None:
            peak = max(peak, high_water_kb(process.pid) or 0)
            time.sleep(0.003)
        elapsed = time.perf_counter() - began
        if process.returncode != 0:
            raise SystemExit(f"{size_mb:g} MB: gemma-mcp exited {process.returncode}")
        return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=float, nargs="+", default=[1.0, 10.0, 100.0])
    options = parser.parse_args()
    print(
        f"{platform.node()}: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    print("| result | wall time (median) | min | peak RSS (median) | RSS over 1 MB case |")
    print("|---:|---:|---:|---:|---:|")
    base_rss = None
    for size in options.sizes:
        runs = [run_once(size) for _ in range(options.runs)]
        wall = statistics.median(r[0] for r in runs)
        rss = statistics.median(r[1] for r in runs) / 1024
        base_rss = rss if base_rss is None else base_rss
        extra = (
            f"{rss - base_rss:.0f} MB ({(rss - base_rss) / size:.1f} times the payload)"
            if size != options.sizes[0]
            else "-"
        )
        print(f"| {size:g} MB | {wall:.2f} s | {min(r[0] for r in runs):.2f} s | {rss:.0f} MB | {extra} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
