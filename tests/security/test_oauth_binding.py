"""OAuth credentials belong to the resource URL they were issued for, never to a server's name."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from gemma_mcp_cli.client.tokens import canonical_resource, token_path
from gemma_mcp_cli.config.loader import load_mcp_servers
from tests.conftest import NetworkServer, python_server
from tests.security.conftest import Gemma, requests_seen

SECRET = "access-token-for-the-real-server-only"


@pytest.fixture
def resource_servers(tmp_path: Path) -> Iterator[tuple[NetworkServer, Path, NetworkServer, Path]]:
    """Two OAuth-protected servers: the one the user signed in to, and one a hostile config points at."""
    started = []
    try:
        for name in ("real", "other"):
            record = tmp_path / f"{name}.jsonl"
            server = python_server(
                "hostile_http_server.py",
                "--record",
                str(record),
                "--oauth",
                "http://127.0.0.1:9/issuer",
                log=tmp_path / f"{name}.log",
            )
            started += [server, record]
        yield started[0], started[1], started[2], started[3]  # type: ignore[misc]
    finally:
        for item in started:
            if isinstance(item, NetworkServer):
                item.close()


def oauth_config(path: Path, port: int) -> Path:
    table = f'[work-api]\ntransport = "http"\nurl = "http://127.0.0.1:{port}/mcp"\n'
    path.write_text(table + '[work-api.auth]\ntype = "oauth"\n', encoding="utf-8")
    return path


def sign_in(config: Path) -> None:
    """Store tokens as a finished `auth login` does, through the client's own token storage."""
    from mcp.shared.auth import OAuthToken

    from gemma_mcp_cli.client.auth import FileTokenStorage

    server = load_mcp_servers(config)["work-api"]
    token = OAuthToken(access_token=SECRET, token_type="Bearer", expires_in=3600)
    anyio.run(FileTokenStorage(server).set_tokens, token)


def test_a_config_reusing_the_name_with_another_url_never_receives_the_token(
    gemma: Gemma, tmp_path: Path, resource_servers: tuple[NetworkServer, Path, NetworkServer, Path]
) -> None:
    real, real_record, other, other_record = resource_servers
    mine = oauth_config(tmp_path / "mine.toml", real.port)
    sign_in(mine)
    used = gemma("--config", str(mine), "call", "work-api", "echo")
    assert used.returncode == 0, used.stderr
    assert {r["authorization"] for r in requests_seen(real_record) if r["method"] == "POST"} == {
        f"Bearer {SECRET}"
    }

    hostile = oauth_config(tmp_path / "hostile.toml", other.port)
    attacked = gemma("--config", str(hostile), "call", "work-api", "echo")
    assert attacked.returncode != 0
    seen = requests_seen(other_record)
    assert seen, "the other server was asked"
    assert all(SECRET not in json.dumps(r) for r in seen)
    assert SECRET not in attacked.stderr + attacked.stdout


def test_a_token_is_not_sent_on_to_where_its_server_redirects(
    gemma: Gemma, tmp_path: Path, resource_servers: tuple[NetworkServer, Path, NetworkServer, Path]
) -> None:
    _, _, other, other_record = resource_servers
    redirecting_record = tmp_path / "redirecting.jsonl"
    redirecting = python_server(
        "hostile_http_server.py",
        "--record",
        str(redirecting_record),
        "--redirect",
        f"http://127.0.0.1:{other.port}/mcp",
        log=tmp_path / "redirecting.log",
    )
    try:
        mine = oauth_config(tmp_path / "mine.toml", redirecting.port)
        sign_in(mine)
        done = gemma("--retries", "0", "--config", str(mine), "call", "work-api", "echo")
    finally:
        redirecting.close()
    assert done.returncode != 0
    assert any(r["authorization"] == f"Bearer {SECRET}" for r in requests_seen(redirecting_record))
    assert all(SECRET not in json.dumps(r) for r in requests_seen(other_record))


def test_token_files_are_named_by_a_digest_of_the_resource_and_say_which_it_is(
    tmp_path: Path, resource_servers: tuple[NetworkServer, Path, NetworkServer, Path]
) -> None:
    real, _, other, _ = resource_servers
    mine = load_mcp_servers(oauth_config(tmp_path / "a.toml", real.port))["work-api"]
    theirs = load_mcp_servers(oauth_config(tmp_path / "b.toml", other.port))["work-api"]
    assert token_path(mine) != token_path(theirs)
    assert token_path(mine).parent == tmp_path / "state" / "auth"
    sign_in(tmp_path / "a.toml")
    stored = json.loads(token_path(mine).read_text())
    assert stored["resource"] == f"http://127.0.0.1:{real.port}/mcp"
    assert stat.S_IMODE(token_path(mine).stat().st_mode) == 0o600
    # A file moved to where another resource's tokens belong is not used for it.
    token_path(mine).rename(token_path(theirs))
    from gemma_mcp_cli.client.tokens import read_stored

    assert read_stored(theirs) == {}


def test_auth_status_shows_the_url_each_credential_belongs_to(
    gemma: Gemma, tmp_path: Path, resource_servers: tuple[NetworkServer, Path, NetworkServer, Path]
) -> None:
    real, _, other, _ = resource_servers
    mine = oauth_config(tmp_path / "mine.toml", real.port)
    sign_in(mine)
    status = json.loads(gemma("--config", str(mine), "auth", "status", "--json").stdout)
    assert [(s["url"], s["signed_in"]) for s in status["servers"]] == [
        (f"http://127.0.0.1:{real.port}/mcp", True)
    ]
    hostile = oauth_config(tmp_path / "hostile.toml", other.port)
    status = json.loads(gemma("--config", str(hostile), "auth", "status", "--json").stdout)
    assert [(s["url"], s["signed_in"]) for s in status["servers"]] == [
        (f"http://127.0.0.1:{other.port}/mcp", False)
    ]
    table = gemma("--config", str(mine), "auth", "status")
    assert f"http://127.0.0.1:{real.port}/mcp" in table.stdout


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://Example.COM:443/mcp/", "https://example.com/mcp"),
        ("http://user:pw@host:8080/a?api_key=x#frag", "http://host:8080/a"),
        ("http://[::1]:80/", "http://[::1]"),
    ],
)
def test_canonical_resource_urls(url: str, canonical: str) -> None:
    assert canonical_resource(url) == canonical
