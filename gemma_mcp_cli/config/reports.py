"""What checking a configuration found: problems, per-server reports, the whole report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gemma_mcp_cli.config.discovery import ConfigSource
from gemma_mcp_cli.config.models import MCPServerConfig

_FIELDS = tuple(name for name in MCPServerConfig.model_fields if name != "name")


@dataclass
class Problem:
    """One thing wrong (or suspicious) in the configuration."""

    message: str
    field: str | None = None
    line: int | None = None
    column: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as the `validate --json` shape."""
        return {"field": self.field, "message": self.message, "line": self.line}


@dataclass
class ServerReport:
    """What validation found for one server."""

    name: str
    enabled: bool
    config: MCPServerConfig | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """Whether the server has no errors."""
        return not self.errors


@dataclass
class ConfigReport:
    """What validation found for a whole configuration."""

    source: ConfigSource
    servers: list[ServerReport] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)

    def problems(self, *, strict: bool = False) -> list[tuple[str | None, Problem]]:
        """Return every error (and, when strict, every warning) with its server name."""
        found: list[tuple[str | None, Problem]] = [(None, p) for p in self.errors]
        for server in self.servers:
            found += [(server.name, p) for p in server.errors]
            if strict:
                found += [(server.name, p) for p in server.warnings]
        return found

    def is_valid(self, *, strict: bool = False) -> bool:
        """Whether nothing is wrong (and, when strict, nothing suspicious)."""
        return not self.problems(strict=strict)

    def describe(self, server: str | None, problem: Problem) -> str:
        """Return one line naming the file, the server, the key and the line."""
        where = (
            "servers" if server is None else f"servers.{server if server.isprintable() else ascii(server)}"
        )
        if problem.field:
            where += f".{problem.field}"
        if problem.line is not None:
            where += f" (line {problem.line}" + (f", column {problem.column})" if problem.column else ")")
        return (
            f"{self.source}: {where}: {problem.message}"
            if server or problem.field
            else (f"{self.source}: {problem.message}" + (f" (line {problem.line})" if problem.line else ""))
        )


def suggest(key: str) -> str:
    """Return ' (did you mean X?)' for a misspelt server key, or ''."""
    import difflib  # only for a name that is not there

    close = difflib.get_close_matches(key, _FIELDS, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
