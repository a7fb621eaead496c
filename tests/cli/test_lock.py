"""`lock`, `lock --check` and `validate --lock`: the schema lock file and the breaking-change gate."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, stderr_json, stdout_json
from tests.conftest import stdio_server

Configure = Callable[..., Path]


@pytest.fixture
def configure(write_config: Callable[..., Path]) -> Configure:
    """Return a function that (re)writes the config, the schema server serving one variant."""

    def write(variant: str = "base", *extra: str) -> Path:
        return write_config(
            stdio_server("schema", "schema_server.py", "--variant", variant, *extra)
            + stdio_server("legacy", "legacy_rag_redis.py")
        )

    return write


def test_lock_writes_a_sorted_stable_file_beside_the_config(cli: Invoke, configure: Configure) -> None:
    config = configure()
    done = cli("--config", str(config), "lock", "--json")
    assert done.exit_code == 0, done.stderr
    path = config.parent / "mcp.lock.json"
    assert stdout_json(done)["lock"] == str(path)
    first = path.read_text(encoding="utf-8")
    document = json.loads(first)
    assert document["format"] == "gemma-mcp-lock/1" and sorted(document["servers"]) == ["legacy", "schema"]
    schema = document["servers"]["schema"]
    assert schema["serverInfo"] == {"name": "schema-test", "version": "1.0.0"}
    assert schema["protocolVersion"] == "2025-06-18"
    assert schema["tools"]["search"]["annotations"] == {"readOnlyHint": True}
    assert schema["tools"]["search"]["outputSchema"]["properties"]["hits"] == {"type": "array"}
    assert list(schema["resourceTemplates"]) == ["notes://{id}"]
    assert schema["prompts"]["summarise"]["arguments"] == [
        {"name": "style", "required": False},
        {"name": "topic", "required": True},
    ]
    assert first == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert cli("--config", str(config), "lock").exit_code == 0
    assert path.read_text(encoding="utf-8") == first  # nothing changed: byte for byte the same
    assert [p.name for p in config.parent.iterdir() if p.name.startswith(".mcp.lock")] == []


def test_check_against_an_unchanged_server_passes(cli: Invoke, configure: Configure) -> None:
    config = configure()
    assert cli("--config", str(config), "lock").exit_code == 0
    done = cli("--config", str(config), "lock", "--check", "--json")
    assert done.exit_code == 0, done.stderr
    assert stdout_json(done) | {"lock": ""} == {"lock": "", "ok": True, "changes": [], "errors": []}


@pytest.mark.parametrize(
    ("variant", "kind", "subject"),
    [
        ("tool-removed", "tool_removed", "tool store"),
        ("prompt-removed", "prompt_removed", "prompt summarise"),
        ("template-removed", "template_removed", "template notes://{id}"),
        ("required-added", "required_parameter_added", "tool search parameter scope"),
        ("type-narrowed", "parameter_type_narrowed", "tool search parameter limit"),
        ("enum-lost", "enum_values_removed", "tool search parameter mode"),
        ("read-only-lost", "read_only_hint_lost", "tool search"),
    ],
)
def test_each_breaking_change_fails_the_check_with_exit_3(
    cli: Invoke, configure: Configure, variant: str, kind: str, subject: str
) -> None:
    assert cli("--config", str(configure()), "lock").exit_code == 0
    config = configure(variant)
    done = cli("--config", str(config), "lock", "--check", "--json")
    assert done.exit_code == 3
    document = stdout_json(done)
    assert document["ok"] is False
    assert [(c["kind"], c["subject"], c["breaking"]) for c in document["changes"]] == [(kind, subject, True)]
    assert "1 breaking change(s)" in stderr_json(done)["error"]["message"]
    gate = cli("--config", str(config), "validate", "--lock")
    assert gate.exit_code == 3
    assert kind in gate.stdout and "breaking" in gate.stdout
    assert "Hint: if the change is intended, run 'gemma-mcp lock'" in gate.stderr


def test_additive_changes_are_reported_and_pass(cli: Invoke, configure: Configure) -> None:
    assert cli("--config", str(configure()), "lock").exit_code == 0
    config = configure("additive", "--version", "1.1.0")
    done = cli("--config", str(config), "lock", "--check", "--json")
    assert done.exit_code == 0, done.stderr
    kinds = {c["kind"] for c in stdout_json(done)["changes"]}
    assert kinds == {
        "tool_added",
        "prompt_added",
        "template_added",
        "parameter_added",
        "enum_values_added",
        "parameter_type_widened",
        "description_changed",
        "annotations_changed",
        "server_info_changed",
    }
    assert not any(c["breaking"] for c in stdout_json(done)["changes"])
    document = stdout_json(cli("--config", str(config), "validate", "--lock", "--json"))
    assert document["valid"] is True and document["lock"]["ok"] is True


def test_a_server_gone_from_the_config_is_a_breaking_change(
    cli: Invoke, configure: Configure, write_config: Callable[..., Path]
) -> None:
    assert cli("--config", str(configure()), "lock").exit_code == 0
    config = write_config(stdio_server("legacy", "legacy_rag_redis.py"))
    done = cli("--config", str(config), "lock", "--check", "--json")
    assert done.exit_code == 3
    assert [(c["server"], c["kind"]) for c in stdout_json(done)["changes"]] == [("schema", "server_removed")]


def test_locking_one_server_keeps_the_others(cli: Invoke, configure: Configure) -> None:
    config = configure()
    assert cli("--config", str(config), "lock").exit_code == 0
    config = configure("additive")
    assert cli("--config", str(config), "lock", "schema").exit_code == 0
    servers = json.loads((config.parent / "mcp.lock.json").read_text())["servers"]
    assert sorted(servers) == ["legacy", "schema"] and "extra" in servers["schema"]["tools"]
    assert cli("--config", str(config), "lock", "--check").exit_code == 0


def test_a_server_that_cannot_start_writes_no_lock(cli: Invoke, write_config: Callable[..., Path]) -> None:
    config = write_config(
        stdio_server("legacy", "legacy_rag_redis.py")
        + stdio_server("broken", "faulty_server.py", "exit-early", reconnect_delay=0.05)
    )
    done = cli("--config", str(config), "lock")
    assert done.exit_code == 4 and "broken" in done.stderr
    assert not (config.parent / "mcp.lock.json").exists()


def test_a_missing_or_foreign_lock_file_exits_3(cli: Invoke, configure: Configure, tmp_path: Path) -> None:
    config = configure()
    done = cli("--config", str(config), "lock", "--check")
    assert done.exit_code == 3 and "no lock file at" in done.stderr and "Traceback" not in done.stderr
    foreign = tmp_path / "other.json"
    for text in (
        "{not json",
        '{"format": "x"}',
        "[1, 2]",
        '{"format": "gemma-mcp-lock/1", "servers": {"a": 1}}',
        '{"format": "gemma-mcp-lock/1", "servers": {"schema": {"tools": {"search": {"inputSchema": "x"}}}}}',
        '{"format": "gemma-mcp-lock/1", "servers": {"schema": {"prompts": {"p": {"arguments": [1]}}}}}',
        '{"format": "gemma-mcp-lock/1", "servers": {"schema": {"tools": []}}}',
    ):
        foreign.write_text(text)
        done = cli("--config", str(config), "lock", "--check", "--lock-file", str(foreign))
        assert done.exit_code == 3, text
        assert done.stderr.startswith("Error: ") and "Traceback" not in done.stderr


def test_an_unwritable_lock_file_exits_3_and_leaves_nothing_behind(
    cli: Invoke, configure: Configure, tmp_path: Path
) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        done = cli("--config", str(configure()), "lock", "--lock-file", str(folder / "mcp.lock.json"))
        if os.geteuid() != 0:  # root writes anywhere
            assert done.exit_code == 3 and "cannot write the lock file" in done.stderr
        assert [p.name for p in folder.iterdir() if p.name != "mcp.lock.json"] == []
    finally:
        folder.chmod(stat.S_IRWXU)


def test_hostile_tool_names_stay_data(cli: Invoke, configure: Configure) -> None:
    prefix = "../\x1b[31m\u202e"
    config = configure("base", "--name-prefix", prefix)
    assert cli("--config", str(config), "lock").exit_code == 0
    text = (config.parent / "mcp.lock.json").read_text(encoding="utf-8")
    assert "\x1b" not in text and f"{prefix}search" in json.loads(text)["servers"]["schema"]["tools"]
    assert sorted(p.name for p in config.parent.iterdir() if p.is_file()) == [
        "mcp.lock.json",
        "mcp_servers.toml",
    ]
    changed = configure("tool-removed", "--name-prefix", prefix)
    done = cli("--config", str(changed), "lock", "--check")
    assert done.exit_code == 3 and "\x1b" not in done.stdout
