"""gemma-mcp-cli: a command-line MCP client, and the manager behind it as a library."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gemma_mcp_cli._version import __version__
from gemma_mcp_cli.config import MCPConfigLoader, MCPSettings, load_mcp_servers, validate_mcp_config
from gemma_mcp_cli.enums import MCPServerStatus, MCPTransportType
from gemma_mcp_cli.errors import (
    ExitCode,
    MCPAuthError,
    MCPConfigError,
    MCPConnectionError,
    MCPError,
    MCPInterruptedError,
    MCPInvalidArgumentsError,
    MCPPromptError,
    MCPResourceError,
    MCPServerError,
    MCPTimeoutError,
    MCPToolExecutionError,
    MCPToolNotFoundError,
    MCPUsageError,
)
from gemma_mcp_cli.models import MCPServerConfig

if TYPE_CHECKING:
    from gemma_mcp_cli._sdk_connection import ServerConnection
    from gemma_mcp_cli.manager import MCPClientManager

_LAZY = {"MCPClientManager": "gemma_mcp_cli.manager", "ServerConnection": "gemma_mcp_cli._sdk_connection"}


def __getattr__(name: str) -> Any:
    # These import the SDK (most of a second); load them only when asked for.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gemma_mcp_cli' has no attribute {name!r}")


__all__ = [
    "ExitCode",
    "MCPAuthError",
    "MCPClientManager",
    "MCPConfigError",
    "MCPConfigLoader",
    "MCPConnectionError",
    "MCPError",
    "MCPInterruptedError",
    "MCPInvalidArgumentsError",
    "MCPPromptError",
    "MCPResourceError",
    "MCPServerConfig",
    "MCPServerError",
    "MCPServerStatus",
    "MCPSettings",
    "MCPTimeoutError",
    "MCPToolExecutionError",
    "MCPToolNotFoundError",
    "MCPTransportType",
    "MCPUsageError",
    "ServerConnection",
    "__version__",
    "load_mcp_servers",
    "validate_mcp_config",
]
