"""The retry policy: what may be tried again, how often, and how long to wait between tries."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from gemma_mcp_cli.errors import MCPConnectionError, MCPError

MAX_DELAY = 30.0  # seconds; the doubling stops here


def backoff(base: float, attempt: int, rng: random.Random | None = None) -> float:
    """Return the wait before retry `attempt` (1-based): doubling from `base`, capped, half jittered."""
    delay = min(base * 2 ** (attempt - 1), MAX_DELAY)
    jitter = rng.uniform(0, delay / 2) if rng is not None else random.uniform(0, delay / 2)
    return float(delay / 2 + jitter)


def may_retry_connect(error: MCPError) -> bool:
    """Tell whether a failed connection attempt is worth another try.

    A missing command or a refused login will fail the same way again, and a timeout has
    already spent the time the user allowed; a server that broke off may not.
    """
    return isinstance(error, MCPConnectionError) and error.transient


def safe_to_repeat(tool: Mapping[str, Any] | None) -> bool:
    """Tell whether a tool call may be sent twice: its annotations say it has no new effect."""
    annotations = (tool or {}).get("annotations") or {}
    return bool(annotations.get("readOnlyHint") or annotations.get("idempotentHint"))
