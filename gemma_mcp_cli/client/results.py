"""What the manager returns: MCP's JSON data, readable both as a dict and by attribute, and the
checks on what a server answered that the SDK's schema cannot make."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from pydantic import BaseModel

from gemma_mcp_cli.errors import MCPServerError

# Optional fields of MCP's result types: absent from the wire when unset, None as attributes,
# so `tool.description or "..."` works on a tool that sent none, as it did on the SDK's models.
_OPTIONAL = frozenset(
    {
        "annotations",
        "arguments",
        "description",
        "execution",
        "icons",
        "inputSchema",
        "isError",
        "mimeType",
        "outputSchema",
        "size",
        "structuredContent",
        "title",
        "_meta",
    }
)


def _wire_name(attribute: str) -> str:
    """Return the wire name of a Python-style attribute: input_schema -> inputSchema, meta -> _meta."""
    if attribute == "meta":
        return "_meta"
    return re.sub(r"_([a-z])", lambda found: found.group(1).upper(), attribute)


class WireObject(dict[str, Any]):
    """A dict with MCP's wire field names whose fields also read as attributes (`tool.name`).

    Our own code and `json.dumps` see a plain dict; code written against the SDK's models
    (`tool.name`, `tool.inputSchema`, `tool.input_schema`) reads the same data by attribute.
    """

    __slots__ = ()

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        key = attribute if attribute in self else _wire_name(attribute)
        if key in self:
            return _readable(self[key])
        if key in _OPTIONAL:
            return None
        raise AttributeError(f"{type(self).__name__} has no field {attribute!r}")

    def model_dump(self, **_options: Any) -> dict[str, Any]:
        """Return the data as a plain dict (as the SDK's models do)."""
        return dict(self)


def _readable(value: Any) -> Any:
    """Return a field's value with its objects (alone or in a list) readable by attribute too."""
    if type(value) is dict:
        return WireObject(value)
    if type(value) is list:
        return [WireObject(item) if type(item) is dict else item for item in value]
    return value


def wire(model: BaseModel) -> WireObject:
    """Return a result model as JSON data with MCP's wire field names."""
    return WireObject(model.model_dump(mode="json", by_alias=True, exclude_none=True))


def check_blobs(server: str, uri: str, contents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return resource contents whose every `blob` is valid base64, or raise naming the one that is not."""
    for item in contents:
        blob = item.get("blob")
        if blob is None:
            continue
        try:
            base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError):
            raise MCPServerError(
                f"server '{server}' sent resource {uri} with a blob that is not valid base64",
                server=server,
            ) from None
    return contents
