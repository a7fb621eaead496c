"""Self-checks for the WebSocket and authenticated test servers, each run as a subprocess on a free port."""

import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
import pytest
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp import Client
from mcp.client._transport import TransportStreams
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from mcp.shared.message import SessionMessage
from mcp.types import CallToolResult, TextContent, jsonrpc_message_adapter
from pydantic import AnyUrl
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

HERE = Path(__file__).resolve().parent
WS_SERVER = HERE / "ws_server.py"
AUTH_SERVER = HERE / "auth_server.py"
TIMEOUT = 15.0
MCP_SUBPROTOCOL = Subprotocol("mcp")
BEARER = "s3cret-bearer"
CC_ID, CC_SECRET = "machine-client", "machine-secret"
REDIRECT_URI = "http://127.0.0.1:53682/callback"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "selfcheck", "version": "0"},
    },
}

Spawn = Callable[..., int]
Inbound = MemoryObjectSendStream[SessionMessage | Exception]


def run_bounded(body: Callable[[], Awaitable[None]]) -> None:
    """Run an async body under anyio with an overall deadline."""

    async def bounded() -> None:
        with anyio.fail_after(TIMEOUT):
            await body()

    anyio.run(bounded)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Poll until the server accepts TCP connections on `port`, failing fast if it exits."""
    while True:
        assert process.poll() is None, f"server exited with {process.returncode}:\n{log.read_text()}"
        try:
            stream = await anyio.connect_tcp("127.0.0.1", port)
        except OSError:
            await anyio.sleep(0.05)
        else:
            await stream.aclose()
            return


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server and reap it, killing it if it does not exit in time."""
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Start `python SCRIPT ARGS --port N` servers; terminate, reap and check their stdout at teardown."""
    processes: list[subprocess.Popen[bytes]] = []
    outputs: list[Path] = []
    with ExitStack() as files:

        def start(script: Path, *args: str) -> int:
            """Start one server on a free port, wait until it listens and return the port."""
            port = free_port()
            out, err = tmp_path / f"{port}.out", tmp_path / f"{port}.err"
            command = [sys.executable, str(script), *args, "--port", str(port)]
            stdout, stderr = files.enter_context(out.open("wb")), files.enter_context(err.open("wb"))
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
            processes.append(process)
            outputs.append(out)
            run_bounded(lambda: wait_until_listening(process, port, err))
            return port

        try:
            yield start
        finally:
            for process in processes:
                stop(process)
    assert [path.read_text() for path in outputs] == [""] * len(outputs), "a server wrote to stdout"


def only_text(result: CallToolResult) -> str:
    """Return the text of a result that holds exactly one text block."""
    [block] = result.content
    assert isinstance(block, TextContent)
    return block.text


async def exchange(ws: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
    """Send one JSON-RPC message as a text frame and return the next frame, parsed."""
    await ws.send(json.dumps(message))
    frame = await ws.recv()
    assert isinstance(frame, str)
    reply: dict[str, Any] = json.loads(frame)
    return reply


@asynccontextmanager
async def websocket_transport(url: str) -> AsyncIterator[TransportStreams]:
    """A minimal SDK client transport over WebSocket: one JSON-RPC message per text frame."""
    read_sink, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, write_source = anyio.create_memory_object_stream[SessionMessage](0)
    async with connect(url, subprotocols=[MCP_SUBPROTOCOL]) as ws, anyio.create_task_group() as group:
        group.start_soon(frames_to_stream, ws, read_sink)
        group.start_soon(stream_to_frames, ws, write_source)
        try:
            yield read_stream, write_stream
        finally:
            group.cancel_scope.cancel()


async def frames_to_stream(ws: ClientConnection, sink: Inbound) -> None:
    """Parse incoming text frames into session messages."""
    async with sink:
        async for frame in ws:
            await sink.send(SessionMessage(jsonrpc_message_adapter.validate_json(frame, by_name=False)))


async def stream_to_frames(ws: ClientConnection, source: MemoryObjectReceiveStream[SessionMessage]) -> None:
    """Send outgoing session messages as text frames."""
    async with source:
        async for item in source:
            await ws.send(item.message.model_dump_json(by_alias=True, exclude_unset=True))


def test_ws_server_initialize_and_list_tools(spawn: Spawn) -> None:
    """The server selects subprotocol `mcp` and answers initialize, tools/list and tools/call per frame."""
    url = f"ws://127.0.0.1:{spawn(WS_SERVER)}/mcp"

    async def body() -> None:
        async with connect(url, subprotocols=[MCP_SUBPROTOCOL]) as ws:
            assert ws.subprotocol == "mcp"
            init = await exchange(ws, INITIALIZE)
            assert init["id"] == 1
            assert init["result"]["protocolVersion"] == "2025-11-25"
            assert init["result"]["serverInfo"] == {"name": "sdk-test", "version": "1.2.3"}
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            listing = await exchange(ws, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
            assert {"echo", "add"} <= {tool["name"] for tool in listing["result"]["tools"]}
            call = {"name": "add", "arguments": {"a": 2, "b": 3}}
            added = await exchange(ws, {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": call})
            assert added["result"]["structuredContent"] == {"sum": 5}

    run_bounded(body)


def test_ws_server_refuses_handshake_without_subprotocol(spawn: Spawn) -> None:
    """A handshake that does not offer `mcp` gets HTTP 400."""
    url = f"ws://127.0.0.1:{spawn(WS_SERVER)}/mcp"

    async def body() -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url):
                pass
        assert refused.value.response.status_code == 400

    run_bounded(body)


def test_ws_server_with_sdk_client_negotiates_2026(spawn: Spawn) -> None:
    """The SDK client over a WebSocket transport probes server/discover and speaks 2026-07-28."""
    url = f"ws://127.0.0.1:{spawn(WS_SERVER)}/mcp"

    async def body() -> None:
        async with Client(websocket_transport(url)) as client:
            assert client.protocol_version == "2026-07-28"
            assert only_text(await client.call_tool("echo", {"text": "over ws"})) == "over ws"

    run_bounded(body)


def test_bearer_server_statuses_and_sdk_client(spawn: Spawn) -> None:
    """No token is 401 with a Bearer challenge, a wrong one 403, the right one lets the SDK client in."""
    url = f"http://127.0.0.1:{spawn(AUTH_SERVER, 'bearer', '--token', BEARER)}/mcp"
    headers = {"Accept": "application/json, text/event-stream"}

    async def body() -> None:
        async with httpx2.AsyncClient(headers=headers) as http:
            missing = await http.post(url, json=INITIALIZE)
            assert missing.status_code == 401
            assert missing.headers["www-authenticate"].startswith("Bearer")
            wrong = await http.post(url, json=INITIALIZE, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 403
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {BEARER}"}) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            assert {"echo", "add"} <= {tool.name for tool in (await client.list_tools()).tools}
            assert only_text(await client.call_tool("echo", {"text": "authorized"})) == "authorized"

    run_bounded(body)


class MemoryStorage:
    """TokenStorage kept in memory; sharing one instance between providers models a persisted login."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        """Return the stored tokens."""
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        """Store tokens."""
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        """Return the stored registration."""
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        """Store the registration."""
        self.client_info = client_info


class Browser:
    """Stands in for the user's browser: GETs the authorize URL, keeps the redirect's code, state and iss."""

    def __init__(self) -> None:
        self.results: list[AuthorizationCodeResult] = []
        self.visits = 0

    async def redirect(self, authorization_url: str) -> None:
        """Redirect handler: fetch the URL without following the redirect to the loopback callback."""
        self.visits += 1
        async with httpx2.AsyncClient() as http:
            response = await http.get(authorization_url)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(REDIRECT_URI)
        query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
        self.results.append(
            AuthorizationCodeResult(code=query["code"], state=query["state"], iss=query.get("iss"))
        )

    async def callback(self) -> AuthorizationCodeResult:
        """Callback handler: return what the redirect delivered."""
        return self.results.pop()


def oauth_provider(url: str, storage: MemoryStorage, browser: Browser) -> OAuthClientProvider:
    """Return an authorization-code provider for a public client (PKCE, no secret), loopback redirect."""
    metadata = OAuthClientMetadata(
        client_name="selfcheck",
        redirect_uris=[AnyUrl(REDIRECT_URI)],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    return OAuthClientProvider(
        server_url=url,
        client_metadata=metadata,
        storage=storage,
        redirect_handler=browser.redirect,
        callback_handler=browser.callback,
    )


async def whoami(url: str, auth: httpx2.Auth | None = None, token: str | None = None) -> dict[str, Any]:
    """Connect with the given auth (or bearer token), call `whoami` and return its structured result."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with (
        httpx2.AsyncClient(auth=auth, headers=headers) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        result = await client.call_tool("whoami", {})
    assert not result.is_error, result
    structured: dict[str, Any] | None = result.structured_content
    assert structured is not None
    return structured


async def fetch_stats(base: str) -> dict[str, Any]:
    """Return the server's counters."""
    async with httpx2.AsyncClient() as http:
        stats: dict[str, Any] = (await http.get(f"{base}/_stats")).json()
    return stats


def test_oauth_authorization_code_refresh_and_persisted_token(spawn: Spawn) -> None:
    """Register, authorize with PKCE, refresh after expiry, then reuse the stored token with no new login."""
    base = f"http://127.0.0.1:{spawn(AUTH_SERVER, 'oauth', '--token-ttl', '2')}"
    url, storage, browser = f"{base}/mcp", MemoryStorage(), Browser()

    async def body() -> None:
        provider = oauth_provider(url, storage, browser)
        async with (
            httpx2.AsyncClient(auth=provider) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            first = (await client.call_tool("whoami", {})).structured_content
            assert storage.client_info is not None and first is not None
            assert first["client_id"] == storage.client_info.client_id
            assert (first["scopes"], first["subject"], first["resource"]) == (["mcp"], "test-user", url)
            stats = await fetch_stats(base)
            assert (stats["registrations"], stats["authorizations"], stats["refreshes"]) == (1, 1, 0)
            await anyio.sleep(2.3)
            second = (await client.call_tool("whoami", {})).structured_content
            assert second == first
        stats = await fetch_stats(base)
        assert (stats["registrations"], stats["authorizations"], stats["refreshes"]) == (1, 1, 1)
        assert stats["tokens"] == {
            "authorization_code": 1,
            "refresh_token": 1,
            "client_credentials": 0,
            "jwt_bearer": 0,
            "token_exchange": 0,
            "device_code": 0,
        }
        assert await whoami(url, oauth_provider(url, storage, Browser())) == first
        assert await fetch_stats(base) == stats
        assert browser.visits == 1

    run_bounded(body)


def test_oauth_client_credentials(spawn: Spawn) -> None:
    """A plain client-credentials POST to /token yields a token /mcp accepts; so does the SDK's provider."""
    port = spawn(AUTH_SERVER, "oauth", "--client-id", CC_ID, "--client-secret", CC_SECRET)
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/mcp"

    async def body() -> None:
        async with httpx2.AsyncClient() as http:
            denied = await http.post(url, json=INITIALIZE)
            assert denied.status_code == 401
            challenge = denied.headers["www-authenticate"]
            assert f'resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"' in challenge
            form = {"grant_type": "client_credentials", "client_id": CC_ID, "client_secret": "wrong"}
            assert (await http.post(f"{base}/token", data=form)).status_code == 401
            granted = await http.post(f"{base}/token", data={**form, "client_secret": CC_SECRET})
        assert granted.status_code == 200, granted.text
        token = granted.json()
        assert (token["token_type"], token["scope"], "refresh_token" in token) == ("Bearer", "mcp", False)
        plain = await whoami(url, token=token["access_token"])
        assert (plain["client_id"], plain["subject"]) == (CC_ID, None)
        sdk = ClientCredentialsOAuthProvider(url, MemoryStorage(), CC_ID, CC_SECRET, issuer=base)
        assert (await whoami(url, sdk))["client_id"] == CC_ID
        assert (await fetch_stats(base))["tokens"]["client_credentials"] == 2

    run_bounded(body)
