"""Bearer tokens and OAuth end to end against real servers, with no secret in any output or log."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gemma_mcp_cli.cli.app import app
from gemma_mcp_cli.client.tokens import token_path
from gemma_mcp_cli.config.loader import load_mcp_servers
from tests.conftest import PYTHON, SERVERS, NetworkServer, python_server
from tests.waiting import run_bounded

TOKEN = "tok-7f3a9c-bearer-secret"
CLIENT_SECRET = "cs-91b2e0-client-secret"
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def outputs() -> list[str]:
    """Everything the commands of a test printed, for the secrets check."""
    return []


@pytest.fixture
def gemma(workdir: Path, outputs: list[str], no_orphans: None) -> Run:
    """Run gemma-mcp in this process (Typer's runner: stdin is not a terminal, as in CI).

    Each command here would otherwise be a process that imports the SDK again; the flows that
    need a process of their own (a login read line by line, a terminal) start one themselves.
    """
    runner = CliRunner()

    def run(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        argv = ["--config", str(config), *args]
        # Bounded as the process was (a flow that waited for a login would hang the worker).
        result = run_bounded(lambda: runner.invoke(app, argv, env=env, catch_exceptions=False), 90)
        outputs.extend((result.stdout, result.stderr))
        return subprocess.CompletedProcess(argv, result.exit_code, result.stdout, result.stderr)

    return run


def assert_no_secret(tmp_path: Path, outputs: list[str], *secrets: str) -> None:
    """No secret in what was printed, nor in any file but the token store."""
    texts = list(outputs)
    for path in tmp_path.rglob("*"):
        if path.is_file() and "auth" not in path.parent.name:
            texts.append(path.read_text(errors="replace"))
    for secret in secrets:
        assert not any(secret in text for text in texts), f"{secret!r} leaked"


@pytest.fixture
def bearer(tmp_path: Path) -> Iterator[NetworkServer]:
    server = python_server("auth_server.py", "bearer", "--token", TOKEN, log=tmp_path / "bearer.log")
    yield server
    server.close()


def test_bearer_token_from_the_environment(
    gemma: Run, write_config, bearer: NetworkServer, tmp_path: Path, outputs: list[str]
) -> None:
    url = f"http://127.0.0.1:{bearer.port}/mcp"
    config = write_config(
        f'[api]\ntransport = "http"\nurl = "{url}"\n[api.auth]\ntype = "bearer"\ntoken = "${{API_TOKEN:-}}"\n'
        f'[open]\ntransport = "http"\nurl = "{url}"\n'
    )
    ok = gemma(config, "--verbose", "call", "api", "echo", "--arg", "text=hello", env={"API_TOKEN": TOKEN})
    assert (ok.returncode, ok.stdout) == (0, "hello\n"), ok.stderr
    missing = gemma(config, "tools", "list", "open", "--json")
    assert missing.returncode == 9
    assert json.loads(missing.stderr)["error"]["type"] == "auth"
    wrong = gemma(config, "call", "api", "echo", "--arg", "text=x", env={"API_TOKEN": "not-it"})
    assert wrong.returncode == 9 and "HTTP 403" in wrong.stderr
    shown = gemma(config, "servers", "show", "api", "--json", env={"API_TOKEN": TOKEN})
    assert json.loads(shown.stdout)["server"]["auth"]["token"] == "***"
    assert_no_secret(tmp_path, outputs, TOKEN)


@pytest.fixture
def oauth(tmp_path: Path) -> Iterator[NetworkServer]:
    server = python_server(
        "auth_server.py",
        "oauth",
        "--client-id",
        "robot",
        "--client-secret",
        CLIENT_SECRET,
        log=tmp_path / "oauth.log",
    )
    yield server
    server.close()


def stats(server: NetworkServer) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/_stats", timeout=10) as response:
        return dict(json.load(response))


def oauth_config(write_config: Callable[..., Path], server: NetworkServer, grant: str = "") -> Path:
    url = f"http://127.0.0.1:{server.port}/mcp"
    table = f'[svc]\ntransport = "http"\nurl = "{url}"\n[svc.auth]\ntype = "oauth"\n{grant}'
    return write_config(table, name="oauth.toml")


def test_command_without_a_login_exits_9_at_once(gemma: Run, write_config, oauth: NetworkServer) -> None:
    # "At once" means without a login flow: a browser that would complete one is there to be
    # opened, and none is (exit 9, no authorization begun); the run is bounded by the `gemma` fixture.
    browser = {"BROWSER": f"{PYTHON} {SERVERS / 'fake_browser.py'} %s"}
    result = gemma(oauth_config(write_config, oauth), "call", "svc", "whoami", env=browser)
    assert result.returncode == 9
    assert "Hint: run gemma-mcp auth login svc" in result.stderr
    assert stats(oauth)["authorizations"] == 0


def test_login_with_a_browser_then_reuse_then_refresh(
    gemma: Run, write_config, oauth: NetworkServer, tmp_path: Path, outputs: list[str]
) -> None:
    config = oauth_config(write_config, oauth)
    browser = {"BROWSER": f"{PYTHON} {SERVERS / 'fake_browser.py'} %s"}
    login = gemma(config, "auth", "login", "svc", env=browser)
    assert login.returncode == 0, login.stderr
    token_file = token_path(load_mcp_servers(config)["svc"])
    assert token_file.parent == tmp_path / "state" / "auth"
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    first = gemma(config, "call", "svc", "whoami", "--json")
    assert first.returncode == 0, first.stderr
    second = gemma(config, "call", "svc", "echo", "--arg", "text=again")
    assert second.stdout == "again\n"
    assert (stats(oauth)["authorizations"], stats(oauth)["registrations"]) == (1, 1)
    stored = json.loads(token_file.read_text())
    stored["tokens"]["expires_at"] = time.time() - 5  # as if an hour had passed
    token_file.write_text(json.dumps(stored))
    refreshed = gemma(config, "call", "svc", "echo", "--arg", "text=fresh")
    assert refreshed.stdout == "fresh\n", refreshed.stderr
    assert (stats(oauth)["refreshes"], stats(oauth)["authorizations"]) == (1, 1)
    status = json.loads(gemma(config, "auth", "status", "--json").stdout)["servers"][0]
    assert (status["server"], status["signed_in"], status["refreshable"]) == ("svc", True, True)
    secrets = [stored["tokens"]["access_token"], stored["tokens"]["refresh_token"]]
    assert_no_secret(
        tmp_path, outputs, *secrets, json.loads(token_file.read_text())["tokens"]["access_token"]
    )
    assert gemma(config, "auth", "logout", "svc").returncode == 0
    assert not token_file.exists()
    assert gemma(config, "call", "svc", "whoami").returncode == 9


def test_login_without_a_browser_prints_the_url(write_config, oauth: NetworkServer, workdir: Path) -> None:
    config = oauth_config(write_config, oauth)
    command = [
        sys.executable,
        "-m",
        "gemma_mcp_cli",
        "--config",
        str(config),
        "auth",
        "login",
        "svc",
        "--no-browser",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    lines: list[str] = []
    while not (lines and lines[-1].startswith("http")):
        line = process.stderr.readline()
        assert line, "no URL printed"
        lines.append(line.strip())
    with urllib.request.urlopen(lines[-1], timeout=30) as response:
        assert response.status == 200
    assert process.wait(timeout=60) == 0
    process.stderr.close()
    assert process.stdout is not None
    process.stdout.close()


def test_client_credentials_need_no_login(
    gemma: Run, write_config, oauth: NetworkServer, tmp_path: Path, outputs: list[str]
) -> None:
    grant = (
        'grant = "client_credentials"\nclient_id = "robot"\nclient_secret = "${ROBOT_SECRET}"\n'
        f'issuer = "http://127.0.0.1:{oauth.port}"\n'
    )
    config = oauth_config(write_config, oauth, grant)
    result = gemma(config, "call", "svc", "whoami", "--json", env={"ROBOT_SECRET": CLIENT_SECRET})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "robot" in result.stdout
    assert stats(oauth)["tokens"]["client_credentials"] == 1
    assert_no_secret(tmp_path, outputs, CLIENT_SECRET)


def test_client_credentials_with_a_private_key_jwt(
    gemma: Run, write_config, tmp_path: Path, outputs: list[str]
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = tmp_path / "client.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public = tmp_path / "client.pub.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    server = python_server(
        "auth_server.py",
        "oauth",
        "--client-id",
        "robot",
        "--client-secret",
        CLIENT_SECRET,
        "--jwt-public-key",
        str(public),
        log=tmp_path / "jwt.log",
    )
    try:
        grant = (
            f'grant = "client_credentials"\nclient_id = "robot"\nprivate_key = "{private}"\n'
            f'issuer = "http://127.0.0.1:{server.port}"\n'
        )
        result = gemma(oauth_config(write_config, server, grant), "call", "svc", "whoami", "--json")
        assert result.returncode == 0, result.stderr
        assert "robot" in result.stdout
        assert stats(server)["tokens"]["client_credentials"] == 1
    finally:
        server.close()
