"""Write `batch` results: one JSON line each, as they complete or in input order."""

from __future__ import annotations

from typing import Any

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.errors import MCPError


class BatchFailure(MCPError):
    """Some requests of a batch failed: exits with the code of the first failure in input order."""

    def __init__(self, first: MCPError, line: int, failed: int, total: int) -> None:
        super().__init__(
            f"{failed} of {total} request(s) failed; the first, on line {line}: {first.message}",
            server=first.server,
            hint=first.hint,
        )
        self.exit_code = first.exit_code
        self.kind = first.kind


class ResultWriter:
    """Write each result line at once (or, when ordered, once every earlier line is written)."""

    def __init__(self, total: int, *, ordered: bool) -> None:
        self.total = total
        self.ordered = ordered
        self.failures: dict[int, tuple[int, MCPError]] = {}  # position -> (line, error)
        self._held: dict[int, dict[str, Any]] = {}
        self._next = 0

    @property
    def failed(self) -> bool:
        """Tell whether any request has failed so far."""
        return bool(self.failures)

    def write(self, position: int, document: dict[str, Any], error: MCPError | None) -> None:
        """Take the result of the request at `position` (0-based, in input order)."""
        if error is not None:
            document = document | {"error": error.as_dict()}
            self.failures[position] = (int(document.get("line", position + 1)), error)
        if not self.ordered:
            render.emit_json_line(document)
            return
        self._held[position] = document
        while self._next in self._held:
            render.emit_json_line(self._held.pop(self._next))
            self._next += 1

    def close(self) -> None:
        """Write what ordering still holds back (after a stop, some earlier requests never ran)."""
        for position in sorted(self._held):
            render.emit_json_line(self._held.pop(position))

    def raise_first(self) -> None:
        """Raise the first failure in input order, summarised, if there was one."""
        if self.failures:
            line, error = self.failures[min(self.failures)]
            raise BatchFailure(error, line, len(self.failures), self.total)
