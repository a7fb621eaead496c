"""Grants that need no person: client credentials (secret or signed key) and assertion grants.

The authorization server is found as the interactive flow finds it, from the server's
protected-resource metadata (RFC 9728); a configured `issuer` pins it, and a server that
leads anywhere else is refused before any credential is sent.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import httpx2
import jwt
from mcp.client.auth.extensions.client_credentials import (
    ClientCredentialsOAuthProvider,
    PrivateKeyJWTOAuthProvider,
    SignedJWTParameters,
)
from mcp.shared.exceptions import MCPDeprecationWarning

from gemma_mcp_cli.client.assertions import AssertionGrant, read_secret_file
from gemma_mcp_cli.client.auth import FileTokenStorage, oauth_provider, relay, token_auth_method
from gemma_mcp_cli.config.models import MCPServerConfig
from gemma_mcp_cli.errors import MCPConfigError

_CURVE_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


def provider_for(config: MCPServerConfig) -> httpx2.Auth | None:
    """Return the httpx2 auth for a server's `[auth] type = "oauth"` (any grant), or None."""
    auth = config.auth
    if auth is None or auth.type != "oauth" or config.url is None:
        return None
    if auth.grant == "authorization_code":
        return oauth_provider(config)
    return machine_provider(config, FileTokenStorage(config))


def machine_provider(config: MCPServerConfig, storage: FileTokenStorage) -> httpx2.Auth:
    """Return the httpx2 auth for a grant that runs unattended."""
    auth = config.auth
    assert auth is not None and auth.client_id is not None and config.url is not None
    if auth.grant in ("jwt_bearer", "token_exchange"):
        return AssertionGrant(config, storage)
    scope = " ".join(auth.scopes) or None
    with warnings.catch_warnings():
        # Without an issuer the SDK warns and follows discovery, which is what we want here.
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        if auth.private_key:
            key = read_secret_file(config, "private_key", auth.private_key)
            parameters = SignedJWTParameters(
                issuer=auth.client_id,
                subject=auth.client_id,
                signing_key=key,
                signing_algorithm=auth.signing_alg or signing_algorithm(config, key),
            )
            return _SignedClient(
                config.url,
                storage,
                auth.client_id,
                _signer(config, parameters),
                scope=scope,
                issuer=auth.issuer,
            )
        return _SecretClient(
            config.url,
            storage,
            auth.client_id,
            auth.client_secret or "",
            scope=scope,
            issuer=auth.issuer,
            forced=auth.token_endpoint_auth_method,
        )


class _ReportsFailure:
    """Keep the flow's last error for the connection (the SDK's transport reports it as a 401)."""

    failure: Exception | None = None

    def _auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        flow = super()._auth_flow(request)  # type: ignore[misc]  # the SDK provider it is mixed into
        return relay(flow, lambda _response: None, self._failed)

    def _failed(self, exc: Exception) -> None:
        self.failure = exc


class _SignedClient(_ReportsFailure, PrivateKeyJWTOAuthProvider):
    """Client credentials authenticated with a JWT the configured key signs (RFC 7523 2.2)."""


class _SecretClient(_ReportsFailure, ClientCredentialsOAuthProvider):
    """Client credentials whose token-endpoint method follows the server's metadata."""

    def __init__(self, *args: Any, forced: str | None = None, **keys: Any) -> None:
        super().__init__(*args, **keys)
        self._forced = forced

    async def _exchange_token_client_credentials(self) -> httpx2.Request:
        client, metadata = self.context.client_info, self.context.oauth_metadata
        if client is not None:
            supported = metadata.token_endpoint_auth_methods_supported if metadata else None
            chosen = token_auth_method(supported, self._forced, bool(client.client_secret))
            client.token_endpoint_auth_method = chosen
        return await super()._exchange_token_client_credentials()


def _signer(config: MCPServerConfig, parameters: SignedJWTParameters) -> Callable[[str], Awaitable[str]]:
    """The SDK's assertion signer, with a key that cannot sign so reported as a config error."""
    sign = parameters.create_assertion_provider()

    async def signed(audience: str) -> str:
        try:
            return await sign(audience)
        except (jwt.PyJWTError, ValueError, TypeError, NotImplementedError) as exc:
            raise MCPConfigError(
                f"server '{config.name}': auth.private_key cannot sign as"
                f" {parameters.signing_algorithm}: {exc}",
                server=config.name,
                hint="set signing_alg to one the key supports, or remove it to use the key's own",
            ) from None

    return signed


def signing_algorithm(config: MCPServerConfig, pem: str) -> str:
    """Return the JWS algorithm a private key signs with: RS256, ES256/384/512 by curve, or EdDSA."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise MCPConfigError(
            f"server '{config.name}': auth.private_key is not an unencrypted PEM private key ({exc})",
            server=config.name,
        ) from None
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _CURVE_ALGORITHMS:
        return _CURVE_ALGORITHMS[key.curve.name]
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return "EdDSA"
    raise MCPConfigError(
        f"server '{config.name}': cannot tell the signing algorithm of auth.private_key",
        server=config.name,
        hint='set signing_alg (for example "RS256" or "ES256") in the server\'s [auth]',
    )
