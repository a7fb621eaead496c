"""The plain reader agrees with the models wherever it answers, and steps aside everywhere else."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomlkit

from gemma_mcp_cli.config import plain
from gemma_mcp_cli.config.discovery import ConfigSource
from gemma_mcp_cli.config.loader import check_config, find_config
from gemma_mcp_cli.config.models import MCPServerConfig, MCPSettings


def test_the_reader_knows_the_models_fields() -> None:
    assert set(MCPSettings.model_fields) == plain.SETTINGS_FIELDS
    assert set(MCPServerConfig.model_fields) - {"name"} > plain.PLAIN_KEYS


def models_say(path: Path) -> list[dict[str, Any]] | None:
    """Return the models' summaries of a file, or None when it has any problem."""
    report = check_config(path)
    if report.errors or any(s.errors for s in report.servers):
        return None
    return [s.config.summary() for s in report.servers if s.config is not None]


# Values for each key: good ones, and ones the models refuse or the reader must not judge.
VALUES: dict[str, list[Any]] = {
    "command": ["python", "", "run ${HOME}", "a b", 3],
    "args": [["-m", "x y"], [], ["$${lit}"], [1], "notalist"],
    "url": ["https://u:p@h.example/mcp?token=abc&x=1", "ftp://h/x", "http://", "ws://h/x", "nope"],
    "transport": ["http", "sse", "websocket", "stdio", "HTTP", "carrier-pigeon", 1],
    "description": ["notes", "", "${WHO:-x}", None],
    "enabled": [True, False, 1, "yes"],
    "connection_timeout": [1, 2.5, 0, -1, float("inf"), float("nan"), True, "3"],
    "max_reconnect_attempts": [0, 3, -1, 1.5, True],
    "keep_alive": [0, 30, 86400, 86401, float("inf")],
    "env": [{"A": "b"}, {"A": 1}, {"A": "${B}"}, "x"],
    "headers": [{"X-Key": "v"}, {"X": 2}],
    "cwd": ["sub", "~/x", 5],
    "auth": [{"type": "bearer", "token": "t"}],
    "comand": ["typo"],
}


def tables(count: int) -> list[dict[str, Any]]:
    """Return `count` server tables drawn from VALUES (a fixed seed: the same cases every run)."""
    chooser = random.Random(20261201)
    keys = list(VALUES)
    found = []
    for _ in range(count):
        table = {}
        for key in chooser.sample(keys, chooser.randint(1, 5)):
            # Mostly a good value (the first), so that many tables are plain and valid.
            value = VALUES[key][0] if chooser.random() < 0.7 else chooser.choice(VALUES[key])
            if value is not None:
                table[key] = value
        found.append(table)
    return found


def test_where_the_reader_answers_the_models_give_the_same_entries(tmp_path: Path) -> None:
    answered = refused = 0
    for i, table in enumerate([*tables(1500), {"command": "python", "args": ["-m", "srv"]}]):
        path = tmp_path / f"c{i}.toml"
        path.write_text(
            tomlkit.dumps({"s": table, "other": {"url": "http://h.example/mcp", "transport": "sse"}})
        )
        source = find_config(path)
        mine = plain.summaries(source)
        if mine is None:
            refused += 1
            continue
        answered += 1
        assert mine == models_say(path), table
    assert answered >= 80 and refused >= 500  # both sides of the line are exercised


@pytest.mark.parametrize(
    "text",
    [
        '[s]\ncommand = "x"\ndescription = "${WHO:-me}"\n',  # redaction depends on the environment
        '[s]\ntransport = "http"\nurl = "https://h/mcp"\n[s.auth]\ntype = "bearer"\ntoken = "t"\n',
        '[s]\ncommand = "x"\nroots = ["."]\n',
        '[s]\ncommand = "x"\nconnection_timeout = 0\n',
        "",
        's = "not a table"\n',
        '["bad name!"]\ncommand = "x"\n',
    ],
)
def test_anything_not_plain_is_left_to_the_models(text: str, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    assert plain.summaries(find_config(path)) is None


@pytest.mark.parametrize(
    ("block", "variable", "plain_enough"),
    [
        ("", None, True),
        ('servers_config = "x.toml"\nunrelated = 1\n', None, True),
        ("connection_timeout = 5\n", None, False),  # a default for every server
        ("enabled = false\n", None, False),
        ("", ("GEMMA_MCP_KEEP_ALIVE", "30"), False),
        ("", ("GEMMA_MCP_CONNECTION_TIMEOUT", "soon"), False),
    ],
)
def test_settings_that_change_the_servers_defaults_are_left_to_the_models(
    block: str,
    variable: tuple[str, str] | None,
    plain_enough: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text(f"[mcp]\n{block}")
    monkeypatch.setenv("GEMMA_MCP_SETTINGS", str(settings))
    if variable is not None:
        monkeypatch.setenv(*variable)
    path = tmp_path / "c.toml"
    path.write_text('[s]\ncommand = "x"\n')
    assert (plain.summaries(find_config(path)) is not None) is plain_enough


def test_the_built_in_default_is_plain(workdir: Path) -> None:
    found = plain.summaries(ConfigSource(None, "<built-in default>"))
    assert found == models_say_builtin()


def models_say_builtin() -> list[dict[str, Any]]:
    report = check_config(None)
    assert report.source.path is None
    return [s.config.summary() for s in report.servers if s.config is not None]


PLAIN_FILES = {
    "stdio-and-remote": '[a]\ncommand = "python"\nargs = ["-m", "x y", "--k=v"]\ndescription = "one"\n'
    '[b]\ntransport = "http"\nurl = "https://user:pw@h.example/mcp?api_key=s3cret&x=1"\n'
    '[c]\ntransport = "sse"\nurl = "http://127.0.0.1:1/sse"\nenabled = false\nrequest_timeout = 5\n',
    # A file found anywhere is untrusted text: escapes in it must reach no terminal raw.
    "hostile-text": '[a]\ncommand = "x\\u001b[2J"\n'
    'description = "evil \\u001b]0;pwned\\u0007 \\u001b[31mred"\n',
    "disabled-only-but-one": '[z]\ncommand = "z"\nenabled = false\n[y]\ncommand = "y"\nkeep_alive = 30\n',
}


@pytest.mark.parametrize("name", sorted(PLAIN_FILES))
@pytest.mark.parametrize("flags", [(), ("--all",), ("--json",), ("--all", "--json")])
def test_a_first_servers_list_of_a_plain_file_matches_the_full_path_without_pydantic(
    name: str, flags: tuple[str, ...], write_config: Callable[..., Path], workdir: Path
) -> None:
    from tests.cli.test_quick import SDK, TYPER, gemma, run_probe

    config = str(write_config(PLAIN_FILES[name]))
    first = run_probe(
        ["--config", config, "servers", "list", *flags], entry=True, roots=(*SDK, *TYPER, "pydantic")
    )
    assert "HEAVY=\n" in first.stderr, first.stderr
    full = gemma(config, "--no-session", "servers", "list", *flags)
    assert (first.stdout, first.stderr.replace("HEAVY=\n", "")) == (full.stdout, full.stderr)
    assert "s3cret" not in first.stdout and "pw@" not in first.stdout
    assert "\x1b" not in first.stdout and "\x07" not in first.stdout
    if "--json" in flags:
        assert json.loads(first.stdout)["errors"] == []


def test_every_pair_of_keys_is_judged_as_the_models_judge_it(tmp_path: Path) -> None:
    # A second, exhaustive sweep over pairs of keys (with the first value of each): no pair the
    # reader accepts is one the models refuse.
    for (k1, v1), (k2, v2) in itertools.combinations([(k, v[0]) for k, v in VALUES.items()], 2):
        path = tmp_path / "pair.toml"
        path.write_text(tomlkit.dumps({"s": {k1: v1, k2: v2}}))
        mine = plain.summaries(find_config(path))
        if mine is not None:
            assert mine == models_say(path), (k1, k2)
