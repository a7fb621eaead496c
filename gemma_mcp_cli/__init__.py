"""gemma-mcp-cli: a command-line MCP client, and the manager behind it as a library."""

from __future__ import annotations

from gemma_mcp_cli._version import __version__
from gemma_mcp_cli.config import MCPSettings, load_mcp_servers, validate_mcp_config
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

__all__ = [
    "ExitCode",
    "MCPAuthError",
    "MCPConfigError",
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
    "__version__",
    "load_mcp_servers",
    "validate_mcp_config",
]
