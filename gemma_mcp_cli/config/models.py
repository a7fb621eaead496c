"""The configuration models: one server, and the gemma-cli `[mcp]` settings block."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from pydantic_core import PydanticCustomError

from gemma_mcp_cli.config.redaction import REDACTED, URL_SCHEMES, looks_secret, strip_credentials
from gemma_mcp_cli.enums import MCPTransportType

__all__ = [
    "REDACTED",
    "AuthConfig",
    "MCPServerConfig",
    "MCPSettings",
    "looks_secret",
    "resolve_cwd",
    "resolve_roots",
    "strip_credentials",
    "transport_problem",
]

KEEP_ALIVE_MAX = 86400.0  # seconds: a day; past that a forgotten session is a leak, not a cache
_AUTH_SECRETS = ("token", "client_secret", "assertion", "subject_token")


class MCPSettings(BaseModel):
    """gemma-cli's `[mcp]` settings block."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    enabled: bool = True
    servers_config: str | None = None
    tool_cache_ttl: float = Field(3600, ge=0)
    connection_timeout: float = Field(10.0, gt=0)
    retry_count: int | None = Field(None, ge=0)
    sampling_command: list[str] | None = Field(None, min_length=1)
    # Every server's default: keep it warm in a background session for this many idle seconds.
    keep_alive: float | None = Field(None, ge=0, le=KEEP_ALIVE_MAX, allow_inf_nan=False)

    # Where each value that is not a default came from: "GEMMA_MCP_ENABLED", or "[mcp] in FILE".
    _origins: dict[str, str] = PrivateAttr(default_factory=dict)
    _files: dict[str, Path] = PrivateAttr(default_factory=dict)

    def with_origins(self, origins: dict[str, str], files: dict[str, Path] | None = None) -> MCPSettings:
        """Return these settings marked with where each value came from (and which came from a file)."""
        self._origins = origins
        self._files = files or {}
        return self

    def written_in(self, key: str) -> Path | None:
        """Return the settings file a value was read from; None for a default or a variable."""
        return self._files.get(key)

    def origin(self, key: str) -> str:
        """Say where a setting came from, for error messages."""
        return self._origins.get(key, "the default")


class AuthConfig(BaseModel):
    """How a remote server is authenticated: a fixed bearer token, or OAuth 2.1."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    type: Literal["bearer", "oauth"]
    token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    scopes: list[str] = Field(default_factory=list)
    grant: Literal["authorization_code", "client_credentials", "jwt_bearer", "token_exchange"] = (
        "authorization_code"
    )
    private_key: str | None = None
    signing_alg: str | None = None
    issuer: str | None = None
    client_metadata_url: str | None = None
    redirect_port: int | None = Field(None, ge=0, le=65535)
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post", "none"] | None = None
    # jwt_bearer: the workload's token (RFC 7523), inline (`${VAR}`) or read from a file at each exchange.
    assertion: str | None = None
    assertion_file: str | None = None
    # token_exchange (RFC 8693 at the identity provider, then jwt_bearer with the grant it returns).
    subject_token: str | None = None
    subject_token_file: str | None = None
    subject_token_type: str = "urn:ietf:params:oauth:token-type:id_token"
    idp_token_endpoint: str | None = None
    idp_client_id: str | None = None

    @model_validator(mode="after")
    def _check(self) -> AuthConfig:
        problem = self.problem()
        if problem is not None:
            field, message = problem
            raise PydanticCustomError("transport", "{message}", {"field": field, "message": message})
        return self

    def problem(self) -> tuple[str, str] | None:
        """Return the field and message of the first requirement the auth settings break."""
        if self.type == "bearer" and not self.token:
            return "auth.token", "bearer auth needs a token"
        if self.grant != "authorization_code" and not self.client_id:
            return "auth.client_id", f"the {self.grant} grant needs a client_id"
        if self.grant == "jwt_bearer" and not (self.assertion or self.assertion_file):
            return (
                "auth.assertion",
                "the jwt_bearer grant needs the workload token: assertion or assertion_file",
            )
        if self.grant == "token_exchange":
            if not (self.subject_token or self.subject_token_file):
                return (
                    "auth.subject_token",
                    "the token_exchange grant needs subject_token or subject_token_file",
                )
            if not self.idp_token_endpoint:
                return "auth.idp_token_endpoint", "the token_exchange grant needs the idp_token_endpoint URL"
        if self.signing_alg and not self.private_key:
            return "auth.signing_alg", "signing_alg applies only with a private_key"
        return None


class MCPServerConfig(BaseModel):
    """One server's effective configuration."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    name: str
    enabled: bool = True
    transport: MCPTransportType = Field(MCPTransportType.STDIO, strict=False)
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    auto_reconnect: bool = True
    max_reconnect_attempts: int = Field(5, ge=0)
    reconnect_delay: float = Field(1.0, ge=0)
    connection_timeout: float = Field(10.0, gt=0)
    request_timeout: float = Field(30.0, gt=0)
    max_response_mb: float = Field(64.0, gt=0)  # one message from the server; past it the request ends
    health_check_interval: float = Field(60.0, ge=0)
    tool_cache_ttl: float | None = Field(None, ge=0)
    description: str | None = None
    auth: AuthConfig | None = None
    roots: list[str] = Field(default_factory=list)  # directories, resolved against the file's folder
    sampling_command: list[str] | None = Field(None, min_length=1)
    # Seconds a background session, started by the first command that connects, stays warm
    # while idle; None or 0: off.
    keep_alive: float | None = Field(None, ge=0, le=KEEP_ALIVE_MAX, allow_inf_nan=False)

    # Dotted field paths ("env.TOKEN", "url") whose value came from the user's environment.
    _expanded: frozenset[str] = PrivateAttr(default_factory=frozenset)

    @model_validator(mode="after")
    def _check_transport(self) -> MCPServerConfig:
        problem = transport_problem(self)
        if problem is not None:
            field, message = problem
            raise PydanticCustomError("transport", "{message}", {"field": field, "message": message})
        return self

    def with_expanded(self, paths: frozenset[str]) -> MCPServerConfig:
        """Return this config marked with the fields that came from `${VAR}` expansion."""
        self._expanded = paths
        return self

    @property
    def target(self) -> str:
        """Return what the server runs or where it lives, for people (unredacted)."""
        if self.transport is MCPTransportType.STDIO:
            return shlex.join([self.command or "", *self.args])
        return self.url or ""

    def redacted(self) -> dict[str, Any]:
        """Return the configuration as plain data with every secret replaced by `***`."""
        data = self.model_dump(mode="json")
        # Header values are credentials more often than not: none is ever shown.
        data["headers"] = dict.fromkeys(data["headers"], REDACTED)
        data["env"] = {
            key: REDACTED if looks_secret(key) or f"env.{key}" in self._expanded else value
            for key, value in data["env"].items()
        }
        if data.get("auth"):
            data["auth"] = {
                k: REDACTED if (k in _AUTH_SECRETS and v) or f"auth.{k}" in self._expanded else v
                for k, v in data["auth"].items()
            }
        # A description is for people, but one filled from the environment is still the environment's.
        for key in ("command", "url", "cwd", "description"):
            if key in self._expanded:
                data[key] = REDACTED
        data["args"] = [REDACTED if f"args.{i}" in self._expanded else a for i, a in enumerate(self.args)]
        if data["url"] and data["url"] != REDACTED:
            data["url"] = strip_credentials(data["url"])
        return data

    def summary(self) -> dict[str, Any]:
        """Return the `servers list` entry: name, enabled, transport, redacted target, description."""
        return {
            "name": self.name,
            "enabled": self.enabled,
            "transport": str(self.transport),
            "target": self.redacted_target(),
            "description": self.redacted()["description"],
        }

    def redacted_target(self) -> str:
        """Return `target` with every secret replaced by `***`."""
        data = self.redacted()
        if self.transport is MCPTransportType.STDIO:
            return shlex.join([data["command"] or "", *data["args"]])
        return str(data["url"] or "")


def transport_problem(config: MCPServerConfig) -> tuple[str, str] | None:
    """Return the field and message of the first transport requirement the config breaks."""
    transport = config.transport
    if transport is MCPTransportType.STDIO:
        if not config.command:
            return "command", "the stdio transport needs a command"
        return None
    if not config.url:
        return "url", f"the {transport} transport needs a url"
    scheme = urlsplit(config.url).scheme.lower()
    allowed = URL_SCHEMES[transport]
    if scheme not in allowed or not urlsplit(config.url).netloc:
        wanted = " or ".join(f"{s}://" for s in allowed)
        return "url", f"the {transport} transport needs a {wanted} url, got {strip_credentials(config.url)!r}"
    return None


def resolve_roots(roots: list[Any], base: Path | None) -> list[Any]:
    """Resolve relative `roots` against the directory of the file that set them."""
    return [resolve_cwd(root, base) if isinstance(root, str) else root for root in roots]


def resolve_cwd(cwd: str | None, base: Path | None) -> str | None:
    """Resolve a relative `cwd` against the directory of the file that set it."""
    if cwd is None:
        return None
    path = Path(cwd).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return str(path.resolve())
