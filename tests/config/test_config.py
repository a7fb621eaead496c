"""The configuration: keys, errors with lines, expansion, discovery, settings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gemma_mcp_cli import (
    MCPConfigError,
    MCPServerConfig,
    MCPTransportType,
    load_mcp_servers,
)
from gemma_mcp_cli.config.loader import check_config, find_config, load_config, load_settings

REPO = Path(__file__).resolve().parents[2]

FULL = """
[rag-redis]
enabled = true
transport = "stdio"
command = "mcp-server"
args = ["--port", "0"]
env = { REDIS_URL = "redis://127.0.0.1:6379" }
cwd = "sub"
auto_reconnect = false
max_reconnect_attempts = 2
reconnect_delay = 0.5
connection_timeout = 3.0
request_timeout = 4
health_check_interval = 0
tool_cache_ttl = 60
description = "memories"

[remote]
transport = "http"
url = "https://mcp.example.com/mcp"
headers = { X-Trace = "on" }
"""


def errors_of(path: Path) -> list[tuple[str | None, str | None, int | None, str]]:
    report = check_config(path)
    return [(server, p.field, p.line, p.message) for server, p in report.problems()]


def test_every_key_is_read_into_the_model(write_config) -> None:
    servers = load_mcp_servers(write_config(FULL))
    rag = servers["rag-redis"]
    assert rag.transport is MCPTransportType.STDIO
    assert (rag.command, rag.args, rag.env) == (
        "mcp-server",
        ["--port", "0"],
        {"REDIS_URL": "redis://127.0.0.1:6379"},
    )
    assert (rag.auto_reconnect, rag.max_reconnect_attempts, rag.reconnect_delay) == (False, 2, 0.5)
    assert (rag.connection_timeout, rag.request_timeout, rag.health_check_interval) == (3.0, 4.0, 0.0)
    assert (rag.tool_cache_ttl, rag.description) == (60, "memories")
    remote = servers["remote"]
    assert remote.transport is MCPTransportType.HTTP
    assert remote.url == "https://mcp.example.com/mcp"
    assert remote.headers == {"X-Trace": "on"}


def test_relative_cwd_resolves_against_the_file(write_config) -> None:
    path = write_config(FULL)
    assert load_mcp_servers(path)["rag-redis"].cwd == str((path.parent / "sub").resolve())


def test_unknown_key_names_line_and_suggests(write_config) -> None:
    path = write_config('[a]\ncommand = "x"\n\nreconect_delay = 2\n')
    assert errors_of(path) == [("a", "reconect_delay", 4, "unknown key; did you mean 'reconnect_delay'?")]


def test_wrong_type_names_key_line_and_value(write_config) -> None:
    path = write_config('[a]\ncommand = "x"\nenabled = "yes"\nargs = "one"\n')
    found = errors_of(path)
    assert [(s, f, line) for s, f, line, _ in found] == [("a", "enabled", 3), ("a", "args", 4)]
    assert "got str 'yes'" in found[0][3]


def test_every_problem_is_reported_at_once(write_config) -> None:
    path = write_config(
        '[a]\ncomand = "x"\n[b]\ntransport = "http"\n[c]\ncommand = "y"\nrequest_timeout = -1\n'
    )
    assert [(s, f) for s, f, _, _ in errors_of(path)] == [
        ("a", "comand"),
        ("a", "command"),
        ("b", "url"),
        ("c", "request_timeout"),
    ]


def test_stdio_needs_a_command(write_config) -> None:
    assert errors_of(write_config("[a]\nenabled = true\n")) == [
        ("a", "command", 1, "the stdio transport needs a command")
    ]


@pytest.mark.parametrize(
    ("transport", "url"),
    [("http", "ws://h/mcp"), ("sse", "ftp://h/sse"), ("websocket", "https://h/ws"), ("http", "not a url")],
)
def test_remote_transports_need_a_url_of_their_scheme(write_config, transport: str, url: str) -> None:
    found = errors_of(write_config(f'[r]\ntransport = "{transport}"\nurl = "{url}"\n'))
    assert [(s, f, line) for s, f, line, _ in found] == [("r", "url", 3)]


def test_unknown_transport_is_an_error(write_config) -> None:
    found = errors_of(write_config('[r]\ntransport = "carrier-pigeon"\nurl = "http://h"\n'))
    assert [(s, f, line) for s, f, line, _ in found] == [("r", "transport", 2)]


def test_websocket_and_sse_accept_their_schemes(write_config) -> None:
    path = write_config(
        '[w]\ntransport = "websocket"\nurl = "wss://h/ws"\n[s]\ntransport = "sse"\nurl = "http://h/sse"\n'
    )
    assert set(load_mcp_servers(path)) == {"w", "s"}


def test_a_table_that_is_not_a_server_is_an_error(write_config) -> None:
    path = write_config('timeout = 5\n[a]\ncommand = "x"\n')
    assert errors_of(path) == [
        (None, None, 1, "'timeout' is not a server table (write it as [timeout] with server keys)")
    ]


def test_invalid_toml_reports_line_and_column(write_config) -> None:
    report = check_config(write_config('[a]\ncommand = "x"\nargs = [1,\n'))
    (problem,) = report.errors
    assert problem.message.startswith("invalid TOML")
    assert (problem.line, problem.column) == (4, 1)
    report = check_config(write_config('[a]\ncommand = "x"\nargs = [1,, 2]\n'))
    assert (report.errors[0].line, report.errors[0].column) == (3, 11)


def test_an_empty_file_defines_no_servers(write_config) -> None:
    assert errors_of(write_config("# nothing\n")) == [(None, None, None, "the file defines no servers")]


def test_variables_expand_with_defaults(write_config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_TOKEN", "s3cret")
    monkeypatch.delenv("NOT_SET", raising=False)
    path = write_config(
        '[a]\ncommand = "x"\nargs = ["${NOT_SET:-fallback}", "$${LITERAL}"]\nenv = { T = "${MY_TOKEN}" }\n'
    )
    server = load_mcp_servers(path)["a"]
    assert server.args == ["fallback", "${LITERAL}"]
    assert server.env == {"T": "s3cret"}


def test_unset_variable_is_an_error_naming_variable_and_server(
    write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISSING_TOKEN", raising=False)
    path = write_config('[svc]\ncommand = "x"\n[svc.env]\nTOKEN = "${MISSING_TOKEN}"\n')
    with pytest.raises(MCPConfigError) as caught:
        load_mcp_servers(path)
    assert "servers.svc.env.TOKEN (line 4)" in caught.value.message
    assert "MISSING_TOKEN is not set" in caught.value.message
    assert str(path) in caught.value.message


def test_unset_variable_in_a_disabled_server_is_only_a_warning(
    write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISSING_TOKEN", raising=False)
    path = write_config('[svc]\nenabled = false\ncommand = "x"\nenv = { T = "${MISSING_TOKEN}" }\n')
    report = check_config(path)
    assert report.is_valid()
    assert not report.is_valid(strict=True)
    assert "MISSING_TOKEN" in report.servers[0].warnings[0].message


def test_disabled_servers_are_validated_too(write_config) -> None:
    path = write_config('[off]\nenabled = false\ncommand = "x"\nretries = 3\n')
    assert [(s, f) for s, f, _, _ in errors_of(path)] == [("off", "retries")]


def test_strict_warns_on_missing_command_and_empty_variable(
    write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMPTY_ONE", "")
    path = write_config('[a]\ncommand = "surely-not-a-command-xyz"\nenv = { E = "${EMPTY_ONE}" }\n')
    report = check_config(path)
    assert report.is_valid() and not report.is_valid(strict=True)
    messages = sorted(p.message for p in report.servers[0].warnings)
    assert messages == [
        "command 'surely-not-a-command-xyz' was not found on PATH",
        "environment variable EMPTY_ONE is empty",
    ]


def test_builtin_variable_names_the_running_interpreter(write_config) -> None:
    path = write_config('[a]\ncommand = "${GEMMA_MCP_PYTHON}"\n')
    server = load_mcp_servers(path)["a"]
    assert server.command == sys.executable
    assert server.redacted()["command"] == sys.executable


def test_redaction_hides_secret_keys_and_expanded_values(
    write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIN_VALUE", "visible-only-by-expansion")
    path = write_config(
        '[r]\ntransport = "http"\nurl = "https://user:pw@h.example/mcp"\n'
        'headers = { Authorization = "Bearer abc", X-Team = "${PLAIN_VALUE}", X-Plain = "ok" }\n'
    )
    shown = load_mcp_servers(path)["r"].redacted()
    assert shown["headers"] == {"Authorization": "***", "X-Team": "***", "X-Plain": "***"}
    assert shown["url"] == "https://h.example/mcp"
    assert "pw" not in str(shown) and "visible-only-by-expansion" not in str(shown)


def test_discovery_prefers_explicit_then_env_then_cwd_then_user_dirs(
    tmp_path: Path, workdir: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = isolated_home / "xdg_config_home" / "gemma-mcp" / "mcp_servers.toml"
    legacy = isolated_home / ".gemma_cli" / "mcp_servers.toml"
    local = workdir / "config" / "mcp_servers.toml"
    env_file, explicit = tmp_path / "env.toml", tmp_path / "explicit.toml"
    for path in (user, legacy, local, env_file, explicit):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('[a]\ncommand = "x"\n')
    monkeypatch.setenv("GEMMA_MCP_CONFIG", str(env_file))
    assert find_config(explicit).path == explicit
    assert find_config().path == env_file
    monkeypatch.delenv("GEMMA_MCP_CONFIG")
    for expected in (local, user, legacy):
        assert find_config().path == expected
        expected.unlink()
    assert find_config().path is None


def test_builtin_default_has_only_local_memory(workdir: Path) -> None:
    loaded = load_config()
    assert loaded.source.path is None
    assert [s.name for s in loaded.enabled()] == ["local-memory"]
    assert loaded.servers["local-memory"].args == ["-m", "gemma_mcp_cli.servers.local_memory"]


def test_explicit_path_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MCPConfigError, match="does not exist"):
        find_config(tmp_path / "nope.toml")


def test_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "a-directory.toml"
    folder.mkdir()
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b'[a]\ncommand = "\xff\xfe"\n')
    for path in (folder, binary):
        (problem,) = check_config(path).errors
        assert problem.message.startswith("cannot read the file")


def test_settings_block_supplies_defaults_and_can_disable(isolated_home: Path, write_config) -> None:
    settings_file = isolated_home / ".gemma_cli" / "config.toml"
    settings_file.parent.mkdir()
    servers = write_config('[a]\ncommand = "x"\n')
    settings_file.write_text(
        f'[mcp]\nservers_config = "{servers}"\nconnection_timeout = 2.5\nretry_count = 1\n'
    )
    settings = load_settings()
    assert (settings.connection_timeout, settings.retry_count, settings.tool_cache_ttl) == (2.5, 1, 3600)
    loaded = load_config(settings=settings)
    assert loaded.source.path == servers
    assert loaded.servers["a"].connection_timeout == 2.5
    settings_file.write_text("[mcp]\nenabled = false\n")
    with pytest.raises(MCPConfigError, match="MCP is disabled"):
        load_config()


def test_invalid_settings_block_is_a_config_error(isolated_home: Path) -> None:
    settings_file = isolated_home / ".gemma_cli" / "config.toml"
    settings_file.parent.mkdir()
    settings_file.write_text('[mcp]\nconnection_timeout = "soon"\n')
    with pytest.raises(MCPConfigError, match=r"\[mcp\] in .*config.toml: connection_timeout"):
        load_settings()


def test_runtime_load_ignores_problems_of_disabled_servers(write_config) -> None:
    path = write_config('[good]\ncommand = "x"\n[bad]\nenabled = false\ntransport = "http"\n')
    assert [s.name for s in load_config(path).enabled()] == ["good"]


def test_unknown_server_suggests_a_close_name(write_config) -> None:
    loaded = load_config(write_config('[rag-redis]\ncommand = "x"\n'))
    with pytest.raises(MCPConfigError, match="did you mean 'rag-redis'"):
        loaded.server("rag-rdis")


def test_model_rejects_bad_transport_directly() -> None:
    with pytest.raises(ValueError, match="needs a command"):
        MCPServerConfig(name="x")


def test_shipped_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    report = check_config(REPO / "config" / "mcp_servers.toml")
    assert report.is_valid(strict=True), report.problems(strict=True)
    names = [s.name for s in report.servers]
    assert names == ["local-memory", "rag-redis", "filesystem", "memory", "http-example", "custom-python"]


def test_config_loader_class_loads_and_validates(write_config) -> None:
    from gemma_mcp_cli import MCPConfigLoader

    loader = MCPConfigLoader(write_config('[a]\ncommand = "x"\n[b]\ncommand = "y"\nbogus = 1\n'))
    assert [p.field for _, p in loader.validate().problems()] == ["bogus"]
    with pytest.raises(MCPConfigError, match=r"servers\.b\.bogus \(line 5\)"):
        loader.load()


def test_settings_come_from_the_environment_over_the_file(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_file = isolated_home / ".gemma_cli" / "config.toml"
    settings_file.parent.mkdir()
    settings_file.write_text("[mcp]\nconnection_timeout = 2.5\nretry_count = 1\n")
    monkeypatch.setenv("GEMMA_MCP_RETRY_COUNT", "4")
    monkeypatch.setenv("GEMMA_MCP_TOOL_CACHE_TTL", "60")
    settings = load_settings()
    assert (settings.connection_timeout, settings.retry_count, settings.tool_cache_ttl) == (2.5, 4, 60)
    assert settings.origin("retry_count") == "GEMMA_MCP_RETRY_COUNT"
    assert settings.origin("connection_timeout") == f"[mcp] in {settings_file}"


def test_disabled_by_the_environment_says_where(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMMA_MCP_ENABLED", "false")
    with pytest.raises(
        MCPConfigError, match=r"MCP is disabled by gemma-cli's settings \(GEMMA_MCP_ENABLED\)"
    ):
        load_config()
    monkeypatch.setenv("GEMMA_MCP_ENABLED", "perhaps")
    with pytest.raises(MCPConfigError, match="GEMMA_MCP_ENABLED='perhaps' is not a valid enabled"):
        load_settings()


def test_settings_file_can_be_named_by_the_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    host_file = tmp_path / "host.toml"
    host_file.write_text("[mcp]\nenabled = false\n")
    monkeypatch.setenv("GEMMA_MCP_SETTINGS", str(host_file))
    with pytest.raises(MCPConfigError, match=f"enabled = false|{host_file}"):
        load_config()
