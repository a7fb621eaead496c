"""Which environment variables a configuration depends on, and a digest of their values.

Saved answers (the config snapshot, a warm session) are used only in the environment they
were made in; this module is what they compare, light enough for the fastest paths.
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: warm calls load this module
if TYPE_CHECKING:
    from hashlib import sha256 as _sha256
else:  # CPython's own SHA-256 module: the same digest, without hashlib loading OpenSSL (milliseconds)
    try:
        from _sha256 import sha256 as _sha256  # Python 3.11
    except ImportError:
        try:
            from _sha2 import sha256 as _sha256  # Python 3.12 and later
        except ImportError:
            from hashlib import sha256 as _sha256


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
    return sha256_hex(text.encode())[:32]


def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 of `data` in hex, as `hashlib.sha256(data).hexdigest()` does."""
    return _sha256(data).hexdigest()
