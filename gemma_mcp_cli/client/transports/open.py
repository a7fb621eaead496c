"""One function from a server's configuration to an open SDK transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TextIO

import httpx2
from mcp.client._transport import Transport, TransportStreams
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from gemma_mcp_cli.client.transports.early_start import server_environment
from gemma_mcp_cli.config.models import MCPServerConfig
from gemma_mcp_cli.enums import MCPTransportType

_STREAM_READ = 300.0  # a server may hold a response stream open this long between events

ResponseHook = Callable[[httpx2.Response], Any]


def request_headers(config: MCPServerConfig) -> dict[str, str]:
    """Return the HTTP headers every request to a remote server carries (bearer token included)."""
    headers = dict(config.headers)
    if config.auth is not None and config.auth.type == "bearer" and config.auth.token:
        headers["Authorization"] = f"Bearer {config.auth.token}"
    return headers


def open_transport(
    config: MCPServerConfig,
    errlog: TextIO,
    *,
    on_response: ResponseHook | None = None,
    auth: httpx2.Auth | None = None,
) -> Transport:
    """Return the transport that reaches the server described by `config`."""
    if config.transport is MCPTransportType.STDIO:
        assert config.command is not None  # the model guarantees it for stdio
        params = StdioServerParameters(
            command=config.command, args=list(config.args), env=server_environment(config), cwd=config.cwd
        )
        return stdio_client(params, errlog=errlog)
    assert config.url is not None  # the model guarantees it for remote transports
    if config.transport is MCPTransportType.WEBSOCKET:
        from gemma_mcp_cli.client.transports.websocket import websocket_client

        return websocket_client(config.url, request_headers(config), open_timeout=config.connection_timeout)
    return _http(config, on_response, auth)


@asynccontextmanager
async def _http(
    config: MCPServerConfig, on_response: ResponseHook | None, auth: httpx2.Auth | None
) -> AsyncIterator[TransportStreams]:
    """Open Streamable HTTP or legacy SSE over a client that carries headers and timeouts."""
    assert config.url is not None
    hooks = {"response": [on_response]} if on_response is not None else {}

    def client(
        headers: dict[str, str] | None = None,
        timeout: httpx2.Timeout | None = None,
        auth: httpx2.Auth | None = auth,
    ) -> httpx2.AsyncClient:
        limits = timeout or httpx2.Timeout(
            config.request_timeout, connect=config.connection_timeout, read=_STREAM_READ
        )
        return httpx2.AsyncClient(headers=headers, timeout=limits, auth=auth, event_hooks=hooks)

    headers = request_headers(config)
    if config.transport is MCPTransportType.SSE:
        async with sse_client(
            config.url,
            headers=headers,
            timeout=config.connection_timeout,
            sse_read_timeout=_STREAM_READ,
            httpx_client_factory=client,
            auth=auth,
        ) as streams:
            yield streams
        return
    async with client(headers) as http, streamable_http_client(config.url, http_client=http) as streams:
        yield streams
