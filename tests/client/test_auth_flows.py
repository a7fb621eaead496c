"""OAuth as authorization servers really behave: slow people, stray callbacks, mismatched metadata,
strict token endpoints, step-up scopes and machine grants, end to end against tests/servers/auth_server.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.client.test_auth import CLIENT_SECRET, Run, assert_no_secret, gemma, outputs, stats
from tests.conftest import PYTHON, SERVERS, NetworkServer, free_port, python_server

__all__ = ["gemma", "outputs"]  # fixtures shared with test_auth

# Its tests share servers started once for the module: one test worker runs them all (see conftest.py).
pytestmark = pytest.mark.xdist_group("auth-flows")

BROWSER = {"BROWSER": f"{PYTHON} {SERVERS / 'fake_browser.py'} %s"}


def pem_pair(tmp: Path, kind: str) -> tuple[Path, Path]:
    """Write a private key (rsa or ec) and its public key as PEM files."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key: Any = (
        ec.generate_private_key(ec.SECP256R1())
        if kind == "ec"
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    private, public = tmp / f"{kind}.pem", tmp / f"{kind}.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An EC P-256 key pair: the workload's and the signed-client's key."""
    private, public = pem_pair(tmp_path_factory.mktemp("keys"), "ec")
    return {"private": private, "public": public}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> Iterator[NetworkServer]:
    """One authorization + resource server shared by the tests that only read its counters as deltas."""
    log = tmp_path_factory.mktemp("logs") / "oauth.log"
    args = ("--client-id", "robot", "--client-secret", CLIENT_SECRET, "--jwt-public-key", str(keys["public"]))
    started = python_server("auth_server.py", "oauth", *args, log=log)
    yield started
    started.close()


def started(tmp_path: Path, *args: str) -> NetworkServer:
    return python_server("auth_server.py", "oauth", *args, log=tmp_path / "oauth.log")


def config_for(
    write_config: Callable[..., Path], server: NetworkServer, auth: str = "", table: str = ""
) -> Path:
    url = f"http://127.0.0.1:{server.port}/mcp"
    text = f'[svc]\ntransport = "http"\nurl = "{url}"\n{table}[svc.auth]\ntype = "oauth"\n{auth}'
    return write_config(text, name="oauth.toml")


def token_file(tmp_path: Path) -> Path:
    """The one token file these tests' single server has (named by a digest of its URL), if any."""
    found = sorted((tmp_path / "state" / "auth").glob("*.json"))
    assert len(found) <= 1, found
    return found[0] if found else tmp_path / "state" / "auth" / "absent.json"


def assert_private_tokens(tmp_path: Path) -> dict[str, Any]:
    """The token file is the user's alone and holds an access token; return it."""
    path = token_file(tmp_path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    document: dict[str, Any] = json.loads(path.read_text())
    assert document["tokens"]["access_token"]
    return document


class Login:
    """`auth login` running in the background, its stderr read line by line."""

    def __init__(self, config: Path, *args: str, stdin: int | None = subprocess.DEVNULL) -> None:
        command = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), "auth", "login", "svc"]
        self.process = subprocess.Popen(
            [*command, *args], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []

    def url(self) -> str:
        """Wait for the printed authorization URL and return it."""
        assert self.process.stderr is not None
        while True:
            line = self.process.stderr.readline()
            assert line, f"no URL printed: {self.lines}"
            self.lines.append(line.strip())
            if line.startswith("http"):
                return line.strip()

    def line_with(self, text: str) -> str:
        """Wait for a stderr line that contains `text` and return it."""
        assert self.process.stderr is not None
        while True:
            line = self.process.stderr.readline()
            assert line, f"{text!r} never printed: {self.lines}"
            self.lines.append(line.strip())
            if text in line:
                return line.strip()

    def finish(self) -> tuple[int, str]:
        """Wait for the login to end; return its exit code and the rest of its stderr."""
        _out, err = self.process.communicate(timeout=60)
        return self.process.returncode, "\n".join(self.lines) + err


def visit(url: str) -> tuple[int, str]:
    """GET a URL without following redirects' failures; return the final status and page."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


def redirect_target(url: str) -> str:
    """Return where the authorization server redirects the browser (the callback URL with the code)."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(url, timeout=30)
    except urllib.error.HTTPError as error:
        return str(error.headers["Location"])
    raise AssertionError("the authorization endpoint did not redirect")


def test_login_outlasts_the_connection_timeout(
    gemma: Run, write_config, server: NetworkServer, tmp_path: Path, outputs: list[str]
) -> None:
    # 0.1 s is less than the sign-in takes (the browser alone is a new process): login has its own deadline
    config = config_for(write_config, server, table="connection_timeout = 0.1\n")
    result = gemma(config, "auth", "login", "svc", env=BROWSER)
    assert result.returncode == 0, result.stderr
    assert "Waiting up to 300s for the sign-in to come back to http://127.0.0.1:" in result.stderr
    document = assert_private_tokens(tmp_path)
    assert_no_secret(tmp_path, outputs, document["tokens"]["access_token"])


def test_login_that_nobody_finishes_exits_8_naming_what_it_waited_for(
    write_config, server: NetworkServer, workdir: Path, no_orphans: None
) -> None:
    login = Login(config_for(write_config, server), "--no-browser", "--timeout", "1")
    login.url()
    code, err = login.finish()
    assert code == 8, err
    assert "Error: the sign-in to 'svc' did not come back to http://127.0.0.1:" in err
    assert "within 1s" in err and "--timeout" in err and "Traceback" not in err


def test_a_callback_with_another_state_is_ignored_and_the_page_says_so(
    write_config, server: NetworkServer, workdir: Path, tmp_path: Path, no_orphans: None
) -> None:
    # stdin stays open (a terminal nobody types in): the paste reader must not keep the process alive
    login = Login(config_for(write_config, server), "--no-browser", stdin=subprocess.PIPE)
    url = login.url()
    callback = redirect_target(url)
    forged = callback.replace("state=", "state=forged")
    status, page = visit(forged)
    assert status == 400 and "does not belong to the sign-in in progress" in page
    assert login.process.poll() is None  # still waiting
    status, page = visit(callback)
    assert status == 200 and "Signed in" in page
    assert login.process.wait(timeout=60) == 0
    code, err = login.finish()
    assert code == 0, err
    assert_private_tokens(tmp_path)


def test_a_pasted_redirect_url_finishes_the_login(
    write_config, server: NetworkServer, workdir: Path, tmp_path: Path, no_orphans: None
) -> None:
    login = Login(config_for(write_config, server), "--no-browser", stdin=subprocess.PIPE)
    callback = redirect_target(login.url())
    assert login.process.stdin is not None
    login.process.stdin.write("http://127.0.0.1:1/callback?code=x&state=wrong\n" + callback + "\n")
    login.process.stdin.flush()
    code, err = login.finish()
    assert code == 0, err
    assert "That URL was not accepted" in err
    assert_private_tokens(tmp_path)


def test_a_refused_sign_in_exits_9_with_the_reason_cleaned(
    write_config, server: NetworkServer, workdir: Path, no_orphans: None
) -> None:
    login = Login(config_for(write_config, server), "--no-browser")
    callback = redirect_target(login.url())
    state = callback.split("state=")[1].split("&")[0]
    port = callback.split(":")[2].split("/")[0]
    status, page = visit(f"http://127.0.0.1:{port}/callback?error=access_denied%1b[31m&state={state}")
    assert status == 200 and "refused" in page
    code, err = login.finish()
    assert code == 9, err
    assert "refused the sign-in: access_denied\\x1b[31m" in err and "\x1b" not in err


@pytest.mark.parametrize(
    ("flag", "said"),
    [
        (
            ("--prm-resource", "https://elsewhere.example/mcp"),
            "the protected resource https://elsewhere.example",
        ),
        (("--bad-iss",), "the sign-in came back from issuer https://impostor.example"),
    ],
)
def test_mismatched_resource_or_issuer_exits_9_naming_it(
    gemma: Run, write_config, tmp_path: Path, flag: tuple[str, ...], said: str
) -> None:
    hostile = started(tmp_path, *flag)
    try:
        result = gemma(config_for(write_config, hostile), "auth", "login", "svc", env=BROWSER)
    finally:
        hostile.close()
    assert result.returncode == 9, result.stderr
    assert f"Error: OAuth with server 'svc' failed: {said}" in result.stderr
    assert "ExceptionGroup" not in result.stderr
    assert not token_file(tmp_path).exists() or "tokens" not in json.loads(token_file(tmp_path).read_text())


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_a_pre_registered_client_authenticates_as_the_server_lists(
    gemma: Run, write_config, tmp_path: Path, outputs: list[str], method: str
) -> None:
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/callback"
    args = ("--client-id", "app", "--client-secret", CLIENT_SECRET, "--token-auth-method", method)
    strict = started(tmp_path, *args, "--client-redirect", redirect)
    auth = f'client_id = "app"\nclient_secret = "${{APP_SECRET}}"\nredirect_port = {port}\n'
    try:
        config = config_for(write_config, strict, auth)
        secret = {"APP_SECRET": CLIENT_SECRET}
        result = gemma(config, "auth", "login", "svc", env=BROWSER | secret)
        assert result.returncode == 0, result.stderr
        document = assert_private_tokens(tmp_path)
        assert document["client"]["token_endpoint_auth_method"] == method
        document["tokens"]["expires_at"] = 0  # expired: the next call refreshes, the same way
        token_file(tmp_path).write_text(json.dumps(document))
        refreshed = gemma(config, "call", "svc", "echo", "--arg", "text=hi", env=secret)
        assert refreshed.stdout == "hi\n", refreshed.stderr
        counts = stats(strict)
        assert counts["refreshes"] == 1 and set(counts["auth_methods"]) == {method}
        other = "client_secret_post" if method == "client_secret_basic" else "client_secret_basic"
        forced = config_for(write_config, strict, auth + f'token_endpoint_auth_method = "{other}"\n')
        token_file(tmp_path).unlink()
        refused = gemma(forced, "auth", "login", "svc", env=BROWSER | secret)
    finally:
        strict.close()
    assert refused.returncode == 9, refused.stderr
    assert "Token exchange failed (401)" in refused.stderr
    assert_no_secret(tmp_path, outputs, CLIENT_SECRET)


def test_client_credentials_discover_the_issuer_and_verify_a_pin(
    gemma: Run, write_config, server: NetworkServer, tmp_path: Path, outputs: list[str]
) -> None:
    grant = 'grant = "client_credentials"\nclient_id = "robot"\nclient_secret = "${ROBOT_SECRET}"\n'
    secret = {"ROBOT_SECRET": CLIENT_SECRET}
    before = stats(server)["tokens"]["client_credentials"]
    found = gemma(config_for(write_config, server, grant), "call", "svc", "whoami", "--json", env=secret)
    assert found.returncode == 0, found.stderr
    assert (
        found.stderr == "" and json.loads(found.stdout)["result"]["structuredContent"]["client_id"] == "robot"
    )
    assert stats(server)["tokens"]["client_credentials"] == before + 1
    assert_private_tokens(tmp_path)
    token_file(tmp_path).unlink()
    pinned = config_for(write_config, server, grant + 'issuer = "https://auth.example.com"\n')
    wrong = gemma(pinned, "call", "svc", "whoami", env=secret)
    assert wrong.returncode == 9, wrong.stderr
    assert (
        "names issuer http://127.0.0.1:" in wrong.stderr
        and "expected https://auth.example.com" in wrong.stderr
    )
    assert stats(server)["tokens"]["client_credentials"] == before + 1
    assert_no_secret(tmp_path, outputs, CLIENT_SECRET)


def test_client_credentials_sign_with_an_ec_key_as_es256(
    gemma: Run, write_config, server: NetworkServer, keys: dict[str, Path], tmp_path: Path
) -> None:
    grant = f'grant = "client_credentials"\nclient_id = "robot"\nprivate_key = "{keys["private"]}"\n'
    result = gemma(config_for(write_config, server, grant), "call", "svc", "whoami", "--json")
    assert result.returncode == 0, result.stderr
    assert stats(server)["auth_methods"][-1] == "private_key_jwt"
    assert_private_tokens(tmp_path)
    token_file(tmp_path).unlink()
    wrong_alg = gemma(
        config_for(write_config, server, grant + 'signing_alg = "RS256"\n'), "call", "svc", "whoami"
    )
    assert wrong_alg.returncode == 3, wrong_alg.stderr
    assert "auth.private_key cannot sign as RS256" in wrong_alg.stderr and "Traceback" not in wrong_alg.stderr
    missing = grant.replace(str(keys["private"]), str(tmp_path / "absent.pem"))
    gone = gemma(config_for(write_config, server, missing), "call", "svc", "whoami")
    assert gone.returncode == 3 and "cannot read auth.private_key file" in gone.stderr, gone.stderr


def test_step_up_remembers_the_scope_and_the_next_login_asks_for_it(
    gemma: Run, write_config, server: NetworkServer, tmp_path: Path
) -> None:
    config = config_for(write_config, server)
    assert gemma(config, "auth", "login", "svc", env=BROWSER).returncode == 0
    assert gemma(config, "call", "svc", "echo", "--arg", "text=ok").stdout == "ok\n"
    refused = gemma(config, "call", "svc", "admin")
    assert refused.returncode == 9, refused.stderr
    assert "Error: server 'svc' needs the scope 'mcp mcp:admin' for this request" in refused.stderr
    assert "Hint: gemma-mcp auth login svc" in refused.stderr
    assert "[y/N]" not in refused.stderr  # no terminal: no offer to sign in again
    assert json.loads(token_file(tmp_path).read_text())["required_scope"] == "mcp mcp:admin"
    again = gemma(config, "auth", "login", "svc", env=BROWSER)
    assert again.returncode == 0, again.stderr
    assert set(stats(server)["scopes_requested"][-1].split()) == {"mcp", "mcp:admin"}
    document = assert_private_tokens(tmp_path)
    assert "required_scope" not in document and "mcp:admin" in document["tokens"]["scope"]
    allowed = gemma(config, "call", "svc", "admin")
    assert (allowed.returncode, allowed.stdout) == (0, "admin ok\n"), allowed.stderr


def test_jwt_bearer_with_a_workload_token_from_a_file(
    gemma: Run, write_config, server: NetworkServer, keys: dict[str, Path], tmp_path: Path, outputs: list[str]
) -> None:
    import jwt

    issuer = f"http://127.0.0.1:{server.port}"
    claims = {"iss": "https://ci.example", "sub": "repo:demo", "aud": issuer, "exp": 2_000_000_000}
    workload = jwt.encode(claims, keys["private"].read_text(), algorithm="ES256")
    token = tmp_path / "workload.jwt"
    token.write_text(workload + "\n")
    grant = (
        f'grant = "jwt_bearer"\nclient_id = "robot"\nclient_secret = "${{ROBOT_SECRET}}"\n'
        f'assertion_file = "{token}"\n'
    )
    secret = {"ROBOT_SECRET": CLIENT_SECRET}
    result = gemma(config_for(write_config, server, grant), "call", "svc", "whoami", "--json", env=secret)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["result"]["structuredContent"]["subject"] == "repo:demo"
    assert stats(server)["tokens"]["jwt_bearer"] >= 1
    assert_private_tokens(tmp_path)
    token.write_text("not-a-jwt")
    token_file(tmp_path).unlink()
    bad = gemma(config_for(write_config, server, grant), "call", "svc", "whoami", env=secret)
    assert bad.returncode == 9 and "assertion rejected" in bad.stderr, bad.stderr
    token.unlink()
    gone = gemma(config_for(write_config, server, grant), "call", "svc", "whoami", env=secret)
    assert gone.returncode == 3 and "cannot read auth.assertion_file file" in gone.stderr, gone.stderr
    assert_no_secret(tmp_path, outputs, CLIENT_SECRET, workload)


def test_token_exchange_at_the_identity_provider_then_jwt_bearer(
    gemma: Run, write_config, server: NetworkServer, tmp_path: Path, outputs: list[str]
) -> None:
    base = f"http://127.0.0.1:{server.port}"
    with urllib.request.urlopen(f"{base}/idp/id_token?sub=alice", timeout=10) as response:
        id_token = response.read().decode()
    grant = (
        f'grant = "token_exchange"\nclient_id = "robot"\nclient_secret = "${{ROBOT_SECRET}}"\n'
        f'subject_token = "${{IDP_TOKEN}}"\nidp_token_endpoint = "{base}/idp/token"\n'
    )
    env = {"ROBOT_SECRET": CLIENT_SECRET, "IDP_TOKEN": id_token}
    result = gemma(config_for(write_config, server, grant), "call", "svc", "whoami", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["result"]["structuredContent"]["subject"] == "alice"
    assert stats(server)["tokens"]["token_exchange"] >= 1
    assert_private_tokens(tmp_path)
    token_file(tmp_path).unlink()
    forged = gemma(
        config_for(write_config, server, grant), "call", "svc", "whoami", env=env | {"IDP_TOKEN": "x.y.z"}
    )
    assert forged.returncode == 9, forged.stderr
    assert "the identity provider refused the token exchange (400)" in forged.stderr
    assert_no_secret(tmp_path, outputs, CLIENT_SECRET, id_token)


@pytest.fixture(scope="module")
def device_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetworkServer]:
    """An authorization server that advertises the device authorization grant (RFC 8628)."""
    log = tmp_path_factory.mktemp("logs") / "device.log"
    server = python_server("auth_server.py", "oauth", "--device", log=log)
    yield server
    server.close()


def test_device_login_prints_the_code_and_polls_until_approved(
    gemma: Run, write_config, device_server: NetworkServer, workdir: Path, tmp_path: Path, no_orphans: None
) -> None:
    config = config_for(write_config, device_server)
    login = Login(config, "--device")
    line = login.line_with("enter the code")
    where = line.split("open ")[1].split(" on any device")[0]
    user_code = line.rsplit(" ", 1)[1]
    assert where.endswith(f"user_code={user_code}")
    status, page = visit(where)
    assert (status, page) == (200, "Device approved.")
    code, err = login.finish()
    assert code == 0, err
    document = assert_private_tokens(tmp_path)
    assert document["tokens"]["refresh_token"]
    assert "urn:ietf:params:oauth:grant-type:device_code" in document["client"]["grant_types"]
    assert stats(device_server)["tokens"]["device_code"] >= 1
    called = gemma(config, "call", "svc", "whoami", "--json")
    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout)["result"]["structuredContent"]["subject"] == "test-user"


def test_a_denied_device_login_exits_9(
    write_config, device_server: NetworkServer, workdir: Path, tmp_path: Path, no_orphans: None
) -> None:
    login = Login(config_for(write_config, device_server), "--device")
    where = login.line_with("enter the code").split("open ")[1].split(" on any device")[0]
    assert visit(where + "&deny=1") == (200, "Device denied.")
    code, err = login.finish()
    assert code == 9, err
    assert "Error: the device sign-in to 'svc' ended: access_denied (the person said no)" in err
    assert not token_file(tmp_path).exists() or "tokens" not in json.loads(token_file(tmp_path).read_text())


def test_device_login_where_the_server_has_no_device_grant_exits_9(
    gemma: Run, write_config, server: NetworkServer
) -> None:
    result = gemma(config_for(write_config, server), "auth", "login", "svc", "--device")
    assert result.returncode == 9, result.stderr
    assert "does not offer sign-in with a device code" in result.stderr
    assert "Hint: sign in with the browser: gemma-mcp auth login svc [--no-browser]" in result.stderr


def on_a_terminal(argv: list[str], answer: str, env: dict[str, str]) -> tuple[int, str]:
    """Run a command with a pseudo-terminal for stdin/stdout/stderr; answer its [y/N] question."""
    import os
    import pty
    import select

    leader, follower = pty.openpty()
    process = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    seen, answered = b"", False
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        assert ready, f"no output for 60 s: {seen.decode(errors='replace')}"
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"[y/N]" in seen:
            os.write(leader, answer.encode() + b"\n")
            answered = True
    os.close(leader)
    return process.wait(timeout=60), seen.decode(errors="replace")


@pytest.mark.parametrize("answer", ["y", "n"])
def test_on_a_terminal_a_missing_scope_offers_to_sign_in_again(
    gemma: Run, write_config, server: NetworkServer, workdir: Path, tmp_path: Path, answer: str
) -> None:
    import os

    config = config_for(write_config, server)
    assert gemma(config, "auth", "login", "svc", env=BROWSER).returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "CI"} | BROWSER
    argv = [sys.executable, "-m", "gemma_mcp_cli", "--config", str(config), "call", "svc", "admin"]
    code, screen = on_a_terminal(argv, answer, env)
    assert "needs the scope 'mcp mcp:admin'" in screen and "Sign in to svc again now? [y/N]" in screen
    if answer == "y":
        assert code == 0, screen
        assert "admin ok" in screen and "Running the command again" in screen
        assert "mcp:admin" in assert_private_tokens(tmp_path)["tokens"]["scope"]
    else:
        assert code == 9, screen
        assert screen.count("[y/N]") == 1
