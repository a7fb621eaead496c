"""Read other clients' MCP server files and convert their entries to our server tables."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gemma_mcp_cli.errors import MCPConfigError, program
from gemma_mcp_cli.interop.entries import Conversion, Dialect, EntryConverter

__all__ = [
    "LABELS",
    "Conversion",
    "Dialect",
    "convert",
    "default_locations",
    "detect_dialect",
    "find_source",
    "load",
    "read_json",
]

if TYPE_CHECKING:
    from gemma_mcp_cli.config.reports import Problem


LABELS = dict(zip(Dialect, ("Claude Desktop", "Cursor", "VS Code", "Gemini CLI", "Claude Code"), strict=True))
# Keys only Gemini CLI writes (`trust` and the tool filters are dropped: every tool is offered here).
_GEMINI_HINTS = {"httpUrl", "trust", "includeTools", "excludeTools"}


def default_locations(
    dialect: Dialect, *, platform: str = sys.platform, home: Path | None = None, cwd: Path | None = None
) -> list[Path]:
    """Return where a client keeps its servers, in the order to look."""
    home = home or Path.home()
    cwd = cwd or Path.cwd()
    if dialect is Dialect.CLAUDE_DESKTOP:
        base = {
            "darwin": home / "Library" / "Application Support",
            "win32": Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming"),
        }.get(platform, Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config"))
        return [base / "Claude" / "claude_desktop_config.json"]
    return {
        Dialect.CURSOR: [home / ".cursor" / "mcp.json"],
        Dialect.VSCODE: [cwd / ".vscode" / "mcp.json"],
        Dialect.GEMINI: [home / ".gemini" / "settings.json"],
        Dialect.CLAUDE_CODE: [cwd / ".mcp.json", home / ".claude.json"],
    }[dialect]


def find_source(dialect: Dialect) -> Path:
    """Return the first existing file of a client, or raise naming where it looked."""
    candidates = default_locations(dialect)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise MCPConfigError(
        f"no {LABELS[dialect]} configuration found (looked in {looked})",
        hint=f"name the file: '{program()} servers import PATH'",
    )


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON (or JSON-with-comments) file into an object, or raise MCPConfigError."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MCPConfigError(f"cannot read {path}: {reason}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            data = json.loads(_strip_comments(text))
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise MCPConfigError(f"{path}: invalid JSON: {exc.msg} ({where})") from exc
    if not isinstance(data, dict):
        raise MCPConfigError(f"{path}: expected a JSON object at the top level")
    return data


def _strip_comments(text: str) -> str:
    """Blank out `//` and `/* */` comments and trailing commas, keeping every line and column."""

    def blank(match: re.Match[str]) -> str:
        found = match.group(0)
        return found if found.startswith('"') else re.sub(r"[^\n]", " ", found)

    # VS Code and Cursor files are JSONC; strings are matched first so `//` in a URL survives.
    text = re.sub(r'"(?:[^"\\]|\\.)*"|//[^\n]*|/\*.*?\*/', blank, text, flags=re.S)
    return re.sub(r'"(?:[^"\\]|\\.)*"|,(?=\s*[}\]])', blank, text)


def load(path: Path, dialect: Dialect | None = None, *, base: Path | None = None) -> Conversion:
    """Read a client's file and convert its servers, skipping (with a warning) those we reject."""
    document = read_json(path)
    conversion = convert(document, dialect or detect_dialect(document, path), path=path)
    if conversion.servers:
        _check(conversion, base)
    if not conversion.servers:
        raise MCPConfigError(f"{path}: no server could be imported", hint="the warnings above say why")
    return conversion


def _check(conversion: Conversion, base: Path | None) -> None:
    """Validate the converted servers as a configuration at `base` would hold them."""
    from gemma_mcp_cli.config.checks import check_document
    from gemma_mcp_cli.config.loader import ConfigSource
    from gemma_mcp_cli.config.models import MCPSettings
    from gemma_mcp_cli.interop.editing import sort_problems

    report = check_document(ConfigSource(base, "import"), conversion.servers, None, MCPSettings())
    errors, warnings = sort_problems(report)
    for server, problem in errors:
        if server is not None and conversion.servers.pop(server, None) is not None:
            conversion.warnings.append(f"server '{server}': skipped: {_describe(problem)}")
    conversion.warnings += [f"server '{server}': {_describe(problem)}" for server, problem in warnings]


def _describe(problem: Problem) -> str:
    return f"{problem.field}: {problem.message}" if problem.field else problem.message


def _vscode_block(document: dict[str, Any]) -> dict[str, Any] | None:
    """Return the object holding VS Code's `servers` and `inputs` (mcp.json or settings.json)."""
    if isinstance(document.get("servers"), dict):
        return document
    nested = document.get("mcp")
    if isinstance(nested, dict) and isinstance(nested.get("servers"), dict):
        return nested
    return None


def detect_dialect(document: dict[str, Any], path: Path | None = None) -> Dialect:
    """Tell which client wrote a parsed file, from its shape and, when given, its location."""
    if _vscode_block(document) is not None:
        return Dialect.VSCODE
    servers = document.get("mcpServers")
    if not isinstance(servers, dict):
        raise MCPConfigError(
            f"{path or 'the file'}: no MCP servers found (expected an 'mcpServers' or a 'servers' object)"
        )
    if path is not None and path.parent.name in (".gemini", ".cursor"):
        return Dialect.GEMINI if path.parent.name == ".gemini" else Dialect.CURSOR
    if path is not None and path.name in (".mcp.json", ".claude.json"):
        return Dialect.CLAUDE_CODE
    entries = [entry for entry in servers.values() if isinstance(entry, dict)]
    if any(_GEMINI_HINTS & entry.keys() for entry in entries):
        return Dialect.GEMINI
    return Dialect.CLAUDE_CODE if "projects" in document else Dialect.CLAUDE_DESKTOP


def convert(document: dict[str, Any], dialect: Dialect, *, path: Path | None = None) -> Conversion:
    """Convert every server of a parsed file to our tables (not yet validated)."""
    if dialect is Dialect.VSCODE:
        block = _vscode_block(document) or {}
        key, servers, inputs = "servers", block.get("servers"), block.get("inputs")
    else:
        key, servers, inputs = "mcpServers", document.get("mcpServers"), None
    if not isinstance(servers, dict):
        raise MCPConfigError(f"{path or 'the file'}: no '{key}' object, as {LABELS[dialect]} writes")
    _require_safe_names([str(name) for name in servers], path)
    converter = EntryConverter(dialect, inputs if isinstance(inputs, list) else [], _workspace(path))
    for name, entry in servers.items():
        table = converter.server(str(name), entry)
        if table is not None:
            converter.result.servers[str(name)] = table
    if dialect is Dialect.GEMINI:
        _apply_gemini_lists(converter.result, document.get("mcp"))
    return converter.result


def _require_safe_names(names: list[str], path: Path | None) -> None:
    """Refuse a file whose server names could not be used safely (they become parts of file names)."""
    from gemma_mcp_cli.config.checks import unsafe_name
    from gemma_mcp_cli.names import is_safe_name, suggest_name

    unsafe = [name for name in names if not is_safe_name(name)]
    if unsafe:
        renames = ", ".join(f"{name!r} to '{suggest_name(name)}'" for name in unsafe)
        raise MCPConfigError(
            f"{path or 'the file'}: {unsafe_name(unsafe[0])}; nothing imported",
            server=unsafe[0],
            hint=f"rename {renames} in {path or 'the file'}, then import it again",
        )


def _workspace(path: Path | None) -> str:
    """Return the folder a project file belongs to, for `${workspaceFolder}`; `.` for user files."""
    if path is not None and path.parent.name in (".vscode", ".cursor"):
        folder = path.resolve().parent.parent
    elif path is not None and path.name == ".mcp.json":
        folder = path.resolve().parent
    else:
        return "."
    # A user-wide file (~/.cursor/mcp.json) means whatever folder is open: the current one here.
    return "." if folder == Path.home().resolve() or "}" in str(folder) else str(folder)


def _apply_gemini_lists(result: Conversion, block: Any) -> None:
    """Disable the servers that Gemini CLI's `mcp.allowed` / `mcp.excluded` turn off."""
    allowed, excluded = (
        (block.get("allowed"), block.get("excluded")) if isinstance(block, dict) else (None, None)
    )
    for name, table in result.servers.items():
        if (isinstance(allowed, list) and name not in allowed) or (
            isinstance(excluded, list) and name in excluded
        ):
            table["enabled"] = False
