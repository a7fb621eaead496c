"""Which environment variables a configuration depends on, and a digest of their values.

Saved answers (the config snapshot, a warm session) are used only in the environment they
were made in; this module is what they compare, light enough for the fastest paths.
"""

from __future__ import annotations

import hashlib
import os
import re


def env_names(config_text: str) -> list[str]:
    """Return the environment variables a configuration reads, and the settings overrides."""
    names = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", config_text))
    names |= {"GEMMA_MCP_ENABLED", "GEMMA_MCP_TOOL_CACHE_TTL", "GEMMA_MCP_CONNECTION_TIMEOUT"}
    names |= {"GEMMA_MCP_RETRY_COUNT", "GEMMA_MCP_SETTINGS", "GEMMA_MCP_SERVERS_CONFIG"}
    names |= {"GEMMA_MCP_KEEP_ALIVE", "GEMMA_MCP_SAMPLING_COMMAND"}
    return sorted(names)


def env_fingerprint(names: list[str]) -> str:
    """Digest the values of the given variables (a session serves only the environment it began in)."""
    text = "\0".join(f"{name}={os.environ.get(name, '<unset>')}" for name in names)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
