"""Where the client keeps its cache, state and logs (each overridable by environment)."""

from __future__ import annotations

import os
from pathlib import Path

from gemma_mcp_cli.config.discovery import user_dir
from gemma_mcp_cli.names import file_stem


def cache_dir() -> Path:
    """Return the tool cache directory."""
    return _from_env("GEMMA_MCP_CACHE_DIR", "user_cache_dir")


def state_dir() -> Path:
    """Return the state directory (statistics, logs, sessions, tokens)."""
    return _from_env("GEMMA_MCP_STATE_DIR", "user_state_dir")


def log_dir() -> Path:
    """Return the directory that holds each server's stderr log."""
    return state_dir() / "logs"


def log_file(name: str, directory: Path | None = None) -> Path:
    """Return a server's stderr log: its name sanitised plus a digest, so no two servers share one
    (not even `Foo` and `foo` on a case-insensitive disk) and a URL or path never becomes a path."""
    return (directory or log_dir()) / f"{file_stem(name)}.log"


def _from_env(variable: str, kind: str) -> Path:
    value = os.environ.get(variable)
    if value:
        return Path(value).expanduser()
    return user_dir(kind)
