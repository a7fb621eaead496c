"""Send each server's requests to its warm session when one is live, else to a manager of our own."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from gemma_mcp_cli.errors import MCPConnectionError
from gemma_mcp_cli.sessions import client as session_client

T = TypeVar("T")

if TYPE_CHECKING:
    from gemma_mcp_cli.cli.asking import Answerer
    from gemma_mcp_cli.client.manager import MCPClientManager, ProgressHook
    from gemma_mcp_cli.config.loader import LoadedConfig


class RoutedManager:
    """The manager interface the commands use, answered by sessions where they are live."""

    def __init__(
        self,
        make_manager: Callable[[], MCPClientManager],
        loaded: LoadedConfig,
        use_sessions: bool,
        start: Sequence[str] = (),
        answerer: Answerer | None = None,
    ) -> None:
        self.answerer = answerer
        self._make_manager = make_manager
        self._loaded = loaded
        self._use_sessions = use_sessions
        self._start = start
        self._keys: dict[str, str | None] = {}
        self._stack = AsyncExitStack()
        self._manager: MCPClientManager | None = None
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._warming: set[str] = set()

    async def __aenter__(self) -> RoutedManager:
        import anyio

        from gemma_mcp_cli.cli.signals import second_interrupt_exits

        self._closing = anyio.Event()
        self._lock = anyio.Lock()
        try:
            self._stack.enter_context(second_interrupt_exits())  # left last, after every clean-up
            await self._start_early()
            self._tg = await self._stack.enter_async_context(anyio.create_task_group())
        except BaseException:
            await self._stack.aclose()  # __aexit__ is not called when __aenter__ fails
            raise
        return self

    async def _start_early(self) -> None:
        """Start the stdio servers to be used that no session answers, while the SDK loads.

        Entered first, so they are left last: after our manager has closed its connections.
        """
        from gemma_mcp_cli.client.transports.early_start import started_early
        from gemma_mcp_cli.state.paths import log_dir

        configs = [
            self._loaded.servers[name]
            for name in dict.fromkeys(self._start)
            if name in self._loaded.servers and self._session(name, wait=True) is None
        ]
        for config in configs:  # before the servers start: their clean-up spares what runs already
            self.keep_warm(config.name)
        await self._stack.enter_async_context(started_early(configs, log_dir()))

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()
        await self._stack.aclose()

    async def _direct(self) -> MCPClientManager:
        """Return our own manager, started on first use in a task that also closes it."""
        async with self._lock:
            if self._manager is None:
                await self._tg.start(self._hold)
        assert self._manager is not None
        return self._manager

    async def _hold(self, *, task_status: Any) -> None:
        # A manager's task group must be left by the task that entered it, so one task does both.
        async with self._make_manager() as manager:
            for name, tools in self._pending.items():
                manager.remember_tools(name, tools)
            self._manager = manager
            task_status.started()
            await self._closing.wait()

    @property
    def asked(self) -> list[dict[str, Any]]:
        """What the servers asked during this command, and how it was answered (for --json)."""
        return self.answerer.records if self.answerer is not None else []

    def by_session(self, name: str) -> bool:
        """Tell whether a live session answers this server's requests."""
        return self._session(name) is not None

    def keep_warm(self, name: str) -> None:
        """Connecting to a server with `keep_alive` directly: start its session for the next command.

        Once per command and server, never waited for; not under --no-session (nor where this
        command would not use a session either).
        """
        config = self._loaded.servers.get(name)
        if config is None or not config.keep_alive or name in self._warming or not self._may_use(name):
            return
        self._warming.add(name)
        from gemma_mcp_cli.sessions.launch import keep_warm

        keep_warm(self._loaded, name)

    def _may_use(self, name: str) -> bool:
        return self._use_sessions and name not in self._loaded.problems and "://" not in name

    def _session(self, name: str, *, wait: bool = False) -> str | None:
        """Return the key of the session that serves `name`, if one does (looked up once).

        `wait` waits for one that is starting (see started_info): only before this command's
        event loop has anything else to run, since the wait blocks it.
        """
        if not self._may_use(name):
            return None
        if self.answerer is not None and self.answerer.roots:
            return None  # a session's server was told its roots when it connected: --root goes direct
        if name not in self._keys:
            key = session_client.session_key(name, self._loaded.source.path)
            info = session_client.started_info(key, session_client.START_WAIT if wait else 0.0)
            self._keys[name] = key if info is not None and session_client.usable(info) else None
        return self._keys[name]

    async def _route(
        self,
        name: str,
        op: str,
        params: Mapping[str, Any],
        direct: Callable[[MCPClientManager], Awaitable[Any]],
        on_progress: ProgressHook | None = None,
        *,
        waits: bool = False,
    ) -> Any:
        key = self._session(name)
        if key is not None:
            try:
                return await _ask(key, op, params, name, on_progress, self.answerer, waits=waits)
            except session_client.SessionUnavailable:
                self._keys[name] = None  # dead or stale, and nothing was sent: go on without it
            except session_client.SessionLost as lost:
                self._keys[name] = None
                if op in ("call_tool", "start_task"):  # it may have run: never send it twice
                    raise MCPConnectionError(
                        f"the session for '{name}' ended during tools/call {params['tool']} ({lost}); "
                        "not retried: it may have run",
                        server=name,
                    ) from None
        self.keep_warm(name)
        return await direct(await self._direct())

    async def list_tools(self, name: str) -> list[dict[str, Any]]:
        """Return every tool of a server."""
        return await self._route(name, "list_tools", {}, lambda m: m.list_tools(name))

    async def get_tool(self, name: str, tool: str) -> dict[str, Any]:
        """Return one tool's definition."""
        return await self._route(name, "get_tool", {"tool": tool}, lambda m: m.get_tool(name, tool))

    def remember_tools(self, name: str, tools: list[dict[str, Any]]) -> None:
        """Pass cached tools to our own manager (a session lists its own)."""
        if self._session(name) is None:
            self._pending[name] = tools
            if self._manager is not None:
                self._manager.remember_tools(name, tools)

    async def call_tool(
        self,
        name: str,
        tool: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        on_progress: ProgressHook | None = None,
    ) -> dict[str, Any]:
        """Call a tool."""
        params = {"tool": tool, "arguments": dict(arguments or {}), "timeout": timeout}

        return await self._route(
            name,
            "call_tool",
            params,
            lambda m: m.call_tool(name, tool, arguments, timeout=timeout, on_progress=on_progress),
            on_progress,
        )

    async def start_task(
        self, name: str, tool: str, arguments: Mapping[str, Any] | None = None, *, ttl_ms: int | None = None
    ) -> dict[str, Any]:
        """Call a tool as a task; return the task the server created."""
        params = {"tool": tool, "arguments": dict(arguments or {}), "ttl_ms": ttl_ms}
        return await self._route(
            name, "start_task", params, lambda m: m.start_task(name, tool, arguments, ttl_ms=ttl_ms)
        )

    async def task_result(
        self,
        name: str,
        task_id: str,
        *,
        timeout: float | None = None,
        on_progress: ProgressHook | None = None,
    ) -> dict[str, Any]:
        """Wait for a task's result."""
        return await self._route(
            name,
            "task_result",
            {"task_id": task_id, "timeout": timeout},
            lambda m: m.task_result(name, task_id, timeout=timeout, on_progress=on_progress),
            on_progress,
            waits=True,  # Ctrl-C must not wait for the session's answer: it cancels the task instead
        )

    async def get_task(self, name: str, task_id: str) -> dict[str, Any]:
        """Return a task's current state."""
        return await self._route(name, "get_task", {"task_id": task_id}, lambda m: m.get_task(name, task_id))

    async def cancel_task(self, name: str, task_id: str) -> dict[str, Any]:
        """Cancel a task."""
        return await self._route(
            name, "cancel_task", {"task_id": task_id}, lambda m: m.cancel_task(name, task_id)
        )

    async def list_tasks(self, name: str, known: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Return a server's tasks (its listing, else the state of each known one)."""
        return await self._route(
            name, "list_tasks", {"known": list(known)}, lambda m: m.list_tasks(name, known)
        )

    async def list_resources(self, name: str) -> list[dict[str, Any]]:
        """Return every resource of a server."""
        return await self._route(name, "list_resources", {}, lambda m: m.list_resources(name))

    async def list_resource_templates(self, name: str) -> list[dict[str, Any]]:
        """Return every resource template of a server."""
        return await self._route(
            name, "list_resource_templates", {}, lambda m: m.list_resource_templates(name)
        )

    async def read_resource(self, name: str, uri: str) -> list[dict[str, Any]]:
        """Return the contents of one resource."""
        return await self._route(name, "read_resource", {"uri": uri}, lambda m: m.read_resource(name, uri))

    async def list_prompts(self, name: str) -> list[dict[str, Any]]:
        """Return every prompt of a server."""
        return await self._route(name, "list_prompts", {}, lambda m: m.list_prompts(name))

    async def get_prompt(
        self, name: str, prompt: str, arguments: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Render one prompt."""
        params = {"prompt": prompt, "arguments": dict(arguments or {})}
        return await self._route(name, "get_prompt", params, lambda m: m.get_prompt(name, prompt, arguments))

    async def complete(
        self,
        name: str,
        ref: Mapping[str, str],
        argument: str,
        value: str,
        context: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Ask the server to complete one argument of a prompt or resource template."""
        params = {"ref": dict(ref), "argument": argument, "value": value, "context": dict(context or {})}
        return await self._route(
            name, "complete", params, lambda m: m.complete(name, ref, argument, value, context)
        )

    @asynccontextmanager
    async def watch_resources(self, name: str, uris: Sequence[str]) -> AsyncIterator[AsyncIterator[str]]:
        """Subscribe to resources: through the server's session when one is live, else directly."""
        async with self._watch(name, "watch_resources", {"uris": list(uris)}) as events:
            if events is not None:
                yield (str(event.get("uri")) async for event in events)
                return
        async with (await self._direct()).watch_resources(name, uris) as updates:
            yield updates

    @asynccontextmanager
    async def watch_lists(self, name: str, kinds: Sequence[str]) -> AsyncIterator[AsyncIterator[set[str]]]:
        """Listen for list changes (`tools`, ...): through the server's session when one is live."""
        async with self._watch(name, "watch_lists", {"kinds": list(kinds)}) as events:
            if events is not None:
                yield ({str(k) for k in event.get("kinds") or ()} async for event in events)
                return
        async with (await self._direct()).watch_lists(name, kinds) as changes:
            yield changes

    @asynccontextmanager
    async def _watch(
        self, name: str, op: str, params: Mapping[str, Any]
    ) -> AsyncIterator[AsyncIterator[dict[str, Any]] | None]:
        """Yield a session's watch events, or None when no session can watch (then go direct)."""
        from gemma_mcp_cli.cli.session_watch import session_watch

        key = self._session(name)
        if key is None:
            yield None
            return
        stack = AsyncExitStack()
        try:
            events = await stack.enter_async_context(session_watch(key, name, op, params))
        except session_client.SessionUnavailable:
            self._keys[name] = None  # dead or stale, and nothing was started: go on without it
            yield None
            return
        async with stack:
            yield events

    async def disconnect(self, name: str) -> None:
        """Close our own connection to a server, if there is one (a session's stays)."""
        if self._manager is not None:
            await self._manager.disconnect_server(name)

    async def describe(self, name: str) -> dict[str, Any]:
        """Return what the server's handshake said (always over a connection of our own)."""
        return await (await self._direct()).describe(name)

    async def health_check(self, name: str) -> dict[str, Any]:
        """Reach a server and time one round trip."""
        return await self._route(name, "health_check", {}, lambda m: m.health_check(name))


async def _ask(
    key: str,
    op: str,
    params: Mapping[str, Any],
    name: str,
    on_progress: ProgressHook | None,
    answerer: Answerer | None,
    *,
    waits: bool = False,
) -> Any:
    """Ask a session in a worker thread, passing its progress events back to this event loop.

    What the session's server asks back comes as events too, answered here as without a session.
    """
    import anyio
    import anyio.from_thread
    import anyio.to_thread

    def on_event(event: dict[str, Any]) -> dict[str, Any] | None:
        if on_progress is not None and event.get("event") == "progress":
            report = functools.partial(
                on_progress, name, event["progress"], event.get("total"), event.get("message")
            )
            anyio.from_thread.run(_awaited, report)
        return relayed(answerer, name, event)

    request = {
        "op": op,
        "params": dict(params),
        "progress": on_progress is not None,
        "interactive": answerer is not None and answerer.interactive,
    }
    ask = functools.partial(session_client.ask, key, request, on_event)
    # A request that may wait for long is left to its thread when cancelled; the caller then
    # ends the wait on the server, and the session's answer ends the thread.
    return await anyio.to_thread.run_sync(ask, abandon_on_cancel=waits)


def relayed(answerer: Answerer | None, server: str, event: dict[str, Any]) -> dict[str, Any] | None:
    """Answer what a session passes on from its server: a question, a note, a record."""
    kind = event.get("event")
    if kind == "ask":
        given = event.get("request")
        request: dict[str, Any] = given if isinstance(given, dict) else {}
        if answerer is None:
            return {"answer": event.get("id"), "result": {"action": "decline"}}
        return session_client.answer_line(event.get("id"), lambda: answerer.answer(server, request))
    if answerer is not None and kind == "notice":
        answerer.notice(str(event.get("text", "")), event.get("hint"))
    if answerer is not None and kind == "noted" and isinstance(event.get("record"), dict):
        answerer.noted(event["record"])
    return None


async def _awaited(make: Callable[[], Awaitable[None]]) -> None:
    await make()
