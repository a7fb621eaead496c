"""OAuth 2.1 for remote servers, on the SDK's providers: stored tokens, login, refresh.

Tokens and client registrations live per server in files only the user can read. Commands
use stored credentials (and refresh them); only `auth login` ever opens a browser, so a
script or CI job that lacks a login fails at once with exit 9 instead of waiting.
"""

from __future__ import annotations

import contextlib
import json
import time
import webbrowser
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import anyio.to_thread
import httpx2
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

from gemma_mcp_cli._version import __version__
from gemma_mcp_cli.client.tokens import binding, read_stored, token_path
from gemma_mcp_cli.config.models import MCPServerConfig
from gemma_mcp_cli.errors import MCPAuthError, program
from gemma_mcp_cli.state.files import private_dir, write_atomically


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


class _Provider(OAuthClientProvider):
    """The SDK's provider, made to trust a stored token's expiry so it refreshes instead of re-authorising."""

    async def _initialize(self) -> None:
        await super()._initialize()
        if self.context.current_tokens is not None and self.context.current_tokens.expires_in is not None:
            self.context.update_token_expiry(self.context.current_tokens)


def _no_login(server: str) -> Callable[[str], Awaitable[None]]:
    async def refuse(_url: str) -> None:
        raise MCPAuthError(
            f"server '{server}' needs an OAuth login and none is stored",
            server=server,
            hint=f"run {program()} auth login {server}",
        )

    return refuse


def oauth_provider(
    config: MCPServerConfig,
    *,
    redirect: Callable[[str], Awaitable[None]] | None = None,
    callback: Callable[[], Awaitable[AuthorizationCodeResult]] | None = None,
    redirect_uri: str | None = None,
) -> httpx2.Auth | None:
    """Return the httpx2 auth for a server's `[auth] type = "oauth"`, or None."""
    auth = config.auth
    if auth is None or auth.type != "oauth" or config.url is None:
        return None
    storage = FileTokenStorage(config)
    scope = " ".join(auth.scopes) or None
    if auth.grant == "client_credentials":
        assert auth.client_id is not None  # the model guarantees it
        if auth.private_key:
            return _private_key_provider(config, storage, scope)
        return ClientCredentialsOAuthProvider(
            config.url, storage, auth.client_id, auth.client_secret or "", scope=scope, issuer=auth.issuer
        )
    uri = redirect_uri or stored_redirect_uri(storage) or "http://127.0.0.1:0/callback"
    metadata = OAuthClientMetadata(
        client_name="gemma-mcp",
        software_version=__version__,
        redirect_uris=[uri],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        scope=scope,
        token_endpoint_auth_method="client_secret_post" if auth.client_secret else "none",
    )
    return _Provider(
        config.url,
        metadata,
        storage,
        redirect_handler=redirect or _no_login(config.name),
        callback_handler=callback,
        client_metadata_url=auth.client_metadata_url,
    )


def _private_key_provider(
    config: MCPServerConfig, storage: FileTokenStorage, scope: str | None
) -> httpx2.Auth:
    from mcp.client.auth.extensions.client_credentials import PrivateKeyJWTOAuthProvider, SignedJWTParameters

    auth = config.auth
    assert (
        auth is not None
        and auth.client_id is not None
        and auth.private_key is not None
        and config.url is not None
    )
    key = Path(auth.private_key).expanduser().read_text(encoding="utf-8")
    parameters = SignedJWTParameters(issuer=auth.client_id, subject=auth.client_id, signing_key=key)
    return PrivateKeyJWTOAuthProvider(
        config.url,
        storage,
        auth.client_id,
        parameters.create_assertion_provider(),
        scope=scope,
        issuer=auth.issuer,
    )


def begin_login(config: MCPServerConfig) -> int:
    """Forget a server's old tokens; return the loopback port to listen on (0: any free one)."""
    storage = FileTokenStorage(config)
    storage.forget_tokens()
    if config.auth is not None and config.auth.redirect_port:
        return config.auth.redirect_port
    stored = stored_redirect_uri(storage)
    return urlsplit(stored).port or 0 if stored else 0


def stored_redirect_uri(storage: FileTokenStorage) -> str | None:
    """Return the redirect URI the stored registration was made with (its port must not change)."""
    uris = (storage.read().get("client") or {}).get("redirect_uris") or []
    return str(uris[0]) if uris else None


async def preregister(config: MCPServerConfig, redirect_uri: str) -> None:
    """Store a pre-registered client_id/secret, so no dynamic registration happens."""
    auth = config.auth
    assert auth is not None
    storage = FileTokenStorage(config)
    if auth.client_id and (await storage.get_client_info()) is None:
        await storage.set_client_info(
            OAuthClientInformationFull(
                client_id=auth.client_id,
                client_secret=auth.client_secret,
                redirect_uris=[redirect_uri],
                token_endpoint_auth_method="client_secret_post" if auth.client_secret else "none",
            )
        )


class LoopbackReceiver:
    """Receive the authorization code on http://127.0.0.1:PORT/callback (one request)."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self._result: AuthorizationCodeResult | None = None
        self._got = anyio.Event()
        self._listener: Any = None  # anyio's MultiListener of a TCP socket
        self._error = "unknown error"

    async def start(self) -> str:
        """Start listening; return the redirect URI."""
        self._listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=self.port)
        self.port = int(self._listener.extra(anyio.abc.SocketAttribute.local_port))
        return f"http://127.0.0.1:{self.port}/callback"

    async def serve(self) -> None:
        """Answer requests until one carries a code (or an error)."""
        with contextlib.suppress(anyio.ClosedResourceError):
            await self._listener.serve(self._handle)

    async def _handle(self, stream: Any) -> None:
        async with stream:
            request = (await stream.receive(65536)).decode("latin-1")
            target = request.split(" ", 2)[1] if request.count(" ") >= 2 else "/"
            query = {key: values[0] for key, values in parse_qs(urlsplit(target).query).items()}
            if "code" in query:
                self._result = AuthorizationCodeResult(
                    code=query["code"], state=query.get("state"), iss=query.get("iss")
                )
                body = "Signed in: you can close this window and return to the terminal."
            elif "error" in query:
                self._error = query["error"]
                body = f"Sign-in failed: {self._error}"
            else:
                body = "Waiting for the authorization server's redirect."
            payload = body.encode()
            status = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
            await stream.send(f"{status}Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
            if "code" in query or "error" in query:
                self._got.set()

    async def wait(self) -> AuthorizationCodeResult:
        """Return the code the browser brought back."""
        await self._got.wait()
        if self._result is None:
            raise MCPAuthError(
                f"the authorization server refused: {getattr(self, '_error', 'unknown error')}"
            )
        return self._result

    async def aclose(self) -> None:
        """Stop listening."""
        if self._listener is not None:
            await self._listener.aclose()


async def open_browser(url: str, *, use_browser: bool, say: Callable[[str], None]) -> None:
    """Open the authorization URL in the browser ($BROWSER is honoured), or print it.

    The browser runs in a thread: a $BROWSER command may not return until the sign-in
    reaches our loopback listener, which this event loop must keep serving.
    """
    if use_browser and await anyio.to_thread.run_sync(webbrowser.open, url):
        say("Opened the browser to sign in; waiting for it to come back...")
    else:
        say(f"Open this URL to sign in:\n{url}")
