#!/usr/bin/env python3
"""A server whose lists change on a trigger (stdio, standard library only, protocol 2025-11-25).

Its tools, resources and prompts are the names in `--lists FILE` (JSON: `{"tools": [...],
"resources": [...], "prompts": [...]}`), read again on every list request. A thread watches the
file; when its content changes the server sends `notifications/{kind}/list_changed` for every
kind whose names changed (each `--flood N` times), so a test triggers a change by writing the
file. Hostile modes: `--flood` (thousands of notifications), names with escapes (whatever the
file says), `--die-on-change` (exit at the change, without a word). `--record FILE` appends a
JSON line per process start and per request (`{"event": "started"|"request", ...}`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

PROTOCOL_VERSION = "2025-11-25"
KINDS = ("tools", "resources", "prompts")
POLL = 0.01  # seconds between looks at the lists file


class Server:
    """Answer JSON-RPC lines on stdin; announce changes of the lists file."""

    def __init__(self, lists: Path, record: Path | None, flood: int, die_on_change: bool) -> None:
        self.lists = lists
        self.record_path = record
        self.flood = flood
        self.die_on_change = die_on_change
        self.lock = threading.Lock()

    def record(self, event: dict[str, Any]) -> None:
        if self.record_path is not None:
            with self.lock, self.record_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps({"pid": os.getpid(), **event}) + "\n")

    def send(self, message: dict[str, Any]) -> None:
        with self.lock:
            sys.stdout.write(json.dumps(message) + "\n")
            sys.stdout.flush()

    def names(self) -> dict[str, list[str]]:
        try:
            data = json.loads(self.lists.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {kind: [] for kind in KINDS}
        return {kind: [str(n) for n in data.get(kind, [])] for kind in KINDS}

    def listing(self, kind: str) -> list[dict[str, Any]]:
        names = self.names()[kind]
        if kind == "tools":
            return [{"name": n, "description": f"tool {n}", "inputSchema": {"type": "object"}} for n in names]
        if kind == "resources":
            return [{"uri": f"item://{n}", "name": n, "mimeType": "text/plain"} for n in names]
        return [{"name": n, "description": f"prompt {n}", "arguments": []} for n in names]

    def answer(self, request: dict[str, Any]) -> None:
        method, ident = request.get("method"), request.get("id")
        if ident is None:
            return  # a notification (initialized, cancelled)
        self.record({"event": "request", "method": method})
        if method == "initialize":
            capabilities = {kind: {"listChanged": True} for kind in KINDS}
            info = {"name": "changing", "version": "1.0"}
            result = {"protocolVersion": PROTOCOL_VERSION, "capabilities": capabilities, "serverInfo": info}
            self.send({"jsonrpc": "2.0", "id": ident, "result": result})
        elif isinstance(method, str) and method.endswith("/list") and method[: -len("/list")] in KINDS:
            kind = method[: -len("/list")]
            self.send({"jsonrpc": "2.0", "id": ident, "result": {kind: self.listing(kind)}})
        elif method == "ping":
            self.send({"jsonrpc": "2.0", "id": ident, "result": {}})
        else:
            error = {"code": -32601, "message": f"method not found: {method}"}
            self.send({"jsonrpc": "2.0", "id": ident, "error": error})

    def watch(self) -> None:
        """Announce every change of the lists file, kind by kind."""
        before = self.names()
        while True:
            time.sleep(POLL)
            now = self.names()
            changed = [kind for kind in KINDS if now[kind] != before[kind]]
            if not changed:
                continue
            if self.die_on_change:
                self.record({"event": "dying"})
                os._exit(3)
            before = now
            for kind in changed:
                for _ in range(self.flood):
                    self.send({"jsonrpc": "2.0", "method": f"notifications/{kind}/list_changed"})
                self.record({"event": "announced", "kind": kind, "times": self.flood})

    def serve(self) -> None:
        self.record({"event": "started"})
        threading.Thread(target=self.watch, daemon=True).start()
        for line in sys.stdin:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict):
                self.answer(message)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lists", required=True, type=Path)
    parser.add_argument("--record", type=Path)
    parser.add_argument("--flood", type=int, default=1, help="send each list_changed this many times")
    parser.add_argument("--die-on-change", action="store_true")
    options = parser.parse_args()
    Server(options.lists, options.record, options.flood, options.die_on_change).serve()


if __name__ == "__main__":
    main()
