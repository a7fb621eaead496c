"""Print MCP content for people and pipes: text raw, structured as JSON, binary named or written."""

from __future__ import annotations

from gemma_mcp_cli.cli import render

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: a warm call prints through here
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any


class CallOutput:
    """How `call` prints a result for people: `--structured` and `--output FILE`.

    A plain immutable value rather than a dataclass: a warm call loads this module, and
    `dataclasses` (with `inspect`) would cost it more than its socket round trip.
    """

    __slots__ = ("output", "raw", "structured")
    structured: bool
    output: Path | None
    raw: bool  # --raw: server text byte for byte on a terminal too

    def __init__(self, structured: bool = False, output: Path | None = None, raw: bool = False) -> None:
        for name, value in (("structured", structured), ("output", output), ("raw", raw)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"CallOutput is immutable: cannot set {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CallOutput):
            return NotImplemented
        return (self.structured, self.output, self.raw) == (other.structured, other.output, other.raw)

    def __hash__(self) -> int:
        return hash((self.structured, self.output, self.raw))

    def __repr__(self) -> str:
        return f"CallOutput(structured={self.structured!r}, output={self.output!r}, raw={self.raw!r})"


PLAIN = CallOutput()


def decoded(block: dict[str, Any]) -> bytes | None:
    """Return a block's base64 `data` or `blob` as bytes (None when it has none or it is not base64)."""
    import base64
    import binascii

    raw = block.get("data") if "data" in block else block.get("blob")
    if not isinstance(raw, str):
        return None
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None


def human_size(count: int) -> str:
    """Return a byte count as people read it."""
    if count < 1024:
        return f"{count} B"
    return f"{count / 1024:.1f} KB" if count < 1024 * 1024 else f"{count / (1024 * 1024):.1f} MB"


def size_of(block: dict[str, Any]) -> str:
    """Return a human size for a block's base64 data or text."""
    if "data" in block or "blob" in block:
        data = decoded(block)
        return human_size(len(data)) if data is not None else "invalid base64"
    return human_size(len(str(block.get("text") or "").encode()))


def _label(*parts: str | None) -> str:
    return "[" + " ".join(part for part in parts if part) + "]"


def describe(block: dict[str, Any]) -> str:
    """Name a non-text content block with its type and size."""
    kind = str(block.get("type", "content"))
    if kind == "resource":
        resource = block.get("resource") or {}
        return _label("resource", resource.get("uri"), resource.get("mimeType"), size_of(resource))
    if kind == "resource_link":
        return _label("resource link", block.get("uri"), block.get("mimeType"))
    return _label(kind, block.get("mimeType"), size_of(block))


def binary_of(block: dict[str, Any]) -> dict[str, Any] | None:
    """Return the part of a block that carries bytes (an image, audio, an embedded blob), if any."""
    if block.get("type") in ("image", "audio"):
        return block
    resource = block.get("resource")
    if block.get("type") == "resource" and isinstance(resource, dict) and "blob" in resource:
        return resource
    return None


def print_result(result: dict[str, Any], how: CallOutput = PLAIN, *, server: str | None = None) -> None:
    """Print a tool result for people: its text (or structured content), other blocks by name."""
    blocks = [b for b in result.get("content") or [] if isinstance(b, dict)]
    texts = [str(b.get("text", "")) for b in blocks if b.get("type") == "text"]
    structured = result.get("structuredContent")
    if how.structured and structured is None:
        render.message("(the result has no structured content; its text follows)", style="dim")
    if structured is not None and (how.structured or not texts):
        texts = [render.dumps(structured)]
    binaries = binaries_of(blocks)
    if how.output is not None and not binaries:
        write_output(how.output, "".join(t if t.endswith("\n") else t + "\n" for t in texts).encode())
        render.message(f"wrote {how.output}")
        texts = []
    for text in texts:
        render.emit_text(text, raw=how.raw)  # made safe on a terminal unless --raw
    for block in blocks:
        if block.get("type") != "text":
            render.emit_text(describe(block))
    if how.output is not None and binaries:
        for note in save_binaries(how.output, binaries, server=server):
            render.message(note)
    if not blocks and structured is None:
        render.message("(no content)", style="dim")


def binaries_of(blocks: list[Any]) -> list[dict[str, Any]]:
    """Return the parts of a result's blocks that carry bytes."""
    return [part for part in (binary_of(b) for b in blocks if isinstance(b, dict)) if part is not None]


def save_binaries(path: Path, binaries: list[dict[str, Any]], *, server: str | None) -> list[str]:
    """Write each binary block to `--output` (FILE, then FILE-2.ext, ...); return what was written."""
    notes = []
    for index, part in enumerate(binaries):
        kind = str(part.get("mimeType") or "binary")
        data = decoded(part)
        if data is None:
            from gemma_mcp_cli.errors import MCPServerError

            raise MCPServerError(f"the result's {kind} content is not valid base64", server=server)
        target = path if index == 0 else numbered(path, index + 1, kind)
        write_output(target, data)
        notes.append(f"wrote {target} ({kind}, {human_size(len(data))})")
    return notes


def check_output(how: CallOutput) -> None:
    """Refuse an `--output` that could not be written before the tool runs, not after."""
    if how.output is not None and (how.output.is_dir() or not how.output.parent.is_dir()):
        from gemma_mcp_cli.errors import MCPUsageError

        where = "is a directory" if how.output.is_dir() else "has no such directory"
        raise MCPUsageError(f"--output: {how.output} {where}")


# The common types first: the system's mime.types table differs from one machine to the next.
_SUFFIXES = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/svg+xml": ".svg",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
    "application/pdf": ".pdf",
    "application/octet-stream": ".bin",
}


def numbered(path: Path, number: int, mime_type: str) -> Path:
    """Return FILE-N, with the extension of this block's type where one is known."""
    import mimetypes

    suffix = _SUFFIXES.get(mime_type) or mimetypes.guess_extension(mime_type) or path.suffix
    return path.with_name(f"{path.stem}-{number}{suffix}")


def write_output(path: Path, data: bytes) -> None:
    """Write `--output` atomically; a path that cannot be written is the user's to fix."""
    from gemma_mcp_cli.state.files import write_atomically

    try:
        write_atomically(path, data)
    except OSError as exc:
        from gemma_mcp_cli.errors import MCPUsageError

        raise MCPUsageError(f"--output: cannot write {path}: {exc.strerror or exc}") from None


def report_call(
    server: str,
    tool: str,
    result: dict[str, Any],
    *,
    as_json: bool,
    how: CallOutput = PLAIN,
    asked: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Print a tool result; an `isError` result raises (exit 6) after --json printed it whole.

    `extra` members (a task's `taskId`) join the --json document after `tool`.
    """
    failed = bool(result.get("isError"))
    if as_json:
        document = {"server": server, "tool": tool, **(extra or {}), "result": result}
        render.emit_json(document | asked_entry(asked))
        if how.output is not None and not failed:
            save_binaries(how.output, binaries_of(result.get("content") or []), server=server)
    elif not failed:
        print_result(result, how, server=server)
    if failed:
        from gemma_mcp_cli.errors import tool_failure

        raise tool_failure(server, tool, result.get("content") or [])


def asked_entry(asked: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Return the `asked` member of a --json document: what the servers asked, if anything."""
    return {"asked": asked} if asked else {}


def first_line(text: str | None) -> str:
    """Return the first non-empty line of a description (for one-row-per-item tables)."""
    stripped = (text or "").strip()
    return stripped.splitlines()[0] if stripped else ""
