"""Where OAuth tokens are stored, readable without the SDK (for `auth status` and `logout`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from gemma_mcp_cli.state.paths import state_dir


def token_path(server: str) -> Path:
    """Return the file that holds one server's tokens and client registration (mode 0600)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", server)[:80]
    return state_dir() / "auth" / f"{safe}.json"


def read_stored(server: str) -> dict[str, Any]:
    """Return what is stored for a server (tokens, client, obtained_at), or an empty document."""
    try:
        document = json.loads(token_path(server).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}
