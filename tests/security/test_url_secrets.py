"""A secret in a URL's query is shown as `***` wherever the URL is shown, and stored nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from gemma_mcp_cli.config.models import strip_credentials
from tests.conftest import NetworkServer, free_port
from tests.security.conftest import Gemma, requests_seen

SECRET = "sk-live-do-not-show-0123456789"


def leaked(tmp_path: Path) -> list[Path]:
    """Return every state or cache file that holds the secret."""
    folders = [tmp_path / "state", tmp_path / "cache"]
    return [
        p
        for f in folders
        if f.exists()
        for p in f.rglob("*")
        if p.is_file() and SECRET.encode() in p.read_bytes()
    ]


def test_a_configured_urls_query_secret_is_redacted_in_every_output(
    gemma: Gemma, tmp_path: Path, http_server: tuple[NetworkServer, Path]
) -> None:
    server, record = http_server
    url = f"http://127.0.0.1:{server.port}/mcp?api_key={SECRET}&region=eu"
    config = tmp_path / "remote.toml"
    config.write_text(f'[remote]\ntransport = "http"\nurl = "{url}"\n', encoding="utf-8")
    runs = [
        gemma("--config", str(config), *args)
        for args in (
            ["servers", "list"],
            ["servers", "list", "--json"],
            ["servers", "show", "remote", "--json"],
            ["servers", "status", "--json"],
            ["--verbose", "call", "remote", "echo"],
            ["validate", "--connect", "--json"],
        )
    ]
    assert all(run.returncode == 0 for run in runs), [run.stderr for run in runs]
    for run in runs:
        assert SECRET not in run.stdout + run.stderr
    assert "api_key=***&region=eu" in runs[0].stdout
    assert any(SECRET in r["path"] for r in requests_seen(record))  # the server itself was sent the key
    assert leaked(tmp_path) == []


def test_a_url_given_as_the_server_keeps_its_secret_out_of_errors_and_state(
    gemma: Gemma, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}/mcp?token={SECRET}"
    for args in (["call", url, "echo"], ["tools", "list", url], ["servers", "status", url, "--json"]):
        done = gemma("--retries", "0", *args)
        assert done.returncode == 4, done.stderr
        assert SECRET not in done.stdout + done.stderr
        assert "token=***" in done.stdout + done.stderr
    assert leaked(tmp_path) == []


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@h/x?api_key=a&v=2#f", "https://h/x?api_key=***&v=2#f"),
        (
            "http://h/m?X-Amz-Signature=s&access_token=t&q=x",
            "http://h/m?X-Amz-Signature=***&access_token=***&q=x",
        ),
        ("http://h/m?Authorization=Bearer%20x", "http://h/m?Authorization=***"),
        ("http://h/m?flag", "http://h/m?flag"),
    ],
)
def test_strip_credentials_redacts_userinfo_and_secret_query_values(url: str, shown: str) -> None:
    assert strip_credentials(url) == shown
