"""Streamable HTTP MCP servers that require authentication: a static bearer token, or a full OAuth 2.1 setup.

bearer: sdk_server's tools at /mcp; 401 (WWW-Authenticate: Bearer) without a token, 403 with a wrong one.
oauth:  authorization server and resource server on one port, built from the SDK's server-side auth pieces,
        with an auto-approving /authorize, refresh tokens, client credentials and a GET /_stats counter.
"""

import argparse
import base64
import binascii
import hmac
import importlib.util
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import anyio
import jwt
import uvicorn
from mcp.server.auth.handlers.metadata import MetadataHandler
from mcp.server.auth.handlers.token import TokenErrorResponse, TokenHandler
from mcp.server.auth.json_response import PydanticJSONResponse
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.middleware.client_auth import ClientAuthenticator
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    TokenErrorCode,
    construct_redirect_uri,
)
from mcp.server.auth.routes import build_metadata, cors_middleware
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth import InvalidScopeError, OAuthClientInformationFull, OAuthToken
from pydantic import BaseModel
from starlette.datastructures import FormData, Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
SCOPE = "mcp"
SUBJECT = "test-user"
CODE_TTL = 300.0
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def load_sdk_server() -> MCPServer:
    """Import sdk_server.py by path (works whether or not `tests` is importable) and return its server."""
    spec = importlib.util.spec_from_file_location("sdk_server", HERE / "sdk_server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    server = module.mcp
    assert isinstance(server, MCPServer)
    return server


class BearerGate:
    """ASGI middleware: 401 without a bearer token, 403 with a wrong one, otherwise pass through."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the Authorization header of every HTTP request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("authorization", "")
        if not header.lower().startswith("bearer "):
            body = {"error": "invalid_request", "error_description": "bearer token required"}
            response = JSONResponse(body, 401, headers={"WWW-Authenticate": 'Bearer realm="mcp"'})
        elif not hmac.compare_digest(header[7:].strip().encode(), self.token):
            challenge = 'Bearer realm="mcp", error="invalid_token"'
            body = {"error": "invalid_token", "error_description": "wrong bearer token"}
            response = JSONResponse(body, 403, headers={"WWW-Authenticate": challenge})
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)


def build_bearer_app(token: str) -> ASGIApp:
    """Return sdk_server's Streamable HTTP app behind a static bearer token."""
    return BearerGate(load_sdk_server().streamable_http_app(), token)


@dataclass
class Stats:
    """Counters exposed at GET /_stats."""

    tokens: dict[str, int] = field(
        default_factory=lambda: {"authorization_code": 0, "refresh_token": 0, "client_credentials": 0}
    )
    refreshes: int = 0
    registrations: int = 0
    authorizations: int = 0
    revocations: int = 0

    def as_json(self) -> dict[str, Any]:
        """Return the counters as a JSON-ready dict."""
        return {
            "tokens": dict(self.tokens),
            "refreshes": self.refreshes,
            "registrations": self.registrations,
            "authorizations": self.authorizations,
            "revocations": self.revocations,
        }


class MemoryProvider(OAuthAuthorizationServerProvider[AuthorizationCode, RefreshToken, AccessToken]):
    """In-memory authorization server that approves every authorization request at once."""

    def __init__(self, issuer: str, resource: str, token_ttl: int) -> None:
        self.issuer = issuer
        self.resource = resource
        self.token_ttl = token_ttl
        self.stats = Stats()
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.deadlines: dict[str, float] = {}
        self.refresh: dict[str, RefreshToken] = {}
        self.pairs: dict[str, str] = {}

    def preregister(self, client_id: str, client_secret: str) -> None:
        """Add a confidential client allowed only the client-credentials grant."""
        self.clients[client_id] = OAuthClientInformationFull(
            client_id=client_id,
            client_secret=client_secret,
            redirect_uris=None,
            grant_types=["client_credentials"],
            token_endpoint_auth_method="client_secret_post",
            scope=SCOPE,
        )

    def check_resource(self, resource: str | None) -> None:
        """Refuse an RFC 8707 resource indicator naming anything but this server's /mcp."""
        if resource is not None and resource.rstrip("/") != self.resource:
            raise AuthorizeError("invalid_target", f"unknown resource {resource}")

    def issue(self, client_id: str, scopes: list[str], grant: str, subject: str | None) -> OAuthToken:
        """Mint an access token (plus a refresh token unless client credentials) and count it."""
        now = time.time()
        access = f"at_{secrets.token_urlsafe(32)}"
        self.access[access] = AccessToken(
            token=access,
            client_id=client_id,
            scopes=scopes,
            expires_at=int(now + self.token_ttl) + 1,
            resource=self.resource,
            subject=subject,
        )
        self.deadlines[access] = now + self.token_ttl
        self.stats.tokens[grant] += 1
        refresh = None
        if grant != "client_credentials":
            refresh = f"rt_{secrets.token_urlsafe(32)}"
            self.refresh[refresh] = RefreshToken(
                token=refresh, client_id=client_id, scopes=scopes, resource=self.resource, subject=subject
            )
            self.pairs[access], self.pairs[refresh] = refresh, access
        scope = " ".join(scopes)
        return OAuthToken(access_token=access, expires_in=self.token_ttl, scope=scope, refresh_token=refresh)

    def forget(self, token: str) -> None:
        """Drop a token and the other half of its access/refresh pair."""
        for key in (token, self.pairs.pop(token, None)):
            if key is not None:
                self.access.pop(key, None)
                self.deadlines.pop(key, None)
                self.refresh.pop(key, None)
                self.pairs.pop(key, None)

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        """Return a registered client."""
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        """Store a dynamically registered client."""
        self.clients[client_info.client_id] = client_info
        self.stats.registrations += 1

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        """Approve at once: redirect to the client with a fresh code, its state and our issuer."""
        self.check_resource(params.resource)
        code = secrets.token_urlsafe(32)
        self.codes[code] = AuthorizationCode(
            code=code,
            scopes=params.scopes or (client.scope or SCOPE).split(),
            expires_at=time.time() + CODE_TTL,
            client_id=client.client_id,
            code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
            subject=SUBJECT,
        )
        self.stats.authorizations += 1
        return construct_redirect_uri(
            str(params.redirect_uri), code=code, state=params.state, iss=self.issuer
        )

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        """Return a pending code issued to this client."""
        code = self.codes.get(authorization_code)
        return code if code is not None and code.client_id == client.client_id else None

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        """Spend the code (the SDK handler has checked PKCE and redirect_uri) for a token pair."""
        self.codes.pop(authorization_code.code, None)
        return self.issue(client.client_id, authorization_code.scopes, "authorization_code", SUBJECT)

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> RefreshToken | None:
        """Return a live refresh token issued to this client."""
        token = self.refresh.get(refresh_token)
        return token if token is not None and token.client_id == client.client_id else None

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]
    ) -> OAuthToken:
        """Rotate: revoke the old pair and issue a new one."""
        self.forget(refresh_token.token)
        self.stats.refreshes += 1
        return self.issue(client.client_id, scopes, "refresh_token", refresh_token.subject)

    async def load_access_token(self, token: str) -> AccessToken | None:
        """Return a live access token; expiry is checked to the sub-second."""
        if time.time() >= self.deadlines.get(token, 0.0):
            return None
        return self.access.get(token)

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        """Revoke the token and its pair."""
        self.forget(token.token)
        self.stats.revocations += 1


def client_credentials_of(request: Request, form: FormData) -> tuple[str, str]:
    """Return (client_id, client_secret) from HTTP Basic auth, else from the form body."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    return str(form.get("client_id") or ""), str(form.get("client_secret") or "")


def token_error(error: TokenErrorCode, description: str, status: int = 400) -> Response:
    """Return an RFC 6749 section 5.2 error response."""
    content = TokenErrorResponse(error=error, error_description=description)
    return PydanticJSONResponse(content=content, status_code=status, headers=NO_STORE)


@dataclass
class TokenEndpoint:
    """/token: the SDK's handler for authorization_code and refresh_token, plus client_credentials here."""

    provider: MemoryProvider
    sdk_handler: TokenHandler
    jwt_key: str | None = None

    async def handle(self, request: Request) -> Response:
        """Dispatch on grant_type (the SDK's TokenHandler does not know client_credentials)."""
        form = await request.form()
        if form.get("grant_type") != "client_credentials":
            response: Response = await self.sdk_handler.handle(request)
            return response
        return await self.client_credentials(request, form)

    async def client_credentials(self, request: Request, form: FormData) -> Response:
        """RFC 6749 section 4.4: authenticate a confidential client and issue an access token."""
        if "client_assertion" in form:
            client = await self.asserted_client(str(form["client_assertion"]))
        else:
            client_id, secret = client_credentials_of(request, form)
            client = await self.provider.get_client(client_id)
            stored = (client.client_secret or "") if client else ""
            if client is not None and not (stored and hmac.compare_digest(stored.encode(), secret.encode())):
                client = None
        if client is None:
            return token_error("invalid_client", "client authentication failed", 401)
        if "client_credentials" not in client.grant_types:
            return token_error("unauthorized_client", "client may not use client_credentials")
        try:
            scopes = client.validate_scope(str(form["scope"]) if "scope" in form else None)
            self.provider.check_resource(str(form["resource"]) if "resource" in form else None)
        except InvalidScopeError as exc:
            return token_error("invalid_scope", exc.message)
        except AuthorizeError as exc:
            return token_error("invalid_target", exc.error_description or "bad resource")
        granted = scopes or (client.scope or SCOPE).split()
        token = self.provider.issue(client.client_id, granted, "client_credentials", None)
        return PydanticJSONResponse(content=token, headers=NO_STORE)

    async def asserted_client(self, assertion: str) -> OAuthClientInformationFull | None:
        """RFC 7523: the client proves itself with a JWT signed by its private key."""
        if self.jwt_key is None:
            return None
        try:
            claims = jwt.decode(
                assertion, self.jwt_key, algorithms=["RS256", "ES256"], audience=self.provider.issuer
            )
        except jwt.PyJWTError:
            return None
        return await self.provider.get_client(str(claims.get("sub", "")))


class WhoAmI(BaseModel):
    """Who the presented access token belongs to."""

    client_id: str
    scopes: list[str]
    subject: str | None
    resource: str | None


def whoami() -> WhoAmI:
    """Return the client id, scopes, subject and resource of the caller's access token."""
    token = get_access_token()
    if token is None:
        raise RuntimeError("no access token in context")
    return WhoAmI(
        client_id=token.client_id, scopes=token.scopes, subject=token.subject, resource=token.resource
    )


def echo(text: str) -> str:
    """Return the given text unchanged."""
    return text


def oauth_settings(issuer: str, resource: str) -> AuthSettings:
    """Return the SDK auth settings: DCR and revocation on, scope `mcp` required, tokens bound to /mcp."""
    return AuthSettings(
        issuer_url=issuer,  # a string keeps the canonical no-trailing-slash form (url_preserve_empty_path)
        resource_server_url=resource,
        validate_token_resource=True,
        required_scopes=[SCOPE],
        client_registration_options=ClientRegistrationOptions(
            enabled=True, valid_scopes=[SCOPE], default_scopes=[SCOPE]
        ),
        revocation_options=RevocationOptions(enabled=True),
    )


def extra_routes(
    provider: MemoryProvider, settings: AuthSettings, jwt_key: str | None = None
) -> list[BaseRoute]:
    """Routes that take precedence over the SDK's: /token, AS metadata advertising the extras, /_stats."""
    assert settings.client_registration_options is not None and settings.revocation_options is not None
    metadata = build_metadata(
        settings.issuer_url, None, settings.client_registration_options, settings.revocation_options
    )
    metadata.grant_types_supported = [*(metadata.grant_types_supported or []), "client_credentials"]
    metadata.authorization_response_iss_parameter_supported = True
    token = TokenEndpoint(provider, TokenHandler(provider, ClientAuthenticator(provider)), jwt_key)
    if jwt_key:
        methods = metadata.token_endpoint_auth_methods_supported or []
        metadata.token_endpoint_auth_methods_supported = [*methods, "private_key_jwt"]

    async def stats(request: Request) -> Response:
        """Return the counters."""
        return JSONResponse(provider.stats.as_json())

    well_known = cors_middleware(MetadataHandler(metadata).handle, ["GET", "OPTIONS"])
    return [
        Route("/.well-known/oauth-authorization-server", endpoint=well_known, methods=["GET", "OPTIONS"]),
        Route("/token", endpoint=token.handle, methods=["POST"]),
        Route("/_stats", endpoint=stats, methods=["GET"]),
    ]


def build_oauth_app(
    port: int, token_ttl: int, client_id: str | None, client_secret: str | None, jwt_key: str | None = None
) -> ASGIApp:
    """Return the combined authorization server and MCP resource server."""
    issuer = f"http://{HOST}:{port}"
    settings = oauth_settings(issuer, f"{issuer}/mcp")
    provider = MemoryProvider(str(settings.issuer_url), f"{issuer}/mcp", token_ttl)
    if client_id and client_secret:
        provider.preregister(client_id, client_secret)
    server = MCPServer("oauth-test", version="1.0.0", auth_server_provider=provider, auth=settings)
    server.add_tool(echo, structured_output=False)
    server.add_tool(whoami)
    app = server.streamable_http_app(host=HOST)
    app.router.routes[:0] = extra_routes(provider, settings, jwt_key)
    return app


async def serve(app: ASGIApp, port: int) -> None:
    """Serve the app on 127.0.0.1:port with nothing written to stdout."""
    config = uvicorn.Config(app, host=HOST, port=port, log_level="warning", access_log=False)
    await uvicorn.Server(config).serve()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    modes = parser.add_subparsers(dest="mode", required=True)
    bearer = modes.add_parser("bearer", help="static bearer token")
    bearer.add_argument("--port", type=int, required=True)
    bearer.add_argument("--token", required=True)
    oauth = modes.add_parser("oauth", help="OAuth 2.1 authorization and resource server")
    oauth.add_argument("--port", type=int, required=True)
    oauth.add_argument("--token-ttl", type=int, default=3600, help="access token lifetime in seconds")
    oauth.add_argument("--client-id", help="pre-registered confidential client for client_credentials")
    oauth.add_argument("--client-secret")
    oauth.add_argument("--jwt-public-key", help="PEM file: accept JWT client assertions signed by its key")
    args = parser.parse_args(argv)
    if args.mode == "oauth" and bool(args.client_id) != bool(args.client_secret):
        parser.error("--client-id and --client-secret go together")
    return args


def main(argv: list[str] | None = None) -> None:
    """Build the requested server and serve it."""
    args = parse_args(argv)
    if args.mode == "bearer":
        app = build_bearer_app(args.token)
    else:
        key = Path(args.jwt_public_key).read_text() if args.jwt_public_key else None
        app = build_oauth_app(args.port, args.token_ttl, args.client_id, args.client_secret, key)
    anyio.run(serve, app, args.port)


if __name__ == "__main__":
    main()
