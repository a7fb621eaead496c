"""What the README promises, observed through the command line against real servers.

Most servers here are `tests/servers/observing_server.py`, which writes down what reaches it
(process starts, methods, HTTP headers), so a test sees the client's behaviour from the far side.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Invoke, stdout_json
from tests.conftest import NetworkServer, free_port, stdio_server

OBSERVING = "observing_server.py"


def record(path: Path) -> list[dict[str, Any]]:
    """Return what an observing server wrote down, in order (nothing if it never started)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def methods(path: Path) -> list[str]:
    return [entry["method"] for entry in record(path) if "method" in entry]


def starts(path: Path) -> int:
    return sum(1 for entry in record(path) if entry.get("event") == "start")


def observing(name: str, log: Path, *args: str, **keys: object) -> str:
    return stdio_server(name, OBSERVING, "--record", str(log), *args, **keys)


def cache_rows(cli: Invoke, config: Path) -> dict[str, dict[str, Any]]:
    """Return `stats cache --json` by server."""
    done = cli("--config", str(config), "stats", "cache", "--json")
    assert done.exit_code == 0, done.stderr
    return {row["server"]: row for row in stdout_json(done)["cache"]}


def gemma(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real program, through its own entry point (the quick front ends included)."""
    command = [sys.executable, "-m", "gemma_mcp_cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False, env=env)


# --- redaction -----------------------------------------------------------------------------------

SECRETS = {
    "CMD_FROM_ENV": "/opt/secret-tool",
    "DB_URL": "postgres://u:pw-4455@db/x",
    "MODE_FROM_ENV": "mode-7788",
    "DESC_FROM_ENV": "description-9911",
    "CLIENT_FROM_ENV": "client-6622",
    "HOST_FROM_ENV": "host-3344.example",
}
REDACTION = (
    '[local]\ncommand = "${CMD_FROM_ENV}"\nargs = ["--db", "${DB_URL}", "--plain"]\n'
    'env = { MODE = "${MODE_FROM_ENV}", LEVEL = "debug" }\ndescription = "${DESC_FROM_ENV}"\n'
    '[remote]\ntransport = "http"\nurl = "https://${HOST_FROM_ENV}/mcp"\ndescription = "kept as written"\n'
    '[remote.auth]\ntype = "oauth"\nclient_id = "${CLIENT_FROM_ENV}"\nclient_secret = "written-secret-5566"\n'
    'issuer = "https://auth.example"\n'
)


@pytest.fixture
def redaction_config(write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return write_config(REDACTION)


def test_servers_show_prints_stars_for_the_client_secret_and_every_value_from_the_environment(
    cli: Invoke, redaction_config: Path
) -> None:
    config = str(redaction_config)
    local = stdout_json(cli("--config", config, "servers", "show", "local", "--json"))["server"]
    assert (local["command"], local["args"], local["description"]) == (
        "***",
        ["--db", "***", "--plain"],
        "***",
    )
    assert local["env"] == {"MODE": "***", "LEVEL": "debug"}
    remote = stdout_json(cli("--config", config, "servers", "show", "remote", "--json"))["server"]
    assert (remote["url"], remote["description"]) == ("***", "kept as written")
    assert (remote["auth"]["client_id"], remote["auth"]["client_secret"]) == ("***", "***")
    for name in ("local", "remote"):
        for form in ((), ("--json",)):
            shown = cli("--config", config, "servers", "show", name, *form)
            assert shown.exit_code == 0
            leaked = [
                v for v in [*SECRETS.values(), "written-secret-5566"] if v in shown.stdout + shown.stderr
            ]
            assert leaked == [], (name, form)


def test_servers_list_prints_stars_for_every_value_from_the_environment_on_both_paths(
    cli: Invoke, redaction_config: Path
) -> None:
    config = str(redaction_config)
    # In-process (Typer) and as a process (the snapshot front end, once a full run has saved it).
    outputs = [cli("--config", config, "servers", "list", *form).stdout for form in ((), ("--json",))]
    for _ in range(2):
        outputs += [gemma("--config", config, "servers", "list", *form).stdout for form in ((), ("--json",))]
    for output in outputs:
        assert "***" in output and "kept as written" in output
        assert [v for v in SECRETS.values() if v in output] == []
    rows = {row["name"]: row for row in json.loads(outputs[-1])["servers"]}
    assert rows["local"]["target"] == "'***' --db '***' --plain"
    assert (rows["local"]["description"], rows["remote"]["target"]) == ("***", "***")


def test_a_description_written_in_the_file_or_from_a_default_is_shown(cli: Invoke, write_config) -> None:
    config = write_config('[a]\ncommand = "x"\ndescription = "${UNSET_DESCRIPTION_VAR:-the default}"\n')
    (row,) = stdout_json(cli("--config", str(config), "servers", "list", "--json"))["servers"]
    assert row["description"] == "the default"


# --- settings change behaviour -------------------------------------------------------------------


def settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    path = tmp_path / "gemma-settings.toml"
    path.write_text(f"[mcp]\n{body}\n")
    monkeypatch.setenv("GEMMA_MCP_SETTINGS", str(path))


@pytest.mark.parametrize("source", ["settings", "environment"])
def test_the_settings_tool_cache_ttl_is_the_lifetime_of_a_cache_entry(
    cli: Invoke, write_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    if source == "settings":
        settings_file(tmp_path, monkeypatch, "tool_cache_ttl = 120")
    else:
        monkeypatch.setenv("GEMMA_MCP_TOOL_CACHE_TTL", "120")
    log = tmp_path / "obs.jsonl"
    config = write_config(
        observing("obs", log) + '[own]\ncommand = "x"\ntool_cache_ttl = 900\nenabled = false\n'
    )
    assert cli("--config", str(config), "tools", "list").exit_code == 0
    row = cache_rows(cli, config)["obs"]
    assert 100 < row["expires_in_s"] <= 120  # the settings' 120 s, not the built-in 3600
    assert cli("--config", str(config), "tools", "list").exit_code == 0
    assert methods(log).count("tools/list") == 1  # the second listing came from the cache


@pytest.mark.parametrize("source", ["settings", "environment"])
def test_a_settings_tool_cache_ttl_of_0_disables_the_cache(
    cli: Invoke, write_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    if source == "settings":
        settings_file(tmp_path, monkeypatch, "tool_cache_ttl = 0")
    else:
        monkeypatch.setenv("GEMMA_MCP_TOOL_CACHE_TTL", "0")
    log = tmp_path / "obs.jsonl"
    config = write_config(observing("obs", log))
    for _ in range(2):
        assert cli("--config", str(config), "tools", "list").exit_code == 0
    assert methods(log).count("tools/list") == 2
    assert cache_rows(cli, config) == {}


@pytest.mark.parametrize(("source", "retries"), [("settings", 2), ("environment", 1)])
def test_the_settings_retry_count_is_how_often_a_failing_server_is_started_again(
    cli: Invoke, write_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, retries: int
) -> None:
    if source == "settings":
        settings_file(tmp_path, monkeypatch, f"retry_count = {retries}")
    else:
        monkeypatch.setenv("GEMMA_MCP_RETRY_COUNT", str(retries))
    log = tmp_path / "obs.jsonl"
    keys = {"max_reconnect_attempts": 5, "reconnect_delay": 0.01, "connection_timeout": 30.0}
    config = write_config(observing("obs", log, "--fail-start", **keys))
    result = cli("--config", str(config), "tools", "list", "obs")
    assert result.exit_code == 4
    assert starts(log) == retries + 1
    assert f"(after {retries + 1} attempts)" in result.stderr


# --- the cache follows what servers say ----------------------------------------------------------


def test_list_changed_during_a_command_drops_that_servers_cache_entry_only(
    cli: Invoke, write_config, tmp_path: Path
) -> None:
    config = write_config(
        observing("changer", tmp_path / "a.jsonl") + observing("bystander", tmp_path / "b.jsonl")
    )
    assert cli("--config", str(config), "tools", "list").exit_code == 0
    assert set(cache_rows(cli, config)) == {"changer", "bystander"}
    called = cli("--config", str(config), "call", "changer", "change")
    assert (called.exit_code, called.stdout) == (0, "changed\n")
    assert set(cache_rows(cli, config)) == {"bystander"}


def test_a_call_that_announces_nothing_keeps_the_cache_entry(
    cli: Invoke, write_config, tmp_path: Path
) -> None:
    config = write_config(observing("quiet", tmp_path / "q.jsonl"))
    assert cli("--config", str(config), "tools", "list").exit_code == 0
    assert cli("--config", str(config), "call", "quiet", "hello").stdout == "hello\n"
    assert set(cache_rows(cli, config)) == {"quiet"}


def test_a_ttl_hint_from_a_2026_07_28_server_shortens_the_entry(
    cli: Invoke, write_config, tmp_path: Path
) -> None:
    log = tmp_path / "modern.jsonl"
    config = write_config(observing("modern", log, "--protocol", "2026-07-28", "--ttl-ms", "90000"))
    assert cli("--config", str(config), "tools", "list").exit_code == 0
    assert "initialize" not in methods(log)  # it really spoke 2026-07-28
    assert 60 < cache_rows(cli, config)["modern"]["expires_in_s"] <= 90


def test_a_ttl_hint_longer_than_the_ttl_does_not_lengthen_it(
    cli: Invoke, write_config, tmp_path: Path
) -> None:
    log = tmp_path / "modern.jsonl"
    config = write_config(
        observing("modern", log, "--protocol", "2026-07-28", "--ttl-ms", "900000", tool_cache_ttl=120)
    )
    assert cli("--config", str(config), "tools", "list").exit_code == 0
    assert 100 < cache_rows(cli, config)["modern"]["expires_in_s"] <= 120


def test_a_ttl_ms_of_0_is_not_taken_as_a_hint(cli: Invoke, write_config, tmp_path: Path) -> None:
    config = write_config(
        observing("modern", tmp_path / "m.jsonl", "--protocol", "2026-07-28", "--ttl-ms", "0")
    )
    assert cli("--config", str(config), "tools", "list").exit_code == 0
    assert cache_rows(cli, config)["modern"]["expires_in_s"] > 3500


# --- statistics ----------------------------------------------------------------------------------


def test_statistics_older_than_30_days_are_pruned_by_the_next_command(
    cli: Invoke, write_config, tmp_path: Path
) -> None:
    from gemma_mcp_cli.state.stats import Request, StatsStore

    now = __import__("time").time()
    old = [
        Request("obs", "tools/call", "hello", True, None, None, 0.01, now - 31 * 86400),
        Request("obs", "tools/call", "hello", True, None, None, 0.01, now - 29 * 86400),
    ]
    StatsStore(retention_days=10_000).record(old)  # written as a far older version would have kept them
    config = write_config(observing("obs", tmp_path / "o.jsonl"))
    assert cli("--config", str(config), "call", "obs", "hello").exit_code == 0
    ages = sorted(round((now - r.at) / 86400) for r in StatsStore().rows("obs"))
    assert ages[-1:] == [29] and 31 not in ages  # the 31-day-old row is gone, the 29-day-old one kept
    assert set(ages[:-1]) == {0}  # and this call's own requests were added


@pytest.fixture
def locked_stats(tmp_path: Path) -> Iterator[None]:
    """Hold the statistics database's write lock for the length of the test."""
    from gemma_mcp_cli.state.stats import StatsStore

    store = StatsStore()
    store.reset()  # creates the file and its schema
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    yield
    holder.execute("ROLLBACK")
    holder.close()


def test_a_locked_statistics_database_only_warns_and_the_command_succeeds(
    cli: Invoke, write_config, tmp_path: Path, locked_stats: None
) -> None:
    config = write_config(observing("obs", tmp_path / "o.jsonl"))
    result = cli("--config", str(config), "call", "obs", "hello")
    assert (result.exit_code, result.stdout) == (0, "hello\n")
    (warning,) = [line for line in result.stderr.splitlines() if line.strip()]
    assert "statistics not recorded" in warning and "locked" in warning
    assert "Traceback" not in result.stderr


# --- headers -------------------------------------------------------------------------------------


class EchoServer(NetworkServer):
    """The observing server over HTTP, with the file it records to."""

    def __init__(self, folder: Path) -> None:
        port, self.record = free_port(), folder / "http.jsonl"
        script = str(Path(__file__).parents[1] / "servers" / OBSERVING)
        argv = [sys.executable, script, "--port", str(port), "--record", str(self.record)]
        super().__init__(argv, port, folder / "http.log")


@pytest.fixture
def echo_server(tmp_path: Path) -> Iterator[EchoServer]:
    server = EchoServer(tmp_path)
    yield server
    server.close()


def received(result: Any) -> dict[str, str]:
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_configured_headers_arrive_at_the_server_and_are_never_shown(
    cli: Invoke, write_config, echo_server: EchoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROBE_TOKEN", "token-from-env-8080")
    url = f"http://127.0.0.1:{echo_server.port}/mcp"
    config = write_config(
        f'[echo]\ntransport = "http"\nurl = "{url}"\n'
        'headers = { Authorization = "Bearer ${PROBE_TOKEN}", X-Plain = "plain-value" }\n'
    )
    seen = received(cli("--config", str(config), "call", "echo", "headers"))
    assert (seen["authorization"], seen["x-plain"]) == ("Bearer token-from-env-8080", "plain-value")
    shown = cli("--config", str(config), "servers", "show", "echo", "--verbose")
    assert "token-from-env-8080" not in shown.stdout + shown.stderr and "plain-value" not in shown.stdout


def test_header_options_arrive_at_a_url_server(cli: Invoke, echo_server: EchoServer) -> None:
    url = f"http://127.0.0.1:{echo_server.port}/mcp"
    seen = received(cli("--header", "X-One: 1", "--header", "X-Two: two words", "call", url, "headers"))
    assert (seen["x-one"], seen["x-two"]) == ("1", "two words")


def test_a_header_cannot_smuggle_a_second_header(cli: Invoke, echo_server: EchoServer) -> None:
    url = f"http://127.0.0.1:{echo_server.port}/mcp"
    result = cli("--header", "X-One: 1\r\nX-Evil: yes", "call", url, "headers")
    assert result.exit_code == 2 and "line break" in result.stderr
    assert methods(echo_server.record) == []  # refused before anything was sent


# --- health checks -------------------------------------------------------------------------------


def test_servers_status_on_2026_07_28_sends_server_discover_not_ping(
    cli: Invoke, write_config, tmp_path: Path
) -> None:
    modern, legacy = tmp_path / "modern.jsonl", tmp_path / "legacy.jsonl"
    config = write_config(
        observing("modern", modern, "--protocol", "2026-07-28") + observing("legacy", legacy)
    )
    done = cli("--config", str(config), "servers", "status", "--json")
    assert done.exit_code == 0, done.stderr
    assert methods(modern) == ["server/discover", "server/discover"]  # the connection's, then the check's
    assert methods(legacy)[-1] == "ping" and "ping" not in methods(modern)


# --- concurrency ---------------------------------------------------------------------------------


def barrier_config(
    write_config: Callable[..., Path], tmp_path: Path, count: int, patience: float = 8.0
) -> Path:
    folder = tmp_path / "barrier"
    folder.mkdir()
    return write_config(
        "".join(
            stdio_server(
                f"s{i}",
                OBSERVING,
                "--barrier",
                str(folder),
                "--count",
                str(count),
                "--patience",
                str(patience),
                max_reconnect_attempts=0,
            )
            for i in range(count)
        )
    )


@pytest.mark.parametrize("command", [("tools", "list", "--json"), ("servers", "status", "--json")])
def test_servers_are_reached_concurrently(
    cli: Invoke, write_config, tmp_path: Path, command: tuple[str, ...]
) -> None:
    # Each server answers its handshake only once all three have been reached: one at a time would fail.
    config = barrier_config(write_config, tmp_path, 3)
    result = cli("--config", str(config), *command)
    assert result.exit_code == 0, result.stderr
    assert stdout_json(result).get("errors", []) == []


def test_the_barrier_fails_a_client_that_reaches_servers_one_at_a_time(write_config, tmp_path: Path) -> None:
    # The check above can fail: a client that reaches only one of the three never gets past it.
    config = barrier_config(write_config, tmp_path, 3, patience=1.0)
    result = gemma("--config", str(config), "tools", "list", "s0")
    assert result.returncode != 0 and "barrier: only 1 of 3" in result.stderr


# --- failures of the client itself ---------------------------------------------------------------


def _bug() -> None:
    raise ZeroDivisionError("planted")


@pytest.mark.parametrize(
    ("verbose", "debug", "traceback"), [(False, None, False), (True, None, True), (False, "1", True)]
)
def test_an_internal_error_exits_1_with_a_traceback_only_when_asked(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    verbose: bool,
    debug: str | None,
    traceback: bool,
) -> None:
    from gemma_mcp_cli.cli.invocation import guarded

    if debug is not None:
        monkeypatch.setenv("GEMMA_MCP_DEBUG", debug)
    assert guarded(_bug, as_json=False, verbose=verbose) == 1
    err = capsys.readouterr().err
    assert "Error: internal error: ZeroDivisionError: planted" in err
    assert ("Traceback (most recent call last)" in err) is traceback
    assert ("Hint: rerun with --verbose" in err) is not traceback


def test_validate_strict_fails_on_each_kind_of_warning(
    cli: Invoke, write_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMPTY_ONE", "")
    config = write_config(
        '[nocmd]\ncommand = "surely-not-an-installed-command"\n'
        f'[empty]\ncommand = {json.dumps(sys.executable)}\nenv = {{ X = "${{EMPTY_ONE}}" }}\n'
        f'[nodir]\ncommand = {json.dumps(sys.executable)}\ncwd = "{tmp_path / "missing-dir"}"\n'
    )
    relaxed = cli("validate", str(config), "--json")
    assert relaxed.exit_code == 0, relaxed.stdout
    strict = cli("validate", str(config), "--strict", "--json")
    assert strict.exit_code == 3
    warned = {s["name"]: [w["field"] for w in s["warnings"]] for s in stdout_json(strict)["servers"]}
    assert warned == {"nocmd": ["command"], "empty": ["env.X"], "nodir": ["cwd"]}


def test_a_change_to_the_settings_invalidates_the_snapshot(
    write_config, tmp_path: Path, workdir: Path
) -> None:
    import os

    log = tmp_path / "obs.jsonl"
    config = str(write_config(observing("obs", log, connection_timeout=None)))  # the settings' own
    settings = tmp_path / "settings.toml"
    settings.write_text("[mcp]\nconnection_timeout = 10.0\n")
    env = os.environ | {"GEMMA_MCP_SETTINGS": str(settings)}
    for _ in range(2):  # the first validates and saves the snapshot; the second is answered from it
        assert gemma("--config", config, "tools", "list", env=env).returncode == 0
    assert methods(log).count("tools/list") == 1
    # The settings' timeout is part of the server's effective configuration, so of its cache key:
    # a snapshot kept past the change would still find the old entry and ask no server.
    settings.write_text("[mcp]\nconnection_timeout = 20.0\n")
    assert gemma("--config", config, "tools", "list", env=env).returncode == 0
    assert methods(log).count("tools/list") == 2


def test_install_completion_writes_the_script_for_the_current_shell(tmp_path: Path, workdir: Path) -> None:
    import os

    home = Path(os.environ["HOME"])
    # The shell is found among the program's ancestors, as when a user types the command; a test
    # run started outside any shell (a detached job) has none, so bash is made the parent here.
    command = [sys.executable, "-m", "gemma_mcp_cli", "--install-completion"]
    done = subprocess.run(
        ["bash", "-c", '"$@"; exit $?', "bash", *command],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        env=os.environ | {"SHELL": "/bin/bash"},
    )
    assert done.returncode == 0, done.stderr
    script = home / ".bash_completions" / "gemma-mcp.sh"
    assert f"source '{script}'" in (home / ".bashrc").read_text().splitlines()
    assert "complete " in script.read_text() and "gemma-mcp" in script.read_text()


def test_a_corrupt_statistics_database_warns_on_record_and_is_an_error_to_show(
    cli: Invoke, write_config, tmp_path: Path
) -> None:
    from gemma_mcp_cli.state.stats import StatsStore

    path = StatsStore().path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    config = write_config(observing("obs", tmp_path / "o.jsonl"))
    called = cli("--config", str(config), "call", "obs", "hello")
    assert (called.exit_code, called.stdout) == (0, "hello\n")
    assert "statistics not recorded" in called.stderr
    message = f"cannot use the statistics database {path}: file is not a database"
    shown = cli("stats")
    assert (shown.exit_code, shown.stderr.splitlines()[0]) == (3, f"Error: {message}")
    as_json = cli("stats", "--format", "json")
    assert (as_json.exit_code, json.loads(as_json.stderr)["error"]["message"]) == (3, message)
    assert cli("stats", "reset").exit_code == 0  # starts the statistics afresh
    assert cli("stats", "--format", "json").exit_code == 0
