#!/usr/bin/env python3
"""Standard-library stand-in for the rag-redis MCP server: stdio, JSON-RPC 2.0, protocol 2024-11-05."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

JsonObject = dict[str, Any]

PROTOCOL_VERSION = "2024-11-05"
SERVER_INFO: JsonObject = {"name": "rag-redis-mcp-server", "version": "0.1.0"}
CAPABILITIES: JsonObject = {"tools": {}, "resources": {}, "prompts": {}}
LOG_TARGET = "rag_redis_mcp_server"
MEMORY_TYPES = ("working", "short_term", "long_term", "episodic", "semantic")
STATS_URI = "memory://stats"

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
RESOURCE_NOT_FOUND = -32002

MEMORIES: list[JsonObject] = []


class RpcError(Exception):
    """A JSON-RPC error to send back instead of a result."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> JsonObject:
        """Return the wire form of the error object."""
        error: JsonObject = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class ToolFailure(Exception):
    """A tool-level failure, reported as a result with isError set."""


# --- logging -------------------------------------------------------------------------------------


def _debug_enabled() -> bool:
    """Return whether RUST_LOG asks for per-request debug lines."""
    level = os.environ.get("RUST_LOG", "").lower()
    return "debug" in level or "trace" in level


DEBUG = _debug_enabled()


def log(level: str, message: str) -> None:
    """Write one tracing-style line to stderr."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"
    sys.stderr.write(f"{stamp} {level:>5} {LOG_TARGET}: {message}\n")
    sys.stderr.flush()


def debug(message: str) -> None:
    """Write a debug line when RUST_LOG enables it."""
    if DEBUG:
        log("DEBUG", message)


# --- wire ----------------------------------------------------------------------------------------


def send(message: JsonObject) -> None:
    """Write one protocol message as a single line to stdout and flush."""
    sys.stdout.buffer.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
    sys.stdout.buffer.flush()


def reply(request_id: Any, result: JsonObject) -> None:
    """Send a successful response."""
    send({"jsonrpc": "2.0", "id": request_id, "result": result})


def reply_error(request_id: Any, error: RpcError) -> None:
    """Send an error response."""
    send({"jsonrpc": "2.0", "id": request_id, "error": error.to_json()})


# --- tool schemas --------------------------------------------------------------------------------


def _memory_type_schema(default: str | None = None) -> JsonObject:
    """Return the JSON schema of the memory_type argument."""
    schema: JsonObject = {
        "type": "string",
        "enum": list(MEMORY_TYPES),
        "description": "Memory tier",
    }
    if default is not None:
        schema["default"] = default
    return schema


def _tool(name: str, description: str, properties: JsonObject, required: list[str]) -> JsonObject:
    """Build one tools/list entry."""
    schema: JsonObject = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {"name": name, "description": description, "inputSchema": schema}


TOOLS: list[JsonObject] = [
    _tool(
        "store_memory",
        "Store a memory in the agent memory system",
        {
            "content": {"type": "string", "description": "Content to remember"},
            "memory_type": _memory_type_schema("short_term"),
            "importance": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
        },
        ["content"],
    ),
    _tool(
        "recall_memory",
        "Recall memories matching a query",
        {
            "query": {"type": "string", "description": "Text to look for"},
            "memory_type": _memory_type_schema(),
            "limit": {"type": "integer", "minimum": 1, "default": 10},
        },
        ["query"],
    ),
    _tool("get_memory_stats", "Get statistics about stored memories", {}, []),
    _tool(
        "clear_memory",
        "Clear stored memories, optionally of one type",
        {
            "memory_type": _memory_type_schema(),
            "confirm": {"type": "boolean", "description": "Must be true to clear"},
        },
        [],
    ),
]


# --- tools ---------------------------------------------------------------------------------------


def _memory_type(args: JsonObject, default: str | None) -> str | None:
    """Read and check the optional memory_type argument."""
    value = args.get("memory_type")
    if value is None:
        return default
    if isinstance(value, str) and value in MEMORY_TYPES:
        return value
    raise ToolFailure(f"Invalid memory_type {value!r}: expected one of {', '.join(MEMORY_TYPES)}")


def _number(args: JsonObject, key: str, default: float) -> float:
    """Read a numeric argument, rejecting booleans and other types."""
    value = args.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ToolFailure(f"Invalid {key}: expected a number, got {json.dumps(value)}")
    return float(value)


def _required_text(args: JsonObject, key: str) -> str:
    """Read a required non-empty string argument."""
    value = args.get(key)
    if value is None:
        raise ToolFailure(f"Missing required parameter: {key}")
    if not isinstance(value, str) or not value.strip():
        raise ToolFailure(f"Invalid {key}: expected a non-empty string")
    return value


def store_memory(args: JsonObject) -> str:
    """Store one memory and return its confirmation text."""
    content = _required_text(args, "content")
    memory_type = _memory_type(args, "short_term")
    importance = _number(args, "importance", 0.5)
    if not 0 <= importance <= 1:
        raise ToolFailure(f"Invalid importance {importance}: must be between 0 and 1")
    memory_id = str(uuid.uuid4())
    MEMORIES.append(
        {
            "id": memory_id,
            "content": content,
            "memory_type": memory_type,
            "importance": importance,
            "created_at": int(time.time()),
        }
    )
    return f"Stored memory {memory_id}"


def _score(query: str, content: str) -> float:
    """Return the share of query words found in the content."""
    words = query.lower().split()
    text = content.lower()
    return sum(word in text for word in words) / len(words) if words else 0.0


def recall_memory(args: JsonObject) -> str:
    """Return a JSON list of the memories best matching the query."""
    query = _required_text(args, "query")
    memory_type = _memory_type(args, None)
    limit = _number(args, "limit", 10)
    if not 1 <= limit < 2**31 or limit != int(limit):
        raise ToolFailure(f"Invalid limit {args.get('limit')}: must be an integer >= 1")
    pool = [m for m in MEMORIES if memory_type is None or m["memory_type"] == memory_type]
    scored = [{**m, "score": s} for m in pool if (s := _score(query, m["content"])) > 0]
    scored.sort(key=lambda m: (m["score"], m["importance"]), reverse=True)
    return json.dumps(scored[: int(limit)])


def _stats() -> JsonObject:
    """Return memory counts overall and by type."""
    by_type = {kind: sum(m["memory_type"] == kind for m in MEMORIES) for kind in MEMORY_TYPES}
    return {"total_memories": len(MEMORIES), "by_type": by_type, "backend": "in-process"}


def get_memory_stats(args: JsonObject) -> str:
    """Return the memory statistics as JSON text."""
    return json.dumps(_stats())


def clear_memory(args: JsonObject) -> str:
    """Remove memories, all or of one type, when confirmed."""
    memory_type = _memory_type(args, None)
    if args.get("confirm") is not True:
        raise ToolFailure("Refusing to clear memory: set confirm to true")
    keep = [m for m in MEMORIES if memory_type is not None and m["memory_type"] != memory_type]
    cleared = len(MEMORIES) - len(keep)
    MEMORIES[:] = keep
    return f"Cleared {cleared} memories"


TOOL_HANDLERS: dict[str, Callable[[JsonObject], str]] = {
    "store_memory": store_memory,
    "recall_memory": recall_memory,
    "get_memory_stats": get_memory_stats,
    "clear_memory": clear_memory,
}


def _text_result(text: str, is_error: bool) -> JsonObject:
    """Build a tools/call result with one text item."""
    return {"content": [{"type": "text", "text": text}], "isError": is_error}


# --- methods -------------------------------------------------------------------------------------


def _object_params(params: Any) -> JsonObject:
    """Return params as an object, treating a missing value as empty."""
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: expected an object")
    return params


def handle_initialize(params: JsonObject) -> JsonObject:
    """Answer the handshake; this server only ever speaks 2024-11-05."""
    client = params.get("clientInfo") or {}
    name = client.get("name") if isinstance(client, dict) else None
    debug(f"initialize requested protocolVersion={params.get('protocolVersion')} client={name}")
    return {"protocolVersion": PROTOCOL_VERSION, "capabilities": CAPABILITIES, "serverInfo": SERVER_INFO}


def handle_ping(params: JsonObject) -> JsonObject:
    """Answer a ping with an empty result."""
    return {}


def handle_tools_list(params: JsonObject) -> JsonObject:
    """Return every tool in one page."""
    return {"tools": TOOLS}


def handle_tools_call(params: JsonObject) -> JsonObject:
    """Run a tool; tool failures become isError results, unknown tools an RPC error."""
    name = params.get("name")
    if not isinstance(name, str):
        raise RpcError(INVALID_PARAMS, "Invalid params: missing tool name")
    debug(f"tools/call name={name}")
    tool = TOOL_HANDLERS.get(name)
    if tool is None:
        raise RpcError(INVALID_PARAMS, f"Unknown tool: {name}")
    args = params.get("arguments") or {}
    if not isinstance(args, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: arguments must be an object")
    try:
        return _text_result(tool(args), False)
    except ToolFailure as failure:
        return _text_result(str(failure), True)


def handle_resources_list(params: JsonObject) -> JsonObject:
    """List the single stats resource."""
    resource = {
        "uri": STATS_URI,
        "name": "Memory statistics",
        "description": "Counts of stored memories by type",
        "mimeType": "application/json",
    }
    return {"resources": [resource]}


def handle_resources_read(params: JsonObject) -> JsonObject:
    """Read the stats resource; any other uri is not found."""
    uri = params.get("uri")
    if uri != STATS_URI:
        raise RpcError(RESOURCE_NOT_FOUND, "Resource not found", {"uri": uri})
    text = json.dumps(_stats())
    return {"contents": [{"uri": STATS_URI, "mimeType": "application/json", "text": text}]}


def handle_prompts_list(params: JsonObject) -> JsonObject:
    """Return the (empty) prompt list."""
    return {"prompts": []}


METHODS: dict[str, Callable[[JsonObject], JsonObject]] = {
    "initialize": handle_initialize,
    "ping": handle_ping,
    "tools/list": handle_tools_list,
    "tools/call": handle_tools_call,
    "resources/list": handle_resources_list,
    "resources/read": handle_resources_read,
    "prompts/list": handle_prompts_list,
}


# --- dispatch ------------------------------------------------------------------------------------


def handle_request(request_id: Any, method: str, params: Any) -> None:
    """Answer one request with a result or an error."""
    debug(f"request id={json.dumps(request_id)} method={method}")
    handler = METHODS.get(method)
    try:
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, "Method not found")
        reply(request_id, handler(_object_params(params)))
    except RpcError as error:
        reply_error(request_id, error)


def handle_message(message: Any) -> None:
    """Route one decoded message: requests get answers, notifications and responses none."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        reply_error(_safe_id(message), RpcError(INVALID_REQUEST, "Invalid Request"))
        return
    method = message.get("method")
    if method is None and ("result" in message or "error" in message):
        return
    if not isinstance(method, str):
        reply_error(_safe_id(message), RpcError(INVALID_REQUEST, "Invalid Request"))
        return
    if "id" not in message:
        debug(f"notification method={method}")
        return
    handle_request(message["id"], method, message.get("params"))


def _safe_id(message: Any) -> Any:
    """Return a usable request id from a broken message, or None."""
    request_id = message.get("id") if isinstance(message, dict) else None
    return request_id if isinstance(request_id, str | int) and not isinstance(request_id, bool) else None


def handle_line(raw: bytes) -> None:
    """Decode one input line and handle it; undecodable input is a parse error."""
    if not raw.strip():
        return
    try:
        message = json.loads(raw.decode("utf-8"))
    except ValueError:
        reply_error(None, RpcError(PARSE_ERROR, "Parse error"))
        return
    handle_message(message)


def main() -> int:
    """Serve requests from stdin until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    log("INFO", "listening on stdio")
    try:
        while raw := sys.stdin.buffer.readline():
            handle_line(raw)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    log("INFO", "stdin closed, shutting down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
