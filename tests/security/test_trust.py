"""A configuration found in the current directory starts nothing until the user trusts it."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.security.conftest import Gemma, hostile_table, marks


@pytest.fixture
def project(workdir: Path, tmp_path: Path) -> Path:
    """A cloned repository whose ./config/mcp_servers.toml starts the hostile server."""
    (workdir / "config").mkdir()
    (workdir / "config" / "mcp_servers.toml").write_text(
        hostile_table("hostile", tmp_path / "marker"), encoding="utf-8"
    )
    return workdir / "config" / "mcp_servers.toml"


@pytest.mark.parametrize(
    "args",
    [
        ["call", "hostile", "echo"],  # the standard-library front end
        ["--verbose", "call", "hostile", "echo"],  # the Typer command
        ["tools", "list"],
        ["tools", "show", "hostile", "echo"],
        ["servers", "status"],
        ["resources", "list"],
        ["prompts", "list"],
        ["validate", "--connect"],
        ["session", "start", "hostile"],
        ["auth", "login", "hostile", "--no-browser"],
        ["wait", "hostile", "--timeout", "5"],
        ["lock"],
        ["validate", "--lock"],
        ["tools", "search", "echo"],
    ],
)
def test_an_untrusted_project_config_starts_nothing_and_exits_3(
    gemma: Gemma, project: Path, tmp_path: Path, args: list[str]
) -> None:
    done = gemma(*args)
    assert done.returncode == 3, done.stderr
    assert marks(tmp_path / "marker") == []  # the server never ran
    lines = done.stderr.splitlines()
    assert lines[0].startswith("Error: ") and "not trusted" in lines[0]
    assert lines[1].startswith(f"Hint: gemma-mcp trust {project}")
    assert len(lines) == 2


def test_batch_from_an_untrusted_project_config_starts_nothing(
    gemma: Gemma, project: Path, tmp_path: Path
) -> None:
    done = gemma("batch", "-", input='{"server": "hostile", "tool": "echo", "arguments": {}}\n')
    assert done.returncode == 3, done.stderr
    assert "Hint: gemma-mcp trust" in done.stderr
    assert marks(tmp_path / "marker") == []


@pytest.mark.parametrize(
    "args", [["servers", "list"], ["servers", "list", "--json"], ["servers", "show", "hostile"], ["validate"]]
)
def test_reading_an_untrusted_project_config_works_with_one_notice(
    gemma: Gemma, project: Path, tmp_path: Path, args: list[str]
) -> None:
    done = gemma(*args)
    assert done.returncode == 0, done.stderr
    assert "hostile" in done.stdout
    notices = [line for line in done.stderr.splitlines() if "not trusted" in line]
    assert len(notices) == 1 and notices[0].startswith("Warning: ")
    assert marks(tmp_path / "marker") == []


def test_trusting_the_file_lets_it_run_until_it_is_edited(
    gemma: Gemma, project: Path, tmp_path: Path
) -> None:
    trusted = gemma("trust")
    assert trusted.returncode == 0, trusted.stderr
    assert str(project) in trusted.stderr
    done = gemma("call", "hostile", "echo")
    assert done.returncode == 0, done.stderr
    assert "not trusted" not in done.stderr
    assert marks(tmp_path / "marker") == ["start", "call echo"]

    project.write_text(project.read_text() + "# a harmless-looking edit\n", encoding="utf-8")
    again = gemma("call", "hostile", "echo")
    assert again.returncode == 3
    assert "Hint: gemma-mcp trust" in again.stderr
    assert marks(tmp_path / "marker") == ["start", "call echo"]
    listed = json.loads(gemma("trust", "--list", "--json").stdout)
    assert [(r["path"], r["state"]) for r in listed["trusted"]] == [(str(project), "changed")]


def test_the_trust_store_is_private(gemma: Gemma, project: Path, tmp_path: Path) -> None:
    assert gemma("trust", str(project)).returncode == 0
    store = tmp_path / "state" / "trusted.json"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.parent.stat().st_mode) == 0o700


def test_revoking_trust_stops_the_file_again(gemma: Gemma, project: Path, tmp_path: Path) -> None:
    assert gemma("trust").returncode == 0
    revoked = gemma("trust", "--revoke", str(project))
    assert revoked.returncode == 0, revoked.stderr
    assert gemma("call", "hostile", "echo").returncode == 3
    assert json.loads(gemma("trust", "--list", "--json").stdout) == {"trusted": []}
    again = gemma("trust", "--revoke", str(project))
    assert again.returncode == 3 and again.stderr.startswith("Error: ")
    assert marks(tmp_path / "marker") == []


DAMAGED_STORES = ["[]", '"text"', "{not json", '{"format": "gemma-mcp-trust/1", "files": []}']


@pytest.mark.parametrize("content", DAMAGED_STORES)
def test_a_damaged_trust_store_trusts_nothing_and_crashes_nothing(
    gemma: Gemma, project: Path, tmp_path: Path, content: str
) -> None:
    assert gemma("trust").returncode == 0
    (tmp_path / "state" / "trusted.json").write_text(content)
    listed = gemma("trust", "--list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == {"trusted": []}
    refused = gemma("call", "hostile", "echo")
    assert refused.returncode == 3 and "Traceback" not in refused.stderr
    assert marks(tmp_path / "marker") == []


def test_a_planted_trust_store_link_is_not_followed(gemma: Gemma, project: Path, tmp_path: Path) -> None:
    """Someone who can plant files cannot trust a config by linking the store to a file of theirs."""
    forged = tmp_path / "forged.json"
    assert gemma("trust").returncode == 0
    (tmp_path / "state" / "trusted.json").rename(forged)
    (tmp_path / "state" / "trusted.json").symlink_to(forged)
    assert gemma("call", "hostile", "echo").returncode == 3
    assert marks(tmp_path / "marker") == []


def test_a_file_named_explicitly_is_trusted(
    gemma: Gemma, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_option = gemma("--config", str(project), "call", "hostile", "echo")
    assert by_option.returncode == 0, by_option.stderr
    assert "not trusted" not in by_option.stderr
    monkeypatch.setenv("GEMMA_MCP_CONFIG", str(project))
    by_variable = gemma("call", "hostile", "echo")
    assert by_variable.returncode == 0, by_variable.stderr
    assert marks(tmp_path / "marker") == ["start", "call echo", "start", "call echo"]


def test_the_users_own_config_is_trusted(gemma: Gemma, isolated_home: Path, tmp_path: Path) -> None:
    own = isolated_home / "xdg_config_home" / "gemma-mcp" / "mcp_servers.toml"
    own.parent.mkdir(parents=True)
    own.write_text(hostile_table("mine", tmp_path / "marker"), encoding="utf-8")
    done = gemma("call", "mine", "echo")
    assert done.returncode == 0, done.stderr
    assert marks(tmp_path / "marker") == ["start", "call echo"]


def test_a_warm_session_does_not_answer_for_an_edited_project_config(
    gemma: Gemma, project: Path, tmp_path: Path
) -> None:
    """A session started while the file was trusted must not serve it once an edit made it untrusted."""
    assert gemma("trust").returncode == 0
    started = gemma("session", "start", "hostile")
    assert started.returncode == 0, started.stderr
    try:
        assert gemma("call", "hostile", "echo").returncode == 0
        project.write_text(project.read_text() + "# edited\n", encoding="utf-8")
        for args in (
            ["call", "hostile", "echo"],
            ["--verbose", "call", "hostile", "echo"],
            ["tools", "list"],
        ):
            done = gemma(*args, "--refresh") if args == ["tools", "list"] else gemma(*args)
            assert done.returncode == 3, (args, done.stderr)
        assert marks(tmp_path / "marker").count("call echo") == 1
    finally:
        gemma("session", "stop", "--all")


def test_completion_offers_an_untrusted_files_server_names_without_starting_them(
    gemma: Gemma, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("_GEMMA_MCP_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "gemma-mcp call ")
    monkeypatch.setenv("COMP_CWORD", "2")
    done = gemma()
    assert "hostile" in done.stdout
    assert done.stderr == ""
    assert marks(tmp_path / "marker") == []


def test_editing_a_trusted_file_with_servers_add_keeps_it_trusted(
    gemma: Gemma, project: Path, tmp_path: Path
) -> None:
    assert gemma("trust").returncode == 0
    added = gemma("servers", "add", "second", "--disabled", "--", "true")
    assert added.returncode == 0, added.stderr
    assert "second" in project.read_text()
    assert gemma("call", "hostile", "echo").returncode == 0


def test_editing_an_untrusted_file_does_not_trust_it(gemma: Gemma, project: Path, tmp_path: Path) -> None:
    assert gemma("servers", "add", "second", "--disabled", "--", "true").returncode == 0
    assert gemma("call", "hostile", "echo").returncode == 3
    assert marks(tmp_path / "marker") == []


def test_cached_listings_of_an_untrusted_file_are_read_with_one_notice(
    gemma: Gemma, project: Path, tmp_path: Path
) -> None:
    assert gemma("--config", str(project), "tools", "list").returncode == 0  # named: trusted, and cached
    for args in (["tools", "list"], ["tools", "search", "echo"], ["tools", "list", "--json"]):
        done = gemma(*args)
        assert done.returncode == 0, (args, done.stderr)
        assert "echo" in done.stdout
        assert [line for line in done.stderr.splitlines() if "not trusted" in line] == [done.stderr.strip()]
    assert marks(tmp_path / "marker") == ["start"]  # only the run that named the file started it
