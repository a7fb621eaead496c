"""The person's side of a browser sign-in: the loopback callback, a pasted redirect, the browser.

The receiver knows the `state` of the sign-in in progress (it reads it off the authorization
URL), so a stray or forged callback is answered honestly and ignored instead of ending the
login; only a response that belongs to this sign-in, a code or a refusal, is taken.
"""

from __future__ import annotations

import contextlib
import secrets
import sys
import threading
import webbrowser
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import anyio.abc
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
from mcp.shared.auth import AuthorizationCodeResult

from gemma_mcp_cli.errors import MCPAuthError
from gemma_mcp_cli.sanitize import visible

_STRAY = (
    "This response does not belong to the sign-in in progress (its state differs), so it was"
    " ignored. gemma-mcp is still waiting: finish the sign-in you started."
)
_PAGE = """<!doctype html><meta charset="utf-8"><title>gemma-mcp sign-in</title>
<body style="font-family:sans-serif;margin:3em"><h1>{title}</h1><p>{text}</p></body>"""


def printable(text: object, limit: int = 200) -> str:
    """Return server- or browser-supplied text with control characters shown as escapes, cut to `limit`."""
    shown = visible(str(text))
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def query_of(url: str) -> dict[str, str]:
    """Return the first value of each query parameter of a URL."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


class LoopbackReceiver:
    """Receive the authorization response on http://127.0.0.1:PORT/callback, or as a pasted URL."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.expected_state: str | None = None
        self.waiting = False
        self._result: AuthorizationCodeResult | None = None
        self._refusal: str | None = None
        self._got = anyio.Event()
        self._listener: Any = None  # anyio's MultiListener of a TCP socket

    async def start(self) -> str:
        """Start listening; return the redirect URI."""
        try:
            self._listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=self.port)
        except OSError as exc:
            raise MCPAuthError(
                f"cannot listen for the sign-in on 127.0.0.1:{self.port}: {exc.strerror}",
                hint="free the port, or change redirect_port in the server's [auth]",
            ) from None
        self.port = int(self._listener.extra(anyio.abc.SocketAttribute.local_port))
        return f"http://127.0.0.1:{self.port}/callback"

    def expect(self, authorization_url: str) -> None:
        """Remember the state of the sign-in just begun, so only its response is accepted."""
        self.expected_state = query_of(authorization_url).get("state")
        self.waiting = True
        if self._got.is_set():  # a new sign-in (a step-up): the last one's answer is spent
            self._got, self._result, self._refusal = anyio.Event(), None, None

    async def serve(self) -> None:
        """Answer requests until the listener is closed."""
        with contextlib.suppress(anyio.ClosedResourceError):
            await self._listener.serve(self._handle)

    async def _handle(self, stream: Any) -> None:
        async with stream:
            with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                request = (await stream.receive(65536)).decode("latin-1")
                target = request.split(" ", 2)[1] if request.count(" ") >= 2 else "/"
                status, title, text = self.accept(query_of(target))
                payload = _PAGE.format(title=title, text=text).encode()
                head = (
                    f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n"
                    f"Cache-Control: no-store\r\nConnection: close\r\nContent-Length: {len(payload)}\r\n\r\n"
                )
                await stream.send(head.encode() + payload)

    def accept(self, query: Mapping[str, str]) -> tuple[str, str, str]:
        """Take an authorization response if it belongs to this sign-in; say what happened."""
        if self._got.is_set():
            return "200 OK", "Already signed in", "This sign-in is complete; you can close this window."
        if "code" not in query and "error" not in query:
            return "404 Not Found", "Nothing here", "gemma-mcp is waiting for the authorization server."
        state = query.get("state") or ""
        if self.expected_state is None or not secrets.compare_digest(state, self.expected_state):
            return "400 Bad Request", "Not this sign-in", _STRAY
        if "error" in query:
            reason = printable(query["error"], 60)
            if query.get("error_description"):
                reason += f" ({printable(query['error_description'])})"
            self._refusal = reason
            self._got.set()
            return "200 OK", "Sign-in refused", "The authorization server refused: " + _html(reason)
        self._result = AuthorizationCodeResult(code=query["code"], state=state, iss=query.get("iss"))
        self._got.set()
        return "200 OK", "Signed in", "Signed in: you can close this window and return to the terminal."

    def accept_pasted(self, line: str) -> str | None:
        """Take a redirect URL pasted at the terminal; return why it was ignored, or None."""
        status, _title, text = self.accept(query_of(line.strip()))
        return None if status.startswith("200") else text

    async def wait(self) -> AuthorizationCodeResult:
        """Return the code the browser brought back."""
        await self._got.wait()
        if self._result is None:
            raise MCPAuthError(f"the authorization server refused the sign-in: {self._refusal}")
        return self._result

    async def aclose(self) -> None:
        """Stop listening."""
        if self._listener is not None:
            await self._listener.aclose()


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def read_pasted(receiver: LoopbackReceiver, say: Callable[[str], None]) -> None:
    """Accept redirect URLs pasted on stdin (a remote shell cannot reach our loopback port).

    stdin is read by a daemon thread of its own: a worker thread blocked in readline would keep
    the process alive after the sign-in came back through the browser instead.
    """
    send, receive = anyio.create_memory_object_stream[str](16)
    token = anyio.lowlevel.current_token()

    def pump() -> None:
        with contextlib.suppress(Exception):  # the loop is gone: the login is over
            for line in sys.stdin:
                anyio.from_thread.run_sync(send.send_nowait, line, token=token)
            anyio.from_thread.run_sync(send.close, token=token)

    threading.Thread(target=pump, name="pasted-redirect", daemon=True).start()
    async with receive:
        async for line in receive:
            if line.strip():
                problem = receiver.accept_pasted(line)
                if problem is None:
                    return
                say(f"That URL was not accepted: {problem}")


async def open_browser(url: str, *, use_browser: bool, say: Callable[[str], None]) -> None:
    """Open the authorization URL in the browser ($BROWSER is honoured), or print it.

    The browser runs in a thread: a $BROWSER command may not return until the sign-in
    reaches our loopback listener, which this event loop must keep serving.
    """
    if use_browser and await anyio.to_thread.run_sync(webbrowser.open, url):
        say(f"Opened the browser to sign in (if it did not open, visit this URL):\n{url}")
    else:
        say(f"Open this URL in a browser to sign in:\n{url}")
