"""Names: suggest the ones a server has for one it lacks; the safe server-name pattern; file names."""

from __future__ import annotations

import re

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: warm calls load this module
if TYPE_CHECKING:
    from collections.abc import Iterable


def close_names(name: str, known: Iterable[str]) -> str:
    """Return '; did you mean ...?' or the names there are, for an unknown name."""
    import difflib  # only for a name that is not there

    names = sorted(set(known))
    close = difflib.get_close_matches(name, names, n=3)
    if close:
        return "; did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    if not names:
        return "; it has none"
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f"; it has: {shown}"


# Server names become parts of file names and command lines: keep them to characters that are
# inert in both, and never "." or ".." (which name directories).
SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
NAME_RULE = "letters, digits, '.', '_' and '-', not starting with '.'"


def is_safe_name(name: str) -> bool:
    """Tell whether a server name matches the documented safe pattern."""
    return SAFE_NAME.fullmatch(name) is not None


def suggest_name(name: str) -> str:
    """Return a safe name close to an unsafe one: each run of other characters becomes '-'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).lstrip(".-").rstrip("-") or "server"


def file_stem(name: str) -> str:
    """Return a file name for anything named by a server or a URL: sanitised, plus a digest.

    The digest keeps two names that sanitise alike (`work/api`, `work api`) apart; the result
    has no separator, no leading dot and a bounded length, so it stays inside its directory.
    """
    import hashlib  # not at the top: a warm call loads this module and never names a file

    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:48].lstrip(".") or "server"
    return f"{safe}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"
