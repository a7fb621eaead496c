"""A session passes what its server asks back to the client whose request is under way.

The daemon's manager answers through a `RelayAsker`: each question becomes an `ask` event on
that client's socket, and the client answers it with its own terminal or answer options (the
line `{"answer": ID, "result": {...}}`, or `"error"`), exactly as without a session. Notes and
records travel as one-way `notice` and `noted` events.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio
from anyio.abc import SocketStream

from gemma_mcp_cli.sessions.client import error_from

Send = Callable[[dict[str, Any]], Awaitable[None]]
_LINE_LIMIT = 1024 * 1024  # one answer: a form's content
_QUEUE = 1000  # events waiting for a slow client before notes are dropped


class ClientLink:
    """One client of the session, while its request is under way."""

    def __init__(self, send: Send, *, interactive: bool) -> None:
        self.interactive = interactive
        self._send = send
        self._ids = itertools.count(1)
        self._waiting: dict[int, tuple[anyio.Event, list[dict[str, Any]]]] = {}
        # Events and the final reply leave through one queue, so a note never overtakes the reply.
        self._outbox, self._queued = anyio.create_memory_object_stream[dict[str, Any]](_QUEUE)
        self.gone = False
        self.left = anyio.Event()  # set with `gone`: a watch for this client stops

    def post(self, event: dict[str, Any]) -> None:
        """Queue a one-way event for the client (dropped if it is not keeping up)."""
        with contextlib.suppress(anyio.WouldBlock, anyio.ClosedResourceError):
            self._outbox.send_nowait(event)

    async def finish(self, reply: dict[str, Any]) -> None:
        """Send the reply after every queued event; the link is done."""
        self.close()
        with contextlib.suppress(anyio.ClosedResourceError):
            await self._outbox.send(reply)
        self._outbox.close()

    async def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """Ask the client; return its answer (a declined one if it left)."""
        if self.gone:
            return {"action": "decline"}
        number = next(self._ids)
        done, answer = anyio.Event(), list[dict[str, Any]]()
        self._waiting[number] = (done, answer)
        self.post({"event": "ask", "id": number, "request": request})
        try:
            await done.wait()
        finally:
            self._waiting.pop(number, None)
        if not answer:
            return {"action": "decline"}
        if "error" in answer[0]:
            raise error_from(answer[0]["error"])
        return dict(answer[0].get("result") or {"action": "decline"})

    async def pump(self, stream: SocketStream) -> None:
        """Forward queued events (then the reply) to the client, and its answers to whoever asked."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._read_answers, stream)
            async with self._queued:
                async for event in self._queued:
                    await self._send(event)
            tg.cancel_scope.cancel()

    async def _read_answers(self, stream: SocketStream) -> None:
        buffer = b""
        try:
            while len(buffer) <= _LINE_LIMIT:
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    self._resolve(line)
                buffer += await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass
        finally:
            self.close()

    def _resolve(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return
        number = message.get("answer") if isinstance(message, dict) else None
        waiting = self._waiting.get(number) if isinstance(number, int) else None
        if waiting is not None:
            waiting[1].append(message)
            waiting[0].set()

    def close(self) -> None:
        """The client is gone (or its request is done): whatever is still asked is declined."""
        self.gone = True
        self.left.set()
        for done, _ in list(self._waiting.values()):
            done.set()


CURRENT: contextvars.ContextVar[ClientLink | None] = contextvars.ContextVar("session_client", default=None)


class RelayAsker:
    """The session manager's asker: every question goes to the client whose request raised it."""

    def __init__(self) -> None:
        self.links: list[ClientLink] = []

    def _link(self) -> ClientLink | None:
        # A 2026 round runs in the request's own task, which knows its client; a handshake-era
        # question arrives on the connection's reader, so the latest client still waiting is taken.
        link = CURRENT.get()
        if link is None:
            live = [link for link in self.links if not link.gone]
            link = live[-1] if live else None
        return link

    @property
    def interactive(self) -> bool:
        """Whether the asking client has a person at its terminal."""
        link = self._link()
        return link is not None and link.interactive

    @property
    def roots(self) -> Sequence[str]:
        """None beyond the server's own: a request with --root does not use the session."""
        return ()

    async def elicit(self, server: str, request: dict[str, Any]) -> dict[str, Any]:
        """Ask the client whose request this is."""
        link = self._link()
        if link is None:
            return {"action": "decline"}
        return await link.ask(request)

    def noted(self, record: dict[str, Any]) -> None:
        """Pass a record to the client (for its --json)."""
        link = self._link()
        if link is not None:
            link.post({"event": "noted", "record": record})

    def notice(self, text: str, hint: str | None = None) -> None:
        """Pass a note to the client's stderr."""
        link = self._link()
        if link is not None:
            link.post({"event": "notice", "text": text, "hint": hint})
