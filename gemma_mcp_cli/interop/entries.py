"""Convert one server entry of another client's file to our server table.

Each client spells transports, URLs, timeouts and variables its own way; what cannot carry over
is dropped with a note, and what cannot be used at all is skipped with a warning.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Dialect(StrEnum):
    """The clients whose configuration files can be imported."""

    CLAUDE_DESKTOP = "claude-desktop"
    CURSOR = "cursor"
    VSCODE = "vscode"
    GEMINI = "gemini"
    CLAUDE_CODE = "claude-code"


_TYPES = {"stdio": "stdio", "http": "http", "streamable-http": "http", "streamablehttp": "http", "sse": "sse"}
_TYPES |= {"ws": "websocket", "websocket": "websocket"}
_KEPT = ("command", "args", "env", "cwd", "headers", "description")
_CONSUMED = {"type", "url", "disabled"}
_GEMINI_CONSUMED = {"httpUrl", "timeout"}
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


class EntryConverter:
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
            from gemma_mcp_cli.config.models import looks_secret

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
