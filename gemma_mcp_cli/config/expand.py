"""Expand `${VAR}` and `${VAR:-default}` in configuration strings."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

# `$${` stays a literal `${`; otherwise `${NAME}` or `${NAME:-default}`; any other `${` is malformed.
_PATTERN = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|(\$\{)")

# Variables the client defines itself when the environment does not: never secret.
BUILTIN_VARIABLES = {"GEMMA_MCP_PYTHON": sys.executable}


@dataclass
class Expansion:
    """The expanded text and what the expansion ran into."""

    value: str
    from_environment: list[str] = field(default_factory=list)
    unset: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)  # the start of each `${` that names no variable

    @property
    def secret(self) -> bool:
        """Whether the value holds anything that came from the user's environment."""
        return bool(self.from_environment)


def expand(text: str, environ: Mapping[str, str] | None = None) -> Expansion:
    """Expand every variable reference in `text`."""
    env = os.environ if environ is None else environ
    result = Expansion(value="")

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if match.group(3) is not None:
            result.malformed.append(text[match.start() : match.start() + 24])
            return "${"
        if name is None:
            return "${"
        value = env.get(name)
        if value is None:
            value = BUILTIN_VARIABLES.get(name)
        elif value != "":
            result.from_environment.append(name)
        if value is None and default is None:
            result.unset.append(name)
            return ""
        if value is None or (value == "" and default is not None):
            return default or ""
        if value == "":
            result.empty.append(name)
        return value

    result.value = _PATTERN.sub(substitute, text)
    return result
