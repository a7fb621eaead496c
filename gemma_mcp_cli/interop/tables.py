"""Surgery on a tomlkit document: add, replace or remove a table and keep the comments around it.

tomlkit keeps a table's trailing comments inside the table, although in the file they introduce
the next one; these helpers move such lines to where a reader of the file expects them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tomlkit import TOMLDocument

Body = list[tuple[Any, Any]]


def new_table(values: Mapping[str, Any]) -> Any:
    """Return a new table holding `values`."""
    import tomlkit

    from gemma_mcp_cli.config.models import MCPServerConfig

    # Keys in the order of the model, which is the order the README and the example file use.
    order = list(MCPServerConfig.model_fields)
    table = tomlkit.table()
    for key in sorted(values, key=lambda k: order.index(k) if k in order else len(order)):
        value = values[key]
        table.add(key, _inline(value) if isinstance(value, dict) else value)
    return table


def _inline(values: Mapping[str, Any]) -> Any:
    """Return an inline table spaced as the example file writes them: `{ K = "v" }`."""
    import tomlkit
    from tomlkit.items import Whitespace

    inline = tomlkit.inline_table()
    for index, (key, value) in enumerate(values.items()):
        item = tomlkit.item(value)
        item.trivia.indent = " " if index == 0 else ""
        inline.append(key, item)
    inline.append(None, Whitespace(" "))
    return inline


def set_key(table: Any, key: str, value: Any) -> None:
    """Set one key, keeping its trailing comment in the same column."""
    if key not in table:
        tail = _tail_body(table)
        trailer = _pop_trivia(tail) if tail is not None else []
        table.add(key, value)
        (_tail_body(table) or []).extend(trailer)
        return
    old = table.item(key)
    width = len(old.as_string())
    table[key] = value
    new = table.item(key)
    if new.trivia.comment:
        new.trivia.comment_ws = " " * max(1, len(old.trivia.comment_ws) + width - len(new.as_string()))


def _tail_body(item: Any) -> Body | None:
    """Return the body that holds a table's last lines (the comments before the next header)."""
    from tomlkit.items import Table

    if not isinstance(item, Table):
        return None
    body: Body = item.value.body
    while body and isinstance(body[-1][1], Table):
        body = body[-1][1].value.body
    return body


def _pop_trivia(body: Body, *, comments_only: bool = False) -> Body:
    """Remove and return the comment and blank lines at the end of a body."""
    from tomlkit.items import Comment, Whitespace

    kinds: Any = Comment if comments_only else (Comment, Whitespace)
    run: Body = []
    while body and body[-1][0] is None and isinstance(body[-1][1], kinds):
        run.insert(0, body.pop())
    return run


def _detach(doc: TOMLDocument, name: str) -> tuple[int, list[int], Body]:
    """Return where a table starts, where its later parts are, and its trailing lines (taken off)."""
    first, *later = [i for i, (key, _) in enumerate(doc.body) if key is not None and key.key == name]
    own = _tail_body(doc.body[first][1])
    return first, later, _pop_trivia(own) if own is not None else []


def remove_table(doc: TOMLDocument, name: str) -> None:
    """Remove a table and its comment block; the lines after it belong to the next table, and stay."""
    body = doc.body
    first, later, trailer = _detach(doc, name)
    previous = _tail_body(body[first - 1][1]) if first and body[first - 1][0] is not None else None
    head = body[:first]
    after = trailer + [entry for i, entry in enumerate(body) if i > first and i not in later]
    above = previous if previous is not None else head
    _pop_trivia(above, comments_only=True)
    # The blank line above goes too, unless it is all that will part the tables around.
    if above and _is_blank(above[-1]) and (not after or _is_blank(after[0])):
        above.pop()
    # Only the rendered text is used afterwards, so tomlkit's key index may go stale here;
    # with nothing left above, the file starts with what followed, not with a blank line.
    body[:] = head + (after if head else _strip_blanks(after))


def _strip_blanks(lines: Body) -> Body:
    while lines and _is_blank(lines[0]):
        lines = lines[1:]
    return lines


def _is_blank(entry: tuple[Any, Any]) -> bool:
    from tomlkit.items import Whitespace

    return entry[0] is None and isinstance(entry[1], Whitespace)


def replace_table(doc: TOMLDocument, name: str, values: dict[str, Any]) -> bool:
    """Replace a `[name]` table in place, keeping the comments around it; else remove it, say False."""
    import tomlkit
    from tomlkit.items import Table

    key, item = next(entry for entry in doc.body if entry[0] is not None and entry[0].key == name)
    if not isinstance(item, Table) or key is None or key.is_dotted():
        remove_table(doc, name)
        return False
    first, later, trailer = _detach(doc, name)
    table = new_table(values)
    table.value.body.extend(trailer)
    doc.body[:] = [
        (tomlkit.key(name), table) if i == first else entry
        for i, entry in enumerate(doc.body)
        if i not in later
    ]
    return True
