"""All output: the stdout and stderr consoles, tables, and the one JSON emitter."""

from __future__ import annotations

import json
import os
import re
import sys
from functools import cache

from gemma_mcp_cli.sanitize import json_text, visible

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: a warm call prints through here
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

    from rich.console import Console

    from gemma_mcp_cli.errors import MCPError


def _console(stream: Any, *, soft_wrap: bool) -> Console:
    from rich.console import Console

    # Piped output is for programs: no wrapping at 80 columns.
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    # Server text is data: never read as markup, never auto-highlighted.
    return Console(
        file=stream,
        markup=False,
        highlight=False,
        emoji=False,
        no_color="NO_COLOR" in os.environ or None,
        soft_wrap=soft_wrap,
        width=None if is_tty else 10_000,
    )


@cache
def out() -> Console:
    """Return the console that carries data (stdout)."""
    return _console(sys.stdout, soft_wrap=False)


@cache
def err() -> Console:
    """Return the console that talks to people (stderr)."""
    return _console(sys.stderr, soft_wrap=True)


def reset() -> None:
    """Forget the consoles, so the next output binds to the current streams."""
    out.cache_clear()
    err.cache_clear()
    use_format("json")


FORMATS = ("table", "json", "jsonl", "yaml")
_document_format = ["json"]  # how emit_json writes: set once per command by --format


def use_format(name: str) -> None:
    """Choose how `emit_json` writes the command's document: json, jsonl or yaml."""
    _document_format[0] = "json" if name == "table" else name


def document_format() -> str:
    """Return how `emit_json` writes the command's document (json, jsonl or yaml)."""
    return _document_format[0]


def to_jsonable(value: Any) -> Any:
    """Turn models (with MCP's wire names) and containers into plain JSON data."""
    if hasattr(value, "model_dump"):  # a pydantic model (duck-typed: no pydantic import on fast paths)
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """Serialise a value as indented JSON text, with every control and bidi character escaped."""
    return json_text(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False))


def emit_json(document: dict[str, Any]) -> None:
    """Write the command's one document to stdout: JSON, or as --format chose (YAML, JSON lines)."""
    chosen = _document_format[0]
    if chosen == "yaml":
        from gemma_mcp_cli.cli.yaml_text import dumps as yaml_dumps

        sys.stdout.write(yaml_dumps(to_jsonable(document)))
    elif chosen == "jsonl":
        _emit_lines(to_jsonable(document))
    else:
        sys.stdout.write(dumps(document) + "\n")
    sys.stdout.flush()


def emit_json_line(document: dict[str, Any]) -> None:
    """Write one JSON object as one line to stdout, flushed (a stream of results, such as `batch`)."""
    line = json.dumps(to_jsonable(document), ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write(json_text(line) + "\n")
    sys.stdout.flush()


def _emit_lines(document: dict[str, Any]) -> None:
    """Write a listing's items one JSON object a line (the document itself when it lists nothing).

    The listing's other `errors` go to stderr as error envelopes, one a line; the first is
    the command's own failure, which the failure boundary reports.
    """
    key = next(
        (k for k, v in document.items() if k not in ("errors", "skipped") and isinstance(v, list)), None
    )
    items = document[key] if key is not None else [document]
    for item in items:
        sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
    for entry in (document.get("errors") or [])[1:] if key is not None else []:
        sys.stderr.write(json.dumps({"error": entry}, ensure_ascii=False) + "\n")


_SLICE = 1 << 20  # characters written at a time: a huge text is never copied whole


def emit_text(text: str, *, raw: bool = False) -> None:
    """Write text to stdout with one trailing newline: as it is to a pipe or if `raw`, else made safe."""
    if not raw and sys.stdout.isatty():
        text = visible(text)
    for start in range(0, len(text), _SLICE):
        sys.stdout.write(text[start : start + _SLICE])
    if not text.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.flush()


def _styled(stream: Any) -> bool:
    """Whether output to a stream gets colour and rich layout (a terminal, NO_COLOR unset)."""
    return bool(hasattr(stream, "isatty") and stream.isatty()) and "NO_COLOR" not in os.environ


# What commands use to show a name or value safely: the one definition, in `sanitize`.
printable = visible


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None) -> None:
    """Print a table of plain values to stdout (aligned plain text when piped)."""
    cells = [["" if cell is None else visible(str(cell)) for cell in row] for row in rows]
    if not cells:
        return
    if not _styled(sys.stdout):
        emit_text(_plain_table(columns, cells))
        return
    from rich.table import Table
    from rich.text import Text

    grid = Table(title=title, title_justify="left", header_style="bold", box=None, pad_edge=False)
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in cells:
        grid.add_row(*(Text(cell) for cell in row))
    out().print(grid)


def _plain_table(columns: Sequence[str], cells: list[list[str]]) -> str:
    """Align columns with two spaces, as the terminal table does, for pipes and files."""
    # Each row stays on one line; a cell's leading indent (a nested parameter) is kept.
    lines = [list(columns), *([_indent(c) + " ".join(c.split()) for c in row] for row in cells)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def _plain_fields(rows: list[tuple[str, str]]) -> str:
    """Align `key  value` for pipes and files; a value's further lines are indented under it."""
    width = max(len(key) for key, _ in rows)
    lines = []
    for key, value in rows:
        first, *rest = value.strip("\n").splitlines() or [""]
        lines.append(f"{key.ljust(width)}  {first}".rstrip())
        lines += [f"{' ' * (width + 2)}{line}".rstrip() for line in rest]
    return "\n".join(lines)


def _indent(cell: str) -> str:
    return cell[: len(cell) - len(cell.lstrip(" "))]


def fields(pairs: Iterable[tuple[str, Any]]) -> None:
    """Print `key: value` lines to stdout, aligned (without padding when piped)."""
    if not _styled(sys.stdout):
        # Server text: control characters shown escaped, as in tables (rich strips them on a tty).
        rows = [(printable(key), "" if value is None else printable(str(value))) for key, value in pairs]
        if rows:
            emit_text(_plain_fields(rows))
        return
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for key, value in pairs:
        grid.add_row(Text(visible(key)), Text("" if value is None else visible(str(value))))
    out().print(grid)


def message(text: str, *, style: str | None = None) -> None:
    """Print a message for people to stderr (styled only on a terminal), control characters made visible."""
    text = visible(text)
    if not _styled(sys.stderr):
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
        return
    from rich.text import Text

    err().print(Text(text, style=style or ""))


def ask_line(question: str, *, secret: bool = False) -> str:
    """Ask the user for one line on the terminal (the question on stderr; a secret is not echoed)."""
    if secret:
        import getpass

        # getpass turns echo off before it shows the question, so nothing typed after it shows.
        return getpass.getpass(question, stream=sys.stderr)
    from rich.text import Text

    return err().input(Text(question))


def warning(text: str) -> None:
    """Print a warning for people to stderr."""
    message(f"Warning: {text}", style="yellow")


def failure(error: MCPError, *, as_json: bool) -> None:
    """Report an error on stderr: the JSON envelope, or `Error:` and an optional `Hint:`."""
    if as_json:
        sys.stderr.write(json_text(json.dumps({"error": error.as_dict()}, ensure_ascii=False)) + "\n")
        sys.stderr.flush()
        return
    message(f"Error: {error.message}", style="bold red")
    if error.hint:
        message(f"Hint: {error.hint}", style="dim")


# C0 controls (newline and tab too: one log message is one line), DEL, C1, bidi controls.
_UNSAFE_IN_LINE = "[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"  # compiled by `re` on first use


def one_line(text: str) -> str:
    """Return server text as one line a terminal shows but never obeys: controls become escapes."""

    def escape(found: re.Match[str]) -> str:
        code = ord(found.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return re.sub(_UNSAFE_IN_LINE, escape, text)


async def server_log(server: str, level: str, logger: str | None, data: Any) -> None:
    """Show a log message a server sent (with --verbose or --log-level), as one safe line."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    source = f"{server}/{logger}" if logger else server
    message(one_line(f"[{source}] {level}: {text}"), style="dim")


class ProgressDisplay:
    """A progress bar on stderr for long tool calls, shown only on a terminal."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> ProgressDisplay:
        return self  # the bar (and rich) come with the first progress report, if one ever comes

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)

    async def update(self, server: str, progress: float, total: float | None, note: str | None) -> None:
        """Move the bar to the server's latest progress."""
        self.show(progress, total, note)

    def show(self, progress: float, total: float | None, note: str | None) -> None:
        """Move the bar (from plain code, such as a session's event callback)."""
        if self._progress is None:
            if not sys.stderr.isatty():
                return
            from rich.progress import Progress

            self._progress = Progress(console=err(), transient=True)
            self._progress.__enter__()
        description = visible(f"{self._label}: {note}" if note else self._label)
        if self._task is None:
            self._task = self._progress.add_task(description, total=total)
        self._progress.update(self._task, completed=progress, total=total, description=description)
