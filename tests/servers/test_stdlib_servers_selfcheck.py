"""Self-checks for the standard-library test servers, driven over raw pipes and once by the SDK client."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

HERE = Path(__file__).resolve().parent
LEGACY = HERE / "legacy_rag_redis.py"
FAULTY = HERE / "faulty_server.py"
TIMEOUT = 10.0
MEMORY_TYPES = ["working", "short_term", "long_term", "episodic", "semantic"]

Message = dict[str, Any]


# --- helpers -------------------------------------------------------------------------------------


def rpc(request_id: int, method: str, params: Message | None = None) -> Message:
    """Build a JSON-RPC request."""
    message: Message = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def initialize(version: str = "2025-11-25") -> Message:
    """Build an initialize request asking for `version`."""
    client = {"name": "selfcheck", "version": "0"}
    return rpc(1, "initialize", {"protocolVersion": version, "capabilities": {}, "clientInfo": client})


INITIALIZED: Message = {"jsonrpc": "2.0", "method": "notifications/initialized"}
HANDSHAKE = [initialize(), INITIALIZED]


def call(request_id: int, name: str, arguments: Message) -> Message:
    """Build a tools/call request."""
    return rpc(request_id, "tools/call", {"name": name, "arguments": arguments})


def encode(messages: list[Message | str]) -> bytes:
    """Encode messages (or raw text lines) as newline-delimited input."""
    lines = [item if isinstance(item, str) else json.dumps(item) for item in messages]
    return "".join(line + "\n" for line in lines).encode()


class Run:
    """The outcome of feeding a server a whole input and closing its stdin."""

    def __init__(self, completed: subprocess.CompletedProcess[bytes]) -> None:
        self.returncode = completed.returncode
        self.stderr = completed.stderr.decode(errors="replace")
        self.lines = completed.stdout.decode().splitlines()

    def by_id(self) -> dict[Any, Message]:
        """Return every JSON response keyed by id."""
        return {m.get("id"): m for m in (json.loads(line) for line in self.lines)}


def run(script: Path, messages: list[Message | str], *args: str) -> Run:
    """Run a server over the given input until it exits, bounded by TIMEOUT."""
    command = [sys.executable, str(script), *args]
    completed = subprocess.run(command, input=encode(messages), capture_output=True, timeout=TIMEOUT)
    return Run(completed)


def legacy(*messages: Message | str) -> dict[Any, Message]:
    """Run the legacy server over the input and return its responses by id."""
    outcome = run(LEGACY, list(messages))
    assert outcome.returncode == 0, outcome.stderr
    return outcome.by_id()


def text_of(response: Message) -> str:
    """Return the single text item of a tools/call result."""
    content = response["result"]["content"]
    assert len(content) == 1 and content[0]["type"] == "text"
    return str(content[0]["text"])


class Live:
    """A running server process with bounded line reads from its pipes."""

    def __init__(self, *args: str) -> None:
        command = [sys.executable, str(FAULTY), *args]
        pipe = subprocess.PIPE
        self.proc = subprocess.Popen(command, stdin=pipe, stdout=pipe, stderr=pipe, start_new_session=True)
        self.buffers: dict[int, bytes] = {}

    def send(self, message: Message) -> None:
        """Write one message line to the server."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(encode([message]))
        self.proc.stdin.flush()

    def line(self, stream: Any, timeout: float = TIMEOUT) -> str:
        """Read one line from the server's stdout or stderr within `timeout` seconds."""
        fd = stream.fileno()
        buffer = self.buffers.get(fd, b"")
        while b"\n" not in buffer:
            ready, _, _ = select.select([fd], [], [], timeout)
            chunk = os.read(fd, 65536) if ready else b""
            assert chunk, "no line from the server in time"
            buffer += chunk
        line, _, self.buffers[fd] = buffer.partition(b"\n")
        return line.decode()

    def request(self, message: Message) -> Message:
        """Send a request and return the next stdout message."""
        self.send(message)
        response: Message = json.loads(self.line(self.proc.stdout))
        return response

    def close(self) -> None:
        """Kill the process if it still runs, reap it and close its pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=TIMEOUT)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def live() -> Iterator[list[Live]]:
    """Collect started processes and kill whatever is left at teardown."""
    started: list[Live] = []
    yield started
    for server in started:
        server.close()


def start(started: list[Live], *args: str) -> Live:
    """Start the faulty server in `args` mode and register it for cleanup."""
    server = Live(*args)
    started.append(server)
    return server


# --- legacy_rag_redis ----------------------------------------------------------------------------


def test_legacy_answers_2024_11_05_when_asked_for_newer() -> None:
    """Asked for 2025-11-25, the server answers 2024-11-05 and logs its start-up line."""
    outcome = run(LEGACY, [*HANDSHAKE, rpc(2, "ping")])
    result = outcome.by_id()[1]["result"]
    assert result == {
        "protocolVersion": "2024-11-05",
        "capabilities": {"tools": {}, "resources": {}, "prompts": {}},
        "serverInfo": {"name": "rag-redis-mcp-server", "version": "0.1.0"},
    }
    assert outcome.by_id()[2]["result"] == {}
    assert len(outcome.lines) == 2, "the initialized notification must not be answered"
    assert "INFO rag_redis_mcp_server: listening on stdio" in outcome.stderr
    assert outcome.returncode == 0


def test_legacy_server_discover_is_method_not_found() -> None:
    """The newer clients' server/discover probe gets -32601."""
    response = legacy(rpc(1, "server/discover", {}))[1]
    assert response["error"] == {"code": -32601, "message": "Method not found"}


def test_legacy_lists_four_tools_with_memory_type_enum() -> None:
    """One page of four tools, memory_type an enum, no annotations."""
    result = legacy(*HANDSHAKE, rpc(2, "tools/list"))[2]["result"]
    assert "nextCursor" not in result
    tools = {tool["name"]: tool for tool in result["tools"]}
    assert list(tools) == ["store_memory", "recall_memory", "get_memory_stats", "clear_memory"]
    store = tools["store_memory"]["inputSchema"]
    assert store["required"] == ["content"]
    assert store["properties"]["memory_type"]["enum"] == MEMORY_TYPES
    assert store["properties"]["memory_type"]["default"] == "short_term"
    assert store["properties"]["importance"] == {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5}
    assert tools["recall_memory"]["inputSchema"]["properties"]["limit"]["minimum"] == 1
    assert all("annotations" not in tool for tool in tools.values())


def test_legacy_store_then_recall_finds_the_memory() -> None:
    """A stored memory comes back from recall and shows in the stats."""
    responses = legacy(
        *HANDSHAKE,
        call(2, "store_memory", {"content": "Redis keeps vectors in memory", "memory_type": "semantic"}),
        call(3, "recall_memory", {"query": "vectors", "limit": 5}),
        call(4, "get_memory_stats", {}),
    )
    stored = re.fullmatch(r"Stored memory ([0-9a-f-]{36})", text_of(responses[2]))
    assert stored is not None
    matches = json.loads(text_of(responses[3]))
    assert [(m["id"], m["memory_type"]) for m in matches] == [(stored.group(1), "semantic")]
    assert json.loads(text_of(responses[4]))["by_type"]["semantic"] == 1


@pytest.mark.parametrize(
    ("name", "arguments", "problem"),
    [
        ("clear_memory", {}, "confirm"),
        ("store_memory", {"content": "x", "memory_type": "forever"}, "memory_type"),
        ("store_memory", {}, "content"),
        ("store_memory", {"content": "x", "importance": 2}, "importance"),
    ],
)
def test_legacy_tool_errors_are_is_error_results(name: str, arguments: Message, problem: str) -> None:
    """Bad tool arguments come back as isError results naming the problem."""
    response = legacy(*HANDSHAKE, call(2, name, arguments))[2]
    assert response["result"]["isError"] is True
    assert problem in text_of(response)


def test_legacy_unknown_tool_is_invalid_params() -> None:
    """An unknown tool name is a -32602 JSON-RPC error."""
    response = legacy(*HANDSHAKE, call(2, "drop_database", {}))[2]
    assert response["error"] == {"code": -32602, "message": "Unknown tool: drop_database"}


def test_legacy_malformed_line_is_parse_error_and_server_goes_on() -> None:
    """A broken line gets -32700 with a null id and the server keeps serving."""
    responses = legacy(*HANDSHAKE, '{"jsonrpc": "2.0", "id": 2, "method":', rpc(3, "ping"))
    assert responses[None]["error"]["code"] == -32700
    assert responses[3]["result"] == {}


def test_legacy_resources_and_prompts() -> None:
    """The stats resource lists and reads, other uris are -32002, prompts are empty."""
    responses = legacy(
        *HANDSHAKE,
        rpc(2, "resources/list"),
        rpc(3, "resources/read", {"uri": "memory://stats"}),
        rpc(4, "resources/read", {"uri": "memory://nope"}),
        rpc(5, "prompts/list"),
    )
    assert [r["uri"] for r in responses[2]["result"]["resources"]] == ["memory://stats"]
    assert json.loads(responses[3]["result"]["contents"][0]["text"])["total_memories"] == 0
    assert responses[4]["error"]["code"] == -32002
    assert responses[5]["result"] == {"prompts": []}


# --- faulty_server -------------------------------------------------------------------------------


def test_exit_early_exits_3_with_a_fatal_line(tmp_path: Path) -> None:
    """exit-early writes its pidfile and fatal line, then exits 3 without output."""
    pidfile = tmp_path / "server.pid"
    outcome = run(FAULTY, [], "exit-early", "--pidfile", str(pidfile))
    assert outcome.returncode == 3
    assert outcome.stderr == "fatal: cannot open database /nonexistent/db.sqlite\n"
    assert outcome.lines == []
    assert int(pidfile.read_text()) > 0


def test_crash_mid_call_exits_101_without_answering() -> None:
    """crash-mid-call answers the handshake and listing, then dies with 101 on the call."""
    outcome = run(FAULTY, [*HANDSHAKE, rpc(2, "tools/list"), call(3, "work", {})], "crash-mid-call")
    assert outcome.returncode == 101
    assert "panicked at src/main.rs:42" in outcome.stderr
    assert sorted(outcome.by_id()) == [1, 2]


def test_crash_tool_aborts_a_normal_server() -> None:
    """The crash tool ends any mode's server with status 101."""
    outcome = run(FAULTY, [*HANDSHAKE, call(2, "crash", {})], "slow", "--delay", "0")
    assert (outcome.returncode, sorted(outcome.by_id())) == (101, [1])


def test_no_init_never_answers() -> None:
    """no-init writes nothing to stdout and exits at EOF."""
    outcome = run(FAULTY, [*HANDSHAKE, rpc(2, "ping")], "no-init")
    assert (outcome.returncode, outcome.lines) == (0, [])


def test_garbage_answers_a_call_with_a_non_json_line() -> None:
    """garbage writes a non-JSON line for the call and keeps answering pings."""
    outcome = run(FAULTY, [*HANDSHAKE, call(2, "work", {}), rpc(3, "ping")], "garbage")
    assert outcome.lines[1] == "this is not json"
    assert [json.loads(line)["id"] for line in outcome.lines if line.startswith("{")] == [1, 3]


def test_garbage_init_answers_initialize_with_a_non_json_line() -> None:
    """garbage-init answers initialize with a non-JSON line and keeps reading."""
    outcome = run(FAULTY, [*HANDSHAKE, rpc(2, "ping")], "garbage-init")
    assert outcome.lines == ["this is not json", '{"jsonrpc":"2.0","id":2,"result":{}}']


def test_slow_answers_calls_after_the_delay_and_pings_at_once(live: list[Live]) -> None:
    """slow holds the call answer for --delay while pings are answered at once."""
    server = start(live, "slow", "--delay", "1")
    assert server.request(initialize())["result"]["protocolVersion"] == "2024-11-05"
    server.send(call(2, "work", {"seconds": 0}))
    assert server.request(rpc(3, "ping"))["id"] == 3
    assert text_of(json.loads(server.line(server.proc.stdout))) == "worked"


def test_flood_stderr_writes_megabytes_and_still_answers() -> None:
    """flood-stderr writes 5 MB at start and 1 MB per call, and answers the call."""
    outcome = run(FAULTY, [*HANDSHAKE, call(2, "work", {})], "flood-stderr")
    assert text_of(outcome.by_id()[2]) == "worked"
    assert len(outcome.stderr) >= 6 * 1000 * 1000


def test_ignore_term_survives_sigterm_and_eof_but_not_sigkill(live: list[Live]) -> None:
    """ignore-term outlives SIGTERM, SIGINT and EOF; SIGKILL ends it."""
    server = start(live, "ignore-term")
    assert server.request(initialize())["id"] == 1
    os.kill(server.proc.pid, signal.SIGTERM)
    os.kill(server.proc.pid, signal.SIGINT)
    assert server.request(rpc(2, "ping"))["result"] == {}
    assert server.proc.stdin is not None
    server.proc.stdin.close()
    with pytest.raises(subprocess.TimeoutExpired):
        server.proc.wait(timeout=0.3)
    os.kill(server.proc.pid, signal.SIGKILL)
    assert server.proc.wait(timeout=TIMEOUT) == -signal.SIGKILL


def test_spawn_child_reports_a_live_grandchild_in_its_group(live: list[Live]) -> None:
    """spawn-child reports the pid of its live child, which shares its process group."""
    server = start(live, "spawn-child")
    match = re.fullmatch(r"child pid (\d+)", server.line(server.proc.stderr))
    assert match is not None
    child = int(match.group(1))
    try:
        os.kill(child, 0)
        assert os.getpgid(child) == os.getpgid(server.proc.pid)
        stat = Path(f"/proc/{child}/stat").read_text(encoding="ascii")
        assert int(stat.rpartition(")")[2].split()[1]) == server.proc.pid, "the server is its parent"
        assert server.request(initialize())["result"]["protocolVersion"] == "2024-11-05"
    finally:
        os.kill(child, signal.SIGKILL)


# --- the SDK client against the legacy server ----------------------------------------------------


async def sdk_session(params: StdioServerParameters, errlog: TextIO) -> tuple[str, list[str], str]:
    """Connect with the SDK client, list tools and store a memory."""
    async with Client(stdio_client(params, errlog=errlog)) as client:
        version = client.protocol_version
        tools = await client.list_tools()
        stored = await client.call_tool("store_memory", {"content": "from the SDK"})
    text = stored.content[0].text if stored.content[0].type == "text" else ""
    return version, [tool.name for tool in tools.tools], text


def test_sdk_client_falls_back_to_initialize_and_negotiates_2024_11_05(tmp_path: Path) -> None:
    """The SDK client probes server/discover, falls back to initialize and settles on 2024-11-05."""
    params = StdioServerParameters(command=sys.executable, args=[str(LEGACY)], env={"RUST_LOG": "debug"})
    log = tmp_path / "server.log"

    async def body() -> tuple[str, list[str], str]:
        with log.open("w", encoding="utf-8") as errlog, anyio.fail_after(TIMEOUT):
            return await sdk_session(params, errlog)

    version, tools, stored = anyio.run(body)
    assert version == "2024-11-05"
    assert tools == ["store_memory", "recall_memory", "get_memory_stats", "clear_memory"]
    assert stored.startswith("Stored memory ")
    trace = log.read_text(encoding="utf-8")
    methods = re.findall(r"method=(\S+)", trace)
    assert methods == [
        "server/discover",
        "initialize",
        "notifications/initialized",
        "tools/list",
        "tools/call",
    ]
    assert "initialize requested protocolVersion=2025-11-25 client=mcp" in trace
    assert "stdin closed, shutting down" in trace
