"""Checks on what a server answered that the SDK's schema cannot make."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from gemma_mcp_cli.errors import MCPServerError


def check_blobs(server: str, uri: str, contents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return resource contents whose every `blob` is valid base64, or raise naming the one that is not."""
    for item in contents:
        blob = item.get("blob")
        if blob is None:
            continue
        try:
            base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError):
            raise MCPServerError(
                f"server '{server}' sent resource {uri} with a blob that is not valid base64",
                server=server,
            ) from None
    return contents
