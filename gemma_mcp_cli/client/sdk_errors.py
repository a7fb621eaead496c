"""Translate what the SDK and the OS raise into the client's error family."""

from __future__ import annotations

import re
import socket
import ssl
import sys
from typing import Any

import anyio
import httpx2
from mcp.shared.exceptions import MCPError as SDKError
from mcp_types import CONNECTION_CLOSED, INVALID_PARAMS, METHOD_NOT_FOUND, REQUEST_TIMEOUT
from pydantic import ValidationError

from gemma_mcp_cli.config.models import strip_credentials
from gemma_mcp_cli.errors import (
    MCPAuthError,
    MCPConnectionError,
    MCPError,
    MCPServerError,
    MCPTimeoutError,
    program,
)

HANDSHAKE = "start-up and handshake"

# The SDK uses two JSON-RPC codes as its own local markers: -32000 when the connection closed
# under a request, -32001 when its read timeout elapsed. A server may send the same codes, so a
# marker is known by the text the SDK writes with it (never with data); anything else is the
# server's own error. Streamable HTTP synthesises the closed marker with texts of its own.
_LOCAL_CLOSED = re.compile(
    r"Connection closed|SSE stream failed: .*|SSE stream ended without a response"
    r"|server answered a request with 202 Accepted",
    re.DOTALL,
)
_LOCAL_TIMEOUT = re.compile(r"Request '[^']*' timed out")


def unwrap(exc: BaseException) -> BaseException:
    """Return the one real error inside nested single-member exception groups."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    if isinstance(exc, BaseExceptionGroup):
        ours = [
            e
            for e in exc.exceptions
            if isinstance(e, MCPError | SDKError | OSError | TimeoutError | httpx2.HTTPError)
            or type(e).__module__.startswith("mcp.client.auth")
        ]
        return unwrap(ours[0]) if ours else exc
    return exc


def translate(
    exc: BaseException,
    *,
    server: str,
    action: str,
    timeout: float | None,
    tail: str = "",
    http: tuple[int, str] | None = None,
) -> MCPError:
    """Return the client error that says what went wrong while doing `action`."""
    exc = unwrap(exc)
    said = f" (server stderr: {tail})" if tail else ""
    if isinstance(exc, MCPError):
        return exc
    oauth = _from_oauth(exc, server=server)
    if oauth is not None:
        return oauth
    if http is not None and not isinstance(exc, TimeoutError):
        return _from_http(http, server=server, action=action)
    if isinstance(exc, httpx2.HTTPError):
        return _from_httpx(exc, server=server, action=action, timeout=timeout)
    if isinstance(exc, TimeoutError):
        return MCPTimeoutError(
            f"server '{server}' did not finish {action} within {timeout:g}s", server=server
        )
    if isinstance(exc, SDKError):
        return _from_sdk(exc, server=server, action=action, timeout=timeout, said=said)
    if isinstance(exc, anyio.BrokenResourceError | anyio.ClosedResourceError | anyio.EndOfStream):
        return MCPConnectionError(
            f"server '{server}' closed the connection during {action}{said}", server=server
        )
    if isinstance(exc, ValidationError):
        return _malformed(exc, server=server, action=action)
    websocket = _websocket_exceptions()
    if websocket is not None and isinstance(exc, websocket.WebSocketException):
        # A refused or garbled WebSocket handshake: most often a URL that is not a WebSocket server.
        return MCPConnectionError(
            f"server '{server}' failed the WebSocket handshake during {action}: {server_text(str(exc))}",
            server=server,
            transient=isinstance(exc, websocket.InvalidStatus) and exc.response.status_code >= 500,
            hint="check that the URL is a WebSocket MCP endpoint (for HTTP, use an http:// URL)",
        )
    if isinstance(exc, FileNotFoundError | PermissionError) and exc.filename:
        problem = (
            "was not found" if isinstance(exc, FileNotFoundError) else "cannot be run (permission denied)"
        )
        return MCPConnectionError(
            f"cannot start server '{server}': '{exc.filename}' {problem}",
            server=server,
            transient=False,
            hint=f"check the server's command and cwd ('{program()} validate --strict' checks the PATH)",
        )
    if isinstance(exc, OSError):
        return MCPConnectionError(f"server '{server}' failed during {action}: {exc}{said}", server=server)
    raise exc


# The SDK's OAuth checks, worded for people: (start of the SDK's message, what it means).
_OAUTH_REASONS = (
    ("Protected resource ", "the protected resource {0} (RFC 8707)"),
    ("Authorization response iss mismatch: ", "the sign-in came back from issuer {0} (RFC 9207)"),
    ("Authorization server metadata issuer mismatch: ", "the authorization server metadata names issuer {0}"),
)


def said_why(exc: BaseException) -> bool:
    """Tell whether an error is one of the SDK's OAuth checks (it names its reason)."""
    return type(exc).__module__.startswith("mcp.client.auth")


def _from_oauth(exc: BaseException, *, server: str) -> MCPError | None:
    """Say which OAuth check failed (a mismatched resource or issuer, a refused token), exit 9."""
    from mcp.client.auth.exceptions import OAuthFlowError

    if not isinstance(exc, OAuthFlowError):
        return None
    text = "".join(c if c.isprintable() else "?" for c in str(exc))[:300]
    hint = "check the client_id, client_secret or private_key in the server's [auth]"
    for prefix, wording in _OAUTH_REASONS:
        if text.startswith(prefix):
            rest = text[len(prefix) :].replace(" != ", ", expected ")
            text = wording.format(rest.replace(" does not match expected ", " does not match "))
            hint = "the server's OAuth metadata points elsewhere: check its URL and the [auth] issuer"
            break
    return MCPAuthError(f"OAuth with server '{server}' failed: {text}", server=server, hint=hint)


def _from_http(http: tuple[int, str], *, server: str, action: str) -> MCPError:
    """Say which HTTP status the server answered (401/403 are authentication failures)."""
    status, url = http
    if status in (401, 403):
        return MCPAuthError(
            f"server '{server}' refused the request: HTTP {status} from {url}",
            server=server,
            hint=f"check the server's token, or run '{program()} auth login {server}'",
        )
    return MCPConnectionError(
        f"server '{server}' answered HTTP {status} from {url} during {action}",
        server=server,
        transient=status >= 500,
    )


def _from_httpx(exc: httpx2.HTTPError, *, server: str, action: str, timeout: float | None) -> MCPError:
    """Describe a network failure with the URL (credentials stripped) and its cause."""
    request = getattr(exc, "_request", None)
    url = strip_credentials(str(request.url)) if request is not None else "the server"
    if isinstance(exc, httpx2.TimeoutException):
        limit = f" within {timeout:g}s" if timeout else ""
        return MCPTimeoutError(f"server '{server}' at {url} did not answer {action}{limit}", server=server)
    causes = _causes(exc)
    if any(isinstance(c, socket.gaierror) for c in causes):
        reason, transient = "the host name does not resolve", False
    elif any(isinstance(c, ConnectionRefusedError) for c in causes):
        reason, transient = "connection refused", True
    elif any(isinstance(c, ssl.SSLError) for c in causes):
        reason, transient = f"TLS failed: {next(c for c in causes if isinstance(c, ssl.SSLError))}", False
    else:
        reason, transient = str(exc) or type(exc).__name__, True
    return MCPConnectionError(
        f"cannot reach server '{server}' at {url}: {reason}", server=server, transient=transient
    )


def _causes(exc: BaseException) -> list[BaseException]:
    """Return an exception and every exception behind it (cause, context, group members)."""
    found: list[BaseException] = []
    queue = [exc]
    while queue and len(found) < 32:
        current = queue.pop()
        found.append(current)
        queue += [c for c in (current.__cause__, current.__context__) if c is not None and c not in found]
        if isinstance(current, BaseExceptionGroup):
            queue += list(current.exceptions)
    return found


def _malformed(exc: ValidationError, *, server: str, action: str) -> MCPError:
    """Say which field of a response broke the protocol's schema (never worth a retry)."""
    first = exc.errors()[0] if exc.error_count() else {"loc": (), "msg": "invalid"}
    where = ".".join(str(part) for part in first["loc"]) or "the result"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    message = f"server '{server}' sent a malformed response to {action}: {where}: {first['msg']}{more}"
    if action == HANDSHAKE:
        return MCPConnectionError(message, server=server, transient=False)
    return MCPServerError(message, server=server)


def server_text(text: str, limit: int = 500) -> str:
    """Return a server's message as one line (line breaks become spaces).

    Other control characters stay: what shows the message makes them visible on a terminal,
    and JSON escapes them.
    """
    flat = re.sub(r" {2,}", " ", re.sub(r"[\r\n\t]+", " ", text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def is_local_marker(exc: SDKError) -> bool:
    """Tell whether an SDK error is the SDK's own closed/timeout marker, not the server's answer."""
    if exc.data is not None:
        return False
    if exc.code == CONNECTION_CLOSED:
        return _LOCAL_CLOSED.fullmatch(exc.message) is not None
    if exc.code == REQUEST_TIMEOUT:
        return _LOCAL_TIMEOUT.fullmatch(exc.message) is not None
    return False


def _from_sdk(exc: SDKError, *, server: str, action: str, timeout: float | None, said: str) -> MCPError:
    local = is_local_marker(exc)
    if local and exc.code == CONNECTION_CLOSED:
        return MCPConnectionError(
            f"server '{server}' closed the connection during {action}{said}", server=server
        )
    if local and exc.code == REQUEST_TIMEOUT:
        limit = f" within {timeout:g}s" if timeout else ""
        return MCPTimeoutError(f"server '{server}' did not answer {action}{limit}", server=server)
    detail = server_text(exc.message) or "no message"
    if action == HANDSHAKE:
        # An error instead of a handshake means there is no MCP session to speak of.
        return MCPConnectionError(
            f"server '{server}' failed the MCP handshake: {detail} (error {exc.code}); is it an MCP server?",
            server=server,
            transient=False,
        )
    if exc.code == METHOD_NOT_FOUND:
        return MCPServerError(f"server '{server}' does not support {action}", server=server, code=exc.code)
    kind = "invalid params" if exc.code == INVALID_PARAMS else f"error {exc.code}"
    return MCPServerError(
        f"server '{server}' rejected {action}: {detail} ({kind})", server=server, code=exc.code
    )


def _websocket_exceptions() -> Any:
    """Return websockets' exceptions module, if a connection loaded it (none can be raised otherwise).

    Importing websockets costs a stdio or HTTP command about 6 ms for nothing.
    """
    return sys.modules.get("websockets.exceptions")
