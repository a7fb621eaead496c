"""Time whole gemma-mcp commands as processes: wall time and peak RSS, as a Markdown table.

Run by hand (never in CI), from the repository root:

    .venv/bin/python benchmarks/run.py [--runs N] [--only NAME...] [--list]
        [--node PATH] [--node-for ANCHOR=PATH] [--inspector PATH] [--mcporter PATH] [--mcpc PATH]

Each case runs once as a warm-up and then N counted times (default 10; the quick cases run
2N, the warm cases 2N and at least 20). Every run gets fresh, empty HOME, cache, state and data
directories and an empty working directory, so no configuration is discovered by accident and
cold runs are really cold; the cached case copies a tool cache, filled once beforehand, into its
fresh cache directory. The warm cases are the exception: each starts a session for its server
(`gemma-mcp session start`) in directories of its own, runs all its commands there, checks from
the session's request counter that the session answered them, and stops it (`session stop
--all`), also when a run fails. The anchors (other MCP clients, each installed outside the
repository and passed by path, run with `--node` when given) keep their daemon or session the
same way. The loop cases time a whole 20-call shell loop as one process; the keep-alive loop
starts with no session and reads, after each run, how many of its calls the session served.
Cases
that are compared with each other run interleaved (A B A B ...), so that a noisy machine slows
both sides alike. Wall time is `time.perf_counter()` around the whole process (spawn to exit);
peak RSS is the `ru_maxrss` that `os.wait4` returns for it (see benchmarks/README.md for what
that figure includes). The script only measures and reports: nothing here judges the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PYTHON = sys.executable
STDLIB_SERVER = REPO / "tests" / "servers" / "legacy_rag_redis.py"
PLAIN_SDK = HERE / "plain_sdk_call.py"
SERVER_RSS = HERE / "server_rss.py"
SERVER_RSS_RUNS = 3
KIB_PER_MIB = 1024
OUTLIER_FACTOR = 3
WARM_MIN_RUNS = 20
SESSION_IDLE_TIMEOUT = 900  # seconds: a session left behind by a killed runner stops on its own
SESSION_COMMAND_TIMEOUT = 120  # seconds for `session start|list|stop`
LOOP_CALLS = 20  # calls per loop case
LOOP_MAX_RUNS = 3  # a loop run is 20 commands: a few runs are plenty
KEEP_ALIVE = 120  # seconds, the keep-alive loop's `keep_alive`
ANCHORS = ("inspector", "mcporter", "mcpc")  # other clients, each passed by path
MCPC_SESSION = "@bench"

# name -> the servers of that configuration, each (server name, full command line)
CONFIGS: dict[str, list[tuple[str, list[str]]]] = {
    "local-memory": [("local-memory", [PYTHON, "-m", "gemma_mcp_cli.servers.local_memory"])],
    "stdlib": [("stdlib", [PYTHON, str(STDLIB_SERVER)])],
    "stdlib-x10": [(f"stdlib-{i:02d}", [PYTHON, str(STDLIB_SERVER)]) for i in range(1, 11)],
    "stdlib-keep-alive": [("stdlib", [PYTHON, str(STDLIB_SERVER)])],
}
EXTRA_KEYS = {"stdlib-keep-alive": f"keep_alive = {KEEP_ALIVE}\n"}  # config -> more keys per server

Check = Callable[[str], str | None]


def expect_tools(servers: int) -> Check:
    """Return a check that `tools list --json` printed tools of `servers` servers and no errors."""

    def check(stdout: str) -> str | None:
        try:
            document = json.loads(stdout)
        except ValueError:
            return f"stdout is not JSON: {stdout[:200]!r}"
        if document.get("errors"):
            return f"errors in the listing: {document['errors']}"
        seen = {tool.get("server") for tool in document.get("tools", [])}
        if len(seen) != servers:
            return f"tools of {len(seen)} server(s) listed, expected {servers}"
        return None

    return check


def expect_text(needle: str) -> Check:
    """Return a check that stdout contains `needle`."""

    def check(stdout: str) -> str | None:
        return None if needle in stdout else f"{needle!r} not in stdout: {stdout[:200]!r}"

    return check


@dataclass(frozen=True)
class Case:
    """One command to time."""

    name: str
    summary: str
    args: tuple[str, ...]
    cli: bool = True  # args follow the gemma-mcp executable (and --config, if any)
    config: str | None = None  # a key of CONFIGS, passed with --config
    cached: bool = False  # the tool cache is filled before each run
    group: str | None = None  # cases of one group run interleaved
    runs_factor: int = 1
    min_runs: int = 1
    server_rss: bool = False  # also measure the servers' own peak RSS, in extra runs
    session: bool = False  # runs while a session for the configuration's server is live
    anchor: str | None = None  # needs that other client (one of ANCHORS), given by path
    daemon: str | None = None  # runs while that anchor's daemon or session is live
    loop: bool = False  # one run is a shell loop of LOOP_CALLS of the command
    after_run: str | None = None  # what each run leaves to stop, untimed: "gemma" or "mcporter"
    max_runs: int | None = None
    check: Check | None = None

    def runs(self, runs: int) -> int:
        """Return how many counted runs the case makes for `--runs runs`."""
        wanted = max(runs * self.runs_factor, self.min_runs)
        return min(wanted, self.max_runs) if self.max_runs else wanted

    @property
    def long_lived(self) -> bool:
        """Whether the runs share one set of directories with a session or daemon in them."""
        return self.session or self.daemon is not None


CALL = ("call", "{server}", "store_memory", "--arg", "content=bench")
WARM_TOOLS_LIST = ("tools", "list", "{server}", "--json", "--refresh")

# The interpreter's own start-up, the yardstick of the quick commands (`python -c pass`).
STARTUP = (PYTHON, "-c", "pass")


# One Inspector call of the dependency-free server's store_memory: a one-shot case, and each loop step.
INSPECTOR_CALL = (
    "{inspector}",
    "--cli",
    PYTHON,
    str(STDLIB_SERVER),
    "--method",
    "tools/call",
    "--tool-name",
    "store_memory",
    "--tool-arg",
    "content=bench",
)

CASES: list[Case] = [
    Case(
        "python-startup",
        "python -c pass (the interpreter alone)",
        STARTUP,
        cli=False,
        group="quick",
        runs_factor=2,
    ),
    Case("help", "gemma-mcp --help", ("--help",), group="quick", runs_factor=2, check=expect_text("Usage")),
    Case(
        "help-call",
        "gemma-mcp call --help",
        ("call", "--help"),
        group="quick",
        runs_factor=2,
        check=expect_text("Usage"),
    ),
    Case(
        "servers-list",
        "gemma-mcp servers list, built-in default configuration",
        ("servers", "list"),
        group="quick",
        runs_factor=2,
        check=expect_text("local-memory"),
    ),
    Case(
        "servers-list-again",
        "gemma-mcp servers list, local-memory config, after an earlier command (config snapshot saved)",
        ("servers", "list"),
        config="local-memory",
        cached=True,
        group="quick",
        runs_factor=2,
        check=expect_text("local-memory"),
    ),
    Case(
        "tools-list-cold",
        "gemma-mcp tools list --json, local-memory, empty cache",
        ("tools", "list", "--json"),
        config="local-memory",
        group="cache",
        runs_factor=2,
        check=expect_tools(1),
    ),
    Case(
        "tools-list-cached",
        "gemma-mcp tools list --json, local-memory, cache filled",
        ("tools", "list", "--json"),
        config="local-memory",
        cached=True,
        group="cache",
        runs_factor=2,
        check=expect_tools(1),
    ),
    Case(
        "warm-tools-list-local-memory",
        "gemma-mcp tools list local-memory --json --refresh, session live",
        WARM_TOOLS_LIST,
        config="local-memory",
        group="cache",
        runs_factor=2,
        min_runs=WARM_MIN_RUNS,
        session=True,
        check=expect_tools(1),
    ),
    Case(
        "call-local-memory",
        "gemma-mcp call local-memory store_memory --arg content=bench",
        CALL,
        config="local-memory",
        group="call-local-memory",
        server_rss=True,
        check=expect_text("short_term"),
    ),
    Case(
        "plain-sdk-local-memory",
        "benchmarks/plain_sdk_call.py local-memory (official SDK only)",
        (PYTHON, str(PLAIN_SDK), "local-memory"),
        cli=False,
        group="call-local-memory",
        check=expect_text("Stored"),
    ),
    Case(
        "warm-call-local-memory",
        "gemma-mcp call local-memory store_memory --arg content=bench, session live",
        CALL,
        config="local-memory",
        group="call-local-memory",
        runs_factor=2,
        min_runs=WARM_MIN_RUNS,
        session=True,
        check=expect_text("short_term"),
    ),
    Case(
        "call-stdlib-server",
        "gemma-mcp call stdlib store_memory --arg content=bench (legacy_rag_redis.py)",
        CALL,
        config="stdlib",
        group="call-stdlib",
        server_rss=True,
        check=expect_text("Stored memory"),
    ),
    Case(
        "plain-sdk-stdlib",
        "benchmarks/plain_sdk_call.py stdlib (official SDK only)",
        (PYTHON, str(PLAIN_SDK), "stdlib"),
        cli=False,
        group="call-stdlib",
        check=expect_text("Stored memory"),
    ),
    Case(
        "warm-call-stdlib-server",
        "gemma-mcp call stdlib store_memory --arg content=bench, session live",
        CALL,
        config="stdlib",
        group="call-stdlib",
        runs_factor=2,
        min_runs=WARM_MIN_RUNS,
        session=True,
        check=expect_text("Stored memory"),
    ),
    Case(
        "python-startup-warm",
        "python -c pass, interleaved with the warm stdlib call",
        STARTUP,
        cli=False,
        group="call-stdlib",
        runs_factor=2,
        min_runs=WARM_MIN_RUNS,
    ),
    Case(
        "inspector-cli-stdlib",
        "mcp-inspector --cli ... --method tools/call (MCP Inspector; only with --inspector)",
        INSPECTOR_CALL,
        cli=False,
        group="call-stdlib",
        anchor="inspector",
        check=expect_text("Stored memory"),
    ),
    Case(
        "mcporter-daemon-stdlib",
        "mcporter call stdlib.store_memory content=bench, its keep-alive daemon live (only with --mcporter)",
        ("{mcporter}", "--config", "{mcporter_config}", "call", "stdlib.store_memory", "content=bench"),
        cli=False,
        group="call-stdlib",
        anchor="mcporter",
        daemon="mcporter",
        runs_factor=2,
        min_runs=WARM_MIN_RUNS,
        check=expect_text("Stored memory"),
    ),
    Case(
        "mcpc-session-stdlib",
        f"mcpc {MCPC_SESSION} tools-call store_memory content:=bench, session live (only with --mcpc)",
        ("{mcpc}", MCPC_SESSION, "tools-call", "store_memory", "content:=bench"),
        cli=False,
        group="call-stdlib",
        anchor="mcpc",
        daemon="mcpc",
        runs_factor=2,
        min_runs=WARM_MIN_RUNS,
        check=expect_text("Stored memory"),
    ),
    Case(
        "loop20-cold",
        f"{LOOP_CALLS} x gemma-mcp call stdlib store_memory in a shell loop, no session",
        CALL,
        config="stdlib",
        group="loop20",
        loop=True,
        max_runs=LOOP_MAX_RUNS,
    ),
    Case(
        "loop20-keep-alive",
        f"{LOOP_CALLS} x the same call, keep_alive = {KEEP_ALIVE}: the first call starts the session",
        CALL,
        config="stdlib-keep-alive",
        group="loop20",
        loop=True,
        after_run="gemma",
        max_runs=LOOP_MAX_RUNS,
    ),
    Case(
        "loop20-inspector",
        f"{LOOP_CALLS} x mcp-inspector --cli ... --method tools/call (only with --inspector)",
        INSPECTOR_CALL,
        cli=False,
        group="loop20",
        anchor="inspector",
        loop=True,
        max_runs=LOOP_MAX_RUNS,
    ),
    Case(
        "loop20-mcporter",
        f"{LOOP_CALLS} x mcporter call, lifecycle keep-alive: the first call starts its daemon"
        " (only with --mcporter)",
        ("{mcporter}", "--config", "{mcporter_config}", "call", "stdlib.store_memory", "content=bench"),
        cli=False,
        group="loop20",
        anchor="mcporter",
        loop=True,
        after_run="mcporter",
        max_runs=LOOP_MAX_RUNS,
    ),
    Case(
        "tools-list-1-server",
        "gemma-mcp tools list --json, 1 x legacy_rag_redis.py, empty cache",
        ("tools", "list", "--json"),
        config="stdlib",
        group="fan-out",
        check=expect_tools(1),
    ),
    Case(
        "tools-list-10-servers",
        "gemma-mcp tools list --json, 10 x legacy_rag_redis.py, empty cache",
        ("tools", "list", "--json"),
        config="stdlib-x10",
        group="fan-out",
        check=expect_tools(10),
    ),
    Case(
        "warm-tools-list-stdlib-server",
        "gemma-mcp tools list stdlib --json --refresh, session live",
        WARM_TOOLS_LIST,
        config="stdlib",
        group="fan-out",
        runs_factor=2,
        min_runs=WARM_MIN_RUNS,
        session=True,
        check=expect_tools(1),
    ),
]

# (numerator, denominator, what the ratio means, the team's target for it)
RATIOS: list[tuple[str, str, str, str]] = [
    ("call-local-memory", "plain-sdk-local-memory", "call vs plain SDK, local-memory", "<= 1.15"),
    ("call-stdlib-server", "plain-sdk-stdlib", "call vs plain SDK, stdlib server", "<= 1.15"),
    ("tools-list-10-servers", "tools-list-1-server", "tools list, 10 servers vs 1", "<= 1.5"),
    ("tools-list-cold", "tools-list-cached", "tools list, uncached vs cached (speed-up)", ">= 5"),
    ("call-local-memory", "warm-call-local-memory", "call, cold vs warm session, local-memory", ""),
    ("call-stdlib-server", "warm-call-stdlib-server", "call, cold vs warm session, stdlib server", ""),
    ("warm-call-stdlib-server", "python-startup-warm", "warm call vs the interpreter's start", "<= 3"),
    ("help", "python-startup", "--help vs the interpreter's start", ""),
    ("help-call", "python-startup", "call --help vs the interpreter's start", ""),
    ("servers-list", "python-startup", "first servers list vs the interpreter's start", ""),
    ("inspector-cli-stdlib", "call-stdlib-server", "MCP Inspector CLI vs cold call, stdlib server", ""),
    ("inspector-cli-stdlib", "warm-call-stdlib-server", "MCP Inspector CLI vs warm call, stdlib", ""),
    ("mcporter-daemon-stdlib", "warm-call-stdlib-server", "mcporter's daemon vs warm call, stdlib", ""),
    ("mcpc-session-stdlib", "warm-call-stdlib-server", "mcpc's session vs warm call, stdlib", ""),
    ("loop20-cold", "loop20-keep-alive", "20-call loop, no session vs keep-alive", ""),
    ("loop20-inspector", "loop20-keep-alive", "20 Inspector one-shots vs keep-alive loop", ">= 5"),
    ("loop20-mcporter", "loop20-keep-alive", "20 mcporter calls (its daemon) vs keep-alive loop", ""),
]


class BenchError(Exception):
    """A run failed (non-zero exit, unexpected output): the case cannot be measured."""


@dataclass
class RunDirs:
    """The fresh directories of one run."""

    root: Path

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def cwd(self) -> Path:
        return self.root / "cwd"

    @classmethod
    def create(cls, parent: Path) -> RunDirs:
        dirs = cls(Path(tempfile.mkdtemp(prefix="run-", dir=parent)))
        for path in (dirs.home, dirs.cache, dirs.state, dirs.data, dirs.cwd):
            path.mkdir()
        return dirs

    def environment(self) -> dict[str, str]:
        """Return the environment of a run: this one, minus anything that points at user files."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GEMMA_MCP_", "XDG_")) and k != "PYTHONDONTWRITEBYTECODE"
        }
        env.update(
            HOME=str(self.home),
            GEMMA_MCP_CACHE_DIR=str(self.cache),
            GEMMA_MCP_STATE_DIR=str(self.state),
            GEMMA_MCP_DATA_DIR=str(self.data),
        )
        return env


@dataclass
class Result:
    """What the counted runs of one case measured."""

    case: Case
    walls: list[float] = field(default_factory=list)  # seconds
    starts: list[float] = field(default_factory=list)  # time.time() at each counted run's start
    rss: list[int] = field(default_factory=list)  # KiB
    server_rss: list[int] = field(default_factory=list)  # KiB, highest server of each probe run
    server_floor: list[int] = field(default_factory=list)  # KiB, the wrapper's own peak RSS (VmHWM)
    cache_misses: int = 0
    session_runs: int = 0  # runs made while the session was live, warm-up included
    session_requests: int | None = None  # requests the session says it served (None: unknown)
    loop_served: list[int] = field(default_factory=list)  # keep-alive loop: calls its session served
    error: str | None = None


def toml_string(value: str) -> str:
    """Quote a string for TOML (JSON's escapes are valid TOML basic-string escapes)."""
    return json.dumps(value)


def servers_toml(config: str, rss_dir: Path | None = None) -> str:
    """Return the TOML of a configuration; with `rss_dir`, each server runs under server_rss.py."""
    tables = []
    for name, argv in CONFIGS[config]:
        if rss_dir is not None:
            argv = [PYTHON, "-I", "-S", str(SERVER_RSS), str(rss_dir / f"{name}.rss"), *argv]
        args = ", ".join(toml_string(arg) for arg in argv[1:])
        extra = EXTRA_KEYS.get(config, "")
        tables.append(f"[{name}]\ncommand = {toml_string(argv[0])}\nargs = [{args}]\n{extra}")
    return "\n".join(tables)


def anchor_config(mcporter: bool) -> str:
    """Return the stdlib server as an `mcpServers` JSON file (mcporter's with its keep-alive lifecycle)."""
    entry: dict[str, object] = {"command": PYTHON, "args": [str(STDLIB_SERVER)]}
    if mcporter:
        entry["lifecycle"] = "keep-alive"
    return json.dumps({"mcpServers": {"stdlib": entry}})


def looped(argv: list[str]) -> list[str]:
    """Return a shell loop that runs `argv` LOOP_CALLS times (output dropped), stopping at a failure."""
    body = f'i=0; while [ $i -lt {LOOP_CALLS} ]; do "$@" >/dev/null || exit $?; i=$((i+1)); done'
    return ["/bin/sh", "-c", body, "loop", *argv]


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Ask a command that the runner started to end (SIGTERM), then kill it after 5 s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def find_cli() -> Path:
    """Return the gemma-mcp executable installed next to this interpreter (or on PATH)."""
    beside = Path(PYTHON).with_name("gemma-mcp")
    if beside.exists():
        return beside
    found = shutil.which("gemma-mcp")
    if found is None:
        raise SystemExit("gemma-mcp is not installed: run this with the project's .venv/bin/python")
    return Path(found)


def compile_bytecode() -> None:
    """Write the bytecode of the package and the test servers, as `pip install .` does.

    Without it, and with PYTHONDONTWRITEBYTECODE set (as it is in some shells and CI images),
    every run would compile the project's modules from source again, which an installed
    copy never does; the SDK's own modules were compiled when pip installed them.
    """
    import importlib.util

    spec = importlib.util.find_spec("gemma_mcp_cli")
    folders = [*(spec.submodule_search_locations or [])] if spec is not None else []
    command = [PYTHON, "-m", "compileall", "-q", *folders, str(STDLIB_SERVER.parent)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)


class Runner:
    """Runs the cases in a scratch directory and keeps what they measured."""

    def __init__(
        self,
        scratch: Path,
        cli: Path,
        anchors: dict[str, Path] | None = None,
        nodes: dict[str, Path] | None = None,
    ) -> None:
        self.scratch = scratch
        self.cli = cli
        self.anchors = anchors or {}
        self.nodes = nodes or {}  # anchor -> the Node.js binary that runs it (none: its own shebang)
        self.templates: dict[str, Path] = {}  # case -> the cache its own command filled
        self.sessions: dict[str, tuple[RunDirs, int]] = {}  # case -> its directories, session pid

    def config_path(self, config: str) -> Path:
        path = self.scratch / f"config-{config}.toml"
        if not path.exists():
            path.write_text(servers_toml(config), encoding="utf-8")
        return path

    def argv(self, case: Case, config_path: Path | None) -> list[str]:
        command = self.command(case, config_path)
        return looped(command) if case.loop else command

    def command(self, case: Case, config_path: Path | None) -> list[str]:
        if not case.cli:
            argv: list[str] = []
            for arg in case.args:
                name = arg.strip("{}")
                if name in ANCHORS:
                    argv += self.anchor(name)
                elif arg == "{mcporter_config}":
                    argv.append(str(self.anchor_config_path("mcporter")))
                else:
                    argv.append(arg)
            return argv
        server = CONFIGS[case.config][0][0] if case.config else ""
        prefix = [str(self.cli)] + (["--config", str(config_path)] if config_path else [])
        return prefix + [arg.replace("{server}", server) for arg in case.args]

    def anchor(self, name: str) -> list[str]:
        """Return how an anchor is started: its executable, under --node's Node when given."""
        executable, node = self.anchors[name], self.nodes.get(name)
        return [str(node), str(executable)] if node else [str(executable)]

    def anchor_config_path(self, name: str) -> Path:
        path = self.scratch / f"{name}.json"
        if not path.exists():
            path.write_text(anchor_config(mcporter=name == "mcporter"), encoding="utf-8")
        return path

    def untimed(self, argv: list[str], dirs: RunDirs) -> str:
        """Run a set-up or clean-up command in `dirs`; return its stdout, or raise BenchError."""
        try:
            done = subprocess.run(
                argv,
                cwd=dirs.cwd,
                env=dirs.environment(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=SESSION_COMMAND_TIMEOUT,
            )
        except subprocess.TimeoutExpired as error:
            raise BenchError(f"timed out after {SESSION_COMMAND_TIMEOUT} s: {' '.join(argv)}") from error
        if done.returncode != 0:
            raise BenchError(f"exit {done.returncode}: {' '.join(argv)}\n{done.stderr.strip()[-2000:]}")
        return done.stdout

    def start_daemon(self, case: Case) -> None:
        """Start an anchor's daemon (mcporter) or session (mcpc) in directories the case's runs share."""
        dirs = RunDirs.create(self.scratch)
        self.sessions[case.name] = (dirs, 0)
        if case.daemon == "mcporter":
            config = str(self.anchor_config_path("mcporter"))
            self.untimed([*self.anchor("mcporter"), "--config", config, "daemon", "start"], dirs)
        else:
            target = f"{self.anchor_config_path('mcpc')}:stdlib"
            self.untimed([*self.anchor("mcpc"), "connect", target, MCPC_SESSION], dirs)

    def stop_daemon(self, case: Case, dirs: RunDirs) -> None:
        if case.daemon == "mcporter":
            config = str(self.anchor_config_path("mcporter"))
            self.untimed([*self.anchor("mcporter"), "--config", config, "daemon", "stop"], dirs)
        else:
            self.untimed([*self.anchor("mcpc"), "close", MCPC_SESSION], dirs)

    def after(self, case: Case, dirs: RunDirs, result: Result | None) -> None:
        """Stop what a loop run left running (untimed); for keep-alive, count what its session served."""
        if case.after_run == "mcporter":
            config = str(self.anchor_config_path("mcporter"))
            self.untimed([*self.anchor("mcporter"), "--config", config, "daemon", "stop"], dirs)
            return
        assert case.config is not None
        gemma = [str(self.cli), "--config", str(self.config_path(case.config)), "session"]
        try:
            listed = json.loads(self.untimed([*gemma, "list", "--json"], dirs))["sessions"]
            served = sum(int(row["requests"]) for row in listed)
        except (ValueError, KeyError, TypeError) as error:
            raise BenchError(f"{case.name}: unexpected `session list` output") from error
        finally:
            self.untimed([*gemma, "stop", "--all"], dirs)
        if result is not None:
            result.loop_served.append(served)

    def session_command(self, case: Case, dirs: RunDirs, *args: str) -> str:
        """Run `gemma-mcp --config <case's config> session ARGS` untimed in `dirs`; return stdout."""
        assert case.config is not None
        return self.untimed(
            [str(self.cli), "--config", str(self.config_path(case.config)), "session", *args], dirs
        )

    def start_session(self, case: Case) -> None:
        """Start a session for the case's server, in directories that all the case's runs share."""
        assert case.config is not None
        dirs = RunDirs.create(self.scratch)
        self.sessions[case.name] = (dirs, 0)
        server = CONFIGS[case.config][0][0]
        started = self.session_command(
            case, dirs, "start", server, "--idle-timeout", str(SESSION_IDLE_TIMEOUT), "--json"
        )
        try:
            pid = int(json.loads(started)["sessions"][0]["pid"])
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise BenchError(f"{case.name}: unexpected `session start` output: {started[:200]!r}") from error
        self.sessions[case.name] = (dirs, pid)

    def session_requests(self, case: Case) -> int:
        """Return how many requests the case's session has served so far."""
        dirs, _ = self.sessions[case.name]
        listed = self.session_command(case, dirs, "list", "--json")
        try:
            return sum(int(row["requests"]) for row in json.loads(listed)["sessions"])
        except (ValueError, KeyError, TypeError) as error:
            raise BenchError(f"{case.name}: unexpected `session list` output: {listed[:200]!r}") from error

    def stop_session(self, case: Case) -> str | None:
        """Stop the case's session and remove its directories; return what went wrong, if anything."""
        if case.name not in self.sessions:
            return None
        if case.daemon is not None:
            dirs, _ = self.sessions.pop(case.name)
            try:
                self.stop_daemon(case, dirs)
            except BenchError as error:
                return f"stopping {case.daemon}'s daemon or session failed: {error}"
            finally:
                shutil.rmtree(dirs.root, ignore_errors=True)
            return None
        dirs, pid = self.sessions.pop(case.name)
        problem = None
        try:
            self.session_command(case, dirs, "stop", "--all")
        except BenchError as error:
            problem = f"`session stop --all` failed: {error}"
            if pid:
                try:
                    os.kill(pid, signal.SIGTERM)  # the session we started, by its pid
                    problem += f"; sent SIGTERM to the session (pid {pid})"
                except OSError:
                    pass
        shutil.rmtree(dirs.root, ignore_errors=True)
        return problem

    def execute(self, argv: Sequence[str], dirs: RunDirs) -> tuple[float, int, str]:
        """Run one process to its end; return wall seconds, ru_maxrss KiB and its stdout."""
        stdout_path, stderr_path = dirs.root / "stdout", dirs.root / "stderr"
        env = dirs.environment()
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(
                argv, cwd=dirs.cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
            )
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            except BaseException:  # Ctrl-C or SIGTERM: end the command too, so that it cleans up
                stop_process(proc)
                raise
            wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        stdout = stdout_path.read_text(encoding="utf-8", errors="replace")
        if proc.returncode != 0:
            stderr = stderr_path.read_text(encoding="utf-8", errors="replace").strip()
            raise BenchError(f"exit {proc.returncode}: {' '.join(argv)}\n{stderr[-2000:]}")
        return wall, usage.ru_maxrss, stdout

    def cache_template(self, case: Case) -> Path:
        """Fill a cache once by running the case's own command, and return its directory.

        Per case, not per configuration: `servers list` saves only the configuration snapshot,
        so its cache would leave `tools list` with nothing cached.
        """
        assert case.config is not None
        if case.name not in self.templates:
            dirs = RunDirs.create(self.scratch)
            self.execute(self.argv(case, self.config_path(case.config)), dirs)
            template = self.scratch / f"cache-{case.name}"
            shutil.copytree(dirs.cache, template)
            shutil.rmtree(dirs.root)
            self.templates[case.name] = template
        return self.templates[case.name]

    def run(self, case: Case, result: Result | None) -> None:
        """Run the case once in fresh directories; record the figures unless `result` is None.

        A warm case runs in its session's directories instead, which stay until the session stops.
        """
        if case.long_lived:
            self.run_warm(case, result)
            return
        dirs = RunDirs.create(self.scratch)
        try:
            if case.cached:
                shutil.copytree(self.cache_template(case), dirs.cache, dirs_exist_ok=True)
            config_path = self.config_path(case.config) if case.config else None
            began = time.time()
            try:
                wall, rss, stdout = self.execute(self.argv(case, config_path), dirs)
            finally:
                if case.after_run:
                    self.after(case, dirs, result)
            problem = case.check(stdout) if case.check else None
            if problem:
                raise BenchError(f"{case.name}: unexpected output: {problem}")
            if result is not None:
                result.walls.append(wall)
                result.starts.append(began)
                result.rss.append(rss)
                # A cache hit starts no server, so it leaves no server log behind.
                if case.cached and (dirs.state / "logs").exists():
                    result.cache_misses += 1
        finally:
            shutil.rmtree(dirs.root, ignore_errors=True)

    def run_warm(self, case: Case, result: Result | None) -> None:
        """Run a warm case once, in the directories of its live session."""
        dirs, _ = self.sessions[case.name]
        began = time.time()
        config_path = self.config_path(case.config) if case.config else None
        wall, rss, stdout = self.execute(self.argv(case, config_path), dirs)
        problem = case.check(stdout) if case.check else None
        if problem:
            raise BenchError(f"{case.name}: unexpected output: {problem}")
        if result is not None:
            result.walls.append(wall)
            result.starts.append(began)
            result.rss.append(rss)

    def probe_servers(self, case: Case, result: Result) -> None:
        """Run the case with each server under server_rss.py, untimed, to learn the servers' RSS."""
        assert case.config is not None
        for _ in range(SERVER_RSS_RUNS):
            dirs = RunDirs.create(self.scratch)
            try:
                config_path = dirs.root / "config.toml"
                config_path.write_text(servers_toml(case.config, rss_dir=dirs.root), encoding="utf-8")
                self.execute(self.argv(case, config_path), dirs)
                figures = [path.read_text().split() for path in dirs.root.glob("*.rss")]
                if figures:
                    result.server_rss.append(max(int(peak) for peak, _ in figures))
                    result.server_floor.append(max(int(floor) for _, floor in figures))
            finally:
                shutil.rmtree(dirs.root, ignore_errors=True)


def own_high_water_mark() -> int:
    """Return this process's peak RSS in KiB (VmHWM), which Linux counts into every child it starts."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def progress(message: str) -> None:
    sys.stderr.write(message)
    sys.stderr.flush()


def attempt(runner: Runner, result: Result, record: bool) -> None:
    """Run the result's case once (counted if `record`); a failure ends the case."""
    try:
        runner.run(result.case, result if record else None)
    except BenchError as error:
        result.error = str(error)
        return
    if result.case.session:
        result.session_runs += 1


def measure(runner: Runner, group: list[Case], runs: int) -> list[Result]:
    """Warm up each case of the group, then run them interleaved (A B A B ...).

    A case that asks for more runs than the others goes on alone once they are done. The warm
    cases' sessions are started before the warm-ups and stopped at the end, whatever happens.
    """
    results = [Result(case) for case in group]
    counts = [case.runs(runs) for case in group]
    names = " / ".join(
        f"{case.name} ({count})" if len(set(counts)) > 1 else case.name
        for case, count in zip(group, counts, strict=True)
    )
    progress(f"{names}: 1 warm-up + {max(counts)} runs ")
    try:
        for result in results:
            if result.case.long_lived:
                try:
                    if result.case.daemon is not None:
                        runner.start_daemon(result.case)
                    else:
                        runner.start_session(result.case)
                except BenchError as error:
                    result.error = f"the session did not start: {error}"
        for result in results:
            if result.error is None:
                attempt(runner, result, record=False)
        for index in range(max(counts)):
            for result, count in zip(results, counts, strict=True):
                if result.error is None and index < count:
                    attempt(runner, result, record=True)
            progress(".")
        for result in results:
            if result.case.session and result.case.name in runner.sessions:
                try:
                    result.session_requests = runner.session_requests(result.case)
                except BenchError as error:
                    progress(f" (session list failed: {error})")
    finally:
        for result in results:
            problem = runner.stop_session(result.case)
            if problem and result.error is None:
                result.error = problem
    for result in results:
        if result.error is None and result.case.server_rss:
            progress(" +server RSS")
            try:
                runner.probe_servers(result.case, result)
            except BenchError as error:
                progress(f" (failed: {error})")
    progress("\n")
    return results


def groups_of(cases: list[Case]) -> list[list[Case]]:
    """Split the cases into groups to run together, keeping their order."""
    groups: list[list[Case]] = []
    by_name: dict[str, list[Case]] = {}
    for case in cases:
        if case.group is None:
            groups.append([case])
        elif case.group in by_name:
            by_name[case.group].append(case)
        else:
            by_name[case.group] = [case]
            groups.append(by_name[case.group])
    return groups


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def mib(kib: float) -> str:
    return f"{kib / KIB_PER_MIB:.1f}"


def table(results: list[Result]) -> list[str]:
    lines = [
        "| case | runs | median ms | min ms | max ms | median peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r.error is not None or not r.walls:
            lines.append(f"| {r.case.name} | 0 | failed | | | |")
            continue
        lines.append(
            f"| {r.case.name} | {len(r.walls)} | {ms(statistics.median(r.walls))} | {ms(min(r.walls))}"
            f" | {ms(max(r.walls))} | {mib(statistics.median(r.rss))} |"
        )
    return lines


def server_table(results: list[Result]) -> list[str]:
    probed = [r for r in results if r.server_rss]
    if not probed:
        return []
    lines = [
        "",
        (
            f"Servers' own peak RSS ({SERVER_RSS_RUNS} extra untimed runs each, server under"
            " benchmarks/server_rss.py; the floor is that wrapper's own RSS, which Linux counts in):"
        ),
        "",
        "| case | server median peak RSS MiB | floor MiB |",
        "|---|---:|---:|",
    ]
    for r in probed:
        lines.append(
            f"| {r.case.name} | {mib(statistics.median(r.server_rss))} | {mib(max(r.server_floor))} |"
        )
    return lines


def ratio_lines(results: list[Result]) -> list[str]:
    by_name = {r.case.name: r for r in results if r.error is None and r.walls}
    lines = [
        "",
        (
            "Ratios (median over median; median of the per-pair ratios of interleaved runs, pairing"
            " run i with run i as far as the shorter case goes):"
        ),
        "",
    ]
    for top, bottom, meaning, target in RATIOS:
        if top not in by_name or bottom not in by_name:
            continue
        a, b = by_name[top].walls, by_name[bottom].walls
        overall = statistics.median(a) / statistics.median(b)
        pairs = statistics.median(x / y for x, y in zip(a, b, strict=False))
        wanted = f" (target {target}x)" if target else ""
        lines.append(f"- `{top} / {bottom}` ({meaning}): {overall:.2f}x; per pair {pairs:.2f}x{wanted}")
    return lines if len(lines) > 3 else []


def session_lines(results: list[Result]) -> list[str]:
    """Say, for each warm case, how many requests its session served for how many runs."""
    lines = []
    for r in results:
        if not r.case.session or r.session_runs == 0:
            continue
        served = "unknown" if r.session_requests is None else str(r.session_requests)
        lines.append(
            f"- {r.case.name}: the session served {served} request(s) for {r.session_runs} run(s)"
            " (warm-up included; one request per run means every run went through it)"
        )
    for r in results:
        if r.loop_served:
            later = (LOOP_CALLS - 1) * len(r.loop_served)
            lines.append(
                f"- {r.case.name}: its keep-alive sessions served {sum(r.loop_served)} of the {later} calls"
                f" after each run's first ({', '.join(map(str, r.loop_served))} per counted run);"
                " the rest went direct while the session was starting"
            )
    if not lines:
        return []
    return ["", "Sessions (from `gemma-mcp session list --json` after the runs):", "", *lines]


def notes(results: list[Result]) -> list[str]:
    lines = []
    for r in results:
        if r.walls:
            median = statistics.median(r.walls)
            for index, (wall, began) in enumerate(zip(r.walls, r.starts, strict=True), start=1):
                if wall > OUTLIER_FACTOR * median:
                    at = time.strftime("%H:%M:%S UTC", time.gmtime(began))
                    lines.append(
                        f"- {r.case.name}: run {index} took {ms(wall)} ms ({wall / median:.0f}x the median),"
                        f" started {at}"
                    )
        if r.cache_misses:
            lines.append(f"- {r.case.name}: {r.cache_misses} run(s) started a server (cache miss)")
        if r.session_requests is not None and r.session_requests < r.session_runs:
            lines.append(
                f"- {r.case.name}: only {r.session_requests} of {r.session_runs} run(s) went through"
                " the session (the others may have started the server themselves)"
            )
        if r.error is not None:
            lines.append(f"- {r.case.name} failed: {r.error}")
    return ["", f"Outliers (over {OUTLIER_FACTOR}x the median) and problems:", "", *lines] if lines else []


def header(cli: Path, anchors: dict[str, Path], nodes: dict[str, Path]) -> list[str]:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    return [
        f"gemma-mcp benchmarks, {stamp}",
        "",
        f"- {os.cpu_count()} CPU(s), {model}; {platform.platform()}",
        f"- Python {platform.python_version()} ({PYTHON}); CLI {cli}",
        f"- source: {revision()}",
        *anchor_lines(anchors, nodes),
        "",
    ]


def anchor_lines(anchors: dict[str, Path], nodes: dict[str, Path]) -> list[str]:
    """Say which other clients were measured: their package versions and the Node that ran each."""
    if not anchors:
        return []
    lines = ["- anchors (other clients):"]
    for name, path in anchors.items():
        runtime = str(nodes[name]) if name in nodes else (shutil.which("node") or "node")
        lines.append(
            f"  - {name}: {package_of(path)} ({path}), on Node.js {node_version(runtime)} ({runtime})"
        )
    return lines


def node_version(runtime: str) -> str:
    try:
        done = subprocess.run([runtime, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "of unknown version"
    return done.stdout.strip()


def package_of(path: Path) -> str:
    """Return `name version` of the npm package a bin file belongs to (its nearest package.json)."""
    for folder in path.parents:
        manifest = folder / "package.json"
        if manifest.is_file():
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
            except ValueError:
                break
            if data.get("name") and data.get("version"):
                return f"{data['name']} {data['version']}"
    return "unknown package"


def revision() -> str:
    """Return the git commit of the repository, marked when gemma_mcp_cli has local changes."""
    git = shutil.which("git")
    if git is None:
        return "unknown (no git)"
    try:
        commit = subprocess.run(
            [git, "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [git, "-C", str(REPO), "status", "--porcelain", "--", "gemma_mcp_cli"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"commit {commit}" + (" + local changes in gemma_mcp_cli/" if dirty else "")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    names = [case.name for case in CASES]
    parser = argparse.ArgumentParser(description="Time whole gemma-mcp commands (wall time, peak RSS).")
    parser.add_argument("--runs", type=int, default=10, help="counted runs per case (default 10)")
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME", help="run only these cases")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    anchors = {
        "inspector": "the MCP Inspector's executable (node_modules/.bin/mcp-inspector)",
        "mcporter": "mcporter's executable (node_modules/.bin/mcporter)",
        "mcpc": "apify mcpc's executable (node_modules/.bin/mcpc)",
    }
    for name, what in anchors.items():
        cases = ", ".join(case.name for case in CASES if case.anchor == name)
        parser.add_argument(f"--{name}", type=Path, metavar="PATH", help=f"{what}: adds {cases}")
    parser.add_argument(
        "--node", type=Path, metavar="PATH", help="the Node.js binary that runs the anchors (default: PATH's)"
    )
    parser.add_argument(
        "--node-for",
        action="append",
        default=[],
        metavar="ANCHOR=PATH",
        help="run one anchor with another Node.js binary (one whose package asks for a newer Node)",
    )
    args = parser.parse_args(argv)
    args.nodes = {}
    for given in args.node_for:
        name, equals, path = given.partition("=")
        if name not in ANCHORS or not equals or not os.access(path, os.X_OK):
            parser.error(
                f"--node-for: {given!r} is not ANCHOR=EXECUTABLE with ANCHOR one of {', '.join(ANCHORS)}"
            )
        args.nodes[name] = Path(path).resolve()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    for option in (*ANCHORS, "node"):
        given = getattr(args, option)
        if given is None:
            continue
        if not os.access(given, os.X_OK) or given.is_dir():
            parser.error(f"--{option}: {given} is not an executable file")
        setattr(args, option, given.resolve())
    if args.node is not None:
        args.nodes = dict.fromkeys(ANCHORS, args.node) | args.nodes
    for case in CASES:
        if case.anchor and args.only and case.name in args.only and getattr(args, case.anchor) is None:
            parser.error(f"{case.name} needs --{case.anchor} PATH")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for case in CASES:
            print(f"{case.name:30} {case.summary}")
        return 0
    cli = find_cli()
    compile_bytecode()
    anchors = {name: getattr(args, name) for name in ANCHORS if getattr(args, name) is not None}
    selected = [
        case
        for case in CASES
        if (args.only is None or case.name in args.only) and (case.anchor is None or case.anchor in anchors)
    ]
    # A SIGTERM ends the runner through SystemExit, so that the sessions it started are stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    results: list[Result] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gemma-mcp-bench-") as scratch:
        runner = Runner(Path(scratch), cli, anchors, args.nodes)
        for group in groups_of(selected):
            results.extend(measure(runner, group, args.runs))
    elapsed = time.perf_counter() - started
    order = {case.name: index for index, case in enumerate(CASES)}
    results.sort(key=lambda r: order[r.case.name])
    floor = own_high_water_mark()
    lines = [
        *header(cli, anchors, args.nodes),
        *table(results),
        *server_table(results),
        *ratio_lines(results),
        *session_lines(results),
        *notes(results),
        "",
        (
            f"Peak RSS is ru_maxrss from os.wait4: the highest of the process and the children it reaped,"
            f" never a sum; at least this runner's own {mib(floor)} MiB, which Linux counts in."
        ),
        f"Total time {elapsed:.0f} s.",
    ]
    print("\n".join(lines))
    return 1 if any(r.error is not None for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
