"""A snapshot of the last validated configuration, for answering listings without pydantic.

Validating the configuration needs the pydantic models; a listing from the cache does not
need to validate again what has not changed. After a full load, the servers' summaries and
fingerprints are saved with what they were derived from (digests of the file and of the
settings file, the environment variables the file reads, the interpreter). The snapshot is
used only when all of those are still the same, so its answers are the full path's answers.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from gemma_mcp_cli._version import __version__
from gemma_mcp_cli.config.discovery import ConfigSource, settings_file
from gemma_mcp_cli.config.environment import env_fingerprint, env_names, sha256_hex
from gemma_mcp_cli.state.paths import cache_dir


def _stamp(path: Path | None) -> str | None:
    """Return the digest of a file's content: an edit may keep its mtime and size."""
    try:
        data = path.read_bytes() if path is not None else None
    except OSError:
        return None
    return sha256_hex(data) if data is not None else None


def inputs(source: ConfigSource) -> dict[str, Any]:
    """Return everything the validated configuration depends on."""
    try:
        text = source.path.read_text(encoding="utf-8", errors="replace") if source.path else ""
    except OSError:
        text = ""
    return {
        "version": __version__,
        "python": sys.executable,
        "config": str(source.path.resolve()) if source.path else None,
        "config_stamp": _stamp(source.path),
        "settings_stamp": _stamp(settings_file()),
        "env": env_fingerprint(env_names(text)),
    }


def path_for(source: ConfigSource) -> Path:
    """Return the snapshot file of one configuration."""
    key = str(source.path.resolve()) if source.path else f"<built-in>{sys.executable}"
    return cache_dir() / f"config-{sha256_hex(key.encode())[:16]}.json"


def read(source: ConfigSource) -> dict[str, Any] | None:
    """Return the snapshot of this configuration if nothing it depends on has changed."""
    try:
        document = json.loads(path_for(source).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("inputs") != inputs(source):
        return None
    return document


def save(source: ConfigSource, servers: list[dict[str, Any]]) -> None:
    """Save the summaries and fingerprints of a configuration that loaded without problems."""
    from gemma_mcp_cli.state.files import write_atomically  # tempfile and more: only to write

    document = {"inputs": inputs(source), "source": str(source), "servers": servers}
    path = path_for(source)
    try:
        if path.exists() and json.loads(path.read_text(encoding="utf-8")) == document:
            return
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomically(path, json.dumps(document).encode(), mode=0o600, durable=False)
    except (OSError, ValueError):
        pass  # a snapshot that cannot be written only costs the next listing its speed
