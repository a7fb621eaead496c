#!/usr/bin/env python3
"""Deliberately misbehaving MCP server (stdio, protocol 2024-11-05) for client fault tests."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

JsonObject = dict[str, Any]

PROTOCOL_VERSION = "2024-11-05"
SERVER_INFO: JsonObject = {"name": "faulty-mcp-server", "version": "0.1.0"}
MODES = (
    "exit-early",
    "no-init",
    "crash-mid-call",
    "garbage",
    "garbage-init",
    "slow",
    "ignore-term",
    "flood-stderr",
    "spawn-child",
    "error-closed",
    "error-timeout",
    "malformed-result",
    "huge-result",
    "deep-result",
    "bad-blob",
    "spawn-escapee",
    "trickle-result",
)
# Modes whose tools/call answer is bent: a JSON-RPC error with the SDK's own local codes, a
# result that breaks the schema, a single-line result of --size MB, JSON nested past any decoder.
SERVER_ERRORS = {
    "error-closed": (-32000, "database is locked"),
    "error-timeout": (-32001, "upstream timed out"),
}
DEEP_NESTING = 100_000
GARBAGE_LINE = b"this is not json\n"
PANIC_LINE = "panicked at src/main.rs:42"
EARLY_EXIT_LINE = "fatal: cannot open database /nonexistent/db.sqlite"
IGNORED_TERM_LINE = "ignoring SIGTERM"
CALL_STARTED_LINE = "call started"
STARTUP_FLOOD_BYTES = 5 * 1024 * 1024
CALL_FLOOD_BYTES = 1024 * 1024

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602

TOOLS: list[JsonObject] = [
    {
        "name": "work",
        "description": "Sleep for the given number of seconds, then answer 'worked'",
        "inputSchema": {
            "type": "object",
            "properties": {"seconds": {"type": "number", "minimum": 0, "default": 0}},
        },
    },
    {
        "name": "crash",
        "description": "Abort the server process without answering",
        "inputSchema": {"type": "object", "properties": {}},
    },
    {
        "name": "peek",
        "description": "Answer 'peeked'; marked read-only, so a client may send it twice",
        "inputSchema": {"type": "object", "properties": {}},
        "annotations": {"readOnlyHint": True},
    },
]

_CHILDREN: list[subprocess.Popen[bytes]] = []


# --- process-level helpers -----------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse MODE and the options shared by all modes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--pidfile", help="write this process's pid to PATH at start")
    parser.add_argument("--delay", type=float, default=30.0, help="slow mode: seconds before each answer")
    parser.add_argument("--starts", help="append this process's pid to PATH at start (counts restarts)")
    parser.add_argument("--calls", help="append a line to PATH as each tools/call arrives")
    parser.add_argument("--flood-mb", type=float, default=1.0, help="flood-stderr mode: MB per call")
    parser.add_argument("--size", type=float, default=1.0, help="huge-result mode: megabytes of text")
    parser.add_argument(
        "--once", help="crash-mid-call mode: crash only while PATH does not exist (then create it)"
    )
    return parser.parse_args(argv)


def write_stderr(text: str) -> None:
    """Write one line to stderr and flush it."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def die(line: str, status: int) -> NoReturn:
    """Write a last stderr line and exit at once, skipping all cleanup."""
    write_stderr(line)
    os._exit(status)


def flood_stderr(total: int) -> None:
    """Write about `total` bytes of 100-byte lines to stderr, blocking until they are read."""
    lines = b"".join(f"WARN flood line {i:09d} {'x' * 73}\n".encode() for i in range(total // 100))
    sys.stderr.buffer.write(lines)
    sys.stderr.buffer.flush()


def spawn_child() -> None:
    """Start a long-lived grandchild in this process group and report its pid."""
    child = subprocess.Popen(["sleep", "300"])
    _CHILDREN.append(child)
    write_stderr(f"child pid {child.pid}")


def spawn_escapee() -> None:
    """Start a grandchild that leaves this process group with setsid(), and report its pid."""
    child = subprocess.Popen(["sleep", "301"], start_new_session=True)
    _CHILDREN.append(child)
    write_stderr(f"escapee pid {child.pid}")


def sleep_forever() -> NoReturn:
    """Block until the process is killed."""
    while True:
        time.sleep(3600)


# --- protocol ------------------------------------------------------------------------------------


class Server:
    """A small 2024-11-05 MCP server whose behaviour is bent by the chosen mode."""

    def __init__(
        self, mode: str, delay: float, once: str | None = None, size: float = 1.0, calls: str | None = None
    ) -> None:
        self.mode = mode
        self.size = size
        self.calls = calls
        self.flood_mb = 1.0
        self.delay = delay
        self.once = once
        self.write_lock = threading.Lock()
        self.cancelled: set[str | int] = set()
        self.workers: list[tuple[Any, threading.Thread]] = []

    def write(self, data: bytes) -> None:
        """Write raw bytes to stdout atomically and flush; a closed stdout ends the server."""
        try:
            with self.write_lock:
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()
        except (BrokenPipeError, ValueError):
            self.finish()

    def send(self, message: JsonObject) -> None:
        """Write one protocol message as a single line."""
        self.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    def reply(self, request_id: Any, result: JsonObject) -> None:
        """Send a result unless the client cancelled the request."""
        if not self.is_cancelled(request_id):
            self.send({"jsonrpc": "2.0", "id": request_id, "result": result})

    def is_cancelled(self, request_id: Any) -> bool:
        """Return whether the client sent notifications/cancelled for this request."""
        return isinstance(request_id, str | int) and request_id in self.cancelled

    def reply_error(self, request_id: Any, code: int, message: str) -> None:
        """Send a JSON-RPC error."""
        self.send({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})

    def finish(self) -> NoReturn:
        """End on stdin EOF or a closed stdout; ignore-term keeps running instead."""
        if self.mode == "ignore-term":
            sleep_forever()
        sys.stderr.flush()
        os._exit(0)

    # --- requests --------------------------------------------------------------------------------

    def on_initialize(self, request_id: Any) -> None:
        """Answer the handshake at 2024-11-05, or with garbage in garbage-init mode."""
        if self.mode == "garbage-init":
            self.write(GARBAGE_LINE)
            return
        result = {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {"tools": {}, "resources": {}} if self.mode == "bad-blob" else {"tools": {}},
            "serverInfo": SERVER_INFO,
        }
        self.reply(request_id, result)

    def on_call(self, request_id: Any, params: JsonObject) -> None:
        """Apply the mode's tools/call misbehaviour, else run the tool on a worker thread."""
        if self.calls is not None:
            with Path(self.calls).open("a", encoding="utf-8") as calls:
                calls.write(f"{params.get('name')}\n")
        if self.mode == "crash-mid-call" and self.once is not None and Path(self.once).exists():
            pass  # crashed once already: behave
        elif self.mode == "crash-mid-call" or params.get("name") == "crash":
            if self.once is not None:
                Path(self.once).touch()
            die(PANIC_LINE, 101)
        if self.mode == "garbage":
            self.write(GARBAGE_LINE)
            return
        if self.bent_answer(request_id):
            return
        worker = threading.Thread(target=self.run_call, args=(request_id, params), daemon=True)
        self.workers.append((request_id, worker))
        worker.start()

    def bent_answer(self, request_id: Any) -> bool:
        """Answer a call as the mode bends it; return whether it did."""
        if self.mode in SERVER_ERRORS:
            self.reply_error(request_id, *SERVER_ERRORS[self.mode])
        elif self.mode == "malformed-result":
            self.reply(request_id, {"content": [{"type": "text", "txt": "no text field"}]})
        elif self.mode == "huge-result":
            text = "x" * int(self.size * 1024 * 1024)
            self.reply(request_id, {"content": [{"type": "text", "text": text}], "isError": False})
        elif self.mode == "trickle-result":  # one long line, 64 KiB every 0.1 s, for a minute
            self.write(
                b'{"jsonrpc":"2.0","id":' + json.dumps(request_id).encode() + b',"result":{"content":['
            )
            for _ in range(600):
                self.write(b'{"type":"text","text":"' + b"x" * 65536 + b'"},')
                time.sleep(0.1)
            self.write(b'{"type":"text","text":"end"}]}}\n')
        elif self.mode == "deep-result":
            head = b'{"jsonrpc":"2.0","id":' + json.dumps(request_id).encode() + b',"result":'
            nested = b'{"content":[],"structuredContent":{"a":' + b"[" * DEEP_NESTING
            self.write(head + nested + b"]" * DEEP_NESTING + b"}}}\n")
        else:
            return False
        return True

    def run_call(self, request_id: Any, params: JsonObject) -> None:
        """Run one tool call and answer it."""
        if self.mode in ("slow", "ignore-term"):
            write_stderr(CALL_STARTED_LINE)  # lets a test wait until the call is under way
        if self.mode == "slow":
            time.sleep(self.delay)
        if self.mode == "flood-stderr":
            flood_stderr(int(self.flood_mb * CALL_FLOOD_BYTES))
        name = params.get("name")
        if name == "peek":
            self.reply(request_id, {"content": [{"type": "text", "text": "peeked"}], "isError": False})
            return
        if name != "work":
            self.reply_error(request_id, INVALID_PARAMS, f"Unknown tool: {name}")
            return
        self.reply(request_id, run_work(params.get("arguments")))

    def on_request(self, request_id: Any, method: str, params: JsonObject) -> None:
        """Answer one request."""
        if method == "initialize":
            self.on_initialize(request_id)
        elif method == "ping":
            self.reply(request_id, {})
        elif method == "tools/list":
            self.reply(request_id, {"tools": TOOLS})
        elif method == "tools/call":
            self.on_call(request_id, params)
        elif method == "resources/read" and self.mode == "bad-blob":
            blob = {"uri": params.get("uri"), "mimeType": "image/png", "blob": "%%% not base64 %%%"}
            self.reply(request_id, {"contents": [blob]})
        else:
            self.reply_error(request_id, METHOD_NOT_FOUND, "Method not found")

    def on_notification(self, method: str, params: JsonObject) -> None:
        """Remember cancelled requests so their late answers are dropped."""
        request_id = params.get("requestId")
        if method == "notifications/cancelled" and isinstance(request_id, str | int):
            self.cancelled.add(request_id)

    def on_message(self, message: Any) -> None:
        """Route one decoded message."""
        if not isinstance(message, dict) or not isinstance(message.get("method"), str):
            if not (isinstance(message, dict) and ("result" in message or "error" in message)):
                self.reply_error(None, INVALID_REQUEST, "Invalid Request")
            return
        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        if "id" in message:
            self.on_request(message["id"], message["method"], params)
        else:
            self.on_notification(message["method"], params)

    def on_line(self, raw: bytes) -> None:
        """Decode one input line; undecodable input is a parse error."""
        if not raw.strip():
            return
        try:
            message = json.loads(raw.decode("utf-8"))
        except ValueError:
            self.reply_error(None, PARSE_ERROR, "Parse error")
            return
        self.on_message(message)

    def serve(self) -> NoReturn:
        """Read stdin until EOF, then let uncancelled calls answer; no-init mode never answers."""
        while raw := sys.stdin.buffer.readline():
            if self.mode != "no-init":
                self.on_line(raw)
        for request_id, worker in self.workers:
            if not self.is_cancelled(request_id):
                worker.join()
        self.finish()


def run_work(arguments: Any) -> JsonObject:
    """Sleep `seconds`, then report 'worked'; bad arguments give an isError result."""
    seconds = arguments.get("seconds", 0) if isinstance(arguments, dict) else 0
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= 86400:
        text = f"Invalid seconds: expected a number from 0 to 86400, got {json.dumps(seconds)}"
        return {"content": [{"type": "text", "text": text}], "isError": True}
    time.sleep(seconds)
    return {"content": [{"type": "text", "text": "worked"}], "isError": False}


# --- start-up ------------------------------------------------------------------------------------


def start_up(mode: str) -> None:
    """Do the mode's start-up work before the protocol loop begins."""
    if mode == "exit-early":
        die(EARLY_EXIT_LINE, 3)
    if mode == "ignore-term":
        # Ignored, but said on stderr, so a test can wait until the client is waiting out the grace.
        signal.signal(signal.SIGTERM, lambda *_: write_stderr(IGNORED_TERM_LINE))
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    if mode == "flood-stderr":
        flood_stderr(STARTUP_FLOOD_BYTES)
    if mode == "spawn-child":
        spawn_child()
    if mode == "spawn-escapee":
        spawn_escapee()


def main(argv: list[str]) -> NoReturn:
    """Parse arguments, write the pidfile, then misbehave as asked."""
    args = parse_args(argv)
    if args.pidfile:
        Path(args.pidfile).write_text(f"{os.getpid()}\n", encoding="ascii")
    if args.starts:
        with Path(args.starts).open("a", encoding="ascii") as starts:
            starts.write(f"{os.getpid()}\n")
    start_up(args.mode)
    server = Server(args.mode, args.delay, args.once, args.size, args.calls)
    server.flood_mb = args.flood_mb
    server.serve()


if __name__ == "__main__":
    main(sys.argv[1:])
