"""What counts as a secret in a configuration, and URLs made fit to show (standard library only)."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit

from gemma_mcp_cli.enums import MCPTransportType

REDACTED = "***"
# The URL schemes each remote transport accepts.
URL_SCHEMES = {
    MCPTransportType.HTTP: ("http", "https"),
    MCPTransportType.SSE: ("http", "https"),
    MCPTransportType.WEBSOCKET: ("ws", "wss"),
}
_SECRET_WORDS = (
    "token",
    "key",
    "secret",
    "password",
    "passwd",
    "authorization",
    "auth",
    "cookie",
    "credential",
)
# Query parameters that carry credentials under names looks_secret does not catch.
_SECRET_QUERY_WORDS = ("sig", "jwt", "session", "pwd", "apikey")


def looks_secret(key: str) -> bool:
    """Tell whether an env or header name suggests its value is a secret."""
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def strip_credentials(url: str) -> str:
    """Return a URL fit to show: no `user:password@`, and `***` for each secret-looking query value."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it raises for a malformed port
    except ValueError:  # not a URL one can parse: still never show what looks like credentials
        bare, question, rest = re.sub(r"//[^/@]*@", "//", url).partition("?")
        query, hash_, fragment = rest.partition("#")
        return bare + question + _redact_query(query) + hash_ + fragment
    if parts.username is not None or parts.password is not None:
        host = parts.hostname or ""
        parts = parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host)
    if parts.query:
        parts = parts._replace(query=_redact_query(parts.query))
    return parts.geturl()


def _redact_query(query: str) -> str:
    return "&".join(_redact_pair(pair) for pair in query.split("&")) if query else query


def _redact_pair(pair: str) -> str:
    key, equals, value = pair.partition("=")
    name = unquote_plus(key).lower()
    if equals and value and (looks_secret(name) or any(word in name for word in _SECRET_QUERY_WORDS)):
        return f"{key}={REDACTED}"
    return pair
