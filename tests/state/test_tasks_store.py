"""The store of remembered tasks: private, digest-named, bounded, and blind to damaged files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gemma_mcp_cli.state import tasks as store


def task(task_id: str, status: str = "working") -> dict[str, object]:
    return {"taskId": task_id, "status": status, "createdAt": "2025-11-25T00:00:00Z"}


def test_a_task_is_remembered_per_configuration_and_server(tmp_path: Path) -> None:
    config = tmp_path / "a.toml"
    store.remember(config, "srv", task("../../etc/passwd\x1b[2J"), "tool")
    store.remember(None, "srv", task("other"))
    (entry,) = store.remembered(config)
    assert (entry["server"], entry["taskId"], entry["tool"]) == ("srv", "../../etc/passwd\x1b[2J", "tool")
    assert [e["taskId"] for e in store.remembered(None, "srv")] == ["other"]
    assert store.remembered(config, "elsewhere") == []
    for path in store.tasks_dir().iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(path.stem) == 32
    assert stat.S_IMODE(store.tasks_dir().stat().st_mode) == 0o700


def test_a_newer_state_keeps_the_tool_and_forget_drops_the_task(tmp_path: Path) -> None:
    store.remember(None, "srv", task("t1"), "slow")
    store.remember(None, "srv", task("t1", "completed"))
    (entry,) = store.remembered(None)
    assert (entry["status"], entry["tool"]) == ("completed", "slow")
    store.forget(None, "srv", "t1")
    assert store.remembered(None) == []


def test_damaged_and_linked_files_are_no_tasks(tmp_path: Path) -> None:
    store.remember(None, "srv", task("t1"))
    (good,) = store.tasks_dir().iterdir()
    (store.tasks_dir() / ("0" * 32 + ".json")).write_text("{not json")
    (store.tasks_dir() / ("1" * 32 + ".json")).write_text('{"taskId": 5, "server": "srv"}')
    secret = tmp_path / "secret.json"
    secret.write_text(good.read_text())
    (store.tasks_dir() / ("2" * 32 + ".json")).symlink_to(secret)
    assert [e["taskId"] for e in store.remembered(None)] == ["t1"]


def test_the_store_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "LIMIT", 5)
    for n in range(8):
        store.remember(None, "srv", task(f"t{n}"))
    assert len(list(store.tasks_dir().iterdir())) == 5
