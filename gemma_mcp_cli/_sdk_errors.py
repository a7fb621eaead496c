"""Translate what the SDK and the OS raise into the client's error family."""

from __future__ import annotations

import anyio
from mcp.shared.exceptions import MCPError as SDKError
from mcp_types import CONNECTION_CLOSED, INVALID_PARAMS, METHOD_NOT_FOUND, REQUEST_TIMEOUT
from pydantic import ValidationError

from gemma_mcp_cli.errors import (
    MCPConnectionError,
    MCPError,
    MCPServerError,
    MCPTimeoutError,
)


def unwrap(exc: BaseException) -> BaseException:
    """Return the one real error inside nested single-member exception groups."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    if isinstance(exc, BaseExceptionGroup):
        ours = [e for e in exc.exceptions if isinstance(e, MCPError | SDKError | OSError | TimeoutError)]
        return unwrap(ours[0]) if ours else exc
    return exc


def translate(
    exc: BaseException, *, server: str, action: str, timeout: float | None, tail: str = ""
) -> MCPError:
    """Return the client error that says what went wrong while doing `action`."""
    exc = unwrap(exc)
    said = f" (server stderr: {tail})" if tail else ""
    if isinstance(exc, MCPError):
        return exc
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
        return MCPConnectionError(
            f"server '{server}' sent a malformed response to {action}: {exc.error_count()} error(s), "
            f"first: {exc.errors()[0]['msg']}",
            server=server,
        )
    if isinstance(exc, FileNotFoundError | PermissionError) and exc.filename:
        problem = (
            "was not found" if isinstance(exc, FileNotFoundError) else "cannot be run (permission denied)"
        )
        return MCPConnectionError(
            f"cannot start server '{server}': '{exc.filename}' {problem}",
            server=server,
            transient=False,
            hint="check the server's command and cwd ('gemma-mcp validate --strict' checks the PATH)",
        )
    if isinstance(exc, OSError):
        return MCPConnectionError(f"server '{server}' failed during {action}: {exc}{said}", server=server)
    raise exc


def _from_sdk(exc: SDKError, *, server: str, action: str, timeout: float | None, said: str) -> MCPError:
    if exc.code == CONNECTION_CLOSED:
        return MCPConnectionError(
            f"server '{server}' closed the connection during {action}{said}", server=server
        )
    if exc.code == REQUEST_TIMEOUT:
        limit = f" within {timeout:g}s" if timeout else ""
        return MCPTimeoutError(f"server '{server}' did not answer {action}{limit}", server=server)
    if exc.code == METHOD_NOT_FOUND:
        return MCPServerError(f"server '{server}' does not support {action}", server=server, code=exc.code)
    detail = exc.message or "no message"
    kind = "invalid params" if exc.code == INVALID_PARAMS else f"error {exc.code}"
    return MCPServerError(
        f"server '{server}' rejected {action}: {detail} ({kind})", server=server, code=exc.code
    )
