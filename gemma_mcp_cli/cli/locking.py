"""Take each server's schema for the lock file, and check servers against it (`lock`, `validate --lock`)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gemma_mcp_cli.cli.connect import across, error_entries
from gemma_mcp_cli.errors import MCPConfigError, MCPError, MCPServerError, program
from gemma_mcp_cli.state import lockfile
from gemma_mcp_cli.state.lock_changes import Change, compare

METHOD_NOT_FOUND = -32601  # JSON-RPC's code (the SDK is not imported here)

if TYPE_CHECKING:
    from gemma_mcp_cli.cli.invocation import Invocation
    from gemma_mcp_cli.cli.routing import RoutedManager
    from gemma_mcp_cli.config.loader import LoadedConfig


def lock_path(loaded: LoadedConfig, given: str | None) -> Path:
    """Return the lock file: the one given, else `mcp.lock.json` beside the configuration."""
    return Path(given).expanduser() if given else lockfile.default_path(loaded.source.path)


async def _entry(manager: RoutedManager, name: str) -> list[dict[str, Any]]:
    """Return a server's lock entry (as a one-item list, the shape `across` fans out)."""
    described = await manager.describe(name)
    offers = described.get("capabilities") or {}
    tools = await _offered(manager.list_tools(name)) if "tools" in offers else []
    templates = await _offered(manager.list_resource_templates(name)) if "resources" in offers else []
    prompts = await _offered(manager.list_prompts(name)) if "prompts" in offers else []
    return [lockfile.server_entry(described, tools, templates, prompts)]


async def _offered(listing: Awaitable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Return a listing; one the server does not implement (older servers lack templates) is empty."""
    try:
        return await listing
    except MCPServerError as error:
        if error.code == METHOD_NOT_FOUND:
            return []
        raise


async def take(
    invocation: Invocation, loaded: LoadedConfig, names: list[str]
) -> tuple[dict[str, dict[str, Any]], list[MCPError]]:
    """Connect to every server (concurrently, never through a session) and return its lock entry."""
    found = await across(invocation, loaded, names, _entry, sessions=False)
    entries = {name: result[0] for name, result in found.items() if not isinstance(result, MCPError)}
    return entries, [result for result in found.values() if isinstance(result, MCPError)]


@dataclass
class LockCheck:
    """What `lock --check` found: every change, and the servers that could not be checked."""

    path: Path
    changes: list[Change] = field(default_factory=list)
    errors: list[MCPError] = field(default_factory=list)

    @property
    def breaking(self) -> list[Change]:
        """Return the changes that may break callers."""
        return [change for change in self.changes if change.breaking]

    def as_dict(self) -> dict[str, Any]:
        """Return the `lock --check --json` document."""
        return {
            "lock": str(self.path),
            "ok": not self.breaking and not self.errors,
            "changes": [change.as_dict() for change in self.changes],
            "errors": error_entries(self.errors),
        }

    def failure(self) -> MCPError | None:
        """Return what to exit with: a server that could not be checked, else the breaking changes."""
        if self.errors:
            return self.errors[0]
        if self.breaking:
            count = len(self.breaking)
            return MCPConfigError(
                f"{count} breaking change(s) against {self.path}",
                hint=f"if the change is intended, run '{program()} lock' to accept it",
            )
        return None


async def check(
    invocation: Invocation, loaded: LoadedConfig, names: list[str] | None, path: Path
) -> LockCheck:
    """Compare the servers (the named ones, else every locked one) with the lock file."""
    locked = lockfile.read(path)
    result = LockCheck(path)
    wanted = list(dict.fromkeys(names or locked))
    present = [
        n for n in wanted if n in loaded.problems or (n in loaded.servers and loaded.servers[n].enabled)
    ]
    for name in wanted:
        if name not in present:
            result.changes.append(
                Change(name, "server_removed", "server", f"server {name!r} is no longer configured")
            )
    for name in present:
        if name not in locked:
            result.changes.append(
                Change(name, "server_added", "server", f"server {name!r} is not in the lock yet")
            )
    if not names:
        for name in loaded.enabled_names():
            if name not in locked:
                result.changes.append(
                    Change(name, "server_added", "server", f"server {name!r} is not in the lock yet")
                )
    current, result.errors = await take(invocation, loaded, [n for n in present if n in locked])
    for name, entry in current.items():
        result.changes += compare(name, locked[name], entry)
    result.changes.sort(key=lambda c: (not c.breaking, c.server, c.subject, c.kind))
    return result
