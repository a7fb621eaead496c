"""Time how long a command takes to give up on a faulty server, against the budget it was given.

    .venv/bin/python benchmarks/deadlines.py --runs 5

The tests check that each case ends with the right exit code and message; how long it took is
a claim about speed, so it is measured here, by hand, and never asserted. Each case runs
`gemma-mcp` as a process against `tests/servers/faulty_server.py` and prints a Markdown table:
the budget the configuration sets, and the median and worst time from spawn to exit.
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


def time_once(case: Case, config: Path, env: dict[str, str]) -> float:
    command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), *case.args]
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)
    elapsed = time.perf_counter() - began
    if done.returncode != case.exit_code:
        raise SystemExit(f"{case.name}: exit {done.returncode}, expected {case.exit_code}: {done.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gemma-mcp-deadlines-") as scratch:
        folder = Path(scratch)
        env = os.environ | {f"GEMMA_MCP_{d}_DIR": str(folder / d.lower()) for d in ("CACHE", "STATE", "DATA")}
        rows = ["| case | exit | budget | median | worst |", "|---|---|---|---|---|"]
        for case in CASES:
            config = config_for(case, folder)
            times = [time_once(case, config, env) for _ in range(args.runs)]
            print(f"{case.name}: {', '.join(f'{t:.2f}' for t in times)} s", file=sys.stderr)
            rows.append(
                f"| {case.name} | {case.exit_code} | {case.budget:.1f} s"
                f" | {statistics.median(times):.2f} s | {max(times):.2f} s |"
            )
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
