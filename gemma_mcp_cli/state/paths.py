"""Where the client keeps its cache, state and logs (each overridable by environment)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Return the tool cache directory."""
    return _from_env("GEMMA_MCP_CACHE_DIR", "user_cache_dir")


def state_dir() -> Path:
    """Return the state directory (statistics, logs, sessions, tokens)."""
    return _from_env("GEMMA_MCP_STATE_DIR", "user_state_dir")


def log_dir() -> Path:
    """Return the directory that holds each server's stderr log."""
    return state_dir() / "logs"


def _from_env(variable: str, kind: str) -> Path:
    value = os.environ.get(variable)
    if value:
        return Path(value).expanduser()
    import platformdirs

    return Path(getattr(platformdirs, kind)("gemma-mcp"))
