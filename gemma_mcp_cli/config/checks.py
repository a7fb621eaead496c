"""Turn a parsed TOML document into server configs plus every problem found on the way."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gemma_mcp_cli.config.discovery import ConfigSource
from gemma_mcp_cli.config.expand import expand
from gemma_mcp_cli.config.lines import LineIndex
from gemma_mcp_cli.config.models import MCPServerConfig, MCPSettings, resolve_cwd, resolve_roots
from gemma_mcp_cli.config.reports import ConfigReport, Problem, ServerReport, suggest
from gemma_mcp_cli.enums import MCPTransportType
from gemma_mcp_cli.names import NAME_RULE, is_safe_name, suggest_name

_KNOWN = set(MCPServerConfig.model_fields) - {"name"}


class _Expander:
    """Expands variables through a server's values, remembering what it met."""

    def __init__(self) -> None:
        self.expanded: set[str] = set()
        self.unset: list[tuple[str, str]] = []
        self.empty: list[tuple[str, str]] = []
        self.malformed: list[tuple[str, str]] = []

    def walk(self, value: Any, path: str) -> Any:
        """Return `value` with every string in it expanded."""
        if isinstance(value, str):
            result = expand(value)
            if result.secret:
                self.expanded.add(path)
            self.unset += [(path, name) for name in result.unset]
            self.empty += [(path, name) for name in result.empty]
            self.malformed += [(path, snippet) for snippet in result.malformed]
            return result.value
        if isinstance(value, list):
            return [self.walk(item, f"{path}.{i}") for i, item in enumerate(value)]
        if isinstance(value, dict):
            return {key: self.walk(item, f"{path}.{key}") for key, item in value.items()}
        return value


def check_document(
    source: ConfigSource, document: dict[str, Any], lines: LineIndex | None, settings: MCPSettings
) -> ConfigReport:
    """Validate every table of the document as a server, disabled ones too."""
    report = ConfigReport(source)
    for name, table in document.items():
        line = lines.line_of(name) if lines else None
        if not isinstance(table, dict):
            report.errors.append(
                Problem(f"'{name}' is not a server table (write it as [{name}] with server keys)", line=line)
            )
            continue
        report.servers.append(_check_server(name, table, source, lines, settings))
    if not report.servers and not report.errors:
        report.errors.append(Problem("the file defines no servers"))
    return report


def unsafe_name(name: str) -> str:
    """Say why a server name is refused, and suggest one that is not."""
    return f"server name {name!r} may hold only {NAME_RULE}; call it '{suggest_name(name)}'"


def _check_server(
    name: str, table: dict[str, Any], source: ConfigSource, lines: LineIndex | None, settings: MCPSettings
) -> ServerReport:
    """Validate one server table."""

    def at(*path: str) -> int | None:
        return lines.line_of(name, *path) if lines else None

    enabled = table.get("enabled", True) is not False
    report = ServerReport(name=name, enabled=enabled, config=None)
    if not is_safe_name(name):
        report.errors.append(Problem(unsafe_name(name), line=at()))
    for key in table.keys() - _KNOWN:
        report.errors.append(Problem(f"unknown key{suggest(key)}", field=key, line=at(key)))
    expander = _Expander()
    data = {key: expander.walk(value, key) for key, value in table.items() if key in _KNOWN}
    for path, variable in expander.unset:
        message = (
            f"environment variable {variable} is not set and has no default (write ${{{variable}:-default}})"
        )
        target = report.errors if enabled else report.warnings
        target.append(
            Problem(
                message if enabled else message + "; the server is disabled",
                field=path,
                line=at(*path.split(".")),
            )
        )
    for path, snippet in expander.malformed:
        how = "write ${NAME}, ${NAME:-default}, or $${ for a literal"
        message = f"malformed variable reference {snippet!r}: {how}"
        report.errors.append(Problem(message, field=path, line=at(*path.split("."))))
    for path, variable in expander.empty if enabled else ():
        report.warnings.append(
            Problem(f"environment variable {variable} is empty", field=path, line=at(*path.split(".")))
        )
    data.setdefault("connection_timeout", settings.connection_timeout)
    if settings.sampling_command is not None:
        data.setdefault("sampling_command", list(settings.sampling_command))
    if settings.keep_alive is not None:
        data.setdefault("keep_alive", settings.keep_alive)
    if isinstance(data.get("cwd"), str):
        data["cwd"] = resolve_cwd(data["cwd"], source.path.parent if source.path else None)
    if isinstance(data.get("roots"), list):
        data["roots"] = resolve_roots(data["roots"], source.path.parent if source.path else None)
    try:
        config = MCPServerConfig.model_validate({"name": name, **data})
    except ValidationError as exc:
        report.errors += [_pydantic_problem(error, at) for error in exc.errors()]
        return report
    config.with_expanded(frozenset(expander.expanded))
    if enabled:
        report.warnings += _warnings(config, table, at)
    report.config = config if not report.errors else None
    return report


def _pydantic_problem(error: Any, at: Any) -> Problem:
    """Flatten one pydantic error into a problem at its key and line."""
    if error["type"] == "transport":
        field = error["ctx"]["field"]
        return Problem(error["ctx"]["message"], field=field, line=at(*field.split(".")))
    path = [str(part) for part in error["loc"]]
    message = str(error["msg"])
    if error["type"].endswith("_type") or error["type"] in {"enum", "literal_error"}:
        message += f", got {type(error['input']).__name__} {error['input']!r}"
    return Problem(message, field=".".join(path) or None, line=at(*path))


def _warnings(config: MCPServerConfig, table: dict[str, Any], at: Any) -> list[Problem]:
    """Return what is legal but probably wrong."""
    found: list[Problem] = []
    if config.transport is MCPTransportType.STDIO:
        if config.command and not _command_exists(config.command, config.cwd):
            found.append(
                Problem(f"command '{config.command}' was not found on PATH", "command", at("command"))
            )
        found += [
            Problem(f"'{k}' is ignored by the stdio transport", k, at(k))
            for k in ("url", "headers")
            if k in table
        ]
    else:
        found += [
            Problem(f"'{k}' is ignored by the {config.transport} transport", k, at(k))
            for k in ("command", "args", "env", "cwd")
            if k in table
        ]
    if config.cwd and not Path(config.cwd).is_dir():
        found.append(Problem(f"working directory {config.cwd} does not exist", "cwd", at("cwd")))
    return found


def _command_exists(command: str, cwd: str | None) -> bool:
    """Tell whether a stdio command can be started as written."""
    if "/" in command:
        path = Path(command).expanduser()
        if not path.is_absolute() and cwd:
            path = Path(cwd) / path
        return path.is_file()
    return shutil.which(command) is not None
