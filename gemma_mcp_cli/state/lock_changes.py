"""Compare a server's locked schema with what it offers now: every change, and which ones break callers."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gemma_mcp_cli.arguments import json_types

# A caller written against the lock can fail after any of these.
BREAKING = frozenset(
    {
        "server_removed",
        "tool_removed",
        "prompt_removed",
        "template_removed",
        "required_parameter_added",
        "parameter_now_required",
        "parameter_removed",
        "parameter_type_narrowed",
        "enum_values_removed",
        "read_only_hint_lost",
        "prompt_argument_required",
        "prompt_argument_removed",
    }
)
_ALL_TYPES = frozenset({"string", "number", "integer", "boolean", "null", "array", "object"})


@dataclass(frozen=True)
class Change:
    """One difference between the lock and the server."""

    server: str
    kind: str
    subject: str  # what changed: `tool search`, `tool search parameter limit`, `prompt summarise`
    message: str

    @property
    def breaking(self) -> bool:
        """Tell whether callers written against the lock may fail because of it."""
        return self.kind in BREAKING

    def as_dict(self) -> dict[str, Any]:
        """Return the change as `--json` lists it."""
        return {
            "server": self.server,
            "kind": self.kind,
            "breaking": self.breaking,
            "subject": self.subject,
            "message": self.message,
        }


def compare(server: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Return every change from `old` (the lock) to `new` (the server now), breaking ones first."""
    changes: list[Change] = []

    def note(kind: str, subject: str, message: str) -> None:
        changes.append(Change(server, kind, subject, message))

    _named(note, "tool", old.get("tools") or {}, new.get("tools") or {}, _tool)
    _named(
        note, "template", old.get("resourceTemplates") or {}, new.get("resourceTemplates") or {}, _template
    )
    _named(note, "prompt", old.get("prompts") or {}, new.get("prompts") or {}, _prompt)
    for key, kind in (("serverInfo", "server_info_changed"), ("protocolVersion", "protocol_version_changed")):
        if old.get(key) != new.get(key):
            note(kind, "server", f"{key} was {old.get(key)!r}, is {new.get(key)!r}")
    return sorted(changes, key=lambda c: (not c.breaking, c.subject, c.kind))


Note = Callable[[str, str, str], None]


def _named(
    note: Note,
    noun: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    inner: Callable[[Note, str, Any, Any], None],
) -> None:
    for name in sorted(old.keys() - new.keys()):
        note(f"{noun}_removed", f"{noun} {name}", f"{noun} {name!r} was removed")
    for name in sorted(new.keys() - old.keys()):
        note(f"{noun}_added", f"{noun} {name}", f"{noun} {name!r} was added")
    for name in sorted(old.keys() & new.keys()):
        inner(note, f"{noun} {name}", old[name], new[name])


def _tool(note: Note, subject: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    _parameters(note, subject, old.get("inputSchema") or {}, new.get("inputSchema") or {})
    was = bool((old.get("annotations") or {}).get("readOnlyHint"))
    now = bool((new.get("annotations") or {}).get("readOnlyHint"))
    if was and not now:
        note("read_only_hint_lost", subject, f"{subject} is no longer marked read-only")
    elif now and not was:
        note("read_only_hint_gained", subject, f"{subject} is now marked read-only")
    elif old.get("annotations") != new.get("annotations"):
        note("annotations_changed", subject, f"{subject} has other annotations")
    for key in ("title", "description"):
        if old.get(key) != new.get(key):
            note(f"{key}_changed", subject, f"{subject} has a new {key}")
    if old.get("outputSchema") != new.get("outputSchema"):
        note("output_schema_changed", subject, f"{subject} has a new output schema")


def _parameters(note: Note, subject: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    before, after = old.get("properties") or {}, new.get("properties") or {}
    was_required, now_required = set(old.get("required") or []), set(new.get("required") or [])
    for name in sorted(before.keys() - after.keys()):
        note("parameter_removed", f"{subject} parameter {name}", f"{subject}: parameter {name!r} was removed")
    for name in sorted(after.keys() - before.keys()):
        kind = "required_parameter_added" if name in now_required else "parameter_added"
        label = "required parameter" if name in now_required else "optional parameter"
        note(kind, f"{subject} parameter {name}", f"{subject}: new {label} {name!r}")
    for name in sorted(before.keys() & after.keys()):
        where = f"{subject} parameter {name}"
        if name in now_required and name not in was_required:
            note("parameter_now_required", where, f"{subject}: parameter {name!r} is now required")
        elif name in was_required and name not in now_required:
            note("parameter_now_optional", where, f"{subject}: parameter {name!r} is now optional")
        _parameter(note, where, (before[name], old), (after[name], new))


def _parameter(
    note: Note, where: str, old: tuple[Any, Mapping[str, Any]], new: tuple[Any, Mapping[str, Any]]
) -> None:
    was, now = _accepted(*old), _accepted(*new)
    lost = {t for t in was if not _covers(now, t)}
    if lost:
        note("parameter_type_narrowed", where, f"{where} no longer accepts {', '.join(sorted(lost))}")
    elif {t for t in now if not _covers(was, t)}:
        note("parameter_type_widened", where, f"{where} now accepts {', '.join(sorted(now - was))}")
    old_enum, new_enum = _enum(old[0]), _enum(new[0])
    if new_enum is not None and old_enum is None:
        note("enum_values_removed", where, f"{where} is now limited to {_values(new_enum)}")
    elif old_enum is not None and new_enum is not None:
        removed = [v for v in old_enum if v not in new_enum]
        added = [v for v in new_enum if v not in old_enum]
        if removed:
            note("enum_values_removed", where, f"{where} no longer takes {_values(removed)}")
        if added:
            note("enum_values_added", where, f"{where} also takes {_values(added)}")
    elif old_enum is not None and new_enum is None:
        note("enum_values_added", where, f"{where} is no longer limited to a list of values")


def _accepted(node: Any, root: Mapping[str, Any]) -> frozenset[str]:
    found = frozenset(json_types(node, root))
    return found or _ALL_TYPES  # a parameter the schema does not type accepts anything


def _covers(types: frozenset[str], kind: str) -> bool:
    return kind in types or (kind == "integer" and "number" in types)


def _enum(node: Any) -> list[Any] | None:
    enum = node.get("enum") if isinstance(node, Mapping) else None
    return list(enum) if isinstance(enum, list) else None


def _values(values: list[Any]) -> str:
    return ", ".join(json.dumps(v) for v in values)


def _template(note: Note, subject: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    if old != new:
        note("template_changed", subject, f"{subject} has a new name, description or MIME type")


def _prompt(note: Note, subject: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    before = {a["name"]: a for a in old.get("arguments") or []}
    after = {a["name"]: a for a in new.get("arguments") or []}
    for name in sorted(before.keys() - after.keys()):
        note("prompt_argument_removed", subject, f"{subject}: argument {name!r} was removed")
    for name in sorted(after.keys()):
        required, was = bool(after[name].get("required")), before.get(name)
        if required and (was is None or not was.get("required")):
            note("prompt_argument_required", subject, f"{subject}: argument {name!r} is now required")
        elif was is None:
            note("prompt_argument_added", subject, f"{subject}: new optional argument {name!r}")
    if old.get("description") != new.get("description") or old.get("title") != new.get("title"):
        note("description_changed", subject, f"{subject} has a new title or description")
