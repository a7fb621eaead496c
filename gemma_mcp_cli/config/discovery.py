"""Which configuration file a command uses: the documented search order, with no heavy imports.

Kept apart from config.py (which needs pydantic) so that the warm-session path can find
the same file as every other command at the cost of a few stat calls.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CONFIG_ENV = "GEMMA_MCP_CONFIG"
CONFIG_NAME = "mcp_servers.toml"
SETTINGS_ENV = "GEMMA_MCP_SETTINGS"
# The origin of a file found in the current directory: it came with the project, not from the user.
PROJECT = "project"


class ConfigSource:
    """Where the configuration came from: a file, or the built-in default (path None).

    A value (compared, hashed, immutable) without `dataclasses`: that import alone (with
    `inspect`) costs a warm call more than its socket round trip.
    """

    __slots__ = ("origin", "path")
    path: Path | None
    origin: str

    def __init__(self, path: Path | None, origin: str) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "origin", origin)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"ConfigSource is immutable: cannot set {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConfigSource):
            return NotImplemented
        return (self.path, self.origin) == (other.path, other.origin)

    def __hash__(self) -> int:
        return hash((self.path, self.origin))

    def __repr__(self) -> str:
        return f"ConfigSource(path={self.path!r}, origin={self.origin!r})"

    def __str__(self) -> str:
        return str(self.path) if self.path is not None else "<built-in default>"


def find_config(
    explicit: str | Path | None = None, servers_config: str | None = None, written_in: Path | None = None
) -> ConfigSource:
    """Return the first configuration found, in the documented order.

    `written_in` is the settings file `servers_config` was read from (None: the environment).
    """
    if explicit is not None:
        return _must_exist(Path(explicit).expanduser(), "--config")
    if os.environ.get(CONFIG_ENV):
        return _must_exist(Path(os.environ[CONFIG_ENV]).expanduser(), CONFIG_ENV)
    if servers_config:
        if written_in is None:
            return _must_exist(Path(servers_config).expanduser(), "GEMMA_MCP_SERVERS_CONFIG")
        return _from_settings(servers_config, written_in)
    project, *own = _search_path()
    if project.is_file():
        mine = any(project.resolve() == path.resolve() for path in own if path.is_file())
        return ConfigSource(project, "discovered" if mine else PROJECT)
    for candidate in own:
        if candidate.is_file():
            return ConfigSource(candidate, "discovered")
    return ConfigSource(None, "built-in")


def _from_settings(value: str, settings: Path) -> ConfigSource:
    """Find the servers file a settings file names: relative to that file's folder, then to the current one.

    gemma-cli's own wizard writes a relative path ("config/mcp_servers.toml"); the original read it
    against the current folder only, so a command run anywhere else could not find it.
    """
    path = Path(value).expanduser()
    bases = [] if path.is_absolute() else [settings.expanduser().absolute().parent, Path.cwd()]
    for found in [base / path for base in bases] or [path]:
        if found.exists():
            return ConfigSource(found, "[mcp] servers_config")
    from gemma_mcp_cli.errors import MCPConfigError, program

    line = _line_of_servers_config(settings)
    where = f"servers_config in {settings}" + (f", line {line}" if line else "")
    looked = f"; looked in {' and '.join(str(b) for b in dict.fromkeys(bases))}" if bases else ""
    raise MCPConfigError(
        f"configuration file {value} (from {where}) does not exist{looked}",
        hint=f"fix servers_config in {settings}, or name the file with '{program()} --config PATH'",
    )


def _line_of_servers_config(settings: Path) -> int | None:
    from gemma_mcp_cli.config.lines import LineIndex

    try:
        return LineIndex(settings.read_text(encoding="utf-8")).line_of("mcp", "servers_config")
    except (OSError, UnicodeDecodeError):
        return None


def servers_config_setting() -> tuple[str | None, Path | None]:
    """Return gemma-cli's servers_config setting as written, and the settings file it is written in.

    From the environment (then the file is None), else from the settings file.
    """
    if os.environ.get("GEMMA_MCP_SERVERS_CONFIG"):
        return os.environ["GEMMA_MCP_SERVERS_CONFIG"], None
    file = settings_file()
    try:
        block = settings_block(file)
    except (OSError, ValueError):  # tomllib.TOMLDecodeError and UnicodeDecodeError are ValueErrors
        return None, None
    value = block.get("servers_config") if isinstance(block, dict) else None
    return (value, file) if isinstance(value, str) else (None, None)


def settings_block(file: Path) -> object:
    """Return the `[mcp]` table of gemma-cli's settings file ({} when the file does not exist).

    Raises OSError or ValueError for a file that cannot be read or parsed. `tomllib` is loaded
    only when there is a file: most users of the standalone program have none.
    """
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    import tomllib

    return tomllib.loads(text).get("mcp", {})


def _search_path() -> list[Path]:
    """Return the implicit locations, first hit wins: the project's, then the user's own."""
    return [
        Path.cwd() / "config" / CONFIG_NAME,
        user_dir("user_config_dir") / CONFIG_NAME,
        Path.home() / ".gemma_cli" / CONFIG_NAME,
    ]


# platformdirs' Linux rules for the three folders used here: $XDG_..._HOME when absolute, else
# the default under an absolute $HOME. Importing platformdirs costs a warm call about a third
# of its own time, so the plain case is computed here and anything else is left to it.
_XDG = {
    "user_config_dir": ("XDG_CONFIG_HOME", "~/.config"),
    "user_cache_dir": ("XDG_CACHE_HOME", "~/.cache"),
    "user_state_dir": ("XDG_STATE_HOME", "~/.local/state"),
}


def user_dir(kind: str) -> Path:
    """Return platformdirs' `kind` folder ("user_config_dir", ...) for gemma-mcp."""
    variable, default = _XDG[kind]
    plain = sys.platform == "linux" and not hasattr(sys, "getandroidapilevel")
    if plain and "ANDROID_DATA" not in os.environ:
        base = Path(os.environ.get(variable, ""))
        if base.is_absolute():
            return base / "gemma-mcp"
        if Path(os.environ.get("HOME", "")).is_absolute():
            return Path(default).expanduser() / "gemma-mcp"
    import platformdirs

    return Path(getattr(platformdirs, kind)("gemma-mcp"))


def settings_file() -> Path:
    """Return gemma-cli's config file: $GEMMA_MCP_SETTINGS, else ~/.gemma_cli/config.toml."""
    given = os.environ.get(SETTINGS_ENV)
    return Path(given).expanduser() if given else Path.home() / ".gemma_cli" / "config.toml"


def _must_exist(path: Path, origin: str) -> ConfigSource:
    if not path.exists():
        from gemma_mcp_cli.errors import MCPConfigError, program

        raise MCPConfigError(
            f"configuration file {path} (from {origin}) does not exist",
            hint=f"run '{program()} validate PATH' on the file you meant, or unset it to use the default",
        )
    return ConfigSource(path, origin)
