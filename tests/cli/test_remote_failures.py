"""Remote failures get a clear line, the URL without credentials, and the right exit code."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, stderr_json
from tests.conftest import free_port, python_server
from tests.waiting import wait_for_text

SLOW_STARTED = "slow: call started"  # what tests/servers/sdk_server.py's slow tool logs as it begins


class _NotMCP(http.server.BaseHTTPRequestHandler):
    """Answers every request like an ordinary web site would."""

    def do_POST(self) -> None:
        status = 404 if self.path.startswith("/missing") else 500 if self.path.startswith("/boom") else 200
        body = b"<html><body>a web page</body></html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def website() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotMCP)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield int(listener.getsockname()[1])
    listener.close()


def test_connection_refused_exits_4_naming_the_url(cli: Invoke) -> None:
    url = f"http://user:secret@127.0.0.1:{free_port()}/mcp"
    result = cli("--retries", "0", "tools", "list", url, "--json")
    assert result.exit_code == 4
    message = stderr_json(result)["error"]["message"]
    assert "connection refused" in message and "secret" not in message and "127.0.0.1" in message


def test_http_404_exits_4_with_the_status(cli: Invoke, website: int) -> None:
    result = cli("--retries", "0", "tools", "list", f"http://127.0.0.1:{website}/missing/mcp")
    assert result.exit_code == 4
    assert f"HTTP 404 from http://127.0.0.1:{website}/missing/mcp" in result.stderr


def test_http_500_exits_4_after_the_retries(cli: Invoke, website: int, write_config) -> None:
    url = f"http://127.0.0.1:{website}/boom/mcp"
    config = write_config(
        f'[boom]\ntransport = "http"\nurl = "{url}"\nmax_reconnect_attempts = 2\nreconnect_delay = 0.01\n'
    )
    result = cli("--config", str(config), "tools", "list", "boom")
    assert result.exit_code == 4
    assert f"HTTP 500 from {url}" in result.stderr and "(after 3 attempts)" in result.stderr


def test_a_server_that_is_not_mcp_exits_4(cli: Invoke, website: int) -> None:
    result = cli("--retries", "0", "tools", "list", f"http://127.0.0.1:{website}/mcp")
    assert result.exit_code == 4, result.stderr
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr


def test_unresolvable_host_exits_4(cli: Invoke) -> None:
    result = cli("tools", "list", "http://no-such-host.invalid/mcp")
    assert result.exit_code == 4
    assert "does not resolve" in result.stderr and "attempts" not in result.stderr


def test_tls_to_a_plain_port_exits_4(cli: Invoke, website: int) -> None:
    result = cli("--retries", "0", "tools", "list", f"https://127.0.0.1:{website}/mcp")
    assert result.exit_code == 4
    assert "TLS" in result.stderr or "SSL" in result.stderr


def test_a_server_that_never_answers_exits_8(cli: Invoke, write_config, silent_port: int) -> None:
    config = write_config(
        f'[mute]\ntransport = "http"\nurl = "http://127.0.0.1:{silent_port}/mcp"\nconnection_timeout = 1.0\n'
    )
    result = cli("--config", str(config), "tools", "list", "mute")
    assert result.exit_code == 8


def test_websocket_without_a_server_exits_4(cli: Invoke) -> None:
    result = cli("--retries", "0", "tools", "list", f"ws://127.0.0.1:{free_port()}/mcp")
    assert result.exit_code == 4
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("transport", "path"), [("websocket", "/mcp"), ("sse", "/sse")])
def test_a_stream_dropped_mid_call_exits_4(transport: str, path: str, tmp_path: Path, workdir: Path) -> None:
    args = ["--transport", "sse"] if transport == "sse" else []
    server = python_server(
        "ws_server.py" if transport == "websocket" else "sdk_server.py",
        *([] if transport == "websocket" else ["--transport", "sse"]),
        log=tmp_path / "server.log",
    )
    scheme = "ws" if transport == "websocket" else "http"
    url = f"{scheme}://127.0.0.1:{server.port}{path}"
    command = [
        sys.executable,
        "-m",
        "gemma_mcp_cli",
        "--retries",
        "0",
        *args,
        "call",
        url,
        "slow",
        "--arg",
        "seconds=60",
    ]
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_text(tmp_path / "server.log", SLOW_STARTED)  # the call is under way at the server
    finally:
        server.close()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 4, stderr
    assert stderr.startswith("Error: ") and "Traceback" not in stderr
