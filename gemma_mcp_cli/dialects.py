"""Read other clients' MCP server files and convert their entries to our server tables."""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gemma_mcp_cli.errors import MCPConfigError

if TYPE_CHECKING:
    from gemma_mcp_cli.config import Problem


class Dialect(StrEnum):
    """The clients whose configuration files can be imported."""

    CLAUDE_DESKTOP = "claude-desktop"
    CURSOR = "cursor"
    VSCODE = "vscode"
    GEMINI = "gemini"
    CLAUDE_CODE = "claude-code"


LABELS = dict(zip(Dialect, ("Claude Desktop", "Cursor", "VS Code", "Gemini CLI", "Claude Code"), strict=True))
_TYPES = {"stdio": "stdio", "http": "http", "streamable-http": "http", "streamablehttp": "http", "sse": "sse"}
_TYPES |= {"ws": "websocket", "websocket": "websocket"}
_KEPT = ("command", "args", "env", "cwd", "headers", "description")
_CONSUMED = {"type", "url", "disabled"}
_GEMINI_CONSUMED = {"httpUrl", "timeout"}
# Keys only Gemini CLI writes (`trust` and the tool filters are dropped: every tool is offered here).
_GEMINI_HINTS = {"httpUrl", "trust", "includeTools", "excludeTools"}
# Checked in this order: `${X}` before `${scope:arg}` so that `${X:-default}` stays ours.
_VARIABLE = re.compile(
    r"\$\$\{"
    r"|\$\{(?P<name>[A-Za-z_]\w*)(?::-[^}]*)?\}"
    r"|\$\{(?P<scope>[A-Za-z]+):(?P<arg>[^}]*)\}"
    r"|\$(?P<bare>[A-Za-z_]\w*)"
)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


@dataclass
class Conversion:
    """Servers converted from another client's file, with what did not carry over."""

    dialect: Dialect
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


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
        hint="name the file: 'gemma-mcp servers import PATH'",
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
    from gemma_mcp_cli._checks import check_document
    from gemma_mcp_cli.config import ConfigSource
    from gemma_mcp_cli.editing import sort_problems
    from gemma_mcp_cli.models import MCPSettings

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
    converter = _Converter(dialect, inputs if isinstance(inputs, list) else [], _workspace(path))
    for name, entry in servers.items():
        table = converter.server(str(name), entry)
        if table is not None:
            converter.result.servers[str(name)] = table
    if dialect is Dialect.GEMINI:
        _apply_gemini_lists(converter.result, document.get("mcp"))
    return converter.result


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


class _Converter:
    """Converts one file's entries, collecting warnings and notes."""

    def __init__(self, dialect: Dialect, inputs: list[Any], workspace: str) -> None:
        self.dialect = dialect
        self.inputs = {str(i.get("id")): i for i in inputs if isinstance(i, dict)}
        self.workspace = workspace
        self.result = Conversion(dialect)
        self._seen_inputs: set[str] = set()

    def warn(self, name: str, text: str) -> None:
        self.result.warnings.append(f"server '{name}': {text}")

    def server(self, name: str, entry: Any) -> dict[str, Any] | None:
        """Return one entry as our table, or None (with a warning) when it cannot be used."""
        if not isinstance(entry, dict):
            self.warn(name, "skipped: the entry is not an object")
            return None
        transport, url_key = self.transport(name, entry)
        if transport is None:
            return None
        self.report_dropped(name, entry, url_key)
        table = {"enabled": entry.get("disabled") is not True, "transport": transport}
        table |= {key: entry.get(key) for key in ("command", "args", "env", "cwd")}
        table |= {"url": entry.get(url_key) if url_key else None, "headers": entry.get("headers")}
        table |= {"request_timeout": self.timeout(name, entry), "description": entry.get("description")}
        return {key: self.value(name, key, v) for key, v in table.items() if v not in (None, [], {})}

    def transport(self, name: str, entry: dict[str, Any]) -> tuple[str | None, str | None]:
        """Return the transport and the key that holds the URL (None for stdio)."""
        kind = entry.get("type")
        gemini = self.dialect is Dialect.GEMINI
        if kind is not None:
            transport = _TYPES.get(str(kind).lower())
            if transport is None:
                self.warn(name, f"skipped: unknown type {kind!r}")
                return None, None
        elif gemini and "httpUrl" in entry:
            transport = "http"
        elif "url" in entry:
            scheme = str(entry["url"]).split(":", 1)[0].lower()
            transport = "websocket" if scheme in ("ws", "wss") else "sse" if gemini else "http"
        elif "command" in entry:
            transport = "stdio"
        else:
            self.warn(name, "skipped: the entry has neither a command nor a url")
            return None, None
        url_key = "httpUrl" if gemini and transport == "http" and "httpUrl" in entry else "url"
        return transport, None if transport == "stdio" else url_key

    def timeout(self, name: str, entry: dict[str, Any]) -> float | None:
        """Return Gemini CLI's `timeout` (milliseconds) as our request_timeout (seconds)."""
        value = entry.get("timeout") if self.dialect is Dialect.GEMINI else None
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            self.warn(name, f"dropped 'timeout' ({value!r} is not a positive number of milliseconds)")
            return None
        return value / 1000

    def report_dropped(self, name: str, entry: dict[str, Any], url_key: str | None) -> None:
        """Warn about the keys of an entry that have no equivalent here."""
        known = set(_KEPT) | _CONSUMED | (_GEMINI_CONSUMED if self.dialect is Dialect.GEMINI else set())
        if url_key == "httpUrl" and "url" in entry:
            self.warn(name, "dropped 'url': 'httpUrl' comes first, as in Gemini CLI")
        dropped = ", ".join(f"'{key}'" for key in entry if key not in known)
        if dropped:
            self.warn(name, f"dropped {dropped} (no equivalent here)")

    def value(self, name: str, key: str, value: Any) -> Any:
        """Convert one value: variables in strings, scalars in args/env/headers to strings."""
        if isinstance(value, str):
            return self.text(name, value)
        if key == "args" and isinstance(value, list):
            return [self.text(name, _scalar(item)) for item in value]
        if key in ("env", "headers") and isinstance(value, dict):
            from gemma_mcp_cli.models import looks_secret

            table = {str(k): self.text(name, _scalar(v)) for k, v in value.items() if v is not None}
            for item, text in table.items():
                if looks_secret(item) and "${" not in text:
                    self.warn(name, f"{key}.{item} holds a literal secret, copied as it is")
            return table
        return value

    def text(self, name: str, value: str) -> str:
        """Rewrite the client's variable forms as ours (`${X}`, `${X:-default}`)."""
        return _VARIABLE.sub(lambda match: self.variable(name, match), value)

    def variable(self, name: str, match: re.Match[str]) -> str:
        whole, scope, arg = match.group(0), match.group("scope"), match.group("arg")
        if match.group("bare"):
            # Only Gemini CLI expands `$X`; elsewhere it is literal text, such as a `$` in a password.
            return f"${{{match.group('bare')}}}" if self.dialect is Dialect.GEMINI else whole
        if match.group("name") == "workspaceFolder":
            return f"${{WORKSPACE_FOLDER:-{self.workspace}}}"
        if scope == "env" and _IDENTIFIER.fullmatch(arg):
            return f"${{{arg}}}"
        if scope == "input":
            return self.input_variable(name, arg)
        if scope is not None:
            self.warn(name, f"{whole} has no equivalent here and is kept as text")
        return whole

    def input_variable(self, name: str, input_id: str) -> str:
        """Return the environment variable that stands for a VS Code input, noting what it was."""
        variable = re.sub(r"\W", "_", input_id).upper()
        variable = variable if _IDENTIFIER.fullmatch(variable) else f"_{variable}"
        spec = self.inputs.get(input_id, {})
        description = str(spec.get("description") or "no description")
        default = spec.get("default")
        usable = isinstance(default, str) and "}" not in default and not spec.get("password")
        note = f"${{{variable}}} was VS Code input '{input_id}' ({description})"
        notes = self.result.notes.setdefault(name, [])
        if note not in notes:
            notes.append(note)
        if input_id not in self._seen_inputs:
            self._seen_inputs.add(input_id)
            extra = (
                f" (default {default!r})" if usable else "" if spec else "; it is not declared in 'inputs'"
            )
            self.warn(name, f"{note}: set {variable} in the environment{extra}")
        return f"${{{variable}:-{default}}}" if usable else f"${{{variable}}}"


def _scalar(value: Any) -> str:
    """Return a JSON scalar as the string the client would pass on."""
    return value if isinstance(value, str) else json.dumps(value)
