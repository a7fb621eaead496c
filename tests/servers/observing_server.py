#!/usr/bin/env python3
"""A dependency-free MCP server that records what it receives, for tests that observe the client.

Over stdio by default, or Streamable HTTP (JSON responses) with `--port`. `--record FILE` appends
one JSON line per process start and per message received (with the HTTP headers, over HTTP), so
a test can see what the client sent: how often it connected, which methods, which headers.

Its tools: `hello`; `headers` (the HTTP headers of that very request, as JSON); `change` (sends
`notifications/tools/list_changed` before answering); `progress` (three progress notifications,
then "done"). `--protocol 2026-07-28` answers `server/discover` (and stamps `--ttl-ms` on its
listings); otherwise it speaks 2025-06-18 through `initialize`. `--barrier DIR --count N` holds
the first handshake message until N instances have each created a file in DIR (bounded), so a
test proves that a client reached N servers at once without measuring any time.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

JsonObject = dict[str, Any]

MODERN = "2026-07-28"
LEGACY = "2025-06-18"
SERVER_INFO: JsonObject = {"name": "observing-server", "version": "0.1.0"}
METHOD_NOT_FOUND = -32601

_EMPTY: JsonObject = {"type": "object", "properties": {}}
TOOLS: list[JsonObject] = [
    {"name": "hello", "description": "Answer 'hello'", "inputSchema": _EMPTY},
    {"name": "headers", "description": "Return the HTTP headers of this request", "inputSchema": _EMPTY},
    {"name": "change", "description": "Announce a changed tool list, then answer", "inputSchema": _EMPTY},
    {"name": "progress", "description": "Report progress three times, then answer", "inputSchema": _EMPTY},
]


class Observer:
    """The protocol: answers requests, records them, and sends what the tools ask for."""

    def __init__(self, args: argparse.Namespace, send: Any) -> None:
        self.args = args
        self.send = send  # called with each server-to-client message sent before the answer
        self.lock = threading.Lock()
        self.shook_hands = False
        self.barrier_problem: str | None = None

    def record(self, entry: JsonObject) -> None:
        """Append one line to the record file."""
        if self.args.record:
            with self.lock, Path(self.args.record).open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry) + "\n")

    def wait_for_the_others(self) -> str | None:
        """Arrive at the barrier; return why the wait failed, if it did."""
        if not self.args.barrier or self.shook_hands:
            return self.barrier_problem  # a failed barrier fails every later handshake too
        self.shook_hands = True
        self.barrier_problem = self.meet()
        return self.barrier_problem

    def meet(self) -> str | None:
        folder = Path(self.args.barrier)
        (folder / f"{os.getpid()}.arrived").touch()
        deadline = time.monotonic() + self.args.patience
        while (arrived := len(list(folder.glob("*.arrived")))) < self.args.count:
            if time.monotonic() > deadline:
                return f"barrier: only {arrived} of {self.args.count} servers connected at once"
            time.sleep(0.02)
        return None

    def handle(self, message: JsonObject, headers: dict[str, str] | None) -> JsonObject | None:
        """Record one message and return its answer (None for notifications and responses)."""
        method = message.get("method")
        self.record({"method": method, "headers": headers} if headers is not None else {"method": method})
        if "id" not in message or not isinstance(method, str):
            return None
        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        if method in ("server/discover", "initialize"):
            problem = self.wait_for_the_others()
            if problem is not None:
                return error(message["id"], -32603, problem)
        result = self.answer(method, params, headers)
        if result is None:
            return error(message["id"], METHOD_NOT_FOUND, f"Method not found: {method}")
        if self.args.protocol == MODERN:
            result.setdefault("resultType", "complete")  # required on the 2026-07-28 wire
        return {"jsonrpc": "2.0", "id": message["id"], "result": result}

    def answer(self, method: str, params: JsonObject, headers: dict[str, str] | None) -> JsonObject | None:
        modern = self.args.protocol == MODERN
        capabilities = {"tools": {"listChanged": True}}
        cache = {"ttlMs": self.args.ttl_ms, "cacheScope": "private"} if modern else {}
        if method == "server/discover":
            return {"supportedVersions": [MODERN], "capabilities": capabilities, **cache} if modern else None
        if method == "initialize":
            return {"protocolVersion": LEGACY, "capabilities": capabilities, "serverInfo": SERVER_INFO}
        if method == "ping":
            return {}
        if method == "tools/list":
            return {"tools": TOOLS, **cache}
        if method == "tools/call":
            return self.call(params, headers)
        return None

    def call(self, params: JsonObject, headers: dict[str, str] | None) -> JsonObject:
        name = params.get("name")
        if name == "headers":
            return text_result(json.dumps(headers or {}, sort_keys=True))
        if name == "change":
            self.send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
            return text_result("changed")
        if name == "progress":
            meta = params.get("_meta")
            token = meta.get("progressToken") if isinstance(meta, dict) else None
            for step in (1, 2, 3):
                if token is not None:
                    progress = {"progressToken": token, "progress": step, "total": 3}
                    progress["message"] = f"step {step} of 3"
                    self.send({"jsonrpc": "2.0", "method": "notifications/progress", "params": progress})
            return text_result("done")
        if name == "hello":
            return text_result("hello")
        return text_result(f"unknown tool: {name}", is_error=True)


def text_result(text: str, *, is_error: bool = False) -> JsonObject:
    return {"content": [{"type": "text", "text": text}], "isError": is_error}


def error(request_id: Any, code: int, message: str) -> JsonObject:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


# --- transports ----------------------------------------------------------------------------------


def serve_stdio(args: argparse.Namespace) -> None:
    """One JSON-RPC message per line on stdin and stdout, until EOF."""
    lock = threading.Lock()

    def write(message: JsonObject) -> None:
        with lock:
            sys.stdout.write(json.dumps(message) + "\n")
            sys.stdout.flush()

    observer = Observer(args, write)
    for line in sys.stdin:
        if line.strip():
            answer = observer.handle(json.loads(line), None)
            if answer is not None:
                write(answer)


def serve_http(args: argparse.Namespace) -> None:
    """Streamable HTTP with JSON responses only: no stream, no back channel."""
    observer = Observer(args, lambda message: None)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {key.lower(): value for key, value in self.headers.items()}
            answer = observer.handle(json.loads(body), headers)
            if answer is None:
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_DELETE = do_GET

        def log_message(self, *args: object) -> None:
            """Keep the log quiet."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, help="serve Streamable HTTP on 127.0.0.1:PORT")
    parser.add_argument("--record", help="append what arrives to this file, one JSON line each")
    parser.add_argument("--protocol", choices=(LEGACY, MODERN), default=LEGACY)
    parser.add_argument("--ttl-ms", type=int, default=0, help="the ttlMs of listings (2026-07-28 only)")
    parser.add_argument("--barrier", help="a folder shared by the instances that must meet")
    parser.add_argument("--count", type=int, default=1, help="how many instances meet at the barrier")
    parser.add_argument("--patience", type=float, default=8.0, help="seconds to wait for the others")
    parser.add_argument("--fail-start", action="store_true", help="exit at once (after recording)")
    parser.add_argument("--only-once", help="serve only while PATH does not exist (then create it)")
    args = parser.parse_args()
    Observer(args, None).record({"event": "start", "pid": os.getpid()})
    if args.only_once:
        marker = Path(args.only_once)
        args.fail_start = marker.exists()
        marker.touch()
    if args.fail_start:
        sys.stderr.write("observing-server: failing at start, as asked\n")
        sys.exit(1)
    if args.port is None:
        serve_stdio(args)
    else:
        serve_http(args)


if __name__ == "__main__":
    main()
