"""Serve a small SQLite-backed memory store as the `local-memory` MCP server over stdio."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from gemma_mcp_cli._version import __version__

MemoryType = Literal["working", "short_term", "long_term", "episodic", "semantic"]
MEMORY_TYPES: tuple[MemoryType, ...] = get_args(MemoryType)

SERVER_NAME = "local-memory"
DATA_DIR_ENV = "GEMMA_MCP_DATA_DIR"
DATABASE_FILENAME = "memory.sqlite3"
STATS_URI = "memory://stats"
# Long enough to ride out a burst of writers from many server processes sharing one file.
BUSY_TIMEOUT_SECONDS = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS memories (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    content TEXT NOT NULL,
    memory_type TEXT NOT NULL,
    importance REAL NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS memories_by_type ON memories (memory_type);
"""
_COLUMNS = "id, content, memory_type, importance, created_at"
_INSERT = f"INSERT INTO memories ({_COLUMNS}) VALUES (:id, :content, :memory_type, :importance, :created_at)"

_INSTRUCTIONS = (
    "Persistent local memory. Save notes with store_memory, find them again with recall_memory "
    "(substring match), inspect counts with get_memory_stats, and delete with clear_memory(confirm=true)."
)


class Memory(BaseModel):
    """One stored memory."""

    id: str
    content: str
    memory_type: MemoryType
    importance: float
    created_at: datetime


class StoredMemory(BaseModel):
    """Receipt for a newly stored memory."""

    id: str
    memory_type: MemoryType
    importance: float
    created_at: datetime


class RecallResult(BaseModel):
    """Memories matching a recall query, newest first."""

    count: int
    memories: list[Memory]


class MemoryStats(BaseModel):
    """Memory counts per type and overall."""

    total: int
    by_type: dict[MemoryType, int]


class ClearResult(BaseModel):
    """Outcome of a confirmed clear."""

    deleted: int
    memory_type: MemoryType | None


def resolve_data_dir() -> Path:
    """Return the directory that holds the memory database."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    # Deferred so the common, env-configured start never pays for it.
    import platformdirs

    return Path(platformdirs.user_data_dir("gemma-mcp"))


class MemoryStore:
    """Persist memories in one SQLite file that many processes may share."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / DATABASE_FILENAME
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    def _open(self) -> sqlite3.Connection:
        # Autocommit: every operation is a single statement, so SQLite's implicit
        # transaction is enough and no deferred read lock ever needs upgrading.
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        conn.row_factory = sqlite3.Row
        # SQLite's own lower() folds ASCII only.
        conn.create_function("casefold", 1, str.casefold, deterministic=True)
        return conn

    def _ensure_schema(self) -> None:
        with self._schema_lock:
            if self._schema_ready:
                return
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Switching a new database to WAL does not always wait on SQLite's busy handler, so
            # many processes creating it at once retry here within the same time budget.
            deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
            while True:
                try:
                    with closing(self._open()) as conn:
                        conn.execute("PRAGMA journal_mode=WAL")
                        conn.executescript(_SCHEMA)
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
            self._schema_ready = True

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """Yield a fresh connection and close it afterwards."""
        self._ensure_schema()
        with closing(self._open()) as conn:
            yield conn

    def store(self, content: str, memory_type: MemoryType, importance: float) -> Memory:
        """Insert a memory and return it."""
        memory = Memory(
            id=uuid.uuid4().hex,
            content=content,
            memory_type=memory_type,
            importance=importance,
            created_at=datetime.now(UTC),
        )
        row = memory.model_dump()
        row["created_at"] = memory.created_at.isoformat(timespec="microseconds")
        with self.connection() as conn:
            conn.execute(_INSERT, row)
        return memory

    def recall(self, query: str, memory_type: MemoryType | None, limit: int) -> list[Memory]:
        """Return memories whose content contains the query, newest first."""
        sql = f"SELECT {_COLUMNS} FROM memories WHERE instr(casefold(content), ?) > 0"
        params: list[Any] = [query.casefold()]
        if memory_type is not None:
            sql += " AND memory_type = ?"
            params.append(memory_type)
        sql += " ORDER BY created_at DESC, seq DESC LIMIT ?"
        params.append(limit)
        with self.connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [Memory.model_validate(dict(row)) for row in rows]

    def stats(self) -> MemoryStats:
        """Count memories per type."""
        with self.connection() as conn:
            rows = conn.execute("SELECT memory_type, COUNT(*) FROM memories GROUP BY memory_type").fetchall()
        by_type: dict[MemoryType, int] = dict.fromkeys(MEMORY_TYPES, 0)
        for memory_type, count in rows:
            if memory_type in by_type:
                by_type[memory_type] = count
        return MemoryStats(total=sum(by_type.values()), by_type=by_type)

    def clear(self, memory_type: MemoryType | None) -> int:
        """Delete memories of one type, or all of them, and return how many went."""
        with self.connection() as conn:
            if memory_type is None:
                cursor = conn.execute("DELETE FROM memories")
            else:
                cursor = conn.execute("DELETE FROM memories WHERE memory_type = ?", (memory_type,))
            return cursor.rowcount


def _result(text: str, payload: BaseModel) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=payload.model_dump(mode="json"),
    )


def _count(n: int) -> str:
    return f"{n} memory" if n == 1 else f"{n} memories"


def _describe(memory: Memory) -> str:
    stamp = memory.created_at.isoformat(timespec="seconds")
    return (
        f"- [{memory.memory_type}, importance {memory.importance:g}, {stamp}] {memory.id}: {memory.content}"
    )


class MemoryTools:
    """Tool and resource handlers bound to one store."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def store_memory(
        self,
        content: Annotated[str, Field(min_length=1, description="Text to remember.")],
        memory_type: Annotated[MemoryType, Field(description="Kind of memory.")] = "short_term",
        importance: Annotated[float, Field(ge=0.0, le=1.0, description="Weight from 0 to 1.")] = 0.5,
    ) -> Annotated[CallToolResult, StoredMemory]:
        """Store a memory and return its id."""
        if not content.strip():
            raise ToolError("content must contain non-whitespace text")
        memory = self._store.store(content, memory_type, importance)
        receipt = StoredMemory.model_validate(memory.model_dump(exclude={"content"}))
        return _result(f"Stored {memory_type} memory {memory.id} (importance {importance:g}).", receipt)

    def recall_memory(
        self,
        query: Annotated[str, Field(description="Case-insensitive text to look for; empty matches all.")],
        memory_type: Annotated[MemoryType | None, Field(description="Only this kind of memory.")] = None,
        limit: Annotated[int, Field(ge=1, le=100, description="Maximum number of memories.")] = 10,
    ) -> Annotated[CallToolResult, RecallResult]:
        """Find memories containing the query text, newest first."""
        memories = self._store.recall(query, memory_type, limit)
        if not memories:
            text = f"No memories match {query!r}."
        else:
            text = "\n".join([f"Found {_count(len(memories))}:", *map(_describe, memories)])
        return _result(text, RecallResult(count=len(memories), memories=memories))

    def get_memory_stats(self) -> Annotated[CallToolResult, MemoryStats]:
        """Count stored memories per type and in total."""
        stats = self._store.stats()
        breakdown = ", ".join(f"{name} {count}" for name, count in stats.by_type.items())
        return _result(f"{_count(stats.total)}: {breakdown}.", stats)

    def clear_memory(
        self,
        memory_type: Annotated[MemoryType | None, Field(description="Only this kind; omit for all.")] = None,
        confirm: Annotated[bool, Field(description="Must be true to delete anything.")] = False,
    ) -> Annotated[CallToolResult, ClearResult]:
        """Delete memories of one type, or all of them, when confirm is true."""
        if not confirm:
            raise ToolError("confirm=true is required to delete memories; nothing was deleted.")
        deleted = self._store.clear(memory_type)
        scope = memory_type or "all"
        return _result(
            f"Deleted {_count(deleted)} ({scope}).", ClearResult(deleted=deleted, memory_type=memory_type)
        )

    def stats_json(self) -> str:
        """Return the memory stats as JSON."""
        return self._store.stats().model_dump_json()


_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
_ANNOTATIONS = {
    "store_memory": ToolAnnotations(
        read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
    ),
    "recall_memory": _READ_ONLY,
    "get_memory_stats": _READ_ONLY,
    "clear_memory": ToolAnnotations(
        read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
    ),
}


def create_server(data_dir: Path | None = None) -> MCPServer:
    """Build a local-memory server backed by `data_dir` or the configured data directory."""
    tools = MemoryTools(MemoryStore(data_dir if data_dir is not None else resolve_data_dir()))
    # WARNING keeps routine per-call logging off the stderr the parent CLI may show.
    server = MCPServer(SERVER_NAME, version=__version__, instructions=_INSTRUCTIONS, log_level="WARNING")
    for name, hints in _ANNOTATIONS.items():
        server.add_tool(getattr(tools, name), name=name, annotations=hints)
    server.resource(
        STATS_URI,
        name="memory-stats",
        title="Memory stats",
        description="Memory counts per type and in total.",
        mime_type="application/json",
    )(tools.stats_json)
    return server


def main() -> None:
    """Run the local-memory server over stdio."""
    create_server().run("stdio")


if __name__ == "__main__":
    main()
