"""YAML for JSON data: a small emitter, so `--format yaml` needs no dependency.

Every JSON document is valid YAML 1.2 already; this writes the block style people read. A
string is left plain only when it cannot be read back as anything else; otherwise it is
written double-quoted with JSON's escapes (valid YAML), non-printable characters included.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./@+-]*( [A-Za-z0-9_./@+()-]+)*$")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}
# Characters YAML does not allow raw in a document, beyond those JSON escapes already.
_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]")


def dumps(value: Any) -> str:
    """Return `value` (JSON data) as a YAML document, ending with a newline."""
    return "\n".join(_lines(value, 0)) + "\n"


def scalar(value: Any) -> str:
    """Return one JSON scalar as YAML text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value) if math.isfinite(value) else _not_finite(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _float(value: float) -> str:
    # `1e+300` is a float in YAML 1.2 but a string to YAML 1.1 readers; `1.0e+300` is one to both.
    mantissa, e, exponent = json.dumps(value).partition("e")
    return mantissa + (".0" if e and "." not in mantissa else "") + e + exponent


def _not_finite(value: float) -> str:
    return ".nan" if math.isnan(value) else ".inf" if value > 0 else "-.inf"


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        lines = []
        for key, item in value.items():
            lines += _entry(pad + scalar(str(key)) + ":", item, indent)
        return lines
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        lines = []
        for item in value:
            first, *rest = _lines(item, indent + 2)
            lines += [pad + "- " + first.lstrip(), *rest]
        return lines
    return [pad + scalar(value)]


def _entry(head: str, item: Any, indent: int) -> list[str]:
    if isinstance(item, dict) and item:
        return [head, *_lines(item, indent + 2)]
    if isinstance(item, list) and item:
        return [head, *_lines(item, indent)]  # a sequence may sit at its key's own indent
    return [head + " " + _lines(item, 0)[0]]
