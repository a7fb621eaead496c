"""gemma-mcp-cli: a command-line MCP client, and the manager behind it as a library."""

from __future__ import annotations

from gemma_mcp_cli._version import __version__

# Not typing.TYPE_CHECKING: importing typing is a measurable part of a warm call, and every
# submodule import runs this file first (type checkers treat this name the same way).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from gemma_mcp_cli.client.connection import ServerConnection
    from gemma_mcp_cli.client.manager import MCPClientManager
    from gemma_mcp_cli.config.loader import MCPConfigLoader, load_mcp_servers, validate_mcp_config
    from gemma_mcp_cli.config.models import MCPServerConfig, MCPSettings
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
    from gemma_mcp_cli.state.cache import CachedTool, MCPToolRegistry

# Loaded on first use: pydantic and the SDK cost most of a short command's time, and even the
# error family (enum, contextvars) is more than a warm call needs.
_LAZY = {
    **dict.fromkeys(("MCPServerStatus", "MCPTransportType"), "gemma_mcp_cli.enums"),
    **dict.fromkeys(
        (
            "ExitCode",
            "MCPAuthError",
            "MCPConfigError",
            "MCPConnectionError",
            "MCPError",
            "MCPInterruptedError",
            "MCPInvalidArgumentsError",
            "MCPPromptError",
            "MCPResourceError",
            "MCPServerError",
            "MCPTimeoutError",
            "MCPToolExecutionError",
            "MCPToolNotFoundError",
            "MCPUsageError",
        ),
        "gemma_mcp_cli.errors",
    ),
    "CachedTool": "gemma_mcp_cli.state.cache",
    "MCPClientManager": "gemma_mcp_cli.client.manager",
    "MCPConfigLoader": "gemma_mcp_cli.config.loader",
    "MCPServerConfig": "gemma_mcp_cli.config.models",
    "MCPSettings": "gemma_mcp_cli.config.models",
    "MCPToolRegistry": "gemma_mcp_cli.state.cache",
    "ServerConnection": "gemma_mcp_cli.client.connection",
    "load_mcp_servers": "gemma_mcp_cli.config.loader",
    "validate_mcp_config": "gemma_mcp_cli.config.loader",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in ("errors", "enums"):  # loaded by `import gemma_mcp_cli` before they became lazy
        import importlib

        return importlib.import_module(f"gemma_mcp_cli.{name}")
    raise AttributeError(f"module 'gemma_mcp_cli' has no attribute {name!r}")


__all__ = [
    "CachedTool",
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
    "MCPToolRegistry",
    "MCPTransportType",
    "MCPUsageError",
    "ServerConnection",
    "__version__",
    "load_mcp_servers",
    "validate_mcp_config",
]
