#!/usr/bin/env python3
"""Standard-library MCP server (stdio, 2025-06-18) whose schema is switched by --variant, for lock tests.

`base` serves two tools, a resource template and a prompt; every other variant changes one thing
(or, `additive`, several compatible things), so each kind of schema change a lock file must catch
has a server that makes it. `--name-prefix` puts text before every tool name (hostile names).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Callable
from typing import Any

JsonObject = dict[str, Any]
PROTOCOL_VERSION = "2025-06-18"
METHOD_NOT_FOUND = -32601

BASE_TOOLS: list[JsonObject] = [
    {
        "name": "search",
        "title": "Search notes",
        "description": "Find notes matching a query",
        "inputSchema": {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "limit": {"type": "number", "default": 10},
                "mode": {"type": "string", "enum": ["fast", "full"]},
            },
            "required": ["query"],
        },
        "outputSchema": {"type": "object", "properties": {"hits": {"type": "array"}}},
        "annotations": {"readOnlyHint": True},
    },
    {
        "name": "store",
        "description": "Store a note",
        "inputSchema": {
            "type": "object",
            "properties": {
                "content": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["content"],
        },
    },
]
BASE_TEMPLATES: list[JsonObject] = [{"uriTemplate": "notes://{id}", "name": "note", "mimeType": "text/plain"}]
BASE_PROMPTS: list[JsonObject] = [
    {
        "name": "summarise",
        "description": "Summarise the notes on a topic",
        "arguments": [{"name": "topic", "required": True}, {"name": "style", "required": False}],
    }
]


def _search(listing: JsonObject) -> JsonObject:
    return next(tool for tool in listing["tools"] if tool["name"] == "search")


def _additive(listing: JsonObject) -> None:
    search = _search(listing)
    search["inputSchema"]["properties"]["offset"] = {"type": "integer"}
    search["inputSchema"]["properties"]["mode"]["enum"].append("deep")
    search["inputSchema"]["properties"]["limit"]["type"] = ["number", "null"]
    search["description"] = "Find notes matching a query, best first"
    listing["tools"].append({"name": "extra", "inputSchema": {"type": "object"}})
    listing["prompts"].append({"name": "review", "arguments": []})
    listing["resourceTemplates"].append({"uriTemplate": "tags://{tag}", "name": "tag"})
    next(tool for tool in listing["tools"] if tool["name"] == "store")["annotations"] = {
        "readOnlyHint": False
    }


def _set(path: str, value: Any) -> Callable[[JsonObject], None]:
    def change(listing: JsonObject) -> None:
        *parents, last = path.split(".")
        node: Any = _search(listing)["inputSchema"]["properties"]
        for part in parents:
            node = node[part]
        node[last] = value

    return change


def _required_added(listing: JsonObject) -> None:
    schema = _search(listing)["inputSchema"]
    schema["properties"]["scope"] = {"type": "string"}
    schema["required"].append("scope")


def _read_only_lost(listing: JsonObject) -> None:
    _search(listing)["annotations"] = {"readOnlyHint": False}


VARIANTS: dict[str, Callable[[JsonObject], None]] = {
    "base": lambda listing: None,
    "additive": _additive,
    "tool-removed": lambda listing: listing.update(
        tools=[t for t in listing["tools"] if t["name"] != "store"]
    ),
    "prompt-removed": lambda listing: listing.update(prompts=[]),
    "template-removed": lambda listing: listing.update(resourceTemplates=[]),
    "required-added": _required_added,
    "type-narrowed": _set("limit.type", "integer"),
    "enum-lost": _set("mode.enum", ["fast"]),
    "read-only-lost": _read_only_lost,
}


def listing_for(variant: str, prefix: str) -> JsonObject:
    """Return the tools, templates and prompts the variant serves."""
    listing = copy.deepcopy(
        {"tools": BASE_TOOLS, "resourceTemplates": BASE_TEMPLATES, "prompts": BASE_PROMPTS}
    )
    VARIANTS[variant](listing)
    for tool in listing["tools"]:
        tool["name"] = prefix + tool["name"]
    return listing


def answer(listing: JsonObject, method: str, version: str) -> JsonObject | None:
    """Return the result of one request, or None for an unknown method."""
    if method == "initialize":
        capabilities: JsonObject = {"tools": {}, "resources": {}, "prompts": {}}
        info = {"name": "schema-test", "version": version}
        return {"protocolVersion": PROTOCOL_VERSION, "capabilities": capabilities, "serverInfo": info}
    results = {
        "ping": {},
        "tools/list": {"tools": listing["tools"]},
        "resources/list": {"resources": []},
        "resources/templates/list": {"resourceTemplates": listing["resourceTemplates"]},
        "prompts/list": {"prompts": listing["prompts"]},
    }
    return results.get(method)


def main() -> None:
    """Serve the chosen variant over stdio until EOF."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="base")
    parser.add_argument("--version", default="1.0.0", help="the serverInfo version to report")
    parser.add_argument("--name-prefix", default="")
    args = parser.parse_args()
    listing = listing_for(args.variant, args.name_prefix)
    for raw in sys.stdin:
        try:
            message = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(message, dict) or "id" not in message or not isinstance(message.get("method"), str):
            continue  # notifications and responses need no answer
        result = answer(listing, message["method"], args.version)
        reply: JsonObject = {"jsonrpc": "2.0", "id": message["id"]}
        if result is None:
            reply["error"] = {"code": METHOD_NOT_FOUND, "message": f"Method not found: {message['method']}"}
        else:
            reply["result"] = result
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
