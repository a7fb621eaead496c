"""One function from a server's configuration to an open SDK transport."""

from __future__ import annotations

import os
from typing import TextIO

from mcp.client._transport import Transport
from mcp.client.stdio import StdioServerParameters, get_default_environment, stdio_client

from gemma_mcp_cli.enums import MCPTransportType
from gemma_mcp_cli.errors import MCPConnectionError
from gemma_mcp_cli.models import MCPServerConfig

# Beyond the SDK's safe minimum, a server also sees our own settings and the locale.
_PASSED_PREFIXES = ("GEMMA_MCP_", "XDG_", "LC_")
_PASSED_NAMES = ("LANG", "TMPDIR", "TZ")


def server_environment(config: MCPServerConfig) -> dict[str, str]:
    """Return the environment a stdio server starts with."""
    env = get_default_environment()
    for key, value in os.environ.items():
        if key.startswith(_PASSED_PREFIXES) or key in _PASSED_NAMES:
            env[key] = value
    return env | config.env


def open_transport(config: MCPServerConfig, errlog: TextIO) -> Transport:
    """Return the transport that reaches the server described by `config`."""
    if config.transport is MCPTransportType.STDIO:
        assert config.command is not None  # the model guarantees it for stdio
        params = StdioServerParameters(
            command=config.command, args=list(config.args), env=server_environment(config), cwd=config.cwd
        )
        return stdio_client(params, errlog=errlog)
    raise MCPConnectionError(
        f"the {config.transport} transport is not available in this version", server=config.name
    )
