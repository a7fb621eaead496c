"""Plain configurations, read without pydantic: the built-in default and simple files.

The first `servers list` after an install or an edit has no snapshot to answer from, and
validating with the models costs more than the listing itself (pydantic's import and the
models' build). Most configurations are plain: server tables of strings, lists of strings,
booleans and finite numbers, no `${VAR}` references, no auth. For those, `summaries` gives
exactly the entries the models would give. Anything it is not sure of (a key or a type it does
not check, a value the models could refuse, settings that change the servers' defaults) makes
it return None, and the caller validates with the models, which say what is wrong.
"""

from __future__ import annotations

import math
import os
import shlex
import sys
from urllib.parse import urlsplit

from gemma_mcp_cli.config.discovery import ConfigSource, settings_block, settings_file
from gemma_mcp_cli.config.redaction import URL_SCHEMES, strip_credentials
from gemma_mcp_cli.enums import MCPTransportType
from gemma_mcp_cli.names import is_safe_name

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a first listing is this fast)
if TYPE_CHECKING:
    from typing import Any

LOCAL_MEMORY = "local-memory"

# The settings fields (MCPSettings) and those that change a server's defaults: a test keeps
# these in step with the models.
SETTINGS_FIELDS = frozenset(
    {
        "enabled",
        "servers_config",
        "tool_cache_ttl",
        "connection_timeout",
        "retry_count",
        "sampling_command",
        "keep_alive",
    }
)
_HARMLESS_SETTINGS = {"enabled": bool, "servers_config": str}

_STRINGS = ("command", "cwd", "url", "description")
_BOOLS = ("enabled", "auto_reconnect")
# Each number key and whether 0 is allowed (all must be finite here; keep_alive has a ceiling).
_NUMBERS = {
    "reconnect_delay": True,
    "connection_timeout": False,
    "request_timeout": False,
    "max_response_mb": False,
    "health_check_interval": True,
    "tool_cache_ttl": True,
    "keep_alive": True,
}
_KEEP_ALIVE_MAX = 86400.0
PLAIN_KEYS = frozenset(
    {*_STRINGS, *_BOOLS, *_NUMBERS, "transport", "args", "env", "headers", "max_reconnect_attempts"}
)


def builtin_servers() -> dict[str, dict[str, Any]]:
    """Return the built-in default configuration: the packaged memory server alone."""
    return {
        LOCAL_MEMORY: {
            "command": sys.executable,
            "args": ["-m", "gemma_mcp_cli.servers.local_memory"],
            "description": "The packaged memory server (SQLite, no setup needed).",
        }
    }


def summaries(source: ConfigSource) -> list[dict[str, Any]] | None:
    """Return every server's `servers list` entry, in file order; None unless the file is plain."""
    if not _plain_settings():
        return None
    if source.path is None:
        document: Any = builtin_servers()
    else:
        import tomllib

        try:
            document = tomllib.loads(source.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
    if not isinstance(document, dict) or not document:
        return None
    found = []
    for name, table in document.items():
        entry = _summary(name, table)
        if entry is None:
            return None
        found.append(entry)
    return found


def keep_alive_of(source: ConfigSource, name: str) -> float | None:
    """Return one server's `keep_alive` from a plain file; None when off, or when not surely plain."""
    if source.path is None or not _plain_settings():
        return None
    import tomllib

    try:
        document = tomllib.loads(source.path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    table = document.get(name)
    if _summary(name, table) is None or not isinstance(table, dict) or table.get("enabled", True) is not True:
        return None
    value = table.get("keep_alive")
    return float(value) if value else None


def _plain_settings() -> bool:
    """Tell whether the settings leave every server's defaults alone (and are surely valid)."""
    if any(f"GEMMA_MCP_{key.upper()}" in os.environ for key in SETTINGS_FIELDS - {"servers_config"}):
        return False
    try:
        block = settings_block(settings_file())
    except (OSError, ValueError):
        return False
    if not isinstance(block, dict):
        return False
    for key, value in block.items():
        if key in SETTINGS_FIELDS and type(value) is not _HARMLESS_SETTINGS.get(key):
            return False  # a default for every server, or a value the models may refuse
    return block.get("enabled", True) is True


def _summary(name: str, table: object) -> dict[str, Any] | None:
    """Return one server's entry, or None if the table is not plain or not surely valid."""
    if not isinstance(table, dict) or not is_safe_name(name) or not set(table) <= PLAIN_KEYS:
        return None
    if not all(_plain_value(key, value) for key, value in table.items()):
        return None
    try:
        transport = MCPTransportType(table.get("transport", "stdio"))
    except ValueError:
        return None
    command, args, url = table.get("command"), table.get("args", []), table.get("url")
    if transport is MCPTransportType.STDIO:
        if not command:
            return None
        target = shlex.join([command, *args])
    else:
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme.lower() not in URL_SCHEMES[transport] or not parts.netloc:
            return None
        target = strip_credentials(url)
    return {
        "name": name,
        "enabled": table.get("enabled", True),
        "transport": str(transport),
        "target": target,
        "description": table.get("description"),
    }


def _plain_value(key: str, value: object) -> bool:
    """Tell whether a value is of the key's type, within its bounds, and free of `$`."""
    if key == "cwd" and isinstance(value, str) and value.startswith("~"):
        return False  # a home folder the models resolve (and may fail to)
    if key in _STRINGS or key == "transport":
        return isinstance(value, str) and "$" not in value
    if key in _BOOLS:
        return type(value) is bool
    if key == "args":
        return isinstance(value, list) and all(isinstance(a, str) and "$" not in a for a in value)
    if key in ("env", "headers"):
        return isinstance(value, dict) and all(
            isinstance(v, str) and "$" not in k + v for k, v in value.items()
        )
    if key == "max_reconnect_attempts":
        return type(value) is int and value >= 0
    if type(value) not in (int, float) or not math.isfinite(value):  # type: ignore[arg-type]
        return False
    number = float(value)  # type: ignore[arg-type]
    if key == "keep_alive" and number > _KEEP_ALIVE_MAX:
        return False
    return number >= 0 if _NUMBERS[key] else number > 0
