"""MCPClientManager: every conversation with MCP servers goes through here."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import anyio
import httpx2
from mcp import Client
from mcp.shared.dispatcher import ProgressFnT
from mcp_types import INVALID_PARAMS, PromptReference, ResourceTemplateReference

from gemma_mcp_cli.answers import Asker
from gemma_mcp_cli.client import tasks
from gemma_mcp_cli.client.connection import LogHook, ServerConnection, ServerStats
from gemma_mcp_cli.client.pool import ConnectionPool
from gemma_mcp_cli.client.results import WireObject, check_blobs, wire
from gemma_mcp_cli.client.retry import backoff, safe_to_repeat
from gemma_mcp_cli.client.tool_headers import absorb_known_tool
from gemma_mcp_cli.client.watching import list_changes, resource_updates
from gemma_mcp_cli.config.models import MCPServerConfig
from gemma_mcp_cli.enums import MCPServerStatus
from gemma_mcp_cli.errors import (
    MCPConnectionError,
    MCPError,
    MCPNotOfferedError,
    MCPPromptError,
    MCPResourceError,
    MCPServerError,
    MCPTaskCancelledError,
    MCPTaskFailedError,
    MCPToolNotFoundError,
    tool_failure,
)
from gemma_mcp_cli.names import close_names
from gemma_mcp_cli.state.cache import MCPToolRegistry
from gemma_mcp_cli.state.paths import log_dir as default_log_dir
from gemma_mcp_cli.state.stats import Request, StatsStore

T = TypeVar("T")
ProgressHook = Callable[[str, float, float | None, str | None], Awaitable[None]]
_KIND_OF = {
    "tools": "tools",
    "resources": "resources",
    "resource_templates": "resourceTemplates",
    "prompts": "prompts",
}
_PAGE_LIMIT = 1000  # a server whose cursors never end cannot hang a listing
_GRACE = 2.0  # beyond the SDK's own request timeout, before the manager gives up itself


class MCPClientManager:
    """Connect to MCP servers and talk to them.

    Use it as `async with MCPClientManager(...) as manager:`, or as a plain object whose first
    connection opens what it needs and whose `await manager.shutdown()` closes everything.
    """

    def __init__(
        self,
        servers: Mapping[str, MCPServerConfig] | Iterable[MCPServerConfig] | float = (),
        *,
        tool_cache_ttl: float | None = None,
        log_dir: Path | None = None,
        verbose: bool = False,
        on_log: LogHook | None = None,
        log_level: str | None = None,
        cache: MCPToolRegistry | None = None,
        stats: StatsStore | None = None,
        retries: int | None = None,
        health_checks: bool = True,
        http_auth: Mapping[str, httpx2.Auth] | None = None,
        asker: Asker | None = None,
        protocol: str = "auto",
    ) -> None:
        if isinstance(servers, int | float):  # the original design's only argument: tool_cache_ttl
            tool_cache_ttl, servers = float(servers), ()
        items = servers.values() if isinstance(servers, Mapping) else servers
        self._configs: dict[str, MCPServerConfig] = {s.name: s for s in items}
        self._pool = ConnectionPool(
            self._configs,
            log_dir=log_dir or default_log_dir(),
            verbose=verbose,
            on_log=on_log,
            log_level=log_level,
            on_list_changed=self._list_changed,
            retries=retries,
            health_probe=self.health_check if health_checks else None,
            http_auth=http_auth,
            asker=asker,
            protocol=protocol,
        )
        self._asker = asker
        self._tools: dict[str, dict[str, dict[str, Any]]] = {}
        self._server_stats: dict[str, ServerStats] = {}
        self._cache = cache
        # With a TTL, tool lists are kept in memory for the manager's life (a chat), as the
        # original did; without one (the command line) every listing asks the server.
        self._registry = MCPToolRegistry(default_ttl=tool_cache_ttl) if tool_cache_ttl else None
        self._stats = stats
        self._journal: list[Request] = []
        self._task_tokens: dict[str, str] = {}  # the progress token of each task started here

    async def __aenter__(self) -> MCPClientManager:
        await self._pool.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self._pool.__aexit__(exc_type, exc, tb)
        finally:
            self.flush_stats()

    def connection(self, name: str) -> ServerConnection | None:
        """Return a server's current connection, if it has one."""
        return self._pool.connections.get(name)

    def status(self, name: str) -> MCPServerStatus:
        """Return where a server's connection stands."""
        conn = self._pool.connections.get(name)
        return conn.status if conn else MCPServerStatus.DISCONNECTED

    async def connect_server(self, name: str, config: MCPServerConfig | None = None) -> ServerConnection:
        """Start (or reach) a server and complete the handshake, retrying under the policy."""
        if config is not None:
            self._configs[name] = config if config.name == name else config.model_copy(update={"name": name})
        return await self._pool.live(name)

    async def connect_many(self, names: Iterable[str]) -> dict[str, ServerConnection | MCPError]:
        """Connect several servers concurrently; each gets its connection or its error."""
        results: dict[str, ServerConnection | MCPError] = {}

        async def one(name: str) -> None:
            try:
                results[name] = await self.connect_server(name)
            except MCPError as error:
                results[name] = error

        ordered = list(dict.fromkeys(names))
        async with anyio.create_task_group() as tg:
            for name in ordered:
                tg.start_soon(one, name)
        return {name: results[name] for name in ordered}

    async def disconnect_server(self, name: str) -> bool:
        """Close one server's connection (its process is gone when this returns); tell if it had one."""
        self._tools.pop(name, None)
        if self._registry is not None:
            self._registry.forget(name)
        had = name in self._pool.connections
        await self._pool.disconnect(name)
        return had

    async def shutdown(self) -> None:
        """Close every connection, then record the statistics."""
        await self._pool.close()
        self.flush_stats()

    async def _request(
        self,
        name: str,
        action: str,
        send: Callable[[Client], Awaitable[T]],
        *,
        timeout: float | None = None,
        tool: str | None = None,
        judge: Callable[[T], MCPError | None] | None = None,
        repeatable: bool = True,
        retries: int | None = None,
        delay: float | None = None,
    ) -> T:
        """Send one request; retry it only if a second delivery cannot do harm."""
        attempt = 0
        while True:
            attempt += 1
            conn = await self._pool.live(name)
            limit = timeout or conn.config.request_timeout
            began = time.perf_counter()
            try:
                result = await self._bounded(conn, limit + _GRACE, send)
            except Exception as exc:
                error = conn.questions.take_failure() or conn.failure(exc, action, limit)
                self._note(conn, action, tool, began, error)
                if not isinstance(error, MCPConnectionError):
                    raise error from None
                conn.mark_broken()
                if not error.transient:  # it would fail the same way again
                    raise error from None
                if not repeatable:
                    error.message += f"; not retried: {tool or action} is not marked read-only or idempotent"
                    raise error from None
                if attempt > (self._pool.retries(name) if retries is None else retries):
                    raise error from None
                await anyio.sleep(backoff(conn.config.reconnect_delay if delay is None else delay, attempt))
                continue
            unanswered = conn.questions.take_failure()
            self._note(conn, action, tool, began, unanswered or (judge(result) if judge else None))
            if unanswered is not None:
                raise unanswered  # what the server made of the refusal matters less than why
            return result

    async def _bounded(
        self, conn: ServerConnection, seconds: float, send: Callable[[Client], Awaitable[T]]
    ) -> T:
        """Send under a deadline that the time a person spends answering the server moves on."""
        with anyio.CancelScope(deadline=anyio.current_time() + seconds) as scope:
            conn.questions.deadlines.add(scope)
            try:
                return await send(conn.require_client())
            finally:
                conn.questions.deadlines.discard(scope)
        raise TimeoutError

    def _read_timeout(self, limit: float) -> float | None:
        """Return the SDK's own timeout of a request: none while a person may be asked mid-call."""
        return None if self._asker is not None and self._asker.interactive else limit

    def _note(
        self, conn: ServerConnection, action: str, tool: str | None, began: float, error: MCPError | None
    ) -> None:
        """Count a finished request in memory, and keep it for the statistics store."""
        latency = time.perf_counter() - began
        self._server_stats.setdefault(conn.name, ServerStats()).record(
            latency, error.message if error else None, tool
        )
        if self._stats is not None:
            method = action.split(" ", 1)[0]
            kind, message = (error.kind, error.message) if error else (None, None)
            self._journal.append(
                Request(conn.name, method, tool, error is None, kind, message, latency, time.time())
            )

    def flush_stats(self) -> None:
        """Write the requests recorded so far to the statistics store."""
        if self._stats is not None and self._journal:
            journal, self._journal = self._journal, []
            self._stats.record(journal)

    async def _require(self, name: str, capability: str, key: str) -> None:
        """Raise (and remember in the cache) when a server does not offer what a listing needs."""
        if (await self._pool.live(name)).offers(capability):
            return
        if self._cache is not None:
            self._cache.put(self._configs[name], _KIND_OF[key], [], offered=False)
        raise MCPNotOfferedError(f"server '{name}' does not offer {capability}", server=name)

    async def _paginate(
        self, name: str, action: str, key: str, fetch: Callable[..., Awaitable[Any]]
    ) -> list[Any]:
        items: list[dict[str, Any]] = []
        hints: list[float] = []
        cursor: str | None = None
        for _ in range(_PAGE_LIMIT):
            page = await self._request(name, action, functools.partial(_with_cursor, fetch, cursor))
            items += [wire(item) for item in getattr(page, key)]
            # ttlMs 0 is the SDK's default, sent by servers that never chose it: not a hint.
            if getattr(page, "ttl_ms", 0):
                hints.append(page.ttl_ms / 1000)
            cursor = page.next_cursor
            if not cursor:
                if self._cache is not None:
                    self._cache.put(self._configs[name], _KIND_OF[key], items, min(hints, default=None))
                return items
        raise MCPServerError(
            f"server '{name}' kept paginating {action} past {_PAGE_LIMIT} pages", server=name
        )

    async def list_tools(self, server: str, force_refresh: bool = False) -> list[WireObject]:
        """Return every tool of a server (`tool.name` or `tool["name"]`), following pagination to the end.

        With a `tool_cache_ttl`, a list fetched before is returned while fresh, unless `force_refresh`.
        """
        if self._registry is None:
            return await self._fetch_tools(server)
        return await self._registry.get_tools(server, lambda: self._fetch_tools(server), force_refresh)

    async def _fetch_tools(self, name: str) -> list[WireObject]:
        await self._require(name, "tools", "tools")
        tools = await self._paginate(
            name, "tools/list", "tools", lambda c, cur: c.list_tools(cursor=cur, cache_mode="bypass")
        )
        self.remember_tools(name, tools)
        return tools

    def remember_tools(self, name: str, tools: Iterable[dict[str, Any]]) -> None:
        """Take a server's tool list as known (from a listing or a fresh cache)."""
        self._tools[name] = {tool["name"]: tool for tool in tools}

    def _list_changed(self, name: str, kind: str) -> None:
        """Forget a listing the server says has changed."""
        if kind == "tools":
            self._tools.pop(name, None)
            if self._registry is not None:
                self._registry.forget(name)
        if self._cache is not None and name in self._configs:
            self._cache.drop(self._configs[name], kind)

    async def get_tool(self, name: str, tool: str) -> dict[str, Any]:
        """Return one tool's definition, or raise naming the tools there are."""
        known = self._tools.get(name)
        if known is None:
            await self.list_tools(name)
            known = self._tools[name]
        if tool not in known:
            raise MCPToolNotFoundError(
                f"server '{name}' has no tool '{tool}'{close_names(tool, known)}", server=name
            )
        return known[tool]

    async def call_tool(
        self,
        server: str,
        tool: str,
        args: Mapping[str, Any] | None = None,
        max_retries: int | None = None,
        retry_delay: float | None = None,
        *,
        timeout: float | None = None,
        on_progress: ProgressHook | None = None,
    ) -> WireObject:
        """Call a tool and return its result (`isError` results are returned, not raised).

        A call whose connection broke is sent again up to `max_retries` times (default: the
        server's policy), `retry_delay` seconds apart and doubling, but only when the tool is
        marked read-only or idempotent: anything else might then run twice.
        """
        name, arguments = server, args
        definition = await self.get_tool(name, tool)
        limit = timeout or self._configs[name].request_timeout

        async def progress(progress: float, total: float | None, message: str | None) -> None:
            if on_progress is not None:
                await on_progress(name, progress, total, message)

        try:
            result = await self._request(
                name,
                f"tools/call {tool}",
                lambda c: _call_known(c, definition, arguments, self._read_timeout(limit), progress),
                timeout=limit,
                tool=tool,
                judge=_tool_failure(name, tool),
                repeatable=safe_to_repeat(definition),
                retries=max_retries,
                delay=retry_delay,
            )
        except MCPServerError as error:
            if error.code == INVALID_PARAMS:
                self._list_changed(name, "tools")  # the schema we checked against may be stale
            raise
        return wire(result)

    async def start_task(
        self, server: str, tool: str, args: Mapping[str, Any] | None = None, *, ttl_ms: int | None = None
    ) -> dict[str, Any]:
        """Call a tool as a task (2025-11-25 connections); return the task the server created.

        Raises MCPServerError (exit 5) when the protocol, the server or the tool has no tasks.
        """
        definition = await self.get_tool(server, tool)
        tasks.require_task_call(await self._pool.live(server), definition)
        token = tasks.new_progress_token()
        limit = self._configs[server].request_timeout
        task = await self._request(
            server,
            f"tools/call {tool}",
            lambda c: tasks.start(c, tool, dict(args or {}), ttl_ms=ttl_ms, token=token, timeout=limit),
            tool=tool,
            repeatable=False,  # a second delivery would start a second task
        )
        self._task_tokens[task["taskId"]] = token
        return task

    async def task_result(
        self,
        server: str,
        task_id: str,
        *,
        timeout: float | None = None,
        on_progress: ProgressHook | None = None,
    ) -> WireObject:
        """Wait for a task's result (`timeout`: at most so many seconds; None: as long as it runs).

        A task that ended cancelled raises MCPTaskCancelledError; one that failed without a tool
        result, MCPTaskFailedError. A tool result with `isError` is returned, as `call_tool` does.
        `on_progress` hears the progress of a task this manager started.
        """
        conn = await self._tasks_ready(server)
        token = self._task_tokens.get(task_id)
        if token is not None and on_progress is not None:
            conn.progress_listeners[token] = functools.partial(on_progress, server)
        limit = timeout or tasks.FOREVER
        try:
            return await self._request(
                server, f"tasks/result {task_id}", lambda c: tasks.result(c, task_id, limit), timeout=limit
            )
        except MCPServerError as error:
            raise await self._task_outcome(server, task_id, error) from None
        finally:
            if token is not None:
                conn.progress_listeners.pop(token, None)

    async def _task_outcome(self, server: str, task_id: str, error: MCPServerError) -> MCPError:
        """Return why a task has no result: how it ended, if the server still knows it."""
        try:
            task = await self.get_task(server, task_id)
        except MCPError:
            return error
        status, why = task.get("status"), task.get("statusMessage")
        said = f": {why}" if why else ""
        if status == "cancelled":
            return MCPTaskCancelledError(f"task {task_id} on '{server}' was cancelled{said}", server=server)
        if status == "failed":
            return MCPTaskFailedError(f"task {task_id} on '{server}' failed{said}", server=server)
        return error

    async def get_task(self, server: str, task_id: str) -> dict[str, Any]:
        """Return a task's current state (`tasks/get`)."""
        await self._tasks_ready(server)
        limit = self._configs[server].request_timeout
        return await self._request(server, f"tasks/get {task_id}", lambda c: tasks.get(c, task_id, limit))

    async def cancel_task(self, server: str, task_id: str) -> dict[str, Any]:
        """Cancel a task; return its state after (`tasks/cancel`)."""
        await self._tasks_ready(server)
        limit = self._configs[server].request_timeout
        return await self._request(
            server, f"tasks/cancel {task_id}", lambda c: tasks.cancel(c, task_id, limit), repeatable=False
        )

    async def list_tasks(self, server: str, known: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Return a server's tasks: its `tasks/list`, or else the state of each `known` task it still has."""
        conn = await self._tasks_ready(server)
        if not tasks.offers_listing(conn):
            found = []
            for task_id in known:
                with contextlib.suppress(MCPServerError):  # gone: expired, or the server restarted
                    found.append(await self.get_task(server, task_id))
            return found
        limit = self._configs[server].request_timeout
        listed: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(tasks.PAGE_LIMIT):
            items, cursor = await self._request(
                server, "tasks/list", functools.partial(_task_page, cursor, limit)
            )
            listed += items[: tasks.LIST_LIMIT - len(listed)]
            if not cursor or len(listed) >= tasks.LIST_LIMIT:
                return listed
        return listed

    async def _tasks_ready(self, server: str) -> ServerConnection:
        conn = await self._pool.live(server)
        tasks.require_tasks(conn)
        return conn

    async def list_resources(self, name: str) -> list[dict[str, Any]]:
        """Return every resource of a server."""
        await self._require(name, "resources", "resources")
        return await self._paginate(
            name,
            "resources/list",
            "resources",
            lambda c, cur: c.list_resources(cursor=cur, cache_mode="bypass"),
        )

    async def list_resource_templates(self, name: str) -> list[dict[str, Any]]:
        """Return every resource template of a server."""
        await self._require(name, "resources", "resource_templates")
        return await self._paginate(
            name,
            "resources/templates/list",
            "resource_templates",
            lambda c, cur: c.list_resource_templates(cursor=cur, cache_mode="bypass"),
        )

    async def read_resource(self, name: str, uri: str) -> list[dict[str, Any]]:
        """Return the contents of one resource."""
        try:
            result = await self._request(
                name, f"resources/read {uri}", lambda c: c.read_resource(uri, cache_mode="bypass")
            )
        except MCPServerError as error:
            raise await self._with_names(
                error, name, uri, self.list_resources, "uri", MCPResourceError
            ) from None
        return check_blobs(name, uri, [wire(item) for item in result.contents])

    async def _with_names(
        self,
        error: MCPServerError,
        name: str,
        wanted: str,
        lister: Callable[[str], Awaitable[list[dict[str, Any]]]],
        key: str,
        kind: type[MCPServerError],
    ) -> MCPServerError:
        """Return the error again as `kind`, naming the close matches the server does have."""
        try:
            known = [str(item[key]) for item in await lister(name)]
            if kind is MCPResourceError:
                templates = await self.list_resource_templates(name)
                known_prefixes = [str(t["uriTemplate"]).split("{")[0] for t in templates]
                if any(wanted.startswith(prefix) for prefix in known_prefixes if prefix):
                    known = []  # the name fits a template: the server judged its value, not its name
        except MCPError:
            known = []
        hint = close_names(wanted, known) if known and wanted not in known else ""
        return kind(error.message + hint, server=name, code=error.code)

    async def list_prompts(self, name: str) -> list[dict[str, Any]]:
        """Return every prompt of a server."""
        await self._require(name, "prompts", "prompts")
        return await self._paginate(
            name, "prompts/list", "prompts", lambda c, cur: c.list_prompts(cursor=cur, cache_mode="bypass")
        )

    async def get_prompt(
        self, name: str, prompt: str, arguments: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Render one prompt with its arguments."""
        try:
            result = await self._request(
                name, f"prompts/get {prompt}", lambda c: c.get_prompt(prompt, dict(arguments or {}))
            )
        except MCPServerError as error:
            raise await self._with_names(
                error, name, prompt, self.list_prompts, "name", MCPPromptError
            ) from None
        return wire(result)

    async def complete(
        self,
        name: str,
        ref: Mapping[str, str],
        argument: str,
        value: str,
        context: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Ask a server to complete one argument of a prompt or resource template (`ref`, wire form)."""
        conn = await self.connect_server(name)
        capabilities = conn.require_client().session.server_capabilities
        if capabilities is None or capabilities.completions is None:
            raise MCPServerError(f"server '{name}' does not offer argument completion", server=name)
        if ref.get("type") == "ref/prompt":
            reference: PromptReference | ResourceTemplateReference = PromptReference(
                type="ref/prompt", name=ref["name"]
            )
        else:
            reference = ResourceTemplateReference(type="ref/resource", uri=ref["uri"])
        result = await self._request(
            name,
            "completion/complete",
            lambda c: c.complete(
                reference, {"name": argument, "value": value}, context_arguments=dict(context or {}) or None
            ),
        )
        return wire(result.completion)

    @contextlib.asynccontextmanager
    async def watch_resources(self, name: str, uris: Sequence[str]) -> AsyncIterator[AsyncIterator[str]]:
        """Subscribe to resources of a server; yield the stream of the URIs that change."""
        conn = await self.connect_server(name)
        async with resource_updates(conn, uris) as updates:
            yield updates

    @contextlib.asynccontextmanager
    async def watch_lists(self, name: str, kinds: Sequence[str]) -> AsyncIterator[AsyncIterator[set[str]]]:
        """Listen for a server's list changes; yield the stream of the kinds (`tools`, ...) that change.

        The caches of a changed kind are dropped before it is yielded, so a listing that follows is fresh.
        """
        conn = await self.connect_server(name)
        async with list_changes(conn, kinds) as changes:
            yield self._dropping(name, changes)

    async def _dropping(self, name: str, changes: AsyncIterator[set[str]]) -> AsyncIterator[set[str]]:
        async for kinds in changes:
            for kind in kinds:
                self._list_changed(name, kind)  # a 2026 listen event does not pass the message handler
            yield kinds

    async def health_check(self, name: str) -> dict[str, Any]:
        """Reach a server and time one round trip (ping, or discover where ping is gone)."""
        conn = await self.connect_server(name)
        began = time.perf_counter()
        await self._request(name, "server/discover" if conn.modern else "ping", _round_trip(conn))
        conn = await self.connect_server(name)  # the check may have reconnected it
        return {
            "name": name,
            "ok": True,
            "protocolVersion": conn.protocol_version,
            "serverInfo": conn.server_info,
            "latency_ms": round((time.perf_counter() - began) * 1000, 2),
            "connect_ms": round((conn.connect_latency or 0) * 1000, 2),
            "error": None,
        }

    async def describe(self, name: str) -> dict[str, Any]:
        """Connect and return what the handshake said: server name and version, protocol, capabilities."""
        conn = await self.connect_server(name)
        capabilities = conn.require_client().session.server_capabilities
        return {
            "serverInfo": conn.server_info,
            "protocolVersion": conn.protocol_version,
            "capabilities": wire(capabilities) if capabilities is not None else {},
        }

    def get_stats(self) -> dict[str, Any]:
        """Return this manager's request statistics per server (`servers`) and its tool cache's."""
        names = list(dict.fromkeys([*self._pool.connections, *self._server_stats]))
        servers = {
            name: self._server_stats.get(name, ServerStats()).as_dict() | {"status": self.status(name).value}
            for name in names
        }
        registry = self._registry or MCPToolRegistry(default_ttl=0)  # keeps nothing: all zeros
        return {"servers": servers, "tool_cache": registry.get_cache_stats()}


async def _call_known(
    client: Client,
    definition: dict[str, Any],
    arguments: Mapping[str, Any] | None,
    timeout: float | None,
    progress: ProgressFnT,
) -> Any:
    absorb_known_tool(client.session, definition)
    return await client.call_tool(
        definition["name"], dict(arguments or {}), read_timeout_seconds=timeout, progress_callback=progress
    )


async def _task_page(cursor: str | None, limit: float, client: Client) -> Any:
    return await tasks.page(client, cursor, limit)


def _round_trip(conn: ServerConnection) -> Callable[[Client], Awaitable[Any]]:
    if conn.modern:
        version = conn.protocol_version or ""
        return lambda c: c.session.send_discover(version)
    return lambda c: c.session.send_ping()


async def _with_cursor(fetch: Callable[..., Awaitable[Any]], cursor: str | None, client: Client) -> Any:
    return await fetch(client, cursor)


def _tool_failure(name: str, tool: str) -> Callable[[Any], MCPError | None]:
    """Return a judge that counts an `isError` result as a failed request."""

    def judge(result: Any) -> MCPError | None:
        if not getattr(result, "is_error", False):
            return None
        return tool_failure(name, tool, [wire(block) for block in result.content])

    return judge
