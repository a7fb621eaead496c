"""Request statistics kept across invocations, in SQLite under the state directory."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gemma_mcp_cli.errors import MCPConfigError, program
from gemma_mcp_cli.state.files import UnsafePathError, open_private, private_dir
from gemma_mcp_cli.state.paths import state_dir

RETENTION_DAYS = 30.0
_BUSY_MS = 2000  # many invocations write at once; a short wait beats a lost row
_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    server TEXT NOT NULL,
    method TEXT NOT NULL,
    tool TEXT,
    ok INTEGER NOT NULL,
    error_type TEXT,
    error TEXT,
    latency REAL NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_at ON requests (at);
CREATE INDEX IF NOT EXISTS requests_server ON requests (server, tool);
"""
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True)
class Request:
    """One finished request, as recorded."""

    server: str
    method: str
    tool: str | None
    ok: bool
    error_type: str | None
    error: str | None
    latency: float
    at: float


class StatsStore:
    """Append requests, summarise them, export them; never let a failure break a command."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        warn: Callable[[str], None] | None = None,
        retention_days: float = RETENTION_DAYS,
        keep_open: bool = False,
    ) -> None:
        """`keep_open` is for a long-lived process (a session): one connection for every write.

        Opening the database, checking its schema and closing it again (which checkpoints the
        WAL and syncs the file) costs about a millisecond a request, and more on a busy disk:
        a session would make every warm call wait for it. Its commits skip the sync as well
        (`synchronous = NORMAL`): safe against crashes of the program, and statistics are not
        worth a disk flush per request.
        """
        self.path = path or state_dir() / "stats.sqlite3"
        self._warn = warn
        self._retention = retention_days * 86400
        self._keep_open = keep_open
        self._held: tuple[sqlite3.Connection, tuple[int, int]] | None = None  # and the file it opened
        self._lock = threading.Lock()  # the held connection serves one thread at a time

    def _open(self, *, shared: bool = False) -> sqlite3.Connection:
        try:
            private_dir(self.path.parent)
            # Created 0600 here (SQLite would make it 0644), and never through a planted link.
            os.close(open_private(self.path, os.O_RDWR | os.O_CREAT))
        except UnsafePathError as exc:
            raise MCPConfigError(f"statistics database: {exc.strerror}") from None
        db = sqlite3.connect(
            self.path, timeout=_BUSY_MS / 1000, isolation_level=None, check_same_thread=not shared
        )
        try:
            db.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript(_SCHEMA)
        except BaseException:
            db.close()
            raise
        return db

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if self._keep_open:
            with self._lock:
                db = self._held_connection()
                try:
                    yield db
                except BaseException:
                    self.close()  # rolls back what the failure left, and opens afresh next time
                    raise
            return
        db = self._open()
        try:
            yield db
        finally:
            db.close()

    def _held_connection(self) -> sqlite3.Connection:
        """Return the kept connection, opening it again if the file was replaced (`stats reset`)."""
        try:
            status = self.path.stat()
            current: tuple[int, int] | None = (status.st_dev, status.st_ino)
        except FileNotFoundError:
            current = None
        if self._held is not None and self._held[1] != current:
            self.close()
        if self._held is None:
            db = self._open(shared=True)
            try:
                db.execute("PRAGMA synchronous = NORMAL")
                status = self.path.stat()
            except BaseException:
                db.close()
                raise
            self._held = (db, (status.st_dev, status.st_ino))
        return self._held[0]

    def close(self) -> None:
        """Close the kept connection, if there is one."""
        held, self._held = self._held, None
        if held is not None:
            with contextlib.suppress(sqlite3.Error):
                held[0].close()

    def record(self, requests: list[Request]) -> None:
        """Append requests and prune old rows; a locked or corrupt database only warns."""
        if not requests:
            return
        try:
            with self._connect() as db:
                db.execute("BEGIN IMMEDIATE")
                db.executemany(
                    "INSERT INTO requests (server, method, tool, ok, error_type, error, latency, at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (r.server, r.method, r.tool, int(r.ok), r.error_type, r.error, r.latency, r.at)
                        for r in requests
                    ],
                )
                db.execute("DELETE FROM requests WHERE at < ?", (time.time() - self._retention,))
                db.execute("COMMIT")
        except (sqlite3.Error, OSError, MCPConfigError) as exc:
            if self._warn is not None:
                self._warn(f"statistics not recorded ({self.path}: {exc})")

    def rows(self, server: str | None = None) -> list[Request]:
        """Return every recorded request, oldest first (of one server, if named)."""
        query = "SELECT server, method, tool, ok, error_type, error, latency, at FROM requests"
        args: tuple[Any, ...] = ()
        if server is not None:
            query, args = query + " WHERE server = ?", (server,)
        try:
            with self._connect() as db:
                return [
                    Request(s, m, t, bool(o), et, e, lat, at)
                    for s, m, t, o, et, e, lat, at in db.execute(query + " ORDER BY at, id", args)
                ]
        except (sqlite3.Error, OSError) as exc:
            raise self._unusable(exc, f"run '{program()} stats reset' to start it afresh") from None

    def reset(self, server: str | None = None) -> int:
        """Delete the recorded requests (of one server, if named); return how many.

        Resetting everything also recovers from a database that cannot be read: it starts afresh.
        """
        try:
            with self._connect() as db:
                if server is None:
                    return db.execute("DELETE FROM requests").rowcount
                return db.execute("DELETE FROM requests WHERE server = ?", (server,)).rowcount
        except sqlite3.DatabaseError as exc:
            if server is not None:
                raise self._unusable(
                    exc, f"run '{program()} stats reset' (every server) to start it afresh"
                ) from None
        except (sqlite3.Error, OSError) as exc:
            raise self._unusable(exc, "check that the state directory is writable") from None
        self._remove()
        try:
            with self._connect():
                return 0
        except (sqlite3.Error, OSError) as exc:
            raise self._unusable(exc, "check that the state directory is writable") from None

    def _remove(self) -> None:
        """Delete the database and its journal files."""
        for suffix in ("", "-wal", "-shm", "-journal"):
            file = self.path.with_name(self.path.name + suffix)
            try:
                file.unlink(missing_ok=True)
            except OSError as exc:
                # The hint names the file that stayed: it may be a journal, not the database.
                raise self._unusable(exc, f"remove {file} by hand") from None

    def _unusable(self, exc: BaseException, hint: str) -> MCPConfigError:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return MCPConfigError(f"cannot use the statistics database {self.path}: {reason}", hint=hint)


def summarize(requests: list[Request]) -> dict[str, Any]:
    """Return the seed's statistics keys for a set of requests."""
    latencies = sorted(r.latency for r in requests)
    failures = [r for r in requests if not r.ok]
    done = len(requests)
    return {
        "total_requests": done,
        "successful_requests": done - len(failures),
        "failed_requests": len(failures),
        "success_rate": (done - len(failures)) / done if done else None,
        "total_latency": sum(latencies),
        "min_latency": latencies[0] if latencies else None,
        "max_latency": latencies[-1] if latencies else None,
        "avg_latency": sum(latencies) / len(latencies) if latencies else None,
        "p50_latency": _percentile(latencies, 50),
        "p95_latency": _percentile(latencies, 95),
        "last_error": failures[-1].error if failures else None,
        "last_request_at": max(r.at for r in requests) if requests else None,
    }


def _percentile(ordered: list[float], pct: float) -> float | None:
    """Return the nearest-rank percentile of sorted values."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def by_server(requests: list[Request]) -> dict[str, dict[str, Any]]:
    """Return per-server summaries, each with per-tool summaries under `tools`."""
    servers: dict[str, list[Request]] = {}
    for request in requests:
        servers.setdefault(request.server, []).append(request)
    result = {}
    for name, rows in servers.items():
        tools: dict[str, list[Request]] = {}
        for row in rows:
            if row.tool:
                tools.setdefault(row.tool, []).append(row)
        result[name] = summarize(rows) | {"tools": {tool: summarize(calls) for tool, calls in tools.items()}}
    return result


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus(requests: list[Request]) -> str:
    """Return the requests as Prometheus text exposition: counters and a latency histogram."""
    groups: dict[tuple[str, str, str, str], list[float]] = {}
    for r in requests:
        key = (r.server, r.method, r.tool or "", "success" if r.ok else "failure")
        groups.setdefault(key, []).append(r.latency)
    lines = [
        "# HELP gemma_mcp_requests_total MCP requests by server, method, tool and outcome.",
        "# TYPE gemma_mcp_requests_total counter",
    ]
    labels = {
        key: ",".join(
            f'{n}="{_label(v)}"' for n, v in zip(("server", "method", "tool", "outcome"), key, strict=True)
        )
        for key in groups
    }
    lines += [
        f"gemma_mcp_requests_total{{{labels[key]}}} {len(values)}" for key, values in sorted(groups.items())
    ]
    lines += [
        "# HELP gemma_mcp_request_duration_seconds MCP request latency in seconds.",
        "# TYPE gemma_mcp_request_duration_seconds histogram",
    ]
    for key, values in sorted(groups.items()):
        for bound in BUCKETS:
            count = sum(1 for v in values if v <= bound)
            lines.append(f'gemma_mcp_request_duration_seconds_bucket{{{labels[key]},le="{bound}"}} {count}')
        lines.append(f'gemma_mcp_request_duration_seconds_bucket{{{labels[key]},le="+Inf"}} {len(values)}')
        lines.append(f"gemma_mcp_request_duration_seconds_sum{{{labels[key]}}} {sum(values)}")
        lines.append(f"gemma_mcp_request_duration_seconds_count{{{labels[key]}}} {len(values)}")
    return "\n".join(lines) + "\n"
