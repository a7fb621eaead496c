"""Suggest the names a server does have when asked for one it lacks."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_names(name: str, known: Iterable[str]) -> str:
    """Return '; did you mean ...?' or the names there are, for an unknown name."""
    names = sorted(set(known))
    close = difflib.get_close_matches(name, names, n=3)
    if close:
        return "; did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    if not names:
        return "; it has none"
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f"; it has: {shown}"
