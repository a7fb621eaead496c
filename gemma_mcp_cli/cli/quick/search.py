"""A cached `tools search`, answered without Typer, pydantic or the SDK.

Read from the snapshot of the validated configuration and the listing cache, like a cached
`tools list` (`lists.py`). Anything this cannot answer exactly as the full path would (an
option it does not know, `--refresh`, a server with no fresh cache) returns None.
"""

from __future__ import annotations

from gemma_mcp_cli.cli.quick import leading_config

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

_FLAGS = {"--json", "--offline"}
_VALUES = {"--limit", "-n"}


def parse(argv: list[str]) -> dict[str, Any] | None:
    """Return the parts of a plain `tools search QUERY [SERVER...]`, or None for anything else."""
    start = leading_config(argv)
    if start is None:
        return None
    config, i = start
    if argv[i : i + 2] != ["tools", "search"]:
        return None
    found: dict[str, Any] = {"config": config, "flags": set(), "words": [], "limit": None}
    rest = argv[i + 2 :]
    while rest:
        word = rest.pop(0)
        if word in _FLAGS:
            found["flags"].add(word)
        elif word in _VALUES and rest and rest[0].isdigit() and int(rest[0]) >= 1:
            found["limit"] = int(rest.pop(0))
        elif word.startswith("-"):
            return None  # --help, --refresh, a bad --limit: the full path answers
        else:
            found["words"].append(word)
    return found if found["words"] else None


def run(argv: list[str]) -> int | None:
    """Answer a search from the snapshot and the cache; None to take the full path."""
    try:
        request = parse(argv)
        if request is None:
            return None
        from gemma_mcp_cli.cli.quick.lists import cached_items, saved_snapshot, say_trust

        snapshot = saved_snapshot(request)
        query, *names = request["words"]
        items = cached_items(snapshot, names, stale_ok="--offline" in request["flags"]) if snapshot else None
        if items is None:
            return None
        from gemma_mcp_cli.cli.tool_search import DEFAULT_LIMIT, rank, show

        show(rank(query, items, request["limit"] or DEFAULT_LIMIT), [], as_json="--json" in request["flags"])
        say_trust(request)
        return 0
    except Exception:  # anything unexpected here: the full path knows better
        return None
