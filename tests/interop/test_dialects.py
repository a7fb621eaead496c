"""Other clients' server files: detection, conversion, variables, warnings, validity."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from gemma_mcp_cli.config.loader import check_config
from gemma_mcp_cli.errors import MCPConfigError
from gemma_mcp_cli.interop import dialects, editing
from gemma_mcp_cli.interop.dialects import Dialect

SAMPLES = Path(__file__).parent / "samples"
SAMPLE_DIALECTS = {
    "claude_desktop_config.json": Dialect.CLAUDE_DESKTOP,
    "cursor_mcp.json": Dialect.CURSOR,
    "vscode_mcp.json": Dialect.VSCODE,
    "gemini_settings.json": Dialect.GEMINI,
    "claude_code.mcp.json": Dialect.CLAUDE_CODE,
}


def convert(entries: dict[str, Any], dialect: Dialect, **document: Any) -> dialects.Conversion:
    key = "servers" if dialect is Dialect.VSCODE else "mcpServers"
    return dialects.convert({key: entries, **document}, dialect)


def sample(name: str, tmp_path: Path) -> dialects.Conversion:
    return dialects.load(SAMPLES / name, SAMPLE_DIALECTS[name], base=tmp_path / "mcp_servers.toml")


def test_claude_desktop_sample_converts_to_stdio_tables(tmp_path: Path) -> None:
    servers = sample("claude_desktop_config.json", tmp_path).servers
    assert list(servers) == ["filesystem", "github", "sqlite", "linear"]
    assert servers["github"] == {
        "enabled": True,
        "transport": "stdio",
        "command": "docker",
        "args": [
            "run",
            "-i",
            "--rm",
            "-e",
            "GITHUB_PERSONAL_ACCESS_TOKEN",
            "ghcr.io/github/github-mcp-server",
        ],
        "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_exampleNotARealToken0000000000000"},
    }
    assert servers["linear"]["enabled"] is False


def test_cursor_sample_converts_urls_env_references_and_the_workspace(tmp_path: Path) -> None:
    servers = sample("cursor_mcp.json", tmp_path).servers
    assert servers["web-search"]["env"] == {"SEARCH_API_KEY": "${SEARCH_API_KEY}"}
    assert servers["docs"] == {
        "enabled": True,
        "transport": "http",
        "url": "https://docs.example.com/mcp",
        "headers": {"Authorization": "Bearer ${DOCS_TOKEN}"},
    }
    assert servers["events"]["transport"] == "sse"
    assert servers["project-tools"]["args"][0] == "${WORKSPACE_FOLDER:-.}/tools/mcp_server.py"


def test_vscode_sample_turns_inputs_into_variables_with_notes(tmp_path: Path) -> None:
    result = sample("vscode_mcp.json", tmp_path)
    assert result.servers["brave-search"]["env"] == {"BRAVE_API_KEY": "${BRAVE_API_KEY}"}
    assert result.servers["cloud"]["url"] == "https://${REGION:-eu-west-1}.cloud.example.com/sse"
    assert result.servers["cloud"]["headers"] == {"X-Api-Key": "${CLOUD_API_KEY}"}
    assert result.servers["github"]["transport"] == "http"
    assert result.notes["brave-search"] == [
        "${BRAVE_API_KEY} was VS Code input 'brave-api-key' (Brave Search API key)"
    ]
    assert any("set BRAVE_API_KEY in the environment" in w for w in result.warnings)
    assert "server 'workspace-tools': dropped 'envFile' (no equivalent here)" in result.warnings


def test_gemini_sample_maps_url_to_sse_httpurl_to_http_and_timeout_to_seconds(tmp_path: Path) -> None:
    result = sample("gemini_settings.json", tmp_path)
    servers = result.servers
    assert servers["sseServer"] == {
        "enabled": True,
        "transport": "sse",
        "url": "http://localhost:8081/sse",
        "request_timeout": 30.0,
    }
    assert servers["httpServer"]["transport"] == "http"
    assert servers["httpServer"]["url"] == "https://api.example.com/mcp"
    assert servers["httpServer"]["headers"] == {"Authorization": "Bearer ${API_TOKEN}"}
    assert servers["pythonTools"]["env"] == {
        "DATABASE_URL": "${DB_CONNECTION_STRING}",
        "API_KEY": "${EXTERNAL_API_KEY}",
    }
    assert servers["pythonTools"]["request_timeout"] == 15.0
    assert servers["nodeServer"]["enabled"] is False  # listed in mcp.excluded
    assert "server 'nodeServer': dropped 'trust' (no equivalent here)" in result.warnings
    assert (
        "server 'httpServer': dropped 'includeTools', 'excludeTools' (no equivalent here)" in result.warnings
    )


def test_claude_code_sample_keeps_our_variable_forms(tmp_path: Path) -> None:
    servers = sample("claude_code.mcp.json", tmp_path).servers
    assert servers["api-server"]["url"] == "${API_BASE_URL:-https://api.example.com}/mcp"
    assert servers["everything"] == {
        "enabled": True,
        "transport": "stdio",
        "command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-everything"],
    }
    assert (servers["sentry"]["transport"], servers["asana"]["transport"]) == ("http", "sse")


@pytest.mark.parametrize("name", sorted(SAMPLE_DIALECTS))
def test_every_sample_imports_to_a_valid_configuration(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = sample(name, tmp_path)
    text = editing.render_servers(result.servers, result.notes)
    for variable in re.findall(r"\$\{([A-Za-z_]\w*)\}", text):
        monkeypatch.setenv(variable, "set-for-the-test")
    path = tmp_path / "mcp_servers.toml"
    path.write_text(text, encoding="utf-8")
    report = check_config(path)
    assert report.is_valid(), [report.describe(s, p) for s, p in report.problems()]
    assert [s.name for s in report.servers] == list(result.servers)


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        ("Claude/claude_desktop_config.json", Dialect.CLAUDE_DESKTOP),
        (".cursor/mcp.json", Dialect.CURSOR),
        (".vscode/mcp.json", Dialect.VSCODE),
        (".gemini/settings.json", Dialect.GEMINI),
        ("project/.mcp.json", Dialect.CLAUDE_CODE),
    ],
)
def test_dialect_is_detected_from_shape_and_location(place: str, expected: Dialect, tmp_path: Path) -> None:
    name = next(n for n, d in SAMPLE_DIALECTS.items() if d is expected)
    path = tmp_path / place
    path.parent.mkdir(parents=True)
    shutil.copy(SAMPLES / name, path)
    assert dialects.detect_dialect(dialects.read_json(path), path) is expected


def test_dialect_is_detected_from_shape_alone() -> None:
    assert dialects.detect_dialect({"servers": {}}) is Dialect.VSCODE
    assert dialects.detect_dialect({"mcp": {"servers": {}}}) is Dialect.VSCODE  # settings.json
    assert dialects.detect_dialect({"mcpServers": {"a": {"httpUrl": "https://x"}}}) is Dialect.GEMINI
    assert dialects.detect_dialect({"mcpServers": {}, "projects": {}}) is Dialect.CLAUDE_CODE
    assert dialects.detect_dialect({"mcpServers": {"a": {"command": "x"}}}) is Dialect.CLAUDE_DESKTOP
    with pytest.raises(MCPConfigError, match="no MCP servers found"):
        dialects.detect_dialect({"theme": "dark"})


@pytest.mark.parametrize(
    ("text", "dialect", "expected"),
    [
        ("${env:TOKEN}", Dialect.CURSOR, "${TOKEN}"),
        ("${env:TOKEN}", Dialect.VSCODE, "${TOKEN}"),
        ("Bearer $TOKEN", Dialect.GEMINI, "Bearer ${TOKEN}"),
        ("pa$word", Dialect.CLAUDE_DESKTOP, "pa$word"),  # no expansion there: literal text
        ("${TOKEN}", Dialect.CLAUDE_DESKTOP, "${TOKEN}"),
        ("${TOKEN:-abc}", Dialect.CLAUDE_CODE, "${TOKEN:-abc}"),
        ("${TOKEN:-abc}", Dialect.GEMINI, "${TOKEN:-abc}"),
        ("$${literal}", Dialect.GEMINI, "$${literal}"),
        ("${workspaceFolder}/x", Dialect.VSCODE, "${WORKSPACE_FOLDER:-.}/x"),
        ("${input:api-key}", Dialect.VSCODE, "${API_KEY}"),
        ("${command:pick}", Dialect.VSCODE, "${command:pick}"),
    ],
)
def test_variable_forms_become_ours(text: str, dialect: Dialect, expected: str) -> None:
    result = convert({"s": {"command": "x", "args": [text]}}, dialect)
    assert result.servers["s"]["args"] == [expected]


def test_unsupported_variables_and_undeclared_inputs_warn() -> None:
    result = convert({"s": {"command": "x", "args": ["${command:pick}", "${input:nope}"]}}, Dialect.VSCODE)
    assert "server 's': ${command:pick} has no equivalent here and is kept as text" in result.warnings
    assert any("'nope'" in w and "not declared in 'inputs'" in w for w in result.warnings)


def test_workspace_folder_of_a_project_file_defaults_to_that_project(tmp_path: Path) -> None:
    path = tmp_path / "proj" / ".vscode" / "mcp.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"servers": {"s": {"command": "node", "args": ["${workspaceFolder}/a.js"]}}}))
    result = dialects.convert(dialects.read_json(path), Dialect.VSCODE, path=path)
    assert result.servers["s"]["args"] == [f"${{WORKSPACE_FOLDER:-{tmp_path.resolve() / 'proj'}}}/a.js"]


def test_input_with_a_default_becomes_the_variable_default_unless_it_is_a_password() -> None:
    inputs = [
        {"type": "promptString", "id": "region", "default": "eu"},
        {"type": "promptString", "id": "key", "default": "k", "password": True},
    ]
    result = dialects.convert(
        {"inputs": inputs, "servers": {"s": {"command": "x", "args": ["${input:region}", "${input:key}"]}}},
        Dialect.VSCODE,
    )
    assert result.servers["s"]["args"] == ["${REGION:-eu}", "${KEY}"]


@pytest.mark.parametrize(
    ("entry", "transport"),
    [
        ({"type": "http", "url": "https://h/mcp"}, "http"),
        ({"type": "streamable-http", "url": "https://h/mcp"}, "http"),
        ({"type": "streamableHttp", "url": "https://h/mcp"}, "http"),
        ({"type": "sse", "url": "https://h/sse"}, "sse"),
        ({"url": "https://h/mcp"}, "http"),
        ({"url": "wss://h/ws"}, "websocket"),
        ({"command": "x"}, "stdio"),
    ],
)
def test_mcpservers_transports(entry: dict[str, Any], transport: str) -> None:
    assert convert({"s": entry}, Dialect.CLAUDE_CODE).servers["s"]["transport"] == transport


def test_gemini_httpurl_wins_over_url_as_there() -> None:
    result = convert({"s": {"httpUrl": "https://a/mcp", "url": "https://b/sse"}}, Dialect.GEMINI)
    assert result.servers["s"]["url"] == "https://a/mcp"
    assert "server 's': dropped 'url': 'httpUrl' comes first, as in Gemini CLI" in result.warnings


def test_bad_gemini_timeout_is_dropped_with_a_warning() -> None:
    result = convert({"s": {"command": "x", "timeout": -5}}, Dialect.GEMINI)
    assert "request_timeout" not in result.servers["s"]
    assert any("dropped 'timeout'" in w for w in result.warnings)


def test_unknown_keys_are_dropped_with_a_warning_naming_them() -> None:
    result = convert({"s": {"command": "x", "autoApprove": [], "alwaysAllow": ["a"]}}, Dialect.CURSOR)
    assert result.servers["s"] == {"enabled": True, "transport": "stdio", "command": "x"}
    assert result.warnings == ["server 's': dropped 'autoApprove', 'alwaysAllow' (no equivalent here)"]


def test_entries_that_cannot_be_used_are_skipped_with_a_warning() -> None:
    result = convert(
        {"a": {"type": "carrier-pigeon", "url": "x"}, "b": {"env": {}}, "c": "npx"}, Dialect.CURSOR
    )
    assert result.servers == {}
    assert result.warnings == [
        "server 'a': skipped: unknown type 'carrier-pigeon'",
        "server 'b': skipped: the entry has neither a command nor a url",
        "server 'c': skipped: the entry is not an object",
    ]


def test_scalars_in_args_and_env_become_strings_and_literal_secrets_warn() -> None:
    result = convert(
        {"s": {"command": "x", "args": ["--port", 8080], "env": {"DEBUG": True, "API_KEY": "k"}}},
        Dialect.CLAUDE_DESKTOP,
    )
    assert result.servers["s"]["args"] == ["--port", "8080"]
    assert result.servers["s"]["env"] == {"DEBUG": "true", "API_KEY": "k"}
    assert result.warnings == ["server 's': env.API_KEY holds a literal secret, copied as it is"]


def test_servers_our_validator_rejects_are_skipped_and_the_rest_imported(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    servers = {"ok": {"command": "x"}, "bad": {"url": "localhost:3000"}, "typed": {"command": ["x"]}}
    path.write_text(json.dumps({"mcpServers": servers}))
    result = dialects.load(path)
    assert list(result.servers) == ["ok"]
    assert any(w.startswith("server 'bad': skipped: url: the http transport needs") for w in result.warnings)
    assert any(w.startswith("server 'typed': skipped: command:") for w in result.warnings)


def test_a_file_with_no_usable_server_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text('{"mcpServers": {"bad": {"url": "nowhere"}}}')
    with pytest.raises(MCPConfigError, match="no server could be imported"):
        dialects.load(path)


def test_jsonc_comments_and_trailing_commas_are_read() -> None:
    path = SAMPLES / "vscode_mcp.json"
    assert "//" in path.read_text() and "/*" in path.read_text()
    assert "servers" in dialects.read_json(path)


def test_invalid_json_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "mcpServers": {\n    "a": {"command" "x"}\n  }\n}\n')
    with pytest.raises(MCPConfigError, match=r"broken.json: invalid JSON: .* \(line 3, column 21\)"):
        dialects.read_json(path)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(MCPConfigError, match="cannot read"):
        dialects.read_json(tmp_path / "nope.json")


def test_urls_with_double_slashes_survive_comment_stripping(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text('{"servers": {"s": {"type": "http", "url": "https://h/mcp", }, }, // done\n}')
    assert dialects.read_json(path)["servers"]["s"]["url"] == "https://h/mcp"


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("darwin", "home/Library/Application Support/Claude/claude_desktop_config.json"),
        ("win32", "roaming/Claude/claude_desktop_config.json"),
        ("linux", "xdg/Claude/claude_desktop_config.json"),
    ],
)
def test_claude_desktop_location_follows_the_platform(
    platform: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APPDATA", str(tmp_path / "roaming"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (found,) = dialects.default_locations(Dialect.CLAUDE_DESKTOP, platform=platform, home=tmp_path / "home")
    assert found == tmp_path / expected


def test_default_locations_of_the_other_clients(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "cwd"

    def where(dialect: Dialect) -> list[Path]:
        return dialects.default_locations(dialect, home=home, cwd=cwd)

    assert where(Dialect.CURSOR) == [home / ".cursor" / "mcp.json"]
    assert where(Dialect.VSCODE) == [cwd / ".vscode" / "mcp.json"]
    assert where(Dialect.GEMINI) == [home / ".gemini" / "settings.json"]
    assert where(Dialect.CLAUDE_CODE) == [cwd / ".mcp.json", home / ".claude.json"]


def test_find_source_takes_the_first_existing_file_or_names_where_it_looked(
    isolated_home: Path, workdir: Path
) -> None:
    with pytest.raises(MCPConfigError, match=r"no Claude Code configuration found \(looked in .*\.mcp\.json"):
        dialects.find_source(Dialect.CLAUDE_CODE)
    (isolated_home / ".claude.json").write_text('{"mcpServers": {}}')
    assert dialects.find_source(Dialect.CLAUDE_CODE) == isolated_home / ".claude.json"
    (workdir / ".mcp.json").write_text('{"mcpServers": {}}')
    assert dialects.find_source(Dialect.CLAUDE_CODE) == workdir / ".mcp.json"
