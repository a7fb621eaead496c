"""Edit the server configuration file in place, keeping its comments, order and mode."""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gemma_mcp_cli.errors import MCPConfigError, MCPError, program
from gemma_mcp_cli.interop.tables import new_table, remove_table, replace_table, set_key
from gemma_mcp_cli.state import trust
from gemma_mcp_cli.state.files import write_atomically

if TYPE_CHECKING:
    from tomlkit import TOMLDocument

    from gemma_mcp_cli.config.reports import ConfigReport, Problem


@dataclass
class Edit:
    """What an edit did to the configuration file."""

    path: Path
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    changed: bool = True
    warnings: list[str] = field(default_factory=list)


def edit_target(explicit: str | None = None) -> Path:
    """Return the file edits go to: the one commands read, else where a new one belongs."""
    from gemma_mcp_cli.config.discovery import CONFIG_ENV, CONFIG_NAME
    from gemma_mcp_cli.config.loader import find_config, load_settings

    settings = load_settings()
    named = explicit or os.environ.get(CONFIG_ENV) or settings.servers_config
    if named:
        return Path(named).expanduser()
    found = find_config(None, settings).path
    if found is not None:
        return found
    import platformdirs

    return Path(platformdirs.user_config_dir("gemma-mcp")) / CONFIG_NAME


def add_server(path: Path, name: str, table: dict[str, Any]) -> Edit:
    """Append one server table; the name must be new."""
    hint = f"remove it first ('{program()} servers remove {name}') or choose another name"
    return merge_servers(path, {name: table}, {}, replace=False, hint=hint)


def merge_servers(
    path: Path,
    servers: dict[str, dict[str, Any]],
    notes: Mapping[str, list[str]],
    *,
    replace: bool,
    hint: str = "add --replace to overwrite them, or remove them first",
) -> Edit:
    """Add servers at the end; a name already there is an error unless `replace` (then in place)."""
    mode, doc, before = _open(path)
    clashes = [name for name in servers if name in before]
    if clashes and not replace:
        names = ", ".join(f"'{name}'" for name in clashes)
        raise MCPConfigError(f"{path} already has {names}; nothing written", server=clashes[0], hint=hint)
    # A `[name]` table is replaced where it stands; an inline or dotted one moves to the end.
    moved = [name for name in clashes if not replace_table(doc, name, servers[name])]
    fresh = {name: table for name, table in servers.items() if name not in before or name in moved}
    new_text = _append(doc.as_string(), render_servers(fresh, notes)) if fresh else doc.as_string()
    warnings = _commit(path, new_text, mode, before | servers, list(servers))
    added = [name for name in servers if name not in before]
    return Edit(path, added=added, replaced=clashes, warnings=warnings)


def remove_server(path: Path, name: str) -> Edit:
    """Remove one server table with the comment block written just above it."""
    mode, doc, before = _open(path, must_exist=True)
    _require(before, name, path)
    remove_table(doc, name)
    expected = {key: value for key, value in before.items() if key != name}
    return Edit(path, warnings=_commit(path, doc.as_string(), mode, expected, []))


def set_enabled(path: Path, name: str, enabled: bool) -> Edit:
    """Set one server's `enabled`, changing that line alone."""
    mode, doc, before = _open(path, must_exist=True)
    table = _require(before, name, path)
    if table.get("enabled", True) is enabled:
        return Edit(path, changed=False)
    set_key(doc[name], "enabled", enabled)
    expected = before | {name: table | {"enabled": enabled}}
    return Edit(path, warnings=_commit(path, doc.as_string(), mode, expected, [name]))


def render_servers(
    servers: Mapping[str, dict[str, Any]], notes: Mapping[str, list[str]] | None = None
) -> str:
    """Return server tables as TOML text, each preceded by its note lines as comments."""
    import tomlkit

    doc = tomlkit.document()
    for name, values in servers.items():
        if doc.body:
            doc.add(tomlkit.nl())
        for line in (notes or {}).get(name, []):
            doc.add(tomlkit.comment(line))
        table = new_table(values)
        doc.add(name, table)
        # Keep the comments right above their header (tomlkit would put a blank line there).
        table.trivia.indent = ""
    return doc.as_string()


def check_text(text: str, path: Path, names: Iterable[str] = ()) -> list[str]:
    """Validate a whole configuration as it would be written; return the named servers' warnings."""
    from gemma_mcp_cli.config.checks import check_document
    from gemma_mcp_cli.config.lines import LineIndex
    from gemma_mcp_cli.config.loader import ConfigSource
    from gemma_mcp_cli.config.models import MCPSettings

    report = check_document(ConfigSource(path, "edit"), tomllib.loads(text), LineIndex(text), MCPSettings())
    errors, warnings = sort_problems(report)
    if errors:
        server, problem = errors[0]
        hint = f"{len(errors) - 1} more problem(s)" if len(errors) > 1 else None
        if not report.servers:
            hint = "a configuration needs one server at least; delete the file to use the built-in default"
        raise MCPConfigError(f"not written: {report.describe(server, problem)}", server=server, hint=hint)
    wanted = set(names)
    return [report.describe(server, p) for server, p in warnings if server in wanted]


def sort_problems(report: ConfigReport) -> tuple[list[tuple[str | None, Problem]], list[tuple[str, Problem]]]:
    """Split problems into errors and warnings, where what the environment lacks only warns."""
    errors: list[tuple[str | None, Problem]] = [(None, problem) for problem in report.errors]
    warnings: list[tuple[str, Problem]] = []
    for server in report.servers:
        # An unset variable depends on the shell the edit runs in, not on the file: it may be set
        # where the server runs. So may an error on the same key (an empty url, for one).
        unset = {_top(p) for p in server.errors if _is_unset(p)}
        for problem in server.errors:
            if _top(problem) in unset:
                warnings.append((server.name, problem))
            else:
                errors.append((server.name, problem))
        warnings += [(server.name, problem) for problem in server.warnings]
    return errors, warnings


def _is_unset(problem: Problem) -> bool:
    return problem.message.startswith("environment variable ") and " is not set" in problem.message


def _top(problem: Problem) -> str:
    return (problem.field or "").split(".")[0]


def _open(path: Path, *, must_exist: bool = False) -> tuple[int | None, TOMLDocument, dict[str, Any]]:
    """Return the file's mode, editable document and plain data (empty when it is new)."""
    import tomlkit
    from tomlkit.exceptions import ParseError

    try:
        text, mode = path.read_text(encoding="utf-8"), stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        if must_exist:
            hint = f"'{program()} servers add' creates it"
            raise MCPConfigError(f"configuration file {path} does not exist", hint=hint) from None
        text, mode = "", None
    except (OSError, UnicodeDecodeError) as exc:
        raise MCPConfigError(f"cannot read {path}: {exc}") from exc
    try:
        return mode, tomlkit.parse(text), tomllib.loads(text)
    except (ParseError, tomllib.TOMLDecodeError) as exc:
        hint = f"run '{program()} validate {path}' and fix it first"
        raise MCPConfigError(f"{path}: invalid TOML: {exc}", hint=hint) from exc


def _require(before: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    """Return the named server's table, or raise naming the servers that exist."""
    table = before.get(name)
    if isinstance(table, dict):
        return table
    import difflib

    close = difflib.get_close_matches(name, list(before), n=1)
    raise MCPConfigError(
        f"unknown server '{name}' in {path}" + (f"; did you mean '{close[0]}'?" if close else ""),
        server=name,
        hint=f"'{program()} servers list --all' shows the configured servers",
    )


def _commit(path: Path, text: str, mode: int | None, expected: dict[str, Any], names: list[str]) -> list[str]:
    """Check the new text and write it atomically, keeping the file's mode (new files: 0600)."""
    if tomllib.loads(text) != expected:
        # A safety net under tomlkit: an edit must change the servers it names and nothing else.
        raise MCPError(f"internal error: the edit of {path} would change more than asked; nothing written")
    warnings = check_text(text, path, names)
    # Write through a symlink (a dotfiles checkout, say) rather than replacing it.
    target = path.resolve() if path.is_symlink() else path
    was_trusted = trust.is_trusted_as_is(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # A new file may hold imported literal secrets: readable by the user alone.
        write_atomically(target, text.encode("utf-8"), mode=0o600 if mode is None else mode)
    except OSError as exc:  # a read-only folder, a full disk: the file is left as it was
        raise MCPConfigError(
            f"cannot write {path}: {exc.strerror or exc}; nothing was changed",
            hint="check that its folder is writable and the disk has room",
        ) from None
    if was_trusted:
        trust.trust(target)  # the user's own edit of a file they trusted keeps it trusted
    return warnings


def _append(text: str, block: str) -> str:
    """Return `text` with `block` after it, one blank line between."""
    if not text.strip():
        return block
    text = text if text.endswith("\n") else text + "\n"
    return text + ("" if text.endswith("\n\n") else "\n") + block
