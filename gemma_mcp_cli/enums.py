"""Enumerations shared by the configuration and the manager."""

from __future__ import annotations

from enum import StrEnum


class MCPTransportType(StrEnum):
    """How the client reaches a server."""

    STDIO = "stdio"
    HTTP = "http"
    SSE = "sse"
    WEBSOCKET = "websocket"


class MCPServerStatus(StrEnum):
    """Where one server's connection stands."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    ERROR = "error"
