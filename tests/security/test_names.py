"""A server name, or a URL given for one, never becomes a path outside its folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import NetworkServer
from tests.security.conftest import Gemma, hostile_table, marks

UNSAFE = ["../../escaped", "/tmp/absolute", ".hidden", "two words", "semi;colon", "..", "tab\tname"]


def files_under(root: Path) -> set[Path]:
    return set(root.rglob("*")) if root.exists() else set()


@pytest.mark.parametrize("name", UNSAFE)
def test_validate_and_use_refuse_an_unsafe_server_name_with_a_suggestion(
    gemma: Gemma, tmp_path: Path, name: str
) -> None:
    config = tmp_path / "names.toml"
    config.write_text(hostile_table(json.dumps(name), tmp_path / "marker"), encoding="utf-8")
    checked = gemma("validate", str(config))
    assert checked.returncode == 3
    assert "may hold only letters, digits, '.', '_' and '-'" in checked.stdout
    assert "call it '" in checked.stdout
    used = gemma("--config", str(config), "call", name, "echo")
    assert used.returncode == 3
    assert marks(tmp_path / "marker") == []  # never started, so no log was opened anywhere


def test_servers_add_refuses_an_unsafe_name_and_writes_nothing(gemma: Gemma, tmp_path: Path) -> None:
    config = tmp_path / "edit.toml"
    config.write_text("", encoding="utf-8")
    done = gemma("--config", str(config), "servers", "add", "../../x", "--", "true")
    assert done.returncode == 3
    assert done.stderr.splitlines()[0].startswith("Error: server name '../../x' may hold only")
    assert "Hint: gemma-mcp servers add x" in done.stderr
    assert config.read_text() == ""


def test_servers_import_refuses_a_file_with_unsafe_names(gemma: Gemma, tmp_path: Path) -> None:
    source = tmp_path / "mcp.json"
    source.write_text(
        json.dumps({"mcpServers": {"../../../evil": {"command": "true"}, "ok": {"command": "true"}}})
    )
    config = tmp_path / "target.toml"
    config.write_text("", encoding="utf-8")
    done = gemma(
        "--config", str(config), "servers", "import", str(source), "--from", "claude-code", "--write"
    )
    assert done.returncode == 3, done.stderr
    assert "'../../../evil' to 'evil'" in done.stderr
    assert config.read_text() == ""


def test_a_url_full_of_dot_dots_logs_and_caches_inside_the_state_folders(
    gemma: Gemma, tmp_path: Path, http_server: tuple[NetworkServer, Path]
) -> None:
    server, _ = http_server
    url = f"http://127.0.0.1:{server.port}/a/../../../../../../{tmp_path.name}/escaped/x"
    before = files_under(tmp_path)
    done = gemma("call", url, "echo")
    assert done.returncode == 0, done.stderr
    created = files_under(tmp_path) - before
    state, cache = tmp_path / "state", tmp_path / "cache"
    for path in created:
        assert path.is_relative_to(state) or path.is_relative_to(cache) or path.name == "requests.jsonl", path
    logs = list((state / "logs").iterdir())
    assert all(log.parent == state / "logs" and "/" not in log.name for log in logs)
    assert not (tmp_path / "escaped").exists()
