"""Every test runs with its own home, config, cache, state and data directories.

The suite runs in four worker processes (pytest-xdist, set in pyproject.toml), so a test may run
beside any other, in any order. For a new test that means:

- Nothing fixed and shared: `tmp_path` for files, `free_port()` for ports, no global state.
- A slow server (one on the SDK) that several tests of a module can share is started once by a
  module-scoped fixture, and the module says `pytestmark = pytest.mark.xdist_group("NAME")` so
  that one worker runs all its tests and starts it once (test_asking.py is the example).
- A session-scoped fixture runs once per worker: one that prepares something on disk for all of
  them (an npm install) does it under a file lock, like `npm_install_once`.
- `-n 0` runs the tests in one process, for a debugger or `--pdb`.
"""

from __future__ import annotations

import compileall
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.waiting import wait_until

SERVERS = Path(__file__).parent / "servers"
PACKAGE = Path(__file__).parents[1] / "gemma_mcp_cli"


def pytest_configure(config: pytest.Config) -> None:
    """Compile the package to bytecode once, before any test starts `gemma-mcp` as a process.

    An installed copy has its bytecode (pip writes it at install time). A checkout run with
    PYTHONDONTWRITEBYTECODE set would compile every module again in each of the suite's hundreds
    of `gemma-mcp` processes, about a quarter of a second of CPU each. Only the controller
    compiles: the workers (pytest-xdist) start after it, and read what it wrote.
    """
    if not hasattr(config, "workerinput"):
        compileall.compile_dir(PACKAGE, quiet=1)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # A suite started with Ctrl-C ignored (a detached job) would hand that on to every
        # program it starts, and gemma-mcp keeps ignoring it there, as a background job should.
        # The tests that press Ctrl-C mean a program started from a terminal.
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def fresh_argument_checks() -> None:
    """Start each test without the argument checks an earlier test prepared (arguments._PREPARED).

    The cache is per process; without this, a test would check arguments with a check another
    test built, and a change to how checks are built could go unseen by the tests that need it.
    """
    from gemma_mcp_cli import arguments

    arguments._PREPARED.clear()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every directory the client reads or writes at this test's tmp_path."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    for name in ("CACHE", "STATE", "DATA"):
        monkeypatch.setenv(f"GEMMA_MCP_{name}_DIR", str(tmp_path / name.lower()))
    for name in (
        "GEMMA_MCP_CONFIG",
        "GEMMA_MCP_DEBUG",
        "GEMMA_MCP_SETTINGS",
        "GEMMA_MCP_ENABLED",
        "GEMMA_MCP_SERVERS_CONFIG",
        "GEMMA_MCP_TOOL_CACHE_TTL",
        "GEMMA_MCP_CONNECTION_TIMEOUT",
        "GEMMA_MCP_RETRY_COUNT",
        "GEMMA_MCP_KEEP_ALIVE",
        "NO_COLOR",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test from an empty directory, so no ./config is discovered."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Return a function that writes a TOML config and returns its path."""

    def write(text: str, name: str = "mcp_servers.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


PYTHON = sys.executable
EVERYTHING_VERSION = "2026.8.31"
NPM_DIR = Path(__file__).parent / ".npm"
EVERYTHING_JS = NPM_DIR / "node_modules" / "@modelcontextprotocol" / "server-everything" / "dist" / "index.js"


STARTUP_TIMEOUT = 60.0  # seconds a test server may take to start on a loaded machine


def stdio_server(name: str, script: str, *args: str, **keys: object) -> str:
    """Return a TOML table for a test server started as `python tests/servers/SCRIPT ARGS`.

    Start-up gets a patient `connection_timeout` unless the test sets one (None leaves the key out):
    a suite in four workers on two cores can take more than the default 10 s to start a Python
    server that imports the SDK.
    """
    keys = {"connection_timeout": STARTUP_TIMEOUT} | keys
    keys = {key: value for key, value in keys.items() if value is not None}
    argv = [str(SERVERS / script), *args]
    lines = [f"[{name}]", f"command = {json.dumps(PYTHON)}", f"args = {json.dumps(argv)}"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in keys.items()]
    return "\n".join(lines) + "\n"


LOCAL_MEMORY = (
    f'[memory]\ncommand = {json.dumps(PYTHON)}\nargs = ["-m", "gemma_mcp_cli.servers.local_memory"]\n'
    f"connection_timeout = {STARTUP_TIMEOUT}\n"
)


@pytest.fixture
def servers_config(write_config: Callable[..., Path]) -> Path:
    """Return a config naming every test server: fast stdlib ones, SDK ones, the embedded one."""
    return write_config(
        stdio_server("legacy", "legacy_rag_redis.py")
        + stdio_server("sdk", "sdk_server.py", request_timeout=10.0)
        + stdio_server("paged", "paged_server.py")
        + LOCAL_MEMORY
        + stdio_server("early", "faulty_server.py", "exit-early", enabled=False)
        + stdio_server(
            "slow", "faulty_server.py", "slow", "--delay", "30", request_timeout=1.0, enabled=False
        )
        + stdio_server("silent", "faulty_server.py", "no-init", connection_timeout=1.5, enabled=False)
        + stdio_server("crash", "faulty_server.py", "crash-mid-call", enabled=False)
        + '[missing]\ncommand = "surely-not-an-installed-command"\nenabled = false\n'
    )


def npm_install_once(prefix: Path, spec: str) -> None:
    """Install the npm package `spec` into `prefix` (a git-ignored folder) unless it is there whole.

    Test workers (pytest-xdist) ask at the same moment: the first takes a lock inside `prefix` and
    installs; the others wait on the lock and then find the package there. A package's own files
    appear while npm is still unpacking its dependencies, so "there whole" is a marker naming
    `spec`, written only after npm has finished; a cut-off install is simply run again. Raises
    what npm raised.
    """
    marker = prefix / ".installed"
    if marker.is_file() and marker.read_text(encoding="utf-8") == spec:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError(f"npm is needed to install {spec}")
    prefix.mkdir(parents=True, exist_ok=True)
    with (prefix / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, even if npm fails
        if marker.is_file() and marker.read_text(encoding="utf-8") == spec:
            return
        marker.unlink(missing_ok=True)
        subprocess.run(
            [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error", spec],
            check=True,
            timeout=300,
            capture_output=True,
        )
        partial = prefix / ".installed.part"
        partial.write_text(spec, encoding="utf-8")
        partial.replace(marker)


@pytest.fixture(scope="session")
def everything_js() -> Path:
    """Install the pinned @modelcontextprotocol/server-everything once (into an ignored folder)."""
    try:
        npm_install_once(NPM_DIR, f"@modelcontextprotocol/server-everything@{EVERYTHING_VERSION}")
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    return EVERYTHING_JS


@pytest.fixture
def everything_config(write_config: Callable[..., Path], everything_js: Path) -> Path:
    """Return a config whose one server is server-everything over stdio."""
    node = shutil.which("node") or "node"
    return write_config(
        f"[everything]\ncommand = {json.dumps(node)}\nargs = {json.dumps([str(everything_js), 'stdio'])}\n"
        f"request_timeout = 30.0\nconnection_timeout = {STARTUP_TIMEOUT}\n",
        name="everything.toml",
    )


def process_ended(pid: int) -> bool:
    """Tell whether a process is gone or only a zombie waiting for its parent to reap it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # the process may be reaped between the two looks: gone then, too
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def child_processes() -> list[tuple[int, str]]:
    """Return (pid, command) of every live child of this test process, from /proc."""
    me = os.getpid()
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # The command sits in parentheses and may hold spaces; fields after it are fixed.
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[1]) == me and fields[0] != "Z":
            found.append((int(stat.parent.name), text[text.index("(") + 1 : text.rindex(")")]))
    return found


@pytest.fixture
def no_orphans() -> Iterator[None]:
    """Fail the test if it leaves a child process running."""
    before = {pid for pid, _ in child_processes()}
    yield
    left = [(pid, name) for pid, name in child_processes() if pid not in before]
    assert not left, f"child processes left running: {left}"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class NetworkServer:
    """A test server process listening on 127.0.0.1; stopped (and waited for) on close."""

    def __init__(self, argv: list[str], port: int, log: Path, env: dict[str, str] | None = None) -> None:
        self.port = port
        self._log = log.open("wb")
        self.process = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        with contextlib.suppress(AssertionError):  # reported below with the server's own words
            # Generous: an SDK server spends seconds importing on a loaded machine; the wait ends
            # as soon as it listens.
            wait_until(
                lambda: self.process.poll() is not None or self._accepting(),
                limit=120,
                what=f"{argv} to listen",
            )
        if not self._accepting():
            self.close()
            raise RuntimeError(f"test server {argv} did not start: {log.read_text()[-2000:]}")

    def _accepting(self) -> bool:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def close(self) -> None:
        """Stop the server and release its log."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def python_server(script: str, *args: str, log: Path) -> NetworkServer:
    """Start tests/servers/SCRIPT on a free port (passed as --port)."""
    port = free_port()
    return NetworkServer([PYTHON, str(SERVERS / script), *args, "--port", str(port)], port, log)


def everything_server(js: Path, mode: str, log: Path) -> NetworkServer:
    """Start server-everything in `sse` or `streamableHttp` mode on a free loopback port."""
    port = free_port()
    node = shutil.which("node") or "node"
    argv = [node, "--require", str(SERVERS / "loopback.cjs"), str(js), mode]
    return NetworkServer(argv, port, log, env=os.environ | {"PORT": str(port)})
