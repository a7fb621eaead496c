"""State is private to the user, and planted symbolic links are never followed."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gemma_mcp_cli.names import file_stem
from tests.security.conftest import Gemma, hostile_table, marks


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.toml"
    path.write_text(hostile_table("hostile", tmp_path / "marker"), encoding="utf-8")
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_state_folders_and_files_are_readable_by_the_user_alone(
    gemma: Gemma, config: Path, tmp_path: Path
) -> None:
    done = gemma("--config", str(config), "call", "hostile", "bad")  # an error text lands in the stats
    assert done.returncode == 6
    state = tmp_path / "state"
    assert mode(state) == 0o700
    assert mode(state / "logs") == 0o700
    assert mode(state / "stats.sqlite3") == 0o600
    assert mode(state / "logs" / f"{file_stem('hostile')}.log") == 0o600


def test_a_planted_log_link_is_not_followed(gemma: Gemma, config: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    logs = tmp_path / "state" / "logs"
    logs.mkdir(parents=True, mode=0o700)
    (logs / f"{file_stem('hostile')}.log").symlink_to(victim)
    done = gemma("--config", str(config), "call", "hostile", "echo")
    assert done.returncode == 3
    assert "symbolic link" in done.stderr
    assert victim.read_text() == "precious\n"
    assert marks(tmp_path / "marker") == []  # not started without its log


def test_a_planted_stats_link_is_not_followed(gemma: Gemma, config: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.db"
    victim.write_bytes(b"precious")
    (tmp_path / "state").mkdir(mode=0o700)
    (tmp_path / "state" / "stats.sqlite3").symlink_to(victim)
    done = gemma("--config", str(config), "call", "hostile", "echo")
    assert done.returncode == 0
    assert "statistics not recorded" in done.stderr and "symbolic link" in done.stderr
    shown = gemma("stats")
    assert shown.returncode == 3 and shown.stderr.startswith("Error: statistics database: ")
    assert victim.read_bytes() == b"precious"


def test_a_planted_session_log_link_is_not_followed(gemma: Gemma, config: Path, tmp_path: Path) -> None:
    from gemma_mcp_cli.sessions.client import session_key

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    logs = tmp_path / "state" / "logs"
    logs.mkdir(parents=True, mode=0o700)
    (logs / f"session-{session_key('hostile', config)}.log").symlink_to(victim)
    done = gemma("--config", str(config), "session", "start", "hostile")
    assert done.returncode == 3, done.stderr
    assert "symbolic link" in done.stderr
    assert victim.read_text() == "precious\n"
    assert marks(tmp_path / "marker") == []


def test_an_existing_open_state_folder_is_tightened(gemma: Gemma, config: Path, tmp_path: Path) -> None:
    (tmp_path / "state").mkdir(mode=0o755)
    (tmp_path / "state").chmod(0o755)
    assert gemma("--config", str(config), "call", "hostile", "echo").returncode == 0
    assert mode(tmp_path / "state") == 0o700
