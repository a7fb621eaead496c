"""Time how long a command takes to give up on a faulty server, against the budget it was given.

    .venv/bin/python benchmarks/deadlines.py --runs 5

The tests check that each case ends with the right exit code and message; how long it took is
a claim about speed, so it is measured here, by hand, and never asserted. Each case runs
`gemma-mcp` as a process against `tests/servers/faulty_server.py` and prints a Markdown table:
the budget the configuration sets, the median and worst time from spawn to exit, and the median
CPU time of the command and its server (to tell waiting from queueing on a loaded machine).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FAULTY = REPO / "tests" / "servers" / "faulty_server.py"


@dataclass(frozen=True)
class Case:
    name: str
    mode: str
    keys: str  # TOML lines for the server table
    args: tuple[str, ...]
    exit_code: int
    budget: float  # seconds the configuration allows before giving up


CASES = [
    Case("no answer to the handshake", "no-init", "connection_timeout = 1.0", ("tools", "list"), 8, 1.0),
    Case("no answer to a call", "slow", "request_timeout = 1.0", ("call", "s", "work"), 8, 1.0),
    Case(
        "exits at start, 2 retries",
        "exit-early",
        "max_reconnect_attempts = 2\nreconnect_delay = 0.05",
        ("call", "s", "work"),
        4,
        10.0,
    ),
]


def config_for(case: Case, folder: Path) -> Path:
    argv = [str(FAULTY), case.mode, *(["--delay", "30"] if case.mode == "slow" else [])]
    text = f"[s]\ncommand = {json.dumps(sys.executable)}\nargs = {json.dumps(argv)}\n{case.keys}\n"
    path = folder / f"{case.mode}.toml"
    path.write_text(text)
    return path


def time_once(case: Case, config: Path, env: dict[str, str]) -> tuple[float, float]:
    """Return the wall time and the CPU time (the command's and its server's) of one run."""
    command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), *case.args]
    cpu_before = _children_cpu()
    began = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=env, cwd=config.parent, check=False
    )
    elapsed = time.perf_counter() - began
    if done.returncode != case.exit_code:
        raise SystemExit(f"{case.name}: exit {done.returncode}, expected {case.exit_code}: {done.stderr}")
    return elapsed, _children_cpu() - cpu_before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def clean_env(folder: Path) -> dict[str, str]:
    """The caller's environment without its gemma-mcp and XDG settings, with a fresh home and state."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMMA_MCP_", "XDG_"))}
    env["HOME"] = str(folder / "home")
    env |= {f"GEMMA_MCP_{d}_DIR": str(folder / d.lower()) for d in ("CACHE", "STATE", "DATA")}
    return env


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="gemma-mcp-deadlines-") as scratch:
        folder = Path(scratch)
        (folder / "home").mkdir()
        env = clean_env(folder)
        rows = [
            "| case | exit | budget | median | worst | median CPU |",
            "|---|---|---|---|---|---|",
        ]
        for case in CASES:
            config = config_for(case, folder)
            runs = [time_once(case, config, env) for _ in range(args.runs)]
            times = [wall for wall, _ in runs]
            print(f"{case.name}: {', '.join(f'{t:.2f}' for t in times)} s", file=sys.stderr)
            rows.append(
                f"| {case.name} | {case.exit_code} | {case.budget:.1f} s"
                f" | {statistics.median(times):.2f} s | {max(times):.2f} s"
                f" | {statistics.median(cpu for _, cpu in runs):.2f} s |"
            )
    # The load says how much of the wall time was waiting for a CPU rather than for the deadline.
    print("\n".join(rows))
    print(f"\nload average before / after: {before[0]:.1f} / {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
