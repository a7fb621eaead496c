"""Which configuration file a command uses: the documented search order, with no heavy imports.

Kept apart from config.py (which needs pydantic) so that the warm-session path can find
the same file as every other command at the cost of a few stat calls.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from gemma_mcp_cli.errors import MCPConfigError

CONFIG_ENV = "GEMMA_MCP_CONFIG"
CONFIG_NAME = "mcp_servers.toml"
SETTINGS_ENV = "GEMMA_MCP_SETTINGS"
# The origin of a file found in the current directory: it came with the project, not from the user.
PROJECT = "project"


@dataclass(frozen=True)
class ConfigSource:
    """Where the configuration came from: a file, or the built-in default (path None)."""

    path: Path | None
    origin: str

    def __str__(self) -> str:
        return str(self.path) if self.path is not None else "<built-in default>"


def find_config(explicit: str | Path | None = None, servers_config: str | None = None) -> ConfigSource:
    """Return the first configuration found, in the documented order."""
    if explicit is not None:
        return _must_exist(Path(explicit).expanduser(), "--config")
    if os.environ.get(CONFIG_ENV):
        return _must_exist(Path(os.environ[CONFIG_ENV]).expanduser(), CONFIG_ENV)
    if servers_config:
        return _must_exist(Path(servers_config).expanduser(), "[mcp] servers_config")
    project, *own = _search_path()
    if project.is_file():
        mine = any(project.resolve() == path.resolve() for path in own if path.is_file())
        return ConfigSource(project, "discovered" if mine else PROJECT)
    for candidate in own:
        if candidate.is_file():
            return ConfigSource(candidate, "discovered")
    return ConfigSource(None, "built-in")


def servers_config_setting() -> str | None:
    """Return gemma-cli's servers_config setting as written (environment, then its file)."""
    if os.environ.get("GEMMA_MCP_SERVERS_CONFIG"):
        return os.environ["GEMMA_MCP_SERVERS_CONFIG"]
    try:
        block = tomllib.loads(settings_file().read_text(encoding="utf-8")).get("mcp", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    value = block.get("servers_config") if isinstance(block, dict) else None
    return value if isinstance(value, str) else None


def _search_path() -> list[Path]:
    """Return the implicit locations, first hit wins: the project's, then the user's own."""
    import platformdirs

    return [
        Path.cwd() / "config" / CONFIG_NAME,
        Path(platformdirs.user_config_dir("gemma-mcp")) / CONFIG_NAME,
        Path.home() / ".gemma_cli" / CONFIG_NAME,
    ]


def settings_file() -> Path:
    """Return gemma-cli's config file: $GEMMA_MCP_SETTINGS, else ~/.gemma_cli/config.toml."""
    given = os.environ.get(SETTINGS_ENV)
    return Path(given).expanduser() if given else Path.home() / ".gemma_cli" / "config.toml"


def _must_exist(path: Path, origin: str) -> ConfigSource:
    if not path.exists():
        raise MCPConfigError(
            f"configuration file {path} (from {origin}) does not exist",
            hint="run 'gemma-mcp validate PATH' on the file you meant, or unset it to use the default",
        )
    return ConfigSource(path, origin)
