"""SDK test server for long-running work and live data (cancellation, subscriptions, logs, completion).

Run as a subprocess by the tests: stdio by default, `--http PORT` for Streamable HTTP on
127.0.0.1:PORT/mcp. The SDK client connects at 2026-07-28 unless `--legacy` (stdio only) makes the server
refuse `server/discover`, which sends it to the 2025-11-25 `initialize` handshake instead.

* `sleepy(seconds)`: sleeps with progress; every `notifications/cancelled` the server receives,
  and every cancelled run (with `told`: whether the client's cancellation is what ended it), is
  appended to `--record FILE` (JSON lines), as is `sleepy_started`.
* `counter://value`: a subscribable resource, changed by `bump` (and every `--tick SECONDS`);
  its content carries the time of the change, so latency can be measured.
* `log_all`: one log notification per level (debug..emergency); `warning` carries escapes.
* completion for prompt `greet(language, name)` and template `file:///{project}/{path}`.
* `--grow-tools SECONDS`: adds a tool `grown_N` every SECONDS and announces the change
  (`notifications/tools/list_changed` to 2025 sessions, a listen event on 2026).
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import anyio
import mcp_types as types
from mcp.server import runner
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer, Message, UserMessage
from mcp.server.session import ServerSession
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp.shared.subscriptions import ResourceUpdated, ToolsListChanged
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

COUNTER_URI: Final = "counter://value"
NOTE_URI: Final = "note://hostile"
UNASKED_URI: Final = "unasked://never-subscribed"
STEP_SECONDS: Final = 0.1
LOG_LEVELS: Final[tuple[types.LoggingLevel, ...]] = (
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
)
LOGGER_NAME: Final = "live-test"
ESCAPE_MESSAGE: Final = "clear\x1b[2J osc52\x1b]52;c;aGVsbG8=\x07 bidi\u202eevil\u202c\nfake [other] line"
"""The `warning` entry: ESC[2J (clear screen), an OSC 52 clipboard write, U+202E, a newline."""

COMPLETION_LANGUAGES: Final = ("english", "french", "german", "spanish")
COMPLETION_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "english": ("alice", "albert", "bob"),
    "french": ("amelie", "antoine", "benoit"),
    "german": ("anke", "bernd", "berta"),
    "spanish": ("alba", "alejandro", "blanca"),
}
HOSTILE_NAME: Final = "a\x1b]0;pwned\x07name"
COMPLETION_PROJECTS: Final = ("alpha", "apollo", "beta")
COMPLETION_PATHS: Final[dict[str, tuple[str, ...]]] = {
    "alpha": ("README.md", "src/main.py", "src/util.py"),
    "apollo": ("README.md", "docs/index.md"),
    "beta": ("setup.py", "src/beta.py"),
}
FILE_TEMPLATE: Final = "file:///{project}/{path}"


@dataclass
class State:
    """Process-wide server state."""

    record_path: str | None = None
    counter: int = 0
    counter_stamp: float = field(default_factory=time.time)
    log_level: types.LoggingLevel = "debug"
    subscribers: dict[str, list[ServerSession]] = field(default_factory=dict)
    tick: float | None = None
    grow: float | None = None
    grown: int = 0
    sessions: list[ServerSession] = field(default_factory=list)  # 2025 era: who hears list_changed
    legacy: bool = False


STATE = State()


def _record(event: dict[str, Any]) -> None:
    """Append one JSON line to the --record file, if any."""
    if STATE.record_path is None:
        return
    with Path(STATE.record_path).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"time": time.time(), **event}, sort_keys=True) + "\n")


@asynccontextmanager
async def _lifespan(_: MCPServer[Any]) -> AsyncIterator[dict[str, Any]]:
    _record({"event": "server_started", "pid": os.getpid()})
    async with anyio.create_task_group() as tg:
        if STATE.tick:
            tg.start_soon(_tick_loop, STATE.tick)
        if STATE.grow:
            tg.start_soon(_grow_loop, STATE.grow)
        try:
            yield {}
        finally:
            tg.cancel_scope.cancel()


mcp = MCPServer("live-test", version="0.1.0", lifespan=_lifespan)
_lowlevel = mcp._lowlevel_server  # custom methods are registered on the low-level server


@mcp.tool(structured_output=False)
async def sleepy(ctx: Context, seconds: float = 5.0) -> str:
    """Sleep for `seconds`, reporting progress every 0.1 s; a cancelled run is recorded."""
    _record({"event": "sleepy_started", "requestId": ctx.request_id})
    steps = max(1, round(seconds / STEP_SECONDS))
    try:
        for step in range(1, steps + 1):
            await anyio.sleep(STEP_SECONDS)
            await ctx.report_progress(step, steps, f"step {step}/{steps}")
    except anyio.get_cancelled_exc_class():
        # `told` is set as the cancellation is read, before the run is cancelled; the `cancelled`
        # event below is written by a handler the SDK spawns, which a closing stdin can outrun.
        told = _told_to_cancel(ctx)
        _record({"event": "sleepy_cancelled", "requestId": ctx.request_id, "told": told})
        raise
    return f"slept {seconds}s"


def _told_to_cancel(ctx: Context) -> bool:
    """Whether the client's `notifications/cancelled` for this request has been read.

    The dispatcher sets the request's `cancel_requested` as it reads the notification; MCPServer's
    tool context does not expose it, so it is reached through the session's dispatch context.
    """
    outbound = ctx.request_context.session._request_outbound
    return bool(outbound.cancel_requested.is_set())


async def _middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Record cancellations; with --legacy, refuse the 2026 discover probe."""
    if ctx.method == "subscriptions/listen":
        _record({"event": "listening"})
    if ctx.method == "notifications/cancelled":
        params = dict(ctx.params or {})
        _record({"event": "cancelled", "requestId": params.get("requestId"), "reason": params.get("reason")})
    if ctx.method == "tools/list" and ctx.session not in STATE.sessions:
        STATE.sessions.append(ctx.session)
    if ctx.method == "server/discover" and STATE.legacy:
        raise MCPError(code=types.METHOD_NOT_FOUND, message="server/discover: not served here")
    result = await call_next(ctx)
    if ctx.method == "initialize" and isinstance(result, dict):
        # MCPServer passes no NotificationOptions on the handshake era: announce what we send.
        caps = result.setdefault("capabilities", {})
        caps.setdefault("resources", {})["subscribe"] = True
    return result


mcp.middleware.append(_middleware)


def _counter_text() -> str:
    return json.dumps({"value": STATE.counter, "timestamp": STATE.counter_stamp}, sort_keys=True)


@mcp.resource(COUNTER_URI, name="counter", mime_type="application/json", description="Changes on bump.")
def counter() -> str:
    """Return {"value": n, "timestamp": time of the last change}."""
    return _counter_text()


@mcp.resource(NOTE_URI, name="note", mime_type="text/plain", description="Text with terminal escapes.")
def note() -> str:
    """Return a text that would clear the screen and write the clipboard if printed raw."""
    return ESCAPE_MESSAGE


async def _notify(uri: str, subscribed_to: str) -> None:
    """Send resources/updated for `uri` to the subscribers of `subscribed_to` (2025 era), and publish it."""
    note = types.ResourceUpdatedNotification(
        params=types.ResourceUpdatedNotificationParams(uri=uri, _meta={"timestamp": time.time()})
    )
    for session in list(STATE.subscribers.get(subscribed_to, [])):
        try:
            await session.send_notification(note)
        except Exception:  # a subscriber that has gone
            STATE.subscribers[subscribed_to].remove(session)
    await mcp._subscriptions.publish(ResourceUpdated(uri=uri))


async def _bump() -> int:
    """Increment the counter and notify its subscribers in both eras."""
    STATE.counter += 1
    STATE.counter_stamp = time.time()
    _record({"event": "bumped", "value": STATE.counter})  # just before the notification goes out
    await _notify(COUNTER_URI, COUNTER_URI)
    return STATE.counter


async def _tick_loop(period: float) -> None:
    """Change the counter and the note; tell counter subscribers about a resource they never asked for."""
    while True:
        await anyio.sleep(period)
        await _notify(UNASKED_URI, COUNTER_URI)
        await _bump()
        await _notify(NOTE_URI, NOTE_URI)


async def _grow_loop(period: float) -> None:
    """Add a tool every `period` seconds and tell the clients that the tool list changed."""
    while True:
        await anyio.sleep(period)
        STATE.grown += 1
        mcp.add_tool(lambda: "grown", name=f"grown_{STATE.grown}", structured_output=False)
        _record({"event": "grown", "count": STATE.grown})
        for session in list(STATE.sessions):
            try:
                await session.send_tool_list_changed()
            except Exception:  # a client that has gone
                STATE.sessions.remove(session)
        await mcp._subscriptions.publish(ToolsListChanged())


@mcp.tool(structured_output=False)
async def bump() -> str:
    """Increment counter://value and tell its subscribers."""
    return str(await _bump())


async def _subscribe(
    ctx: ServerRequestContext[Any, Any], params: types.SubscribeRequestParams
) -> types.EmptyResult:
    STATE.subscribers.setdefault(params.uri, []).append(ctx.session)
    _record({"event": "subscribed", "uri": params.uri})
    return types.EmptyResult()


async def _unsubscribe(
    ctx: ServerRequestContext[Any, Any], params: types.UnsubscribeRequestParams
) -> types.EmptyResult:
    STATE.subscribers[params.uri] = []
    _record({"event": "unsubscribed", "uri": params.uri})
    return types.EmptyResult()


_lowlevel.add_request_handler("resources/subscribe", types.SubscribeRequestParams, _subscribe)
_lowlevel.add_request_handler("resources/unsubscribe", types.UnsubscribeRequestParams, _unsubscribe)


async def _set_level(
    ctx: ServerRequestContext[Any, Any], params: types.SetLevelRequestParams
) -> types.EmptyResult:
    STATE.log_level = params.level
    _record({"event": "set_level", "level": params.level})
    return types.EmptyResult()


_lowlevel.add_request_handler("logging/setLevel", types.SetLevelRequestParams, _set_level)


@mcp.tool(structured_output=False)
async def log_all(ctx: Context) -> str:
    """Send one log notification per level at or above the set one (warning carries escapes)."""
    # On 2026-07-28 the SDK drops entries below the level the request asked for itself.
    floor = 0 if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS else LOG_LEVELS.index(STATE.log_level)
    for level in LOG_LEVELS[floor:]:
        data = ESCAPE_MESSAGE if level == "warning" else f"{level} message"
        await ctx.log(level, data, logger_name=LOGGER_NAME)
    return f"sent {len(LOG_LEVELS) - floor}"


@mcp.prompt(name="greet")
def greet(language: str, name: str) -> list[Message]:
    """Greet `name` in `language`."""
    return [UserMessage(f"Greet {name} in {language}.")]


@mcp.resource(FILE_TEMPLATE, name="project_file", mime_type="text/plain", description="A file in a project.")
def project_file(project: str, path: str) -> str:
    """Return a placeholder text for the file."""
    return f"contents of {path} in {project}"


def _choices(
    ref: types.PromptReference | types.ResourceTemplateReference, argument: str, given: dict[str, str]
) -> tuple[str, ...]:
    if isinstance(ref, types.PromptReference) and ref.name == "greet":
        if argument == "language":
            return COMPLETION_LANGUAGES
        if argument == "name":
            if "language" in given:
                return COMPLETION_NAMES.get(given["language"], ())
            return (*sorted({n for names in COMPLETION_NAMES.values() for n in names}), HOSTILE_NAME)
    if isinstance(ref, types.ResourceTemplateReference) and ref.uri == FILE_TEMPLATE:
        if argument == "project":
            return COMPLETION_PROJECTS
        if argument == "path":
            return COMPLETION_PATHS.get(given.get("project", ""), ())
    return ()


@mcp.completion()  # type: ignore[untyped-decorator, no-untyped-call]
async def complete(
    ref: types.PromptReference | types.ResourceTemplateReference,
    argument: types.CompletionArgument,
    context: types.CompletionContext | None,
) -> types.Completion | None:
    """Prefix-complete from fixed lists; `name` depends on `language`, `path` on `project`."""
    given = (context.arguments if context else None) or {}
    values = [c for c in _choices(ref, argument.name, given) if c.startswith(argument.value)]
    return types.Completion(values=values, total=len(values), has_more=False)


def main(argv: list[str] | None = None) -> None:
    """Run the server on stdio, or Streamable HTTP with --http PORT."""
    parser = argparse.ArgumentParser(description="Test server for long-running work and live data.")
    parser.add_argument(
        "--http", type=int, metavar="PORT", help="serve Streamable HTTP on 127.0.0.1:PORT/mcp"
    )
    parser.add_argument("--record", metavar="FILE", help="append events (JSON lines) to FILE")
    parser.add_argument("--tick", type=float, metavar="SECONDS", help="bump counter://value every SECONDS")
    parser.add_argument("--grow-tools", type=float, metavar="SECONDS", help="add a tool every SECONDS")
    parser.add_argument(
        "--legacy", action="store_true", help="refuse server/discover: speak 2025-11-25 (stdio only)"
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", MCPDeprecationWarning)
    STATE.record_path, STATE.tick, STATE.legacy = args.record, args.tick, args.legacy
    STATE.grow = args.grow_tools
    if args.legacy:
        # The first frame picks the era; a probe that never looks modern opens a legacy
        # connection, where the middleware refuses it and the client falls back to initialize.
        runner._has_modern_envelope = lambda params: False
    if args.http is None:
        mcp.run("stdio")
    else:
        mcp.run("streamable-http", host="127.0.0.1", port=args.http)


if __name__ == "__main__":
    main()
