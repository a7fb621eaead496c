"""Cold `gemma-mcp call` against the plain SDK script, on stdio, Streamable HTTP and SSE.

Usage: .venv/bin/python benchmarks/cold_transports.py [--runs N]

For HTTP and SSE, `tests/servers/sdk_server.py` is started once per transport on a free
127.0.0.1 port (untimed; both sides call the same running server) and each run is one
`echo` call (`--arg text=bench`) by `gemma-mcp call` and by `plain_sdk_remote.py`. For stdio,
the pair is `run.py`'s `call-stdlib-server` and `plain-sdk-stdlib` (the dependency-free
server, where the client's own cost shows most). The four commands of a transport run
interleaved, every run in fresh directories (run.py's RunDirs), after one warm-up each.
Prints a Markdown table: medians, and the ratio median over median and per pair.
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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from run import HERE, PLAIN_SDK, PYTHON, REPO, STDLIB_SERVER, RunDirs, compile_bytecode, find_cli

SDK_SERVER = REPO / "tests" / "servers" / "sdk_server.py"
PLAIN_REMOTE = HERE / "plain_sdk_remote.py"
READY_TIMEOUT = 60.0  # seconds for a server to accept connections
RUN_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def server(transport: str) -> Iterator[str]:
    """Run sdk_server.py on a transport; yield its URL once it accepts connections."""
    port = free_port()
    process = subprocess.Popen(
        [PYTHON, str(SDK_SERVER), "--transport", transport, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit(f"sdk_server.py --transport {transport} did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/" + ("sse" if transport == "sse" else "mcp")
    finally:
        process.terminate()
        process.wait(timeout=10)


def timed(argv: Sequence[str], dirs: RunDirs, needle: str) -> float:
    """Run one command in fresh directories; return its wall time (checked output)."""
    start = time.perf_counter()
    done = subprocess.run(
        argv,
        cwd=dirs.cwd,
        env=dirs.environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0 or needle not in done.stdout:
        raise SystemExit(
            f"failed ({done.returncode}): {' '.join(argv)}\n{done.stdout[-500:]}{done.stderr[-2000:]}"
        )
    return wall


def config_text(urls: dict[str, str]) -> str:
    stdlib = f"[stdlib]\ncommand = {json.dumps(PYTHON)}\nargs = [{json.dumps(str(STDLIB_SERVER))}]\n"
    remote = "".join(f'\n[{kind}]\nurl = "{url}"\ntransport = "{kind}"\n' for kind, url in urls.items())
    return stdlib + remote


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    compile_bytecode()
    cli = str(find_cli())
    with (
        tempfile.TemporaryDirectory(prefix="gemma-cold-") as scratch,
        server("streamable-http") as http,
        server("sse") as sse,
    ):
        config = Path(scratch) / "servers.toml"
        config.write_text(config_text({"http": http, "sse": sse}), encoding="utf-8")
        base = [cli, "--config", str(config), "call"]
        pairs = {
            "stdio": (
                [*base, "stdlib", "store_memory", "--arg", "content=bench"],
                [PYTHON, str(PLAIN_SDK), "stdlib"],
                "Stored memory",
            ),
            "http": (
                [*base, "http", "echo", "--arg", "text=bench"],
                [PYTHON, str(PLAIN_REMOTE), "http", http],
                "bench",
            ),
            "sse": (
                [*base, "sse", "echo", "--arg", "text=bench"],
                [PYTHON, str(PLAIN_REMOTE), "sse", sse],
                "bench",
            ),
        }
        walls: dict[str, tuple[list[float], list[float]]] = {kind: ([], []) for kind in pairs}
        for index in range(args.runs + 1):  # the first round is the warm-up
            for kind, (ours, plain, needle) in pairs.items():
                for side, command in enumerate((ours, plain)):
                    wall = timed(command, RunDirs.create(Path(scratch)), needle)
                    if index:
                        walls[kind][side].append(wall)
            sys.stderr.write(".")
            sys.stderr.flush()
    sys.stderr.write("\n")
    load = os.getloadavg()[0]
    print(f"{args.runs} runs each, interleaved; {os.cpu_count()} CPUs; load {load:.1f} at the end\n")
    print("| transport | gemma-mcp call, median ms | plain SDK, median ms | median / median | per pair |")
    print("|---|---:|---:|---:|---:|")
    for kind, (mine, theirs) in walls.items():
        ratio = statistics.median(mine) / statistics.median(theirs)
        paired = statistics.median([a / b for a, b in zip(mine, theirs, strict=True)])
        print(
            f"| {kind} | {statistics.median(mine) * 1000:.0f} | {statistics.median(theirs) * 1000:.0f} "
            f"| {ratio:.2f}x | {paired:.2f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
