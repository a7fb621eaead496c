"""Streamable HTTP MCP servers that require authentication: a static bearer token, or a full OAuth 2.1 setup.

bearer: sdk_server's tools at /mcp; 401 (WWW-Authenticate: Bearer) without a token, 403 with a wrong one.
oauth:  authorization server and resource server on one port, built from the SDK's server-side auth pieces,
        with an auto-approving /authorize, refresh tokens, client credentials and a GET /_stats counter.
        Options make it strict or hostile: one token-endpoint auth method, a step-up scope for the
        `admin` tool, protected-resource metadata naming another resource, a wrong RFC 9207 `iss`,
        the jwt-bearer grant (a workload token, or an ID-JAG from the identity provider at /idp).
"""

import argparse
import base64
import binascii
import hmac
import importlib.util
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import anyio
import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec
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
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
SCOPE = "mcp"
ADMIN_SCOPE = "mcp:admin"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_JAG = "urn:ietf:params:oauth:token-type:id-jag"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
PENDING = ("authorization_pending", "the person has not approved yet")
IDP_AUDIENCE = "gemma-at-idp"
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
        default_factory=lambda: {
            "authorization_code": 0,
            "refresh_token": 0,
            "client_credentials": 0,
            "jwt_bearer": 0,
            "token_exchange": 0,
            "device_code": 0,
        }
    )
    auth_methods: list[str] = field(default_factory=list)
    scopes_requested: list[str] = field(default_factory=list)
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
            "auth_methods": list(self.auth_methods),
            "scopes_requested": list(self.scopes_requested),
        }


class MemoryProvider(OAuthAuthorizationServerProvider[AuthorizationCode, RefreshToken, AccessToken]):
    """In-memory authorization server that approves every authorization request at once."""

    def __init__(self, issuer: str, resource: str, token_ttl: int, bad_iss: bool = False) -> None:
        self.bad_iss = bad_iss
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

    def preregister(self, client_id: str, client_secret: str, method: str, redirect: str | None) -> None:
        """Add a confidential client (client credentials, jwt-bearer; the code flow with a redirect URI)."""
        self.clients[client_id] = OAuthClientInformationFull(
            client_id=client_id,
            client_secret=client_secret,
            redirect_uris=[redirect] if redirect else None,
            grant_types=["client_credentials", JWT_BEARER, "authorization_code", "refresh_token"],
            token_endpoint_auth_method=method,
            scope=f"{SCOPE} {ADMIN_SCOPE}",
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
        """Store a dynamically registered client, allowed every scope (so a step-up can be granted)."""
        client_info.scope = f"{SCOPE} {ADMIN_SCOPE}"
        self.clients[client_info.client_id] = client_info
        self.stats.registrations += 1

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        """Approve at once: redirect to the client with a fresh code, its state and our issuer."""
        self.check_resource(params.resource)
        self.stats.scopes_requested.append(" ".join(params.scopes or []))
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
        iss = "https://impostor.example" if self.bad_iss else self.issuer
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state, iss=iss)

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


def auth_method_of(request: Request, form: FormData) -> str:
    """Name how a token request authenticated its client."""
    if request.headers.get("authorization", "").lower().startswith("basic "):
        return "client_secret_basic"
    if "client_assertion" in form:
        return "private_key_jwt"
    return "client_secret_post" if "client_secret" in form else "none"


_SECRET_METHODS = ["client_secret_basic", "client_secret_post"]


@dataclass
class Device:
    """A pending device authorization (RFC 8628)."""

    client_id: str
    user_code: str
    scopes: list[str]
    state: str = "pending"


@dataclass
class Keys:
    """The identity provider's signing key, and the key it signs ID-JAGs with."""

    idp: Any = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    grants: Any = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))


@dataclass
class TokenEndpoint:
    """/token: the SDK's handler for authorization_code and refresh_token, plus the machine grants here."""

    provider: MemoryProvider
    sdk_handler: TokenHandler
    jwt_key: str | None = None
    strict_method: bool = False  # accept only the client's registered method (else basic or post)
    keys: Keys = field(default_factory=Keys)
    devices: dict[str, Device] = field(default_factory=dict)

    async def handle(self, request: Request) -> Response:
        """Dispatch on grant_type (the SDK's TokenHandler knows only the code and refresh grants)."""
        form = await request.form()
        self.provider.stats.auth_methods.append(auth_method_of(request, form))
        grant = form.get("grant_type")
        if grant == "client_credentials":
            return await self.client_credentials(request, form)
        if grant == JWT_BEARER:
            return await self.jwt_bearer(request, form)
        if grant == DEVICE_GRANT:
            return await self.device_token(form)
        response: Response = await self.sdk_handler.handle(request)
        return response

    async def authenticated(self, request: Request, form: FormData) -> OAuthClientInformationFull | None:
        """Return the client a secret or signed assertion proves, by the method it registered."""
        if "client_assertion" in form:
            return await self.asserted_client(str(form["client_assertion"]))
        client_id, secret = client_credentials_of(request, form)
        client = await self.provider.get_client(client_id)
        method = auth_method_of(request, form)
        allowed = [client.token_endpoint_auth_method] if client and self.strict_method else _SECRET_METHODS
        if client is None or method not in allowed:
            return None
        stored = client.client_secret or ""
        return client if stored and hmac.compare_digest(stored.encode(), secret.encode()) else None

    async def client_credentials(self, request: Request, form: FormData) -> Response:
        """RFC 6749 section 4.4: authenticate a confidential client and issue an access token."""
        client = await self.authenticated(request, form)
        if client is None:
            return token_error("invalid_client", "client authentication failed", 401)
        if "client_credentials" not in client.grant_types:
            return token_error("unauthorized_client", "client may not use client_credentials")
        return self.grant(client, form, "client_credentials", None)

    def grant(
        self, client: OAuthClientInformationFull, form: FormData, grant: str, subject: str | None
    ) -> Response:
        """Check the scope and resource asked for, then issue an access token."""
        try:
            scopes = client.validate_scope(str(form["scope"]) if "scope" in form else None)
            self.provider.check_resource(str(form["resource"]) if "resource" in form else None)
        except InvalidScopeError as exc:
            return token_error("invalid_scope", exc.message)
        except AuthorizeError as exc:
            return token_error("invalid_target", exc.error_description or "bad resource")
        granted = scopes or [SCOPE]
        token = self.provider.issue(client.client_id, granted, grant, subject)
        return PydanticJSONResponse(content=token, headers=NO_STORE)

    async def jwt_bearer(self, request: Request, form: FormData) -> Response:
        """RFC 7523 section 2.1: a workload token (signed by --jwt-public-key) or an ID-JAG from /idp."""
        client = await self.authenticated(request, form)
        if client is None:
            return token_error("invalid_client", "client authentication failed", 401)
        assertion = str(form.get("assertion", ""))
        try:
            header = jwt.get_unverified_header(assertion)
            if header.get("typ") == "oauth-id-jag+jwt":
                claims = jwt.decode(
                    assertion,
                    self.keys.grants.public_key(),
                    algorithms=["ES256"],
                    audience=self.provider.issuer,
                )
                if (
                    claims.get("client_id") != client.client_id
                    or claims.get("resource") != self.provider.resource
                ):
                    return token_error("invalid_grant", "the ID-JAG names another client or resource")
                kind = "token_exchange"
            elif self.jwt_key is not None:
                claims = jwt.decode(
                    assertion, self.jwt_key, algorithms=["RS256", "ES256"], audience=self.provider.issuer
                )
                kind = "jwt_bearer"
            else:
                return token_error("invalid_grant", "no key to check workload tokens with")
        except jwt.PyJWTError as exc:
            return token_error("invalid_grant", f"assertion rejected: {exc}")
        return self.grant(client, form, kind, str(claims.get("sub")))

    async def device_authorization(self, request: Request) -> Response:
        """RFC 8628 3.1-3.2: a device code for the client, a user code for the person."""
        form = await request.form()
        client = await self.provider.get_client(str(form.get("client_id", "")))
        if client is None:
            return token_error("invalid_client", "unknown client", 401)
        try:
            self.provider.check_resource(str(form["resource"]) if "resource" in form else None)
        except AuthorizeError as exc:
            return token_error("invalid_target", exc.error_description or "bad resource")
        device_code, user_code = secrets.token_urlsafe(24), secrets.token_hex(4).upper()
        scopes = str(form.get("scope") or SCOPE).split()
        self.devices[device_code] = Device(client.client_id, user_code, scopes)
        self.provider.stats.scopes_requested.append(" ".join(scopes))
        where = f"{self.provider.issuer}/device"
        body = {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": where,
            "verification_uri_complete": f"{where}?user_code={user_code}",
            "expires_in": 300,
            "interval": 1,
        }
        return JSONResponse(body, headers=NO_STORE)

    async def device_page(self, request: Request) -> Response:
        """Where the person enters the user code: approves it at once (or denies, with ?deny=1)."""
        code = request.query_params.get("user_code", "")
        for device in self.devices.values():
            if device.user_code == code:
                device.state = "denied" if request.query_params.get("deny") else "approved"
                return Response(f"Device {device.state}.", media_type="text/plain")
        return Response("Unknown code.", status_code=404, media_type="text/plain")

    async def device_token(self, form: FormData) -> Response:
        """RFC 8628 3.4-3.5: pending until the person approves, then a token pair."""
        device = self.devices.get(str(form.get("device_code", "")))
        if device is None or device.client_id != form.get("client_id"):
            return token_error("invalid_grant", "unknown device code")
        if device.state != "approved":  # RFC 8628 error codes, which the SDK's token errors lack
            error, said = ("access_denied", "the person said no") if device.state == "denied" else PENDING
            return JSONResponse({"error": error, "error_description": said}, 400, headers=NO_STORE)
        del self.devices[str(form["device_code"])]
        token = self.provider.issue(device.client_id, device.scopes, "device_code", SUBJECT)
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

    async def idp_token(self, request: Request) -> Response:
        """The identity provider's RFC 8693 token exchange: its ID token for an ID-JAG (SEP-990)."""
        form = await request.form()
        if form.get("grant_type") != TOKEN_EXCHANGE or form.get("requested_token_type") != ID_JAG:
            return token_error("unsupported_grant_type", "only token exchange for an ID-JAG")
        if form.get("subject_token_type") != ID_TOKEN or not form.get("audience") or not form.get("resource"):
            return token_error("invalid_request", "subject_token_type, audience and resource are required")
        try:
            identity = jwt.decode(
                str(form.get("subject_token", "")),
                self.keys.idp.public_key(),
                algorithms=["ES256"],
                audience=IDP_AUDIENCE,
            )
        except jwt.PyJWTError as exc:
            return token_error("invalid_grant", f"subject token rejected: {exc}")
        now = int(time.time())
        claims = {
            "iss": f"{self.provider.issuer}/idp",
            "sub": identity["sub"],
            "aud": str(form["audience"]),
            "resource": str(form["resource"]),
            "client_id": self.preregistered_id(),
            "iat": now,
            "exp": now + 300,
            "jti": secrets.token_urlsafe(8),
        }
        grant = jwt.encode(claims, self.keys.grants, algorithm="ES256", headers={"typ": "oauth-id-jag+jwt"})
        body = {"access_token": grant, "issued_token_type": ID_JAG, "token_type": "N_A", "expires_in": 300}
        return JSONResponse(body, headers=NO_STORE)

    def preregistered_id(self) -> str:
        """The confidential client the ID-JAG is issued for (the first pre-registered one)."""
        return next(iter(self.provider.clients), "")

    async def idp_id_token(self, request: Request) -> Response:
        """Test hook: what signing in to the identity provider would give, an ID token for `sub`."""
        now = int(time.time())
        claims = {
            "iss": f"{self.provider.issuer}/idp",
            "sub": request.query_params.get("sub", "alice"),
            "aud": IDP_AUDIENCE,
            "iat": now,
            "exp": now + 3600,
        }
        return Response(jwt.encode(claims, self.keys.idp, algorithm="ES256"), media_type="text/plain")


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
            enabled=True, valid_scopes=[SCOPE, ADMIN_SCOPE], default_scopes=[SCOPE]
        ),
        revocation_options=RevocationOptions(enabled=True),
    )


def admin() -> str:
    """A tool that needs the extra scope mcp:admin (the StepUpGate asks for it)."""
    return "admin ok"


class StepUpGate:
    """ASGI middleware: a tools/call of `admin` without scope mcp:admin gets 403 insufficient_scope."""

    def __init__(self, app: ASGIApp, provider: MemoryProvider, metadata_url: str) -> None:
        self.app = app
        self.provider = provider
        self.metadata_url = metadata_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the JSON-RPC body, decide, then replay it to the app."""
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if self.refused(Headers(scope=scope).get("authorization", ""), body):
            challenge = (
                f'Bearer error="insufficient_scope", scope="{SCOPE} {ADMIN_SCOPE}", '
                f'resource_metadata="{self.metadata_url}"'
            )
            body_out = {"error": "insufficient_scope", "error_description": "the admin tool needs mcp:admin"}
            await JSONResponse(body_out, 403, headers={"WWW-Authenticate": challenge})(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def refused(self, header: str, body: bytes) -> bool:
        """Tell whether this is a call of `admin` by a token that lacks mcp:admin."""
        try:
            message = json.loads(body)
        except ValueError:
            return False
        if not isinstance(message, dict) or message.get("method") != "tools/call":
            return False
        if (message.get("params") or {}).get("name") != "admin":
            return False
        token = self.provider.access.get(header[7:].strip()) if header.lower().startswith("bearer ") else None
        return token is not None and ADMIN_SCOPE not in token.scopes


def extra_routes(
    provider: MemoryProvider, settings: AuthSettings, args: argparse.Namespace
) -> list[BaseRoute]:
    """Routes that take precedence over the SDK's: /token, AS metadata with the extras, /idp, /_stats."""
    assert settings.client_registration_options is not None and settings.revocation_options is not None
    metadata = build_metadata(
        settings.issuer_url, None, settings.client_registration_options, settings.revocation_options
    )
    metadata.grant_types_supported = [
        *(metadata.grant_types_supported or []),
        "client_credentials",
        JWT_BEARER,
    ]
    metadata.authorization_response_iss_parameter_supported = True
    metadata.scopes_supported = [SCOPE, ADMIN_SCOPE]
    jwt_key = Path(args.jwt_public_key).read_text() if args.jwt_public_key else None
    sdk_handler = TokenHandler(provider, ClientAuthenticator(provider))
    token = TokenEndpoint(provider, sdk_handler, jwt_key, strict_method=bool(args.token_auth_method))
    if args.token_auth_method:
        metadata.token_endpoint_auth_methods_supported = [args.token_auth_method]
    if jwt_key:
        methods = metadata.token_endpoint_auth_methods_supported or []
        metadata.token_endpoint_auth_methods_supported = [*methods, "private_key_jwt"]

    async def stats(request: Request) -> Response:
        """Return the counters."""
        return JSONResponse(provider.stats.as_json())

    document = metadata.model_dump(mode="json", exclude_none=True)
    if args.device:
        document["device_authorization_endpoint"] = f"{provider.issuer}/device_authorization"
        document["grant_types_supported"].append(DEVICE_GRANT)

    async def metadata_json(request: Request) -> Response:
        """RFC 8414 metadata, with the RFC 8628 endpoint when --device is on."""
        return JSONResponse(document)

    well_known = cors_middleware(metadata_json, ["GET", "OPTIONS"])
    routes: list[BaseRoute] = [
        Route("/.well-known/oauth-authorization-server", endpoint=well_known, methods=["GET", "OPTIONS"]),
        Route("/token", endpoint=token.handle, methods=["POST"]),
        Route("/idp/token", endpoint=token.idp_token, methods=["POST"]),
        Route("/device_authorization", endpoint=token.device_authorization, methods=["POST"]),
        Route("/device", endpoint=token.device_page, methods=["GET"]),
        Route("/idp/id_token", endpoint=token.idp_id_token, methods=["GET"]),
        Route("/_stats", endpoint=stats, methods=["GET"]),
    ]
    if args.prm_resource:
        prm = {"resource": args.prm_resource, "authorization_servers": [provider.issuer]}

        async def wrong_prm(request: Request) -> Response:
            """Protected-resource metadata that names another resource (RFC 8707 / 9728 mismatch)."""
            return JSONResponse(prm)

        routes.append(Route("/.well-known/oauth-protected-resource/mcp", endpoint=wrong_prm, methods=["GET"]))
    return routes


def build_oauth_app(args: argparse.Namespace) -> ASGIApp:
    """Return the combined authorization server and MCP resource server."""
    issuer = f"http://{HOST}:{args.port}"
    settings = oauth_settings(issuer, f"{issuer}/mcp")
    provider = MemoryProvider(str(settings.issuer_url), f"{issuer}/mcp", args.token_ttl, args.bad_iss)
    if args.client_id and args.client_secret:
        method = args.token_auth_method or "client_secret_post"
        provider.preregister(args.client_id, args.client_secret, method, args.client_redirect)
    server = MCPServer("oauth-test", version="1.0.0", auth_server_provider=provider, auth=settings)
    server.add_tool(echo, structured_output=False)
    server.add_tool(whoami)
    server.add_tool(admin, structured_output=False)
    app = server.streamable_http_app(host=HOST)
    app.router.routes[:0] = extra_routes(provider, settings, args)
    return StepUpGate(app, provider, f"{issuer}/.well-known/oauth-protected-resource/mcp")


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
    oauth.add_argument(
        "--token-auth-method",
        choices=["client_secret_basic", "client_secret_post"],
        help="the only token-endpoint auth method the pre-registered client may use (and metadata lists)",
    )
    oauth.add_argument("--client-redirect", help="redirect URI of the pre-registered client (code flow)")
    oauth.add_argument("--prm-resource", help="protected-resource metadata names this resource instead")
    oauth.add_argument("--bad-iss", action="store_true", help="redirect with another issuer's iss (RFC 9207)")
    oauth.add_argument("--device", action="store_true", help="advertise the device authorization grant")
    args = parser.parse_args(argv)
    if args.mode == "oauth" and bool(args.client_id) != bool(args.client_secret):
        parser.error("--client-id and --client-secret go together")
    return args


def main(argv: list[str] | None = None) -> None:
    """Build the requested server and serve it."""
    args = parse_args(argv)
    app = build_bearer_app(args.token) if args.mode == "bearer" else build_oauth_app(args)
    anyio.run(serve, app, args.port)


if __name__ == "__main__":
    main()
