"""What `batch` does: every request over one connection per server, each result a JSON line."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import anyio

from gemma_mcp_cli import arguments
from gemma_mcp_cli.cli.batch_input import CALL, READ, BadLine, BatchRequest
from gemma_mcp_cli.cli.batch_output import ResultWriter
from gemma_mcp_cli.cli.connect import cached_tools, open_manager
from gemma_mcp_cli.errors import (
    MCPAuthError,
    MCPConnectionError,
    MCPError,
    MCPTimeoutError,
    MCPToolNotFoundError,
    tool_failure,
)
from gemma_mcp_cli.names import close_names

if TYPE_CHECKING:
    from gemma_mcp_cli.cli.invocation import Invocation
    from gemma_mcp_cli.cli.routing import RoutedManager
    from gemma_mcp_cli.config.loader import LoadedConfig

# Failures that, before a server has answered anything in this batch, say it is not there at all.
_DOWN = (MCPConnectionError, MCPAuthError, MCPTimeoutError)


async def run_batch(
    invocation: Invocation,
    loaded: LoadedConfig,
    entries: list[BatchRequest | BadLine],
    *,
    concurrency: int,
    ordered: bool,
    fail_fast: bool,
    timeout: float | None,
) -> None:
    """Run every request, write one line per result, then raise the first failure's summary."""
    writer = ResultWriter(len(entries), ordered=ordered)
    by_server: dict[str, list[tuple[int, BatchRequest]]] = {}
    for position, entry in enumerate(entries):
        problem = entry.error if isinstance(entry, BadLine) else _unknown_server(loaded, entry)
        if problem is not None:
            writer.write(position, entry.head(), problem)
        else:
            assert isinstance(entry, BatchRequest)
            by_server.setdefault(entry.server, []).append((position, entry))
    if not (fail_fast and writer.failed):
        async with open_manager(invocation, loaded, start=list(by_server)) as manager:
            batch = _Batch(manager, writer, concurrency, ordered, fail_fast, timeout)
            await batch.run(loaded, by_server)
    writer.close()
    writer.raise_first()


def _unknown_server(loaded: LoadedConfig, entry: BatchRequest) -> MCPError | None:
    try:
        entry.server = loaded.server(entry.server).name
    except MCPError as error:
        return error
    return None


class _Batch:
    """The requests of one batch in flight, with what they share: the manager and the output."""

    def __init__(
        self,
        manager: RoutedManager,
        writer: ResultWriter,
        concurrency: int,
        ordered: bool,
        fail_fast: bool,
        timeout: float | None,
    ) -> None:
        self.manager, self.writer, self.timeout = manager, writer, timeout
        self.workers = 1 if ordered else concurrency
        self.fail_fast = fail_fast
        self.down: dict[str, MCPError] = {}  # servers found not to be there: the rest of theirs fail fast
        self.answered: set[str] = set()
        self.scope = anyio.CancelScope()

    async def run(self, loaded: LoadedConfig, by_server: dict[str, list[tuple[int, BatchRequest]]]) -> None:
        """Check every server's arguments first (nothing is sent before), then send them."""
        with self.scope:
            checked: dict[str, list[tuple[int, BatchRequest]]] = {}
            async with anyio.create_task_group() as tg:
                for name, requests in by_server.items():
                    tg.start_soon(self._check, loaded, name, requests, checked)
            if self.fail_fast and self.writer.failed:
                return
            async with anyio.create_task_group() as tg:
                for name in by_server:
                    queue = iter(checked.get(name, []))
                    for _ in range(self.workers):
                        tg.start_soon(self._work, queue)

    async def _check(
        self,
        loaded: LoadedConfig,
        name: str,
        requests: list[tuple[int, BatchRequest]],
        checked: dict[str, list[tuple[int, BatchRequest]]],
    ) -> None:
        """Check the server's tool calls against its schemas; keep those that pass."""
        tools: dict[str, dict[str, Any]] | MCPError | None = None
        checks: dict[str, Callable[[Mapping[str, Any]], None]] = {}
        passed = []
        for position, request in requests:
            try:
                if request.method == CALL:
                    tools = tools if tools is not None else await self._tools(loaded, name)
                    if isinstance(tools, MCPError):
                        raise tools  # listed once: every call to a server that cannot list fails alike
                    definition = tools.get(request.target)
                    if definition is None:
                        message = f"server '{name}' has no tool '{request.target}'"
                        raise MCPToolNotFoundError(message + close_names(request.target, tools), server=name)
                    if request.target not in checks:
                        schema = definition.get("inputSchema")
                        checks[request.target] = arguments.checker(schema, server=name, tool=request.target)
                    checks[request.target](request.arguments)
            except MCPError as error:
                self._record(position, request, None, error)
                continue
            passed.append((position, request))
        checked[name] = passed

    async def _tools(self, loaded: LoadedConfig, name: str) -> dict[str, dict[str, Any]] | MCPError:
        tools = cached_tools(loaded, name)
        if tools is None:
            try:
                tools = await self.manager.list_tools(name)
            except MCPError as error:
                if isinstance(error, _DOWN):
                    self.down.setdefault(name, error)  # its reads and prompts need not try again
                return error
            self.answered.add(name)
        else:
            self.manager.remember_tools(name, tools)
        return {str(tool.get("name")): tool for tool in tools}

    async def _work(self, queue: Iterator[tuple[int, BatchRequest]]) -> None:
        for position, request in queue:
            try:
                body, error = await self._send(request)
            except MCPError as failure:
                if isinstance(failure, _DOWN) and request.server not in self.answered:
                    self.down.setdefault(request.server, failure)
                body, error = None, failure
            self._record(position, request, body, error)

    async def _send(self, request: BatchRequest) -> tuple[dict[str, Any], MCPError | None]:
        name = request.server
        if name in self.down:
            raise self.down[name]
        if request.method == CALL:
            result = await self.manager.call_tool(
                name, request.target, request.arguments, timeout=self.timeout
            )
            self.answered.add(name)
            failed = tool_failure(name, request.target, result.get("content") or [])
            return {"result": result}, failed if result.get("isError") else None
        if request.method == READ:
            contents = await self.manager.read_resource(name, request.target)
            self.answered.add(name)
            return {"contents": contents}, None
        prompt = await self.manager.get_prompt(name, request.target, request.arguments)
        self.answered.add(name)
        return {"result": prompt}, None

    def _record(
        self, position: int, request: BatchRequest, body: dict[str, Any] | None, error: MCPError | None
    ) -> None:
        self.writer.write(position, request.head() | (body or {}), error)
        if error is not None and self.fail_fast:
            self.scope.cancel()
