"""Atomic writes: the same file either way; only what cannot be made again waits for the disk."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gemma_mcp_cli.state import files


@pytest.mark.parametrize("durable", [True, False])
def test_an_atomic_write_leaves_the_file_and_no_temporary(
    durable: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    folder = tmp_path / "folder"
    folder.mkdir()
    target = folder / "cache.json"
    target.write_bytes(b"old")
    files.write_atomically(target, b'{"new": true}', mode=0o600, durable=durable)
    assert target.read_bytes() == b'{"new": true}'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in folder.iterdir()] == ["cache.json"]
    assert len(synced) == (1 if durable else 0)


def test_the_snapshot_skips_the_sync_and_a_trust_record_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gemma_mcp_cli.config.discovery import ConfigSource
    from gemma_mcp_cli.state import snapshot, trust

    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    monkeypatch.setenv("GEMMA_MCP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GEMMA_MCP_STATE_DIR", str(tmp_path / "state"))
    config = tmp_path / "servers.toml"
    config.write_text("", encoding="utf-8")
    snapshot.save(ConfigSource(config, "--config"), [])
    assert list((tmp_path / "cache").glob("config-*.json")) and synced == []
    trust.trust(config)
    assert trust.is_trusted_as_is(config) and len(synced) == 1
