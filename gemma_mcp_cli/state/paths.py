"""Where the client keeps its cache, state and logs (each overridable by environment)."""

from __future__ import annotations

import hashlib
import os
import re
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


def log_file(name: str, directory: Path | None = None) -> Path:
    """Return a server's stderr log: NAME.log, or for a name unfit for a file name, a safe one."""
    if re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,100}", name):
        stem = name
    else:  # a URL, a path, a control character: never a path of its own
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:64].lstrip(".") + f"-{digest}"
    return (directory or log_dir()) / f"{stem}.log"


def _from_env(variable: str, kind: str) -> Path:
    value = os.environ.get(variable)
    if value:
        return Path(value).expanduser()
    import platformdirs

    return Path(getattr(platformdirs, kind)("gemma-mcp"))
