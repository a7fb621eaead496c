"""The device authorization grant (RFC 8628): sign in on another device with a short user code.

For machines with no browser and no way back to a loopback port. The authorization server must
advertise a `device_authorization_endpoint`; the tokens land in the same store as a browser
login's, with the client registration, so later commands use and refresh them the same way.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import anyio
import httpx2
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
    build_protected_resource_metadata_discovery_urls,
    union_scopes,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken, ProtectedResourceMetadata
from mcp.shared.auth_utils import check_resource_allowed, resource_url_from_server_url
from pydantic import ValidationError

from gemma_mcp_cli._version import __version__
from gemma_mcp_cli.client.auth import FileTokenStorage, begin_login, token_auth_method
from gemma_mcp_cli.client.login import printable
from gemma_mcp_cli.config.models import MCPServerConfig
from gemma_mcp_cli.errors import MCPAuthError, MCPConnectionError, MCPTimeoutError, program

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


async def device_sign_in(config: MCPServerConfig, *, timeout: float, say: Callable[[str], None]) -> None:
    """Run the device flow for a server and store its tokens (mode 0600)."""
    try:
        await _sign_in(config, timeout=timeout, say=say)
    except httpx2.HTTPError as exc:
        raise MCPConnectionError(
            f"cannot reach the authorization server of '{config.name}': {printable(exc)}", server=config.name
        ) from None
    except ValidationError as exc:
        raise MCPAuthError(
            f"the authorization server of '{config.name}' sent malformed metadata or tokens"
            f" ({exc.error_count()} error(s))",
            server=config.name,
        ) from None


async def _sign_in(config: MCPServerConfig, *, timeout: float, say: Callable[[str], None]) -> None:
    assert config.url is not None and config.auth is not None
    begin_login(config)
    storage = FileTokenStorage(config)
    async with httpx2.AsyncClient(timeout=30) as http:
        prm, metadata = await _discover(http, config)
        endpoint = metadata.get("device_authorization_endpoint")
        if not isinstance(endpoint, str):
            raise MCPAuthError(
                f"the authorization server of '{config.name}' does not offer sign-in with a device code",
                server=config.name,
                hint=f"sign in with the browser: {program()} auth login {config.name} [--no-browser]",
            )
        client = await _client(http, storage, config, metadata)
        resource = str(prm.resource) if prm and prm.resource else resource_url_from_server_url(config.url)
        offered = " ".join(prm.scopes_supported) if prm and prm.scopes_supported else None
        scope = union_scopes(" ".join(config.auth.scopes) or offered, storage.required_scope())
        fields = {"resource": resource} | ({"scope": scope} if scope else {})
        answer = await _post(http, endpoint, fields, client, metadata, config)
        code, user_code = answer.get("device_code"), answer.get("user_code")
        where = answer.get("verification_uri_complete") or answer.get("verification_uri")
        if not isinstance(code, str) or not isinstance(user_code, str) or not isinstance(where, str):
            raise MCPAuthError(f"the device authorization answer of '{config.name}' is incomplete")
        say(
            f"To sign in, open {printable(where)} on any device and enter the code {printable(user_code, 20)}"
        )
        say(f"Waiting up to {timeout:g}s for the sign-in to be approved (Ctrl-C stops)")
        limit = min(timeout, float(answer.get("expires_in") or timeout))
        interval = float(answer.get("interval") or 5)
        tokens = await _poll(http, config, client, metadata, code, interval, limit)
    tokens.scope = tokens.scope or scope
    await storage.set_tokens(tokens)
    storage.remember_scope(None)


async def _discover(
    http: httpx2.AsyncClient, config: MCPServerConfig
) -> tuple[ProtectedResourceMetadata | None, dict[str, Any]]:
    """Find the authorization server as the browser flow does: RFC 9728, then RFC 8414."""
    assert config.url is not None
    prm: ProtectedResourceMetadata | None = None
    for url in build_protected_resource_metadata_discovery_urls(None, config.url):
        response = await http.get(url)
        if response.status_code == 200:
            prm = ProtectedResourceMetadata.model_validate_json(response.content)
            break
    resource = resource_url_from_server_url(config.url)
    if prm and prm.resource and not check_resource_allowed(resource, str(prm.resource)):
        raise MCPAuthError(
            f"OAuth with server '{config.name}' failed: the protected resource {prm.resource}"
            f" does not match {resource} (RFC 8707)",
            server=config.name,
        )
    issuer = config.auth.issuer if config.auth and config.auth.issuer else None
    issuer = issuer or (str(prm.authorization_servers[0]) if prm else None)
    for url in build_oauth_authorization_server_metadata_discovery_urls(issuer, config.url):
        response = await http.get(url)
        if response.status_code == 200:
            document = response.json()
            if isinstance(document, dict) and isinstance(document.get("token_endpoint"), str):
                return prm, document
    raise MCPAuthError(f"no authorization server metadata found for '{config.name}'", server=config.name)


async def _client(
    http: httpx2.AsyncClient, storage: FileTokenStorage, config: MCPServerConfig, metadata: dict[str, Any]
) -> OAuthClientInformationFull:
    """The pre-registered client, a stored registration for the device grant, or a new one (RFC 7591)."""
    auth = config.auth
    assert auth is not None
    if auth.client_id:
        return OAuthClientInformationFull(
            client_id=auth.client_id, client_secret=auth.client_secret, redirect_uris=None
        )
    stored = await storage.get_client_info()
    if stored is not None and DEVICE_GRANT in (stored.grant_types or []):
        return stored
    registration = metadata.get("registration_endpoint")
    if not isinstance(registration, str):
        raise MCPAuthError(
            f"'{config.name}' offers no client registration: set client_id in its [auth]", server=config.name
        )
    body = {
        "client_name": "gemma-mcp",
        "software_version": __version__,
        "redirect_uris": ["http://127.0.0.1/callback"],
        "grant_types": ["authorization_code", "refresh_token", DEVICE_GRANT],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }
    response = await http.post(registration, json=body)
    if response.status_code not in (200, 201):
        raise MCPAuthError(f"'{config.name}' refused the client registration (HTTP {response.status_code})")
    client = OAuthClientInformationFull.model_validate_json(response.content)
    client.issuer = str(metadata.get("issuer") or "") or None
    await storage.set_client_info(client)
    return client


async def _post(
    http: httpx2.AsyncClient,
    url: str,
    fields: dict[str, str],
    client: OAuthClientInformationFull,
    metadata: dict[str, Any],
    config: MCPServerConfig,
) -> dict[str, Any]:
    """POST a form with the client's authentication; return the JSON object answered."""
    forced = config.auth.token_endpoint_auth_method if config.auth else None
    method = token_auth_method(
        metadata.get("token_endpoint_auth_methods_supported"), forced, bool(client.client_secret)
    )
    headers = {"Accept": "application/json"}
    data = dict(fields)
    if method == "client_secret_basic" and client.client_secret:
        pair = f"{quote(client.client_id or '', safe='')}:{quote(client.client_secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    else:
        data["client_id"] = client.client_id or ""
        if method == "client_secret_post" and client.client_secret:
            data["client_secret"] = client.client_secret
    response = await http.post(url, data=data, headers=headers)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise MCPAuthError(f"'{config.name}' answered HTTP {response.status_code} without JSON from {url}")
    if response.status_code >= 400 and "error" not in answer:
        answer["error"] = f"HTTP {response.status_code}"
    return answer


async def _poll(
    http: httpx2.AsyncClient,
    config: MCPServerConfig,
    client: OAuthClientInformationFull,
    metadata: dict[str, Any],
    code: str,
    interval: float,
    limit: float,
) -> OAuthToken:
    """Ask the token endpoint every `interval` seconds until the person approves (RFC 8628 3.4-3.5)."""
    with anyio.move_on_after(limit):
        while True:
            await anyio.sleep(interval)
            fields = {"grant_type": DEVICE_GRANT, "device_code": code}
            answer = await _post(http, str(metadata["token_endpoint"]), fields, client, metadata, config)
            error = answer.get("error")
            if error is None:
                return OAuthToken.model_validate(answer)
            if error == "slow_down":
                interval += 5
            elif error != "authorization_pending":
                detail = printable(answer.get("error_description") or "", 120)
                raise MCPAuthError(
                    f"the device sign-in to '{config.name}' ended: {printable(error, 60)}"
                    + (f" ({detail})" if detail else ""),
                    server=config.name,
                )
    raise MCPTimeoutError(
        f"the device sign-in to '{config.name}' was not approved within {limit:g}s",
        server=config.name,
        hint=f"run {program()} auth login {config.name} --device again (--timeout SECONDS gives more time)",
    )
