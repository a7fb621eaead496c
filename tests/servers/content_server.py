#!/usr/bin/env python3
"""Standard-library MCP test server, tools only, whose results read like real servers' do.

Like server-filesystem it answers with text *and* `structuredContent`; like `read_media_file` it
returns images and audio; like server-memory and sequential-thinking its schemas nest objects in
arrays and mix `boolean | string`. It advertises no prompts or resources (as those servers do not).
`--hostile` makes the binary blocks carry data that is not base64.
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

JsonObject = dict[str, Any]

PROTOCOL_VERSION = "2025-06-18"
SERVER_INFO: JsonObject = {"name": "content-test", "version": "0.1.0"}
FILE_TEXT = "line one\nline two\n"
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
WAV_BYTES = b"RIFF" + bytes(range(40))
ENTITY = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "The entity's name"},
        "entityType": {"type": "string", "description": "What kind of thing it is"},
        "observations": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "entityType"],
}


def _schema(properties: JsonObject | None = None, required: list[str] | None = None) -> JsonObject:
    return {"type": "object", "properties": properties or {}, "required": required or []}


TOOLS: list[JsonObject] = [
    {
        "name": "read_text_file",
        "description": "Read a file: text content and the same as structuredContent.",
        "inputSchema": _schema({"path": {"type": "string"}}, ["path"]),
        "outputSchema": _schema({"content": {"type": "string"}}, ["content"]),
    },
    {
        "name": "structured_only",
        "description": "Answer with structuredContent and no content blocks.",
        "inputSchema": _schema(),
    },
    {
        "name": "read_media_file",
        "description": "Return a PNG image, a WAV clip and an embedded binary resource, with a caption.",
        "inputSchema": _schema(),
    },
    {
        "name": "create_entities",
        "description": "Create entities (nested objects in an array).",
        "inputSchema": _schema(
            {
                "entities": {"type": "array", "items": ENTITY},
                "options": {
                    "type": "object",
                    "properties": {
                        "merge": {"type": "boolean"},
                        "limits": _schema({"depth": {"type": "integer"}}),
                    },
                },
            },
            ["entities"],
        ),
    },
    {
        "name": "tree",
        "description": "A schema that refers to itself, and one whose parts are not what they should be.",
        "inputSchema": {
            "type": "object",
            "$defs": {
                "node": {
                    "type": "object",
                    "properties": {
                        "label": {"type": "string"},
                        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                    },
                    "required": 7,
                }
            },
            "properties": {"root": {"$ref": "#/$defs/node"}, "odd": {"type": "object", "properties": ["x"]}},
        },
    },
    {
        "name": "think",
        "description": "Echo the arguments as received: unions of boolean or integer with string.",
        "inputSchema": _schema(
            {
                "thought": {"type": "string"},
                "nextThoughtNeeded": {"anyOf": [{"type": "string"}, {"type": "boolean"}]},
                "thoughtNumber": {"type": ["string", "integer"]},
            },
            ["thought"],
        ),
    },
]


# A description that would retitle the terminal, clear it and colour what follows.
HOSTILE_TOOL: JsonObject = {
    "name": "evil",
    "description": "first\x1b]0;pwned\x07\x1b[2J\x1b[31m red\nsecond line\x9b31m",
    "inputSchema": _schema({"x": {"type": "string", "description": "\x1b[1mbold\x1b[0m"}}),
}


def _media(hostile: bool) -> JsonObject:
    image = "%%%not base64%%%" if hostile else base64.b64encode(PNG_1X1).decode()
    audio = base64.b64encode(WAV_BYTES).decode()
    blob = base64.b64encode(bytes(range(256))).decode()
    return {
        "content": [
            {"type": "text", "text": "a picture and a sound"},
            {"type": "image", "data": image, "mimeType": "image/png"},
            {"type": "audio", "data": audio, "mimeType": "audio/wav"},
            {
                "type": "resource",
                "resource": {"uri": "test://blob.bin", "mimeType": "application/octet-stream", "blob": blob},
            },
        ]
    }


def call(name: str, arguments: JsonObject, hostile: bool) -> JsonObject:
    """Answer one tools/call."""
    if name == "read_text_file":
        text = FILE_TEXT if arguments.get("path") != "fail" else "no such file"
        return {
            "content": [{"type": "text", "text": text}],
            "structuredContent": {"content": text},
            "isError": arguments.get("path") == "fail",
        }
    if name == "structured_only":
        return {"content": [], "structuredContent": {"answer": 42, "items": ["a", "b"]}}
    if name == "read_media_file":
        return _media(hostile)
    text = json.dumps(arguments, sort_keys=True)
    return {"content": [{"type": "text", "text": text}], "structuredContent": arguments}


def answer(message: JsonObject, hostile: bool) -> JsonObject | None:
    """Return the reply to one request (None for a notification)."""
    if "id" not in message:
        return None
    method, params = message.get("method"), message.get("params") or {}
    reply: JsonObject = {"jsonrpc": "2.0", "id": message["id"]}
    if method == "initialize":
        capabilities: JsonObject = {"tools": {}}
        reply["result"] = {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": capabilities,
            "serverInfo": SERVER_INFO,
        }
    elif method == "ping":
        reply["result"] = {}
    elif method == "tools/list":
        reply["result"] = {"tools": TOOLS + ([HOSTILE_TOOL] if hostile else [])}
    elif method == "tools/call":
        reply["result"] = call(str(params.get("name")), params.get("arguments") or {}, hostile)
    else:
        reply["error"] = {"code": -32601, "message": f"Method not found: {method}"}
    return reply


def main(argv: list[str]) -> None:
    """Serve JSON-RPC lines on stdio until standard input ends."""
    hostile = "--hostile" in argv
    for line in sys.stdin:
        if not line.strip():
            continue
        reply = answer(json.loads(line), hostile)
        if reply is not None:
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
