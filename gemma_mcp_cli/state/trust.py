"""Which project-local configuration files the user has trusted, by their content digest.

A configuration found in the current directory came with whatever was cloned or unpacked
there: it names commands to run and URLs to send credentials to. Until the user trusts it
(`gemma-mcp trust PATH`), it can be read but nothing it names is started or reached. A trust
record holds the file's SHA-256, so any edit makes the file untrusted again. Standard
library only: the fast paths check trust too.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gemma_mcp_cli.config.discovery import PROJECT, ConfigSource
from gemma_mcp_cli.errors import MCPConfigError, MCPUntrustedConfigError, program
from gemma_mcp_cli.state.files import private_dir, read_private, write_atomically
from gemma_mcp_cli.state.paths import state_dir

FORMAT = "gemma-mcp-trust/1"


@dataclass(frozen=True)
class TrustRecord:
    """One trusted file: its path, the digest it was trusted with, and whether it still has it."""

    path: str
    sha256: str
    trusted_at: float
    state: str  # "trusted", "changed" or "missing"


def store_path() -> Path:
    """Return the file of trust records (mode 0600, in the private state dir)."""
    return state_dir() / "trusted.json"


def digest(path: Path) -> str | None:
    """Return the SHA-256 of a file's bytes, or None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _records() -> dict[str, dict[str, Any]]:
    data = read_private(store_path())
    try:
        document = json.loads(data) if data is not None else {}
    except ValueError:
        return {}
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return {}
    files = document.get("files")
    if not isinstance(files, dict):
        return {}
    return {path: entry for path, entry in files.items() if isinstance(entry, dict)}


def _save(files: dict[str, dict[str, Any]]) -> None:
    private_dir(state_dir())
    document = json.dumps({"format": FORMAT, "files": files}, indent=2).encode()
    write_atomically(store_path(), document, mode=0o600)


def is_trusted_as_is(path: Path) -> bool:
    """Tell whether a file has a trust record with its current digest."""
    entry = _records().get(str(path.resolve()))
    return entry is not None and entry.get("sha256") == digest(path)


def needs_trust(source: ConfigSource) -> bool:
    """Tell whether this configuration came from the current directory and is not trusted as it is now."""
    if source.origin != PROJECT or source.path is None:
        return False
    return not is_trusted_as_is(source.path)


def require_trusted(source: ConfigSource) -> None:
    """Raise MCPConfigError (exit 3) when nothing this configuration names may be started or reached."""
    if needs_trust(source):
        raise MCPUntrustedConfigError(
            f"{source.path} was found in the current directory and is not trusted: "
            "nothing it names is started or connected to",
            hint=f"{program()} trust {shlex.quote(str(source.path))}  (after reading what it runs), "
            "or name a file with --config",
        )


def notice(source: ConfigSource) -> str | None:
    """Return the one-line notice a reading command gives for an untrusted file, or None."""
    if not needs_trust(source):
        return None
    return (
        f"{source.path} is not trusted: it can be read, but nothing it names will be started "
        f"({program()} trust {shlex.quote(str(source.path))})"
    )


def trust(path: Path) -> TrustRecord:
    """Record a file's current digest as trusted; return the record."""
    resolved = path.expanduser().resolve()
    found = digest(resolved)
    if found is None or not resolved.is_file():
        raise MCPConfigError(f"cannot trust {path}: it is not a readable file")
    files = _records()
    files[str(resolved)] = {"sha256": found, "trusted_at": time.time()}
    _save(files)
    return TrustRecord(str(resolved), found, files[str(resolved)]["trusted_at"], "trusted")


def revoke(path: Path) -> bool:
    """Forget a file's trust record; return whether there was one."""
    files = _records()
    existed = files.pop(str(path.expanduser().resolve()), None) is not None
    if existed:
        _save(files)
    return existed


def records() -> list[TrustRecord]:
    """Return every trust record, with whether the file still has the digest it was trusted with."""
    found = []
    for path, entry in sorted(_records().items()):
        now = digest(Path(path))
        state = "missing" if now is None else "trusted" if now == entry.get("sha256") else "changed"
        found.append(TrustRecord(path, str(entry.get("sha256")), float(entry.get("trusted_at", 0)), state))
    return found
