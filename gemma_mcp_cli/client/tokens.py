"""Where OAuth tokens are stored, readable without the SDK (for `auth status` and `logout`).

Credentials belong to the resource they were issued for, not to a server's name: a file is
named by a digest of the canonical resource URL (and the configured issuer), and holds that
URL, so a configuration that reuses a name with another `url` finds nothing to send.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gemma_mcp_cli.names import file_stem
from gemma_mcp_cli.state.files import read_private
from gemma_mcp_cli.state.paths import state_dir

if TYPE_CHECKING:
    from gemma_mcp_cli.config.models import MCPServerConfig

_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_resource(url: str) -> str:
    """Return the canonical resource URL (RFC 8707): lower-case scheme and host, no default port,
    no credentials, query or fragment, no trailing slash."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def binding(config: MCPServerConfig) -> tuple[str, str | None]:
    """Return what a server's credentials are bound to: its canonical resource URL and configured issuer."""
    issuer = config.auth.issuer if config.auth is not None else None
    return canonical_resource(config.url or ""), issuer


def token_path(config: MCPServerConfig) -> Path:
    """Return the file that holds a resource's tokens and client registration (mode 0600)."""
    resource, issuer = binding(config)
    return state_dir() / "auth" / f"{file_stem(resource if issuer is None else f'{resource} {issuer}')}.json"


def read_stored(config: MCPServerConfig) -> dict[str, Any]:
    """Return what is stored for a server's resource (tokens, client, obtained_at), or an empty document.

    A file that names another resource or issuer (moved, planted or from an older version) is ignored.
    """
    data = read_private(token_path(config))
    try:
        document = json.loads(data) if data is not None else None
    except ValueError:
        return {}
    if not isinstance(document, dict):
        return {}
    resource, issuer = binding(config)
    if document.get("resource") != resource or (issuer is not None and document.get("issuer") != issuer):
        return {}
    return document
