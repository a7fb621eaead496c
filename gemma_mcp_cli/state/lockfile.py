"""The schema lock file (`mcp.lock.json`): what each server offered, sorted and stable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gemma_mcp_cli.errors import MCPConfigError, program
from gemma_mcp_cli.state.files import write_atomically

FORMAT = "gemma-mcp-lock/1"
FILE_NAME = "mcp.lock.json"
_TOOL_KEYS = ("title", "description", "inputSchema", "outputSchema", "annotations")
_TEMPLATE_KEYS = ("name", "title", "description", "mimeType")
_PROMPT_KEYS = ("title", "description")


def default_path(config_path: Path | None) -> Path:
    """Return where the lock lives: beside the configuration file (else the working directory)."""
    return (config_path.resolve().parent if config_path else Path.cwd()) / FILE_NAME


def server_entry(
    described: dict[str, Any],
    tools: list[dict[str, Any]],
    templates: list[dict[str, Any]],
    prompts: list[dict[str, Any]],
) -> dict[str, Any]:
    """Return one server's part of the lock, from its handshake and listings."""
    info = described.get("serverInfo") or {}
    return {
        "serverInfo": {key: info[key] for key in ("name", "version") if key in info},
        "protocolVersion": described.get("protocolVersion"),
        "tools": {str(t["name"]): _pick(t, _TOOL_KEYS) for t in tools},
        "resourceTemplates": {str(t["uriTemplate"]): _pick(t, _TEMPLATE_KEYS) for t in templates},
        "prompts": {str(p["name"]): _prompt(p) for p in prompts},
    }


def _pick(item: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: item[key] for key in keys if item.get(key) is not None}


def _prompt(prompt: dict[str, Any]) -> dict[str, Any]:
    arguments = sorted(prompt.get("arguments") or [], key=lambda a: str(a.get("name")))
    entry = _pick(prompt, _PROMPT_KEYS)
    entry["arguments"] = [
        {"name": a["name"], "required": bool(a.get("required"))} | _pick(a, ("description",))
        for a in arguments
    ]
    return entry


def dumps(servers: dict[str, dict[str, Any]]) -> str:
    """Return the lock's text: keys sorted, two-space indents, one trailing newline (diffs stay small)."""
    return (
        json.dumps({"format": FORMAT, "servers": servers}, indent=2, sort_keys=True, ensure_ascii=False)
        + "\n"
    )


def write(path: Path, servers: dict[str, dict[str, Any]]) -> None:
    """Write the lock atomically: a reader sees the old file or the new one, never half of one."""
    try:
        write_atomically(path, dumps(servers).encode("utf-8"), mode=0o644)
    except OSError as exc:
        raise MCPConfigError(f"cannot write the lock file {path}: {exc.strerror or exc}") from None


def read(path: Path) -> dict[str, dict[str, Any]]:
    """Return the servers of a lock file; a missing or foreign file is a configuration error."""
    hint = f"run '{program()} lock' to write it"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MCPConfigError(f"no lock file at {path}", hint=hint) from None
    except (OSError, ValueError) as exc:
        raise MCPConfigError(f"cannot read the lock file {path}: {exc}", hint=hint) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise MCPConfigError(f"{path} is not a {FORMAT} lock file", hint=hint)
    servers = document.get("servers")
    if not isinstance(servers, dict) or not all(_well_formed(entry) for entry in servers.values()):
        raise MCPConfigError(f"{path} is not a {FORMAT} lock file", hint=hint)
    return servers


def _well_formed(entry: Any) -> bool:
    """Tell whether a server's entry has the shape comparing it relies on (the file may be edited)."""
    if not isinstance(entry, dict):
        return False
    parts = [entry.get(key, {}) for key in ("tools", "resourceTemplates", "prompts")]
    if not all(isinstance(part, dict) and all(isinstance(v, dict) for v in part.values()) for part in parts):
        return False
    tools, _, prompts = parts
    return all(_schema_ok(tool.get("inputSchema", {})) for tool in tools.values()) and all(
        isinstance(p.get("arguments", []), list)
        and all(isinstance(a, dict) and isinstance(a.get("name"), str) for a in p.get("arguments", []))
        for p in prompts.values()
    )


def _schema_ok(schema: Any) -> bool:
    return (
        isinstance(schema, dict)
        and isinstance(schema.get("properties", {}), dict)
        and isinstance(schema.get("required", []), list)
    )
