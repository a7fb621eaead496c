"""The tasks this client started, remembered so that a later invocation (or another shell) finds them.

One private file per task under `<state dir>/tasks/`, named by a digest of the configuration,
the server and the task id: an id comes from the server and is never part of a path. The
store is bounded: past `LIMIT` entries the oldest go, and entries older than `MAX_AGE` are
dropped when the store is read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Final

from gemma_mcp_cli.state.files import private_dir, read_private, write_atomically
from gemma_mcp_cli.state.paths import state_dir

LIMIT: Final = 500
MAX_AGE: Final = 30 * 24 * 3600.0  # seconds; servers keep tasks for their ttl, typically far less
_FIELDS: Final[tuple[str, ...]] = (
    "taskId",
    "status",
    "statusMessage",
    "createdAt",
    "lastUpdatedAt",
    "ttl",
    "pollInterval",
)


def tasks_dir() -> Path:
    """Return the folder of remembered tasks."""
    return state_dir() / "tasks"


def _path(config: Path | None, server: str, task_id: str) -> Path:
    origin = str(config.resolve()) if config else "<built-in>"
    digest = hashlib.sha256(f"{origin}\0{server}\0{task_id}".encode()).hexdigest()[:32]
    return tasks_dir() / f"{digest}.json"


def remember(config: Path | None, server: str, task: dict[str, Any], tool: str | None = None) -> None:
    """Record a task (or its newer state); the store stays within its bound."""
    path = _path(config, server, str(task["taskId"]))
    before: dict[str, Any] = _load(path) or {}
    entry = {key: task[key] for key in _FIELDS if key in task}
    document: dict[str, Any] = {
        "server": server,
        "config": str(config.resolve()) if config else None,
        "tool": tool if tool is not None else before.get("tool"),
        "rememberedAt": before.get("rememberedAt", time.time()),
        **entry,
    }
    private_dir(tasks_dir())
    write_atomically(path, json.dumps(document).encode(), mode=0o600)
    _trim()


def forget(config: Path | None, server: str, task_id: str) -> None:
    """Drop a task the server no longer knows."""
    _path(config, server, task_id).unlink(missing_ok=True)


def recall(config: Path | None, server: str, task_id: str) -> dict[str, Any] | None:
    """Return what is remembered of one task, if anything."""
    return _load(_path(config, server, task_id))


def remembered(config: Path | None, server: str | None = None) -> list[dict[str, Any]]:
    """Return the remembered tasks of this configuration (of one server), oldest first."""
    origin = str(config.resolve()) if config else None
    found = []
    for path in _files():
        entry = _load(path)
        if entry is None:
            continue
        if time.time() - float(entry.get("rememberedAt", 0)) > MAX_AGE:
            path.unlink(missing_ok=True)
            continue
        if entry.get("config") == origin and server in (None, entry.get("server")):
            found.append(entry)
    return sorted(found, key=lambda e: float(e.get("rememberedAt", 0)))


def _load(path: Path) -> dict[str, Any] | None:
    """Return one entry; a damaged, foreign or linked file is no entry (and is never followed)."""
    data = read_private(path)
    try:
        entry = json.loads(data) if data is not None else None
    except ValueError:
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("taskId"), str):
        return None
    if not isinstance(entry.get("server"), str):
        return None
    return entry


def _files() -> list[Path]:
    try:
        return [p for p in tasks_dir().iterdir() if p.suffix == ".json" and not p.name.startswith(".")]
    except OSError:
        return []


def _trim() -> None:
    """Remove the oldest entries beyond LIMIT."""
    files = _files()
    if len(files) <= LIMIT:
        return

    def age(path: Path) -> float:
        try:
            return float(os.lstat(path).st_mtime_ns)
        except OSError:
            return 0.0

    for path in sorted(files, key=age)[: len(files) - LIMIT]:
        with contextlib.suppress(OSError):
            path.unlink()
