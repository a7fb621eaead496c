"""Every test runs with its own home, config, cache, state and data directories."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

SERVERS = Path(__file__).parent / "servers"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every directory the client reads or writes at this test's tmp_path."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    for name in ("CACHE", "STATE", "DATA"):
        monkeypatch.setenv(f"GEMMA_MCP_{name}_DIR", str(tmp_path / name.lower()))
    for name in ("GEMMA_MCP_CONFIG", "GEMMA_MCP_DEBUG", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test from an empty directory, so no ./config is discovered."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Return a function that writes a TOML config and returns its path."""

    def write(text: str, name: str = "mcp_servers.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
