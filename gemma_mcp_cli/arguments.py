"""Tool arguments from the command line: parse, convert by the schema, validate."""

from __future__ import annotations

import contextlib
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from gemma_mcp_cli._simple_schema import surely_valid
from gemma_mcp_cli.errors import MCPInvalidArgumentsError, MCPUsageError, program
from gemma_mcp_cli.names import close_names

_INTEGER = re.compile(r"^[+-]?\d+$")
_DIGITS = 4000  # Python refuses to read longer integers from text; such a value stays text
_BOOLEANS = {
    "true": True,
    "false": False,
    "yes": True,
    "no": False,
    "1": True,
    "0": False,
    "on": True,
    "off": False,
}


def load_args_object(source: str | None, *, stdin_text: str | None = None) -> dict[str, Any]:
    """Read `--args`: JSON text, `@file`, or `-` for standard input (already read: `stdin_text`)."""
    if source is None:
        return {}
    if source == "-":
        text, origin = sys.stdin.read() if stdin_text is None else stdin_text, "standard input"
    elif source.startswith("@"):
        try:
            text, origin = Path(source[1:]).expanduser().read_text(encoding="utf-8"), source[1:]
        except OSError as exc:
            raise MCPUsageError(f"--args: cannot read {source[1:]}: {exc.strerror or exc}") from None
    else:
        text, origin = source, "--args"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MCPUsageError(f"--args: {origin} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(value, dict):
        raise MCPUsageError(f"--args: {origin} must hold a JSON object, not {type(value).__name__}")
    return value


def parse_pairs(pairs: Iterable[str], schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """Turn `key=value` and `key:=json` pairs into arguments typed by the tool's schema."""
    properties = (schema or {}).get("properties") or {}
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, raw_json, value = _split(pair)
        if raw_json:
            try:
                parsed[key] = json.loads(value)
            except ValueError as exc:  # bad JSON, or an integer too long to read
                raise MCPUsageError(f"--arg {key}:= needs JSON: {getattr(exc, 'msg', exc)}") from None
        else:
            parsed[key] = convert(value, _types_of(properties.get(key), schema or {}))
    return parsed


def _split(pair: str) -> tuple[str, bool, str]:
    """Split `key=value` or `key:=json`, whichever `=` comes first."""
    position = pair.find("=")
    if position <= 0:
        raise MCPUsageError(f"--arg {pair!r} must look like key=value or key:=<json>")
    if pair[position - 1] == ":":
        if position == 1:
            raise MCPUsageError(f"--arg {pair!r} has no key before ':='")
        return pair[: position - 1], True, pair[position + 1 :]
    return pair[:position], False, pair[position + 1 :]


def resolve_ref(node: Any, root: Mapping[str, Any]) -> Any:
    """Follow a local `$ref` (`#/$defs/X`) to the schema it names."""
    seen = 0
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and seen < 16:
        target: Any = root
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        node, seen = target, seen + 1
    return node


def json_types(node: Any, root: Mapping[str, Any]) -> list[str]:
    """Return the JSON types a schema node accepts (empty when it does not say)."""
    return _types_of(node, root)


def _types_of(node: Any, root: Mapping[str, Any]) -> list[str]:
    """Return the JSON types a property accepts, in the order the schema gives them."""
    node = resolve_ref(node, root)
    if not isinstance(node, Mapping):
        return []
    found: list[str] = []
    declared = node.get("type")
    found += [declared] if isinstance(declared, str) else list(declared or [])
    if "enum" in node and not declared:
        found += sorted({_json_type(v) for v in node["enum"]})
    if "const" in node and not declared:
        found.append(_json_type(node["const"]))
    for key in ("anyOf", "oneOf", "allOf"):
        for option in node.get(key) or []:
            found += _types_of(option, root)
    return list(dict.fromkeys(found))


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {type(None): "null", str: "string", list: "array", dict: "object"}.get(type(value), "string")


def convert(value: str, types: list[str]) -> Any:
    """Convert command-line text to the first schema type it fits; text stays text otherwise.

    The non-string types are tried first and a string last, so `boolean | string` takes `true`
    as the boolean; where a string is allowed, only JSON's own spelling of another type counts
    (`true`, `5`, `null`), so `yes` and `007` stay text.
    """
    strict = "string" in types
    for kind in types:
        if kind != "string":
            converted = _as_type(value, kind, strict=strict)
            if converted is not _UNCONVERTED:
                return converted
    return value


_UNCONVERTED = object()
_JSON_INTEGER = re.compile(r"^-?(0|[1-9]\d*)$")
_JSON_NUMBER = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$")


def _as_type(value: str, kind: str, *, strict: bool) -> Any:
    """Return `value` as one JSON type, or `_UNCONVERTED`; `strict` accepts JSON spellings only."""
    integer = (_JSON_INTEGER if strict else _INTEGER).match(value) and len(value) <= _DIGITS
    if kind == "null":
        return None if value == "null" else _UNCONVERTED
    if kind == "integer":
        return int(value) if integer else _UNCONVERTED
    if kind == "number":
        if strict and not _JSON_NUMBER.match(value):
            return _UNCONVERTED
        try:
            number = float(value)
        except ValueError:
            return _UNCONVERTED
        if not math.isfinite(number):
            return _UNCONVERTED  # JSON has no NaN or infinity; let the schema check reject the text
        return int(value) if integer else number
    if kind == "boolean":
        if strict:
            return {"true": True, "false": False}.get(value, _UNCONVERTED)
        return _BOOLEANS.get(value.lower(), _UNCONVERTED)
    if kind in {"array", "object"}:
        try:
            parsed = json.loads(value)
        except ValueError:
            return _UNCONVERTED
        wanted = list if kind == "array" else dict
        return parsed if not strict or isinstance(parsed, wanted) else _UNCONVERTED
    return _UNCONVERTED


def validate(
    arguments: Mapping[str, Any], schema: Mapping[str, Any] | None, *, server: str, tool: str
) -> None:
    """Check arguments against the tool's input schema; raise naming every offending key.

    The prepared check is kept per schema: a session validates every warm call of a tool
    against the same schema, and preparing it (checking the schema itself) is about a
    millisecond, a hundred times the check.
    """
    if not schema:
        return
    try:
        key = (server, tool, json.dumps(schema, sort_keys=True, default=str))
    except RecursionError:
        return  # a schema nested past what Python can walk: the server judges, as for a broken one
    check = _PREPARED.get(key)
    if check is None:
        if len(_PREPARED) >= _PREPARED_LIMIT:
            _PREPARED.clear()
        check = _PREPARED[key] = checker(schema, server=server, tool=tool)
    check(arguments)


_PREPARED: dict[tuple[str, str, str], Callable[[Mapping[str, Any]], None]] = {}
_PREPARED_LIMIT = 256  # schemas; a long-lived process over many servers starts again past this


def checker(
    schema: Mapping[str, Any] | None, *, server: str, tool: str
) -> Callable[[Mapping[str, Any]], None]:
    """Return `validate` for one schema, prepared once (checking the schema itself is the slow part).

    Arguments that plainly fit a plain schema pass without jsonschema (see `_simple_schema`);
    jsonschema is imported and prepared only for the rest, and words every problem.
    """
    if not schema:
        return _accept
    prepared: list[Callable[[Mapping[str, Any]], None]] = []

    def check(arguments: Mapping[str, Any]) -> None:
        with contextlib.suppress(RecursionError):  # a schema nested past Python's limit: see below
            if surely_valid(schema, arguments):
                return
        if not prepared:
            prepared.append(_full_check(schema, server=server, tool=tool))
        prepared[0](arguments)

    return check


def _full_check(schema: Mapping[str, Any], *, server: str, tool: str) -> Callable[[Mapping[str, Any]], None]:
    """Return the jsonschema check of one schema, with the project's own rules."""
    cls = schema_validator(schema)
    if cls is None:
        return _accept  # a broken schema is the server's problem; let the server judge
    prepared = cls(_with_nullables(schema))

    def check(arguments: Mapping[str, Any]) -> None:
        problems = {_describe(error) for error in schema_errors(prepared, arguments)}
        problems |= {f"{key}: not a parameter of this tool" for key in _undeclared(arguments, schema)}
        if problems:
            raise MCPInvalidArgumentsError(
                f"invalid arguments for {tool} on '{server}': " + "; ".join(sorted(problems)),
                server=server,
                hint=f"'{program()} tools show {server} {tool}' lists its parameters",
            )

    return check


def schema_validator(schema: Mapping[str, Any]) -> Any | None:
    """Return the jsonschema validator class for a server's schema, or None for a broken schema.

    A `$schema` that is not text, or names no draft jsonschema knows, is read as the latest
    draft, as jsonschema itself would (without its deprecation warning).
    """
    from jsonschema import validators
    from jsonschema.exceptions import SchemaError

    latest = validators.Draft202012Validator
    declared = schema.get("$schema")
    cls = validators.validator_for(schema, default=latest) if isinstance(declared, str) else latest
    try:
        cls.check_schema(dict(schema))
    except (SchemaError, RecursionError):  # nested past what jsonschema can walk: broken for us
        return None
    return cls


def schema_errors(prepared: Any, instance: Mapping[str, Any]) -> list[Any]:
    """Return jsonschema's errors for `instance`; none where the schema cannot be followed.

    A `$ref` to nowhere or to another document (never fetched) leaves the server to judge.
    """
    from referencing.exceptions import Unresolvable

    try:
        return list(prepared.iter_errors(dict(instance)))
    except (Unresolvable, RecursionError):
        return []


def _accept(arguments: Mapping[str, Any]) -> None:
    return None


def _with_nullables(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """Let `null` through for a parameter whose schema says it may be null in other words.

    OpenAPI's `nullable: true` (what many generated schemas carry) and a `default` of `null`
    both say that null is a value of the parameter, though its `type` leaves null out.
    """
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return schema
    relaxed = {
        key: {"anyOf": [node, {"type": "null"}]} if _says_nullable(node) else node
        for key, node in properties.items()
    }
    return {**schema, "properties": relaxed}


def _says_nullable(node: Any) -> bool:
    return isinstance(node, Mapping) and (
        node.get("nullable") is True or ("default" in node and node["default"] is None)
    )


def _undeclared(arguments: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Return keys the schema does not declare, where it leaves extras unspecified.

    JSON Schema allows undeclared keys by default, but servers drop them silently, so a
    misspelt key would otherwise vanish; a schema that says what extras it takes is obeyed.
    """
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or schema.keys() & {"additionalProperties", "patternProperties"}:
        return []
    return [key for key in arguments if key not in properties]


def key_path(parts: Iterable[Any]) -> str:
    """Return a path into the arguments as people write it: `entities[0].entityType`."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe(error: Any) -> str:
    """Name the key an error is about (with its path into nested objects) and what was expected."""
    path = key_path(error.absolute_path)
    if error.validator == "required":
        missing = re.search(r"'([^']+)' is a required property", error.message)
        where = key_path([*error.absolute_path, missing.group(1)]) if missing else path
        return f"{where}: required, not given"
    if error.validator == "additionalProperties" and not path:
        extra = re.findall(r"'([^']+)'", error.message.split("(")[-1])
        return f"{', '.join(extra)}: not a parameter of this tool"
    return f"{path or '(arguments)'}: {error.message}"


def check_prompt(server: str, prompt: Mapping[str, Any], values: Mapping[str, str]) -> None:
    """Check a prompt's arguments against its declared ones; raise naming each missing or unknown one."""
    declared = [a for a in prompt.get("arguments") or [] if isinstance(a, Mapping)]
    names = [str(a.get("name")) for a in declared]
    problems = [
        f"{a.get('name')}: required, not given"
        for a in declared
        if a.get("required") and a.get("name") not in values
    ]
    problems += [
        f"{key}: not an argument of this prompt{close_names(key, names)}"
        for key in values
        if key not in names
    ]
    if problems:
        name = prompt.get("name")
        raise MCPInvalidArgumentsError(
            f"invalid arguments for prompt {name} on '{server}': " + "; ".join(problems),
            server=server,
            hint=f"'{program()} prompts list {server}' lists its arguments",
        )


def build(
    server: str,
    tool: str,
    definition: Mapping[str, Any],
    base: Mapping[str, Any],
    pairs: Iterable[str] | None,
) -> dict[str, Any]:
    """Build a call's arguments from --args and --arg, typed and checked by the tool's schema."""
    schema = definition.get("inputSchema")
    values = dict(base) | parse_pairs(pairs or [], schema)
    validate(values, schema, server=server, tool=tool)
    return values
