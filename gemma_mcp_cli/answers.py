"""Answers for servers that ask back: the policy a command runs with, and how a form is answered.

A server may ask in the middle of a request (elicitation, the 2026 input-required rounds). On a
terminal the user is asked; otherwise `--answers`, `--accept-defaults`, `--decline` or `--cancel`
decide, and with none of them the question is declined. This module holds the part of that which
needs neither the SDK nor a terminal: reading the options, filling and checking a form, and
keeping secret-looking answers out of what is printed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gemma_mcp_cli.errors import MCPInvalidArgumentsError, MCPUsageError

REDACTED = "***"
ACTIONS = ("accept", "decline", "cancel")
# Words that make a form field's answer a secret: never echoed, printed or recorded.
_SECRET_WORDS = ("password", "passwd", "passphrase", "secret", "token", "key", "pin", "credential", "otp")


class Asker(Protocol):
    """What the client needs from whoever answers a server's questions (the CLI, or a session)."""

    @property
    def interactive(self) -> bool:
        """Whether a person answers (their time does not count against the request's timeout)."""
        ...

    @property
    def roots(self) -> Sequence[str]:
        """Directories given for every server (`--root`)."""
        ...

    async def elicit(self, server: str, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one `elicitation/create` (wire params); return `{"action", "content"?}`."""
        ...

    def noted(self, record: dict[str, Any]) -> None:
        """Keep a record of something a server asked and how it was answered."""
        ...

    def notice(self, text: str, hint: str | None = None) -> None:
        """Tell the user something about a question a server asked (stderr)."""
        ...


@dataclass(frozen=True)
class AnswerPolicy:
    """How questions are answered when nobody is asked: the answer options of a command."""

    answers: Any = None  # an object (every form), or a list (one item per form, in order)
    accept_defaults: bool = False
    decline: bool = False
    cancel: bool = False
    roots: tuple[str, ...] = ()

    @property
    def given(self) -> bool:
        """Whether any answer option was given (then nobody is asked, even on a terminal)."""
        return self.answers is not None or self.accept_defaults or self.decline or self.cancel

    def as_dict(self) -> dict[str, Any]:
        """Return the policy as JSON data (what a warm session is sent)."""
        return {
            "answers": self.answers,
            "accept_defaults": self.accept_defaults,
            "decline": self.decline,
            "cancel": self.cancel,
            "roots": list(self.roots),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnswerPolicy:
        """Read a policy back from `as_dict`."""
        return cls(
            answers=data.get("answers"),
            accept_defaults=bool(data.get("accept_defaults")),
            decline=bool(data.get("decline")),
            cancel=bool(data.get("cancel")),
            roots=tuple(str(root) for root in data.get("roots") or ()),
        )


def make_policy(
    answers: str | None,
    *,
    accept_defaults: bool = False,
    decline: bool = False,
    cancel: bool = False,
    roots: Sequence[str] = (),
) -> AnswerPolicy:
    """Check the answer options against each other and read `--answers`."""
    if decline and cancel:
        raise MCPUsageError("--decline and --cancel contradict each other")
    if (decline or cancel) and (answers is not None or accept_defaults):
        given = "--decline" if decline else "--cancel"
        raise MCPUsageError(f"{given} contradicts --answers and --accept-defaults")
    found = []
    for root in roots:
        path = Path(root).expanduser()
        if not path.is_dir():
            raise MCPUsageError(f"--root {root}: not a directory")
        found.append(str(path.resolve()))
    return AnswerPolicy(
        load_answers(answers) if answers is not None else None,
        accept_defaults=accept_defaults,
        decline=decline,
        cancel=cancel,
        roots=tuple(found),
    )


def load_answers(source: str) -> Any:
    """Read `--answers`: JSON text, `@FILE`, or `-` for standard input."""
    if source == "-":
        text, origin = sys.stdin.read(), "standard input"
    elif source.startswith("@"):
        try:
            text, origin = Path(source[1:]).expanduser().read_text(encoding="utf-8"), source[1:]
        except OSError as exc:
            raise MCPUsageError(f"--answers: cannot read {source[1:]}: {exc.strerror or exc}") from None
    else:
        text, origin = source, "the value"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MCPUsageError(f"--answers: {origin} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not (isinstance(item, dict) or item in ("decline", "cancel")):
            raise MCPUsageError(
                f"--answers: {origin} must hold an object of answers, or a list of objects "
                '(or "decline" / "cancel"), one per question'
            )
    return value


@dataclass
class AnswerQueue:
    """Hands out `--answers` one question at a time: a list in order, an object to every form."""

    answers: Any
    used: int = field(default=0)

    def next(self, server: str) -> dict[str, Any] | str | None:
        """Return the answer for the next question (None: the options give none)."""
        if self.answers is None:
            return None
        self.used += 1
        if not isinstance(self.answers, list):
            return shared(self.answers) if isinstance(self.answers, dict) else str(self.answers)
        if self.used > len(self.answers):
            raise MCPInvalidArgumentsError(
                f"server '{server}' asked question {self.used}, but --answers holds "
                f"{len(self.answers)} answer{'s' if len(self.answers) != 1 else ''}",
                server=server,
                hint="give one list item per question, in the order the server asks",
            )
        return self.answers[self.used - 1]  # type: ignore[no-any-return]


def fields_of(schema: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Return a form's fields (the `properties` of its requested schema), in order."""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return {}
    return {str(k): dict(v) for k, v in properties.items() if isinstance(v, Mapping)}


def required_of(schema: Mapping[str, Any]) -> list[str]:
    """Return the names of a form's required fields."""
    required = schema.get("required")
    return [str(name) for name in required] if isinstance(required, list) else []


def defaults_of(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return the form filled with its fields' defaults."""
    return {name: node["default"] for name, node in fields_of(schema).items() if "default" in node}


def fill(
    server: str, schema: Mapping[str, Any], given: Mapping[str, Any], *, accept_defaults: bool
) -> dict[str, Any]:
    """Return the content to send: the given answers (over the defaults, if asked), checked."""
    fields = fields_of(schema)
    content = defaults_of(schema) if accept_defaults else {}
    content |= {key: value for key, value in given.items() if key in fields}
    unknown = sorted(set(given) - set(fields))
    if unknown and not isinstance(given, _Shared):
        raise MCPInvalidArgumentsError(
            f"--answers: {', '.join(unknown)}: not a field of the form server '{server}' sent "
            f"(its fields: {', '.join(fields) or 'none'})",
            server=server,
        )
    missing = [name for name in required_of(schema) if name not in content]
    if missing:
        source = "default" if accept_defaults and not given else "answer or default"
        raise MCPInvalidArgumentsError(
            f"server '{server}' needs {', '.join(missing)}, which ha{'s' if len(missing) == 1 else 've'} "
            f"no {source}",
            server=server,
            hint="answer it with --answers '{\"" + missing[0] + "\": ...}'",
        )
    check(server, schema, content)
    return content


class _Shared(dict[str, Any]):
    """An `--answers` object shared by every form: keys another form has are not errors here."""


def shared(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Mark an answers object as meant for every form the server sends."""
    return _Shared(answers)


def check(server: str, schema: Mapping[str, Any], content: Mapping[str, Any]) -> None:
    """Check a form's content against its requested schema; raise naming each bad field."""
    problems = problems_of(schema, content)
    if problems:
        raise MCPInvalidArgumentsError(
            f"the answers for server '{server}' do not fit its form: " + "; ".join(problems),
            server=server,
        )


def problems_of(schema: Mapping[str, Any], content: Mapping[str, Any]) -> list[str]:
    """Return what is wrong with a form's content, one entry per field (secret values unnamed)."""
    from gemma_mcp_cli.arguments import schema_errors, schema_validator

    cls = schema_validator(schema)
    if cls is None:
        return []  # a broken schema is the server's to judge
    found = []
    for error in schema_errors(cls(schema), content):
        path = ".".join(str(part) for part in error.absolute_path) or "(form)"
        node = fields_of(schema).get(path, {})
        said = f"{error.validator} {error.validator_value!r}" if is_secret(path, node) else error.message
        found.append(f"{path}: {said}")
    return sorted(set(found))


def is_secret(name: str, node: Mapping[str, Any]) -> bool:
    """Tell whether a form field's answer looks like a secret (by its name, title or description)."""
    if node.get("writeOnly") is True or node.get("format") == "password":
        return True
    words = " ".join(str(part) for part in (name, node.get("title"), node.get("description")) if part)
    lowered = words.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def redacted(schema: Mapping[str, Any], content: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Return a form's content with every secret-looking answer replaced by `***`."""
    if content is None:
        return None
    fields = fields_of(schema)
    return {k: REDACTED if is_secret(k, fields.get(k, {})) else v for k, v in content.items()}
