"""gemma-cli's `[mcp]` settings: its config file, overridden by GEMMA_MCP_* variables."""

from __future__ import annotations

import os
import shlex
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gemma_mcp_cli.config.discovery import settings_file
from gemma_mcp_cli.config.models import MCPSettings
from gemma_mcp_cli.errors import MCPConfigError

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _from_file(file: Path) -> dict[str, Any]:
    if not file.is_file():
        return {}
    try:
        block = tomllib.loads(file.read_text(encoding="utf-8")).get("mcp", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MCPConfigError(f"{file}: cannot read gemma-cli settings: {exc}") from exc
    if not isinstance(block, dict):
        raise MCPConfigError(f"{file}: [mcp] must be a table")
    return block


def _from_environment() -> dict[str, Any]:
    """Read GEMMA_MCP_<KEY> for every settings key, converted to the key's type."""
    found: dict[str, Any] = {}
    for key, field in MCPSettings.model_fields.items():
        variable = f"GEMMA_MCP_{key.upper()}"
        text = os.environ.get(variable)
        if text is None:
            continue
        kind = field.annotation
        try:
            if kind is bool:
                if text.lower() not in _TRUE | _FALSE:
                    raise ValueError(text)
                found[key] = text.lower() in _TRUE
            elif "list" in str(kind):
                found[key] = shlex.split(text)
            elif "float" in str(kind):
                found[key] = float(text)
            elif "int" in str(kind):
                found[key] = int(text)
            else:
                found[key] = text
        except ValueError:
            raise MCPConfigError(f"{variable}={text!r} is not a valid {key}") from None
    return found


def load_settings(path: str | Path | None = None) -> MCPSettings:
    """Return the settings: defaults, then the `[mcp]` block of the file, then the environment."""
    file = Path(path).expanduser() if path else settings_file()
    block, overrides = _from_file(file), _from_environment()
    origins = dict.fromkeys(block, f"[mcp] in {file}") | {
        key: f"GEMMA_MCP_{key.upper()}" for key in overrides
    }
    try:
        settings = MCPSettings.model_validate(block | overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise MCPConfigError(f"{origins.get(key, file)}: {key}: {first['msg']}") from exc
    return settings.with_origins(origins, {key: file for key in block if key not in overrides})
