"""Time a detached `call --task` against a cold plain call (run by hand, never in CI).

    .venv/bin/python benchmarks/tasks_detach.py [--runs N]

Against tests/servers/tasks_server.py over Streamable HTTP (a server that keeps its tasks
without a session, started once here), each run is a fresh `gemma-mcp` process:

* cold call: `call remote echo --arg text=hi` (connect, handshake, call, exit);
* detached task: `call remote slow_count --arg seconds=30 --detach` (connect with the 2025
  handshake, check the tasks capability and the tool's taskSupport, create the task, remember
  its id, exit) - the task itself goes on counting on the server;
* and, beside them, `tasks get remote ID` for one of those tasks.

The tool schemas are cached after the first run, as they are in use. It prints a Markdown
table of the median and minimum wall time from spawn to exit; it judges nothing itself.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "tests" / "servers" / "tasks_server.py"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the tasks server exited at start")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit("the tasks server did not listen within 30 s")


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    began = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{argv[4:]}: exit {done.returncode}: {done.stderr}")
    return took, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "mcp_servers.toml"
        config.write_text(f'[remote]\ntransport = "http"\nurl = "http://127.0.0.1:{port}/mcp"\n')
        env = os.environ | {
            "GEMMA_MCP_STATE_DIR": str(Path(folder) / "state"),
            "GEMMA_MCP_CACHE_DIR": str(Path(folder) / "cache"),
        }
        server = subprocess.Popen(
            [sys.executable, str(SERVER), "--http", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_listening(port, server)
            base = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config)]
            timed([*base, "tools", "list", "remote"], env)  # the schemas in the cache, as in use
            cold, detached, looked = [], [], []
            for _ in range(options.runs):
                cold.append(timed([*base, "call", "remote", "echo", "--arg", "text=hi"], env)[0])
                argv = [*base, "call", "remote", "slow_count", "--arg", "seconds=30", "--detach"]
                took, task_id = timed(argv, env)
                detached.append(took)
                looked.append(timed([*base, "tasks", "get", "remote", task_id, "--json"], env)[0])
                json.loads(timed([*base, "tasks", "cancel", "remote", task_id, "--json"], env)[1])
        finally:
            server.terminate()
            server.wait()
    print("| command | median | min |")
    print("|---|---:|---:|")
    for label, times in (
        ("cold `call` (plain)", cold),
        ("`call --detach` (task created)", detached),
        ("`tasks get`", looked),
    ):
        print(f"| {label} | {statistics.median(times) * 1000:.0f} ms | {min(times) * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
