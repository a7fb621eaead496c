"""OAuth 2.1 for remote servers, on the SDK's providers: stored tokens, login, refresh.

Tokens and client registrations live per server in files only the user can read. Commands
use stored credentials (and refresh them); only `auth login` ever opens a browser, so a
script or CI job that lacks a login fails at once with exit 9 instead of waiting.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx2
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.auth.utils import extract_field_from_www_auth, extract_scope_from_www_auth, union_scopes
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

from gemma_mcp_cli._version import __version__
from gemma_mcp_cli.client.tokens import binding, read_stored, token_path
from gemma_mcp_cli.config.models import AuthConfig, MCPServerConfig
from gemma_mcp_cli.errors import MCPAuthError, program
from gemma_mcp_cli.state.files import private_dir, write_atomically

# Sign-ins one login may run before giving up: the first, and one step-up for more scope.
MAX_AUTHORIZATIONS = 2


class FileTokenStorage(TokenStorage):
    """The SDK's token storage, as a JSON file of mode 0600 (expiry kept as an absolute time).

    The file belongs to one resource URL (and configured issuer) and says so inside; see `tokens`.
    """

    def __init__(self, config: MCPServerConfig) -> None:
        self.config = config
        self.path = token_path(config)

    def read(self) -> dict[str, Any]:
        """Return the stored document of this resource, or an empty one."""
        return read_stored(self.config)

    def forget_tokens(self) -> None:
        """Drop the stored tokens but keep the client registration."""
        document = self.read()
        if document.pop("tokens", None) is not None:
            self._write(document)

    def _write(self, document: dict[str, Any]) -> None:
        resource, issuer = binding(self.config)
        document["resource"] = resource
        document["issuer"] = issuer or (document.get("client") or {}).get("issuer")
        private_dir(self.path.parent)
        write_atomically(self.path, json.dumps(document).encode(), mode=0o600)

    def required_scope(self) -> str | None:
        """Return the scope a server asked for (step-up) that the next login must request."""
        scope = self.read().get("required_scope")
        return scope if isinstance(scope, str) and scope else None

    def remember_scope(self, scope: str | None) -> None:
        """Record (or, with None, forget) the scope the next login must request."""
        document = self.read()
        if scope:
            document["required_scope"] = scope
        elif document.pop("required_scope", None) is None:
            return
        self._write(document)

    async def get_tokens(self) -> OAuthToken | None:
        """Return the stored tokens, their lifetime counted from now."""
        stored = self.read().get("tokens")
        if not isinstance(stored, dict):
            return None
        token = OAuthToken.model_validate({k: v for k, v in stored.items() if k != "expires_at"})
        if isinstance(stored.get("expires_at"), int | float):
            token.expires_in = max(0, int(stored["expires_at"] - time.time()))
        return token

    async def set_tokens(self, tokens: OAuthToken) -> None:
        """Store new tokens with the absolute time they expire."""
        document = self.read()
        data = tokens.model_dump(mode="json", exclude_none=True)
        if tokens.expires_in is not None:
            data["expires_at"] = time.time() + tokens.expires_in
        document["tokens"] = data
        document["obtained_at"] = time.time()
        self._write(document)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        """Return the stored client registration."""
        stored = self.read().get("client")
        return OAuthClientInformationFull.model_validate(stored) if isinstance(stored, dict) else None

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        """Store the client registration (dynamic or pre-registered)."""
        document = self.read()
        document["client"] = client_info.model_dump(mode="json", exclude_none=True)
        self._write(document)


def token_auth_method(supported: list[str] | None, forced: str | None, has_secret: bool) -> str:
    """Choose how a client with a secret authenticates at the token endpoint.

    The configured method wins; otherwise what the authorization server lists, and basic
    when it lists both or nothing (the default OAuth 2.1 and RFC 8414 give).
    """
    if forced:
        return forced
    if not has_secret:
        return "none"
    listed = set(supported or ())
    if "client_secret_post" in listed and "client_secret_basic" not in listed:
        return "client_secret_post"
    return "client_secret_basic"


async def relay(
    flow: AsyncGenerator[httpx2.Request, httpx2.Response],
    watch: Callable[[httpx2.Response], None],
    failed: Callable[[Exception], None],
) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
    """Pass an SDK auth flow through unchanged, showing `watch` every response it gets.

    A failure is also handed to `failed`: the SDK's HTTP transport reports an error raised in
    an auth flow to the request only as a closed connection, so the connection asks for it.
    """
    try:
        outgoing = await flow.__anext__()
        while True:
            incoming = yield outgoing
            watch(incoming)
            outgoing = await flow.asend(incoming)
    except StopAsyncIteration:
        return
    except Exception as exc:
        failed(exc)
        raise
    finally:
        await flow.aclose()


class _Provider(OAuthClientProvider):
    """The SDK's provider with what a CLI needs around it.

    It trusts a stored token's expiry (so it refreshes instead of re-authorising), signs in
    only during `auth login` (a command that needs a sign-in fails at once naming why),
    remembers the scope a step-up challenge asked for, requests the union of what was held,
    configured and required, and picks the token-endpoint method of a pre-registered client
    from the authorization server's metadata.
    """

    def __init__(
        self, config: MCPServerConfig, storage: FileTokenStorage, *, interactive: bool, **keys: Any
    ) -> None:
        assert config.url is not None and config.auth is not None
        super().__init__(config.url, storage=storage, **keys)
        self._server = config.name
        self._auth: AuthConfig = config.auth
        self._file = storage
        self._interactive = interactive
        self._challenge: str | None = None
        self.authorizations = 0
        self.failure: Exception | None = None  # the last error of the flow, for the connection to report

    async def _initialize(self) -> None:
        await super()._initialize()
        if self.context.current_tokens is not None and self.context.current_tokens.expires_in is not None:
            self.context.update_token_expiry(self.context.current_tokens)

    def _auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        return relay(super()._auth_flow(request), self._watch, self._failed)

    def _failed(self, exc: Exception) -> None:
        self.failure = exc

    def _watch(self, response: httpx2.Response) -> None:
        """Remember a step-up challenge (RFC 6750 insufficient_scope) for the next login."""
        if (
            response.status_code != 403
            or extract_field_from_www_auth(response, "error") != "insufficient_scope"
        ):
            return
        scope = extract_scope_from_www_auth(response)
        if scope:
            self._challenge = union_scopes(self._challenge, scope)
            self._file.remember_scope(union_scopes(self._file.required_scope(), scope))

    async def _perform_authorization(self) -> httpx2.Request:
        if not self._interactive:
            raise self._login_needed()
        self.authorizations += 1
        if self.authorizations > MAX_AUTHORIZATIONS:
            self.authorizations -= 1
            raise self.refusal() or MCPAuthError(
                f"server '{self._server}' still refuses after {MAX_AUTHORIZATIONS} sign-ins; stopped",
                server=self._server,
            )
        wanted = union_scopes(" ".join(self._auth.scopes) or None, self._file.required_scope())
        self.context.client_metadata.scope = union_scopes(self.context.client_metadata.scope, wanted)
        await self._choose_token_auth_method()
        return await super()._perform_authorization()

    async def _choose_token_auth_method(self) -> None:
        """Fit a pre-registered client's token-endpoint method to what the server accepts."""
        client = self.context.client_info
        if client is None or not self._auth.client_id or client.client_id != self._auth.client_id:
            return
        metadata = self.context.oauth_metadata
        supported = metadata.token_endpoint_auth_methods_supported if metadata else None
        method = token_auth_method(
            supported, self._auth.token_endpoint_auth_method, bool(client.client_secret)
        )
        if client.token_endpoint_auth_method != method:
            client.token_endpoint_auth_method = method
            await self._file.set_client_info(client)

    def refusal(self) -> MCPAuthError | None:
        """Say why the server still refused after a step-up challenge, or None if there was none."""
        if not self._challenge:
            return None
        if not self.authorizations:
            return self._login_needed()
        return MCPAuthError(
            f"server '{self._server}' still asks for the scope '{self._challenge}' after"
            f" {self.authorizations} sign-in(s); the authorization server did not grant it",
            server=self._server,
            hint="the account may not be allowed that scope: ask the server's administrator",
        )

    def _login_needed(self) -> MCPAuthError:
        hint = f"{program()} auth login {self._server}"
        if self._challenge:
            error = MCPAuthError(
                f"server '{self._server}' needs the scope '{self._challenge}' for this request,"
                " which the stored login does not have",
                server=self._server,
                hint=f"{hint} (it will ask for the scope)",
            )
            error.login_server = self._server  # type: ignore[attr-defined]  # read by the inline re-login offer
            return error
        had = bool(self._file.read().get("tokens"))
        reason = " (the stored one was refused and could not be refreshed)" if had else " and none is stored"
        return MCPAuthError(
            f"server '{self._server}' needs an OAuth login{reason}", server=self._server, hint=f"run {hint}"
        )


async def _not_used(_url: str) -> None:  # the SDK wants a handler; _Provider refuses first
    raise AssertionError("unreachable: a non-interactive provider never redirects")


def oauth_provider(
    config: MCPServerConfig,
    *,
    redirect: Callable[[str], Awaitable[None]] | None = None,
    callback: Callable[[], Awaitable[AuthorizationCodeResult]] | None = None,
    redirect_uri: str | None = None,
) -> httpx2.Auth | None:
    """Return the httpx2 auth of the authorization-code grant (grants.provider_for picks the grant)."""
    auth = config.auth
    if auth is None or auth.type != "oauth" or config.url is None:
        return None
    storage = FileTokenStorage(config)
    uri = redirect_uri or stored_redirect_uri(storage) or "http://127.0.0.1:0/callback"
    metadata = OAuthClientMetadata(
        client_name="gemma-mcp",
        software_version=__version__,
        redirect_uris=[uri],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        scope=" ".join(auth.scopes) or None,
        token_endpoint_auth_method="client_secret_basic" if auth.client_secret else "none",
    )
    return _Provider(
        config,
        storage,
        interactive=redirect is not None,
        client_metadata=metadata,
        redirect_handler=redirect or _not_used,
        callback_handler=callback,
        client_metadata_url=auth.client_metadata_url,
    )


def begin_login(config: MCPServerConfig) -> int:
    """Forget a server's old tokens (keeping their scope for the new request); return the port to use."""
    storage = FileTokenStorage(config)
    held = (storage.read().get("tokens") or {}).get("scope")
    storage.remember_scope(union_scopes(storage.required_scope(), held if isinstance(held, str) else None))
    storage.forget_tokens()
    if config.auth is not None and config.auth.redirect_port:
        return config.auth.redirect_port
    stored = stored_redirect_uri(storage)
    return urlsplit(stored).port or 0 if stored else 0


def finish_login(config: MCPServerConfig) -> None:
    """After a sign-in: the scope it had to ask for is now in the stored token."""
    FileTokenStorage(config).remember_scope(None)


def stored_redirect_uri(storage: FileTokenStorage) -> str | None:
    """Return the redirect URI the stored registration was made with (its port must not change)."""
    uris = (storage.read().get("client") or {}).get("redirect_uris") or []
    return str(uris[0]) if uris else None


async def preregister(config: MCPServerConfig, redirect_uri: str) -> None:
    """Store a pre-registered client_id/secret, so no dynamic registration happens."""
    auth = config.auth
    assert auth is not None
    storage = FileTokenStorage(config)
    stored = await storage.get_client_info()
    if auth.client_id and (stored is None or stored.client_id != auth.client_id):
        method = token_auth_method(None, auth.token_endpoint_auth_method, bool(auth.client_secret))
        await storage.set_client_info(
            OAuthClientInformationFull(
                client_id=auth.client_id,
                client_secret=auth.client_secret,
                redirect_uris=[redirect_uri],
                token_endpoint_auth_method=method,
            )
        )
