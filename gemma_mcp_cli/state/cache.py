"""The disk cache of what servers offer (tools, resources, templates, prompts), with a TTL."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gemma_mcp_cli.names import file_stem
from gemma_mcp_cli.state.files import write_atomically
from gemma_mcp_cli.state.paths import cache_dir

if TYPE_CHECKING:
    from gemma_mcp_cli.config.models import MCPServerConfig

FORMAT = "gemma-mcp-cache/1"
KINDS = ("tools", "resources", "resourceTemplates", "prompts")
DEFAULT_TTL = 3600.0


@dataclass(frozen=True)
class CachedTool:
    """One tool as the cache holds it."""

    server: str
    tool: dict[str, Any]
    fetched_at: float
    expires_at: float

    @property
    def name(self) -> str:
        """Return the tool's name."""
        return str(self.tool["name"])


def fingerprint(config: MCPServerConfig) -> str:
    """Return a digest of everything in a server's effective configuration."""
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class MCPToolRegistry:
    """Per-server JSON files of listings; a stale, corrupt or foreign file is a miss."""

    def __init__(
        self,
        directory: Path | None = None,
        default_ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory or cache_dir()
        self.default_ttl = default_ttl
        self._clock = clock

    def ttl(self, config: MCPServerConfig) -> float:
        """Return how long a listing of this server stays fresh (0 disables caching)."""
        return float(config.tool_cache_ttl) if config.tool_cache_ttl is not None else self.default_ttl

    def path(self, name: str) -> Path:
        """Return the file that holds a server's listings."""
        return self.directory / f"{file_stem(name)}.json"

    def _read(self, config: MCPServerConfig) -> dict[str, Any]:
        return self._entries(config.name, fingerprint(config))

    def _entries(self, name: str, print_: str) -> dict[str, Any]:
        try:
            document = json.loads(self.path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        valid = (
            isinstance(document, dict)
            and document.get("format") == FORMAT
            and document.get("server") == name
            and document.get("fingerprint") == print_
            and isinstance(document.get("entries"), dict)
        )
        return document["entries"] if valid else {}

    def entry(self, config: MCPServerConfig, kind: str, *, stale_ok: bool = False) -> dict[str, Any] | None:
        """Return a cached entry (`items`, `fetched_at`, `expires_at`) while fresh, or None."""
        return self.entry_for(config.name, fingerprint(config), kind, stale_ok=stale_ok)

    def entry_for(
        self, name: str, print_: str, kind: str, *, stale_ok: bool = False
    ) -> dict[str, Any] | None:
        """Return a cached entry by server name and configuration fingerprint (no model needed)."""
        found = self._entries(name, print_).get(kind)
        if not isinstance(found, dict) or not isinstance(found.get("items"), list):
            return None
        if not isinstance(found.get("expires_at"), int | float) or not isinstance(
            found.get("fetched_at"), int | float
        ):
            return None
        if not stale_ok and found["expires_at"] <= self._clock():
            return None
        return found

    def get(
        self, config: MCPServerConfig, kind: str, *, stale_ok: bool = False
    ) -> list[dict[str, Any]] | None:
        """Return the cached items of one kind while fresh, or None."""
        found = self.entry(config, kind, stale_ok=stale_ok)
        return list(found["items"]) if found else None

    def tool(self, config: MCPServerConfig, name: str) -> CachedTool | None:
        """Return one cached tool while the listing is fresh."""
        found = self.entry(config, "tools")
        for tool in found["items"] if found else []:
            if isinstance(tool, dict) and tool.get("name") == name:
                return CachedTool(config.name, tool, found["fetched_at"], found["expires_at"])  # type: ignore[index]
        return None

    def put(
        self,
        config: MCPServerConfig,
        kind: str,
        items: list[dict[str, Any]],
        hint: float | None = None,
        *,
        offered: bool = True,
    ) -> None:
        """Store a fresh listing; `hint` is the server's own shorter lifetime in seconds.

        `offered=False` records that the server does not advertise this kind at all.
        """
        ttl = self.ttl(config)
        if hint is not None:
            ttl = min(ttl, hint)
        if ttl <= 0:
            return
        entries = self._read(config)
        now = self._clock()
        entries[kind] = {"items": items, "fetched_at": now, "expires_at": now + ttl}
        if not offered:
            entries[kind]["offered"] = False
        self._write(config, entries)

    def drop(self, config: MCPServerConfig, kind: str | None = None) -> None:
        """Forget one kind of listing of a server, or all of them."""
        entries = self._read(config)
        if kind is None or set(entries) <= {kind}:
            self.path(config.name).unlink(missing_ok=True)
        elif entries.pop(kind, None) is not None:
            self._write(config, entries)

    def _write(self, config: MCPServerConfig, entries: dict[str, Any]) -> None:
        document = {
            "format": FORMAT,
            "server": config.name,
            "fingerprint": fingerprint(config),
            "entries": entries,
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomically(self.path(config.name), json.dumps(document).encode(), mode=0o600)
        except OSError:
            pass  # a cache that cannot be written is only a slower next run

    def describe(self, config: MCPServerConfig) -> list[dict[str, Any]]:
        """Return one row per cached kind of a server: entries, age and expiry."""
        now = self._clock()
        rows = []
        for kind in KINDS:
            found = self.entry(config, kind, stale_ok=True)
            if found:
                rows.append(
                    {
                        "server": config.name,
                        "kind": kind,
                        "entries": len(found["items"]),
                        "age_s": round(now - found["fetched_at"], 1),
                        "expires_in_s": round(found["expires_at"] - now, 1),
                        "fresh": found["expires_at"] > now,
                    }
                )
        return rows


__all__ = ["KINDS", "CachedTool", "MCPToolRegistry", "fingerprint"]
