"""`servers list` and a cached `tools list`, answered without Typer or the SDK.

Both are read from the snapshot of the validated configuration and the listing cache. When
no snapshot matches the configuration (the first run after an install or an edit), a plain
configuration is listed straight from the file (`config.plain`, without pydantic); any other is
validated here, with pydantic but without Typer, which saves a snapshot. Anything
this cannot answer exactly as the full path would (an option it does not know, a server with
no fresh cache, a configuration with problems) returns None and takes the full path.
"""

from __future__ import annotations

from gemma_mcp_cli.cli.quick import leading_config

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a first listing is this fast)
if TYPE_CHECKING:
    from typing import Any


_COMMANDS = {("servers", "list"): {"--all", "--json"}, ("tools", "list"): {"--json", "--offline"}}


def parse(argv: list[str]) -> dict[str, Any] | None:
    """Return the parts of a plain `servers list` or `tools list`, or None for anything else."""
    start = leading_config(argv)
    if start is None:
        return None
    config, i = start
    command = tuple(argv[i : i + 2])
    if command not in _COMMANDS:
        return None
    flags = {word for word in argv[i + 2 :] if word.startswith("-")}
    names = [word for word in argv[i + 2 :] if not word.startswith("-")]
    if not flags <= _COMMANDS[command] or (names and command[0] == "servers"):
        return None
    return {"config": config, "command": command[0], "flags": flags, "names": names}


def run(argv: list[str]) -> int | None:
    """Answer a listing from the snapshot and the cache; None to take the full path."""
    try:
        request = parse(argv)
        snapshot = saved_snapshot(request) if request is not None else None
        if request is None or snapshot is None:
            return None
        code = _servers(snapshot, request) if request["command"] == "servers" else _tools(snapshot, request)
        if code is not None:
            say_trust(request)
        return code
    except Exception:  # anything unexpected here: the full path knows better
        return None


def saved_snapshot(request: dict[str, Any]) -> dict[str, Any] | None:
    """Return the snapshot of the configuration the request names (saving one first if need be)."""
    from gemma_mcp_cli.cli.quick.call import disabled
    from gemma_mcp_cli.config import discovery
    from gemma_mcp_cli.state import snapshot

    if disabled():
        return None
    source = request["source"] = discovery.find_config(request["config"], *discovery.servers_config_setting())
    found = snapshot.read(source)
    if found is None and request["command"] == "servers":
        from gemma_mcp_cli.config import plain

        entries = plain.summaries(source)  # a plain file needs no models to be listed
        if entries is not None:
            return {"source": str(source), "servers": [{"summary": entry} for entry in entries]}
    if found is None:
        # Nothing saved for this configuration yet: validate it (pydantic, without Typer),
        # which saves the snapshot when the file has no problems; else the full path reports.
        from gemma_mcp_cli.cli.invocation import AppState
        from gemma_mcp_cli.cli.loading import config_for

        loaded = config_for(AppState(config=request["config"]))
        if not loaded.problems and not loaded.disabled_problems:
            found = snapshot.read(source)
    return found


def say_trust(request: dict[str, Any]) -> None:
    """Say, as the full path does, that an untrusted project file was only read."""
    from gemma_mcp_cli.config.discovery import PROJECT

    if request["source"].origin != PROJECT:
        return  # only a file found in the current directory needs trust (and its module)
    from gemma_mcp_cli.cli import render
    from gemma_mcp_cli.state import trust

    notice = trust.notice(request["source"])
    if notice is not None:
        render.warning(notice)


def _servers(snapshot: dict[str, Any], request: dict[str, Any]) -> int:
    from gemma_mcp_cli.cli import render

    servers = [
        s["summary"] for s in snapshot["servers"] if "--all" in request["flags"] or s["summary"]["enabled"]
    ]
    if "--json" in request["flags"]:
        render.emit_json({"servers": servers, "errors": []})
        return 0
    rows = [
        (s["name"], "yes" if s["enabled"] else "no", s["transport"], s["target"], s["description"])
        for s in servers
    ]
    render.table(("NAME", "ENABLED", "TRANSPORT", "TARGET", "DESCRIPTION"), rows)
    render.message(f"{len(servers)} server(s) from {snapshot['source']}", style="dim")
    return 0


def _tools(snapshot: dict[str, Any], request: dict[str, Any]) -> int | None:
    from gemma_mcp_cli.cli import render
    from gemma_mcp_cli.cli.content import first_line

    items = cached_items(snapshot, request["names"], stale_ok="--offline" in request["flags"])
    if items is None:
        return None
    if "--json" in request["flags"]:
        render.emit_json({"tools": items, "skipped": [], "errors": []})
    else:
        render.table(
            ("SERVER", "TOOL", "DESCRIPTION"),
            [(t["server"], t["name"], first_line(t.get("description"))) for t in items],
        )
        if not items:
            render.message("(no tools)", style="dim")
    return 0


def cached_items(
    snapshot: dict[str, Any], names: list[str], *, stale_ok: bool
) -> list[dict[str, Any]] | None:
    """Return the cached tools of the named (else every enabled) server, or None if one is not cached."""
    from gemma_mcp_cli.state.cache import MCPToolRegistry

    known = {s["summary"]["name"]: s for s in snapshot["servers"]}
    names = names or [name for name, s in known.items() if s["summary"]["enabled"]]
    if any(name not in known or not known[name]["summary"]["enabled"] for name in names):
        return None  # the full path says what is wrong with the name
    registry, items = MCPToolRegistry(), []
    for name in dict.fromkeys(names):
        entry = registry.entry_for(name, known[name]["fingerprint"], "tools", stale_ok=stale_ok)
        if entry is None or entry.get("offered") is False:
            return None  # not cached, or skipped: the full path says so
        items += [{"server": name, **item} for item in entry["items"]]
    return items
