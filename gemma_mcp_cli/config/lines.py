"""Find the line on which a server table or one of its keys is written."""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*="""
)
_PART = re.compile(r""""([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+)""")


def _split_dotted(text: str) -> tuple[str, ...]:
    """Split a dotted TOML key into its parts, unquoting each."""
    return tuple(next(g for g in m.groups() if g is not None) for m in _PART.finditer(text))


class LineIndex:
    """Maps dotted key paths of a TOML document to the line (1-based) that defines them."""

    def __init__(self, text: str) -> None:
        self._lines: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        in_multiline = False
        for number, line in enumerate(text.splitlines(), start=1):
            # Skip the inside of multi-line strings, where `[x]` and `k =` mean nothing.
            if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
                in_multiline = not in_multiline
                if not in_multiline:
                    continue
            elif in_multiline:
                continue
            header = _HEADER.match(line)
            if header:
                table = _split_dotted(header.group(1))
                self._lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                self._lines.setdefault((*table, *_split_dotted(key.group(1))), number)

    def line_of(self, *path: str) -> int | None:
        """Return the line of the longest known prefix of `path`, or None."""
        for end in range(len(path), 0, -1):
            found = self._lines.get(path[:end])
            if found is not None:
                return found
        return None
