"""The disk cache of what servers offer (tools, resources, templates, prompts), with a TTL."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
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

    @property
    def cached_at(self) -> float:
        """Return when the tool was fetched (the original design's name)."""
        return self.fetched_at

    @property
    def ttl(self) -> float:
        """Return how long the entry stays fresh after it was fetched, in seconds."""
        return self.expires_at - self.fetched_at

    def is_expired(self, now: float | None = None) -> bool:
        """Tell whether the entry is stale."""
        return (time.time() if now is None else now) >= self.expires_at


def fingerprint(config: MCPServerConfig) -> str:
    """Return a digest of everything in a server's effective configuration."""
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class MCPToolRegistry:
    """The TTL tool cache: per-server JSON files of listings, and tool lists kept in memory.

    On disk (for the command line): a stale, corrupt or foreign file is a miss. In memory (the
    original design's `get_tools`, for a manager that lives for a whole chat): a server's
    tools until `default_ttl` passes, `invalidate` is called or the server says they changed.
    """

    def __init__(
        self,
        directory: Path | None = None,
        default_ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory or cache_dir()
        self.default_ttl = default_ttl
        self._clock = clock
        self._memory: dict[str, list[CachedTool]] = {}

    async def get_tools(
        self, server_name: str, fetch_fn: Callable[[], Awaitable[Any]], force_refresh: bool = False
    ) -> list[Any]:
        """Return a server's tools from memory while fresh, else from `fetch_fn` (then kept)."""
        kept = self._memory.get(server_name)
        now = self._clock()
        if kept and not force_refresh and not any(entry.is_expired(now) for entry in kept):
            return [entry.tool for entry in kept]
        fetched = await fetch_fn()
        tools = list(getattr(fetched, "tools", fetched))  # a result with `.tools`, or the list itself
        expires = now + self.default_ttl
        self._memory[server_name] = [CachedTool(server_name, tool, now, expires) for tool in tools]
        return tools

    def forget(self, server_name: str | None = None) -> None:
        """Drop the tools kept in memory for one server, or for all."""
        if server_name is None:
            self._memory.clear()
        else:
            self._memory.pop(server_name, None)

    async def invalidate(self, server_name: str | None = None) -> None:
        """Forget one server's cached listings (in memory and on disk), or every server's."""
        self.forget(server_name)
        if server_name is not None:
            self.path(server_name).unlink(missing_ok=True)
            return
        for path in self.directory.glob("*.json") if self.directory.is_dir() else []:
            if self._is_ours(path):
                path.unlink(missing_ok=True)

    def _is_ours(self, path: Path) -> bool:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(document, dict) and document.get("format") == FORMAT

    def get_cache_stats(self) -> dict[str, Any]:
        """Return how many servers and tools are kept in memory, and how many are stale."""
        now = self._clock()
        entries = [entry for kept in self._memory.values() for entry in kept]
        expired = sum(entry.is_expired(now) for entry in entries)
        return {
            "servers_cached": len(self._memory),
            "total_tools": len(entries),
            "expired_tools": expired,
            "valid_tools": len(entries) - expired,
        }

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
            write_atomically(self.path(config.name), json.dumps(document).encode(), mode=0o600, durable=False)
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
