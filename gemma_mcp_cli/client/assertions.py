"""Assertion grants (RFC 7523 jwt-bearer), alone or after a token exchange (RFC 8693).

`jwt_bearer` presents a workload's token (from a file or `${VAR}`, read afresh at every
exchange) to the authorization server. `token_exchange` first trades the identity
provider's token for an identity assertion authorization grant (ID-JAG, SEP-990: enterprise
managed authorization) at the identity provider, then presents that. The authorization server
is the configured `issuer`, or the one the protected-resource metadata names.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from urllib.parse import quote, urlsplit

import anyio
import httpx2
from mcp.client.auth import OAuthFlowError, OAuthTokenError
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
    build_protected_resource_metadata_discovery_urls,
    create_oauth_metadata_request,
    extract_field_from_www_auth,
    extract_resource_metadata_from_www_auth,
    extract_scope_from_www_auth,
    handle_auth_metadata_response,
    handle_protected_resource_response,
    handle_token_response_scopes,
    issuers_match,
    union_scopes,
)
from mcp.shared._httpx_utils import RedirectAwareAuth
from mcp.shared.auth import (
    JWT_BEARER_GRANT_TYPE,
    OAuthClientInformationFull,
    OAuthMetadata,
    OAuthToken,
    ProtectedResourceMetadata,
)
from mcp.shared.auth_utils import calculate_token_expiry, check_resource_allowed, resource_url_from_server_url

from gemma_mcp_cli.client.auth import FileTokenStorage, relay, token_auth_method
from gemma_mcp_cli.client.login import printable
from gemma_mcp_cli.config.models import AuthConfig, MCPServerConfig
from gemma_mcp_cli.errors import MCPConfigError

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_JAG = "urn:ietf:params:oauth:token-type:id-jag"
_FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}


class AssertionGrant(RedirectAwareAuth):
    """httpx2 auth that gets access tokens with the jwt-bearer grant, exchanging first if configured."""

    requires_response_body = True

    def __init__(self, config: MCPServerConfig, storage: FileTokenStorage) -> None:
        assert config.url is not None and config.auth is not None and config.auth.client_id is not None
        self._config = config
        self._auth: AuthConfig = config.auth
        self._storage = storage
        self._resource = resource_url_from_server_url(config.url)
        self._metadata: OAuthMetadata | None = None
        self._tokens: OAuthToken | None = None
        self._expiry: float | None = None
        self._loaded = False
        self._lock = anyio.Lock()
        self.failure: Exception | None = None

    def _auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        return relay(self._flow(request), lambda _response: None, self._failed)

    def _failed(self, exc: Exception) -> None:
        self.failure = exc  # for the connection: the SDK's transport reports it only as a 401

    async def _flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        async with self._lock:
            if not self._loaded:
                self._tokens = await self._storage.get_tokens()
                self._expiry = calculate_token_expiry(self._tokens.expires_in) if self._tokens else None
                self._loaded = True
            if self._tokens and (self._expiry is None or time.time() <= self._expiry):
                request.headers["Authorization"] = f"Bearer {self._tokens.access_token}"
            response = yield request
            scope = " ".join(self._auth.scopes) or None
            if (
                response.status_code == 403
                and extract_field_from_www_auth(response, "error") == "insufficient_scope"
            ):
                scope = union_scopes(scope, extract_scope_from_www_auth(response))
            elif response.status_code != 401:
                return
            issuer = self._auth.issuer
            if self._metadata is None and issuer is None:
                hinted = extract_resource_metadata_from_www_auth(response)
                for url in build_protected_resource_metadata_discovery_urls(hinted, self._resource):
                    prm = await handle_protected_resource_response((yield create_oauth_metadata_request(url)))
                    if prm is not None:
                        issuer = self._issuer_from(prm)
                        break
                if issuer is None:
                    raise OAuthFlowError(
                        f"no protected-resource metadata for {self._resource} names its authorization server"
                    )
            if self._metadata is None:
                assert issuer is not None
                for url in build_oauth_authorization_server_metadata_discovery_urls(issuer, issuer):
                    ok, asm = await handle_auth_metadata_response((yield create_oauth_metadata_request(url)))
                    if not ok:
                        break
                    if asm is not None:
                        self._metadata = self._checked(asm, issuer)
                        break
                if self._metadata is None:
                    raise OAuthFlowError(f"no authorization server metadata at {issuer}")
            audience = str(self._metadata.issuer)
            if self._auth.grant == "token_exchange":
                assertion = await self._id_jag((yield self._exchange_request(audience, scope)))
            else:
                assertion = self._secret("assertion", self._auth.assertion, self._auth.assertion_file)
            token_response = yield self._token_request(assertion, scope)
            if token_response.status_code != 200:
                body = printable((await token_response.aread()).decode(errors="replace"))
                raise OAuthTokenError(f"Token exchange failed ({token_response.status_code}): {body}")
            tokens = await handle_token_response_scopes(token_response)
            tokens.scope = tokens.scope or scope
            self._tokens, self._expiry = tokens, calculate_token_expiry(tokens.expires_in)
            await self._storage.set_tokens(tokens)
            request.headers["Authorization"] = f"Bearer {tokens.access_token}"
            yield request

    def _issuer_from(self, prm: ProtectedResourceMetadata) -> str:
        """Return the authorization server a resource's metadata names, after the RFC 8707 check."""
        named = str(prm.resource) if prm.resource else None
        if named and not check_resource_allowed(requested_resource=self._resource, configured_resource=named):
            raise OAuthFlowError(f"Protected resource {named} does not match expected {self._resource}")
        return str(prm.authorization_servers[0])

    @staticmethod
    def _checked(asm: OAuthMetadata, issuer: str) -> OAuthMetadata:
        """Refuse metadata for another issuer (RFC 8414 3.3), or a token endpoint off its origin."""
        if not issuers_match(str(asm.issuer), issuer):
            raise OAuthFlowError(f"Authorization server metadata issuer mismatch: {asm.issuer} != {issuer}")
        endpoint, origin = urlsplit(str(asm.token_endpoint)), urlsplit(issuer)
        if (endpoint.scheme, endpoint.netloc) != (origin.scheme, origin.netloc):
            raise OAuthFlowError(
                f"Token endpoint {asm.token_endpoint} is not on the issuer's origin {issuer}"
            )
        return asm

    def _secret(self, key: str, inline: str | None, path: str | None) -> str:
        """Return a token given inline (already `${VAR}`-expanded) or read from its file now."""
        return inline if inline else read_secret_file(self._config, f"{key}_file", path or "")

    def _exchange_request(self, audience: str, scope: str | None) -> httpx2.Request:
        """RFC 8693 at the identity provider: its token for an ID-JAG naming this server."""
        assert self._auth.idp_token_endpoint is not None
        data = {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": self._secret(
                "subject_token", self._auth.subject_token, self._auth.subject_token_file
            ),
            "subject_token_type": self._auth.subject_token_type,
            "requested_token_type": ID_JAG,
            "audience": audience,
            "resource": self._resource,
        }
        if scope:
            data["scope"] = scope
        if self._auth.idp_client_id:
            data["client_id"] = self._auth.idp_client_id
        return httpx2.Request("POST", self._auth.idp_token_endpoint, data=data, headers=_FORM)

    async def _id_jag(self, response: httpx2.Response) -> str:
        """Return the ID-JAG from the identity provider's answer, or say why there is none."""
        body = await response.aread()
        if response.status_code != 200:
            detail = printable(body.decode(errors="replace"))
            raise OAuthTokenError(
                f"the identity provider refused the token exchange ({response.status_code}): {detail}"
            )
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
            raise OAuthTokenError("the identity provider's token exchange answer carries no access_token")
        if answer.get("issued_token_type", ID_JAG) != ID_JAG:
            kind = printable(answer.get("issued_token_type"), 80)
            raise OAuthTokenError(f"the identity provider issued a {kind}, not an ID-JAG")
        return str(answer["access_token"])

    def _token_request(self, assertion: str, scope: str | None) -> httpx2.Request:
        """RFC 7523 section 2.1 at the authorization server, with the client's own authentication."""
        assert self._metadata is not None and self._auth.client_id is not None
        data = {"grant_type": JWT_BEARER_GRANT_TYPE, "assertion": assertion, "resource": self._resource}
        if scope:
            data["scope"] = scope
        client = OAuthClientInformationFull(
            client_id=self._auth.client_id, client_secret=self._auth.client_secret, redirect_uris=None
        )
        method = token_auth_method(
            self._metadata.token_endpoint_auth_methods_supported,
            self._auth.token_endpoint_auth_method,
            bool(client.client_secret),
        )
        headers = dict(_FORM)
        if method == "client_secret_basic" and client.client_secret:
            pair = f"{quote(client.client_id or '', safe='')}:{quote(client.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            data["client_id"] = self._auth.client_id
            if method == "client_secret_post" and client.client_secret:
                data["client_secret"] = client.client_secret
        return httpx2.Request("POST", str(self._metadata.token_endpoint), data=data, headers=headers)


def read_secret_file(config: MCPServerConfig, key: str, path: str) -> str:
    """Read a key or token file named in `[NAME.auth]`, or say which one cannot be read."""
    try:
        return Path(path).expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not readable text"
        raise MCPConfigError(
            f"server '{config.name}': cannot read auth.{key} file {path}: {reason}", server=config.name
        ) from None
