"""`servers import|add|remove|enable|disable`: edits that keep the file's comments, order and mode."""

from __future__ import annotations

import difflib
import json
import shutil
import stat
import tomllib
from pathlib import Path
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner, Result

from gemma_mcp_cli.cli import render, server_edits
from gemma_mcp_cli.cli.invocation import AppState
from gemma_mcp_cli.config.loader import check_config, load_config
from tests.cli.conftest import Invoke, stderr_json, stdout_json

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "tests" / "interop" / "samples"


def edits_app() -> typer.Typer:
    """Return a root app with the edit commands under `servers`, as the real one registers them."""
    app = typer.Typer()
    servers = typer.Typer()

    @app.callback()
    def root(ctx: typer.Context, config: Annotated[str | None, typer.Option("--config")] = None) -> None:
        render.reset()
        ctx.obj = AppState(config=config)

    servers.command("import")(server_edits.import_servers)
    servers.command("add")(server_edits.add_server)
    servers.command("remove")(server_edits.remove_server)
    servers.command("enable")(server_edits.enable_server)
    servers.command("disable")(server_edits.disable_server)
    app.add_typer(servers, name="servers")
    return app


@pytest.fixture
def cli() -> Invoke:
    runner, app = CliRunner(), edits_app()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """Return a copy of the repository's commented example configuration."""
    path = tmp_path / "example" / "mcp_servers.toml"
    path.parent.mkdir()
    shutil.copy(REPO / "config" / "mcp_servers.toml", path)
    return path


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def test_add_then_remove_leaves_the_example_identical(cli: Invoke, example: Path) -> None:
    before = example.read_text()
    added = cli("--config", str(example), "servers", "add", "files", "--env", "A=1", "--", "npx", "-y", "pkg")
    assert added.exit_code == 0, added.stderr
    assert f"Added server 'files' to {example}" in added.stderr
    text = example.read_text()
    assert text.startswith(before)
    assert tomllib.loads(text)["files"] == {
        "enabled": True,
        "transport": "stdio",
        "command": "npx",
        "args": ["-y", "pkg"],
        "env": {"A": "1"},
    }
    assert cli("--config", str(example), "servers", "remove", "files").exit_code == 0
    assert example.read_text() == before


def test_add_a_url_with_headers_then_remove_it(cli: Invoke, example: Path) -> None:
    before = example.read_text()
    result = cli(
        "--config",
        str(example),
        "servers",
        "add",
        "remote",
        "https://mcp.example.com/mcp",
        "--header",
        "Authorization: Bearer ${REMOTE_TOKEN:-}",
        "-H",
        "X-Trace: on",
        "--description",
        "A remote one",
        "--disabled",
    )
    assert result.exit_code == 0, result.stderr
    assert tomllib.loads(example.read_text())["remote"] == {
        "enabled": False,
        "transport": "http",
        "url": "https://mcp.example.com/mcp",
        "headers": {"Authorization": "Bearer ${REMOTE_TOKEN:-}", "X-Trace": "on"},
        "description": "A remote one",
    }
    assert 'headers = { Authorization = "Bearer ${REMOTE_TOKEN:-}", X-Trace = "on" }' in example.read_text()
    cli("--config", str(example), "servers", "remove", "remote")
    assert example.read_text() == before


@pytest.mark.parametrize(("url", "transport"), [("wss://h/ws", "websocket"), ("https://h/sse", "sse")])
def test_add_picks_the_transport_of_a_url(cli: Invoke, example: Path, url: str, transport: str) -> None:
    extra = ["--transport", "sse"] if transport == "sse" else []
    assert cli("--config", str(example), "servers", "add", "r", url, *extra).exit_code == 0
    assert tomllib.loads(example.read_text())["r"]["transport"] == transport


def test_removing_a_commented_server_takes_its_comment_and_keeps_the_next_ones(
    cli: Invoke, example: Path
) -> None:
    before = example.read_text()
    assert cli("--config", str(example), "servers", "remove", "http-example").exit_code == 0
    after = example.read_text()
    removed = [line for line in changed_lines(before, after) if line.startswith("-")]
    assert (
        removed[0]
        == "-# A remote server over Streamable HTTP. Headers may carry tokens from the environment."
    )
    assert not [line for line in changed_lines(before, after) if line.startswith("+")]
    assert "# Your own Python server, started from a directory of its own.\n[custom-python]" in after
    assert list(tomllib.loads(after)) == [
        "local-memory",
        "rag-redis",
        "filesystem",
        "memory",
        "custom-python",
    ]


def test_enable_and_disable_flip_only_that_line(cli: Invoke, example: Path) -> None:
    before = example.read_text()
    result = cli("--config", str(example), "servers", "enable", "rag-redis")
    assert result.exit_code == 0
    assert changed_lines(before, example.read_text()) == [
        "-enabled = false                # needs `mcp-server` on PATH and a Redis server",
        "+enabled = true                 # needs `mcp-server` on PATH and a Redis server",
    ]
    assert "command 'mcp-server' was not found on PATH" in result.stderr  # a warning, still written
    assert cli("--config", str(example), "servers", "disable", "rag-redis").exit_code == 0
    assert example.read_text() == before


def test_disable_twice_reports_no_change_and_does_not_write(cli: Invoke, example: Path) -> None:
    mtime = example.stat().st_mtime_ns
    result = cli("--config", str(example), "servers", "disable", "memory", "--json")
    assert result.exit_code == 0
    assert stdout_json(result) == {
        "config": str(example),
        "server": "memory",
        "action": "disabled",
        "changed": False,
        "warnings": [],
    }
    assert example.stat().st_mtime_ns == mtime


def test_disable_a_table_without_enabled_adds_the_key_to_that_table(
    cli: Invoke, write_config, tmp_path: Path
) -> None:
    path = write_config('[a]\ncommand = "x"\n\n# b runs y\n[b]\ncommand = "y"\n')
    assert cli("--config", str(path), "servers", "disable", "a").exit_code == 0
    assert path.read_text() == '[a]\ncommand = "x"\nenabled = false\n\n# b runs y\n[b]\ncommand = "y"\n'


def test_an_invalid_add_is_refused_and_the_file_is_untouched(cli: Invoke, example: Path) -> None:
    before = example.read_bytes()
    result = cli("--config", str(example), "servers", "add", "bad", "ws://h/ws", "--transport", "http")
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: not written: {example}: servers.bad.url (line ")
    assert "the http transport needs a http:// or https:// url" in result.stderr
    assert example.read_bytes() == before
    assert [p.name for p in example.parent.iterdir()] == ["mcp_servers.toml"]  # no temporary left


def test_an_edit_of_a_broken_file_is_refused(cli: Invoke, write_config) -> None:
    path = write_config('[a]\ncommand = "x"\nreconect_delay = 1\n')
    result = cli("--config", str(path), "servers", "add", "b", "--", "y")
    assert result.exit_code == 3
    assert "servers.a.reconect_delay" in result.stderr and "did you mean 'reconnect_delay'" in result.stderr
    assert path.read_text() == '[a]\ncommand = "x"\nreconect_delay = 1\n'


def test_an_unset_variable_only_warns_since_it_may_be_set_where_the_server_runs(
    cli: Invoke, example: Path
) -> None:
    result = cli(
        "--config",
        str(example),
        "servers",
        "add",
        "r",
        "https://h/mcp",
        "-H",
        "Authorization: ${NO_SUCH_TOKEN}",
    )
    assert result.exit_code == 0
    assert "environment variable NO_SUCH_TOKEN is not set" in result.stderr
    assert "r" in tomllib.loads(example.read_text())


def test_adding_an_existing_name_exits_3(cli: Invoke, example: Path) -> None:
    before = example.read_bytes()
    result = cli("--config", str(example), "servers", "add", "memory", "--", "node", "m.js")
    assert result.exit_code == 3
    assert "already has 'memory'" in result.stderr
    assert example.read_bytes() == before


@pytest.mark.parametrize("command", ["remove", "enable", "disable"])
def test_an_unknown_server_exits_3_with_a_suggestion(cli: Invoke, example: Path, command: str) -> None:
    result = cli("--config", str(example), "servers", command, "memroy", "--json")
    assert result.exit_code == 3
    error = stderr_json(result)["error"]
    assert (error["type"], error["server"]) == ("config", "memroy")
    assert "did you mean 'memory'?" in error["message"]


def test_removing_the_last_server_is_refused(cli: Invoke, write_config) -> None:
    path = write_config('[only]\ncommand = "x"\n')
    result = cli("--config", str(path), "servers", "remove", "only")
    assert result.exit_code == 3
    assert "the file defines no servers" in result.stderr
    assert "delete the file to use the built-in default" in result.stderr
    assert path.read_text() == '[only]\ncommand = "x"\n'


@pytest.mark.parametrize(
    "args",
    [
        ["add", "x"],
        ["add", "x", "https://h/mcp", "--env", "A=1"],
        ["add", "x", "https://h/mcp", "--header", "no-colon"],
        ["add", "x", "--transport", "sse", "--", "npx", "pkg"],
        ["add", "x", "--env", "=1", "--", "npx"],
        ["add", "x", "https://h/mcp", "--transport", "pigeon"],
        ["add", " ", "--", "npx"],
        ["import"],
        ["import", "f.json", "--replace"],
        ["import", "--from", "emacs"],
    ],
)
def test_bad_usage_exits_2_and_writes_nothing(cli: Invoke, example: Path, args: list[str]) -> None:
    before = example.read_bytes()
    result = cli("--config", str(example), "servers", *args)
    assert result.exit_code == 2, result.stderr
    assert example.read_bytes() == before


def test_add_creates_the_user_config_file_when_there_is_none(cli: Invoke, isolated_home: Path) -> None:
    result = cli("servers", "add", "mem", "--", "python3", "-m", "gemma_mcp_cli.servers.local_memory")
    created = isolated_home / "xdg_config_home" / "gemma-mcp" / "mcp_servers.toml"
    assert result.exit_code == 0, result.stderr
    assert created.is_file()
    assert stat.S_IMODE(created.stat().st_mode) == 0o600
    assert list(load_config().servers) == ["mem"]


def test_add_creates_the_config_path_given(cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "new" / "servers.toml"
    assert cli("--config", str(path), "servers", "add", "a", "--", "x").exit_code == 0
    assert path.read_text() == '[a]\nenabled = true\ntransport = "stdio"\ncommand = "x"\n'


def test_edits_keep_the_file_mode(cli: Invoke, example: Path) -> None:
    example.chmod(0o640)
    cli("--config", str(example), "servers", "add", "a", "--", "x")
    assert stat.S_IMODE(example.stat().st_mode) == 0o640
    cli("--config", str(example), "servers", "disable", "local-memory")
    assert stat.S_IMODE(example.stat().st_mode) == 0o640


def test_edits_write_through_a_symlink(cli: Invoke, example: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.toml"
    link.symlink_to(example)
    assert cli("--config", str(link), "servers", "add", "a", "--", "x").exit_code == 0
    assert link.is_symlink()
    assert "a" in tomllib.loads(example.read_text())


def test_add_with_json_prints_one_document(cli: Invoke, example: Path) -> None:
    result = cli("--config", str(example), "servers", "add", "a", "https://h/mcp", "--json")
    assert result.exit_code == 0
    assert stdout_json(result) == {
        "config": str(example),
        "server": "a",
        "action": "added",
        "changed": True,
        "warnings": [],
    }


def test_import_prints_toml_and_warns_on_stderr(cli: Invoke, write_config) -> None:
    result = cli("servers", "import", str(SAMPLES / "gemini_settings.json"))
    assert result.exit_code == 0, result.stderr
    servers = tomllib.loads(result.stdout)
    assert list(servers) == ["pythonTools", "nodeServer", "sseServer", "httpServer"]
    assert servers["sseServer"]["transport"] == "sse"
    assert "Warning: server 'nodeServer': dropped 'trust' (no equivalent here)" in result.stderr
    assert "Warning" not in result.stdout
    assert "(Gemini CLI); add --write to merge them into" in result.stderr


def test_import_of_vscode_writes_the_inputs_as_comments(cli: Invoke) -> None:
    result = cli("servers", "import", str(SAMPLES / "vscode_mcp.json"), "--from", "vscode")
    assert result.exit_code == 0, result.stderr
    assert (
        "# ${BRAVE_API_KEY} was VS Code input 'brave-api-key' (Brave Search API key)\n[brave-search]\n"
        in (result.stdout)
    )


def test_import_with_json(cli: Invoke) -> None:
    path = SAMPLES / "cursor_mcp.json"
    result = cli("servers", "import", str(path), "--from", "cursor", "--json")
    assert result.exit_code == 0
    document = stdout_json(result)
    assert (document["source"], document["dialect"]) == (str(path), "cursor")
    assert document["servers"]["docs"]["headers"] == {"Authorization": "Bearer ${DOCS_TOKEN}"}


def test_import_write_merges_keeps_comments_and_validates(
    cli: Invoke, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = example.read_text()
    result = cli(
        "--config", str(example), "servers", "import", str(SAMPLES / "claude_code.mcp.json"), "--write"
    )
    assert result.exit_code == 0, result.stderr
    assert f"Imported 4 server(s) from {SAMPLES / 'claude_code.mcp.json'} into {example}" in result.stderr
    assert result.stdout == ""
    after = example.read_text()
    assert after.startswith(before)
    monkeypatch.setenv("API_KEY", "k")
    assert check_config(example).is_valid()
    assert list(load_config(example).servers)[-4:] == ["everything", "api-server", "sentry", "asana"]


def test_import_write_refuses_existing_names_unless_replace(
    cli: Invoke, example: Path, tmp_path: Path
) -> None:
    source = tmp_path / "claude_desktop_config.json"
    source.write_text(json.dumps({"mcpServers": {"memory": {"command": "node", "args": ["m.js"]}}}))
    before = example.read_text()
    refused = cli("--config", str(example), "servers", "import", str(source), "--write")
    assert refused.exit_code == 3
    assert "already has 'memory'; nothing written" in refused.stderr and "--replace" in refused.stderr
    assert example.read_text() == before
    replaced = cli(
        "--config", str(example), "servers", "import", str(source), "--write", "--replace", "--json"
    )
    assert replaced.exit_code == 0
    assert (stdout_json(replaced)["added"], stdout_json(replaced)["replaced"]) == ([], ["memory"])
    after = example.read_text()
    assert tomllib.loads(after)["memory"] == {
        "enabled": True,
        "transport": "stdio",
        "command": "node",
        "args": ["m.js"],
    }
    assert (
        "# A knowledge-graph memory, from the official reference servers (needs Node.js).\n[memory]" in after
    )
    assert "# A remote server over Streamable HTTP." in after


def test_import_from_a_client_reads_its_usual_file(cli: Invoke, isolated_home: Path, tmp_path: Path) -> None:
    settings = isolated_home / ".gemini" / "settings.json"
    settings.parent.mkdir()
    shutil.copy(SAMPLES / "gemini_settings.json", settings)
    target = tmp_path / "servers.toml"
    result = cli("--config", str(target), "servers", "import", "--from", "gemini", "--write")
    assert result.exit_code == 0, result.stderr
    assert tomllib.loads(target.read_text())["httpServer"]["url"] == "https://api.example.com/mcp"


def test_import_from_a_client_without_its_file_exits_3(cli: Invoke) -> None:
    result = cli("servers", "import", "--from", "cursor")
    assert result.exit_code == 3
    assert "no Cursor configuration found" in result.stderr


@pytest.mark.parametrize("content", [None, "{not json", '{"theme": "dark"}', "[1, 2]"])
def test_import_of_a_missing_or_invalid_file_exits_3(
    cli: Invoke, tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "mcp.json"
    if content is not None:
        path.write_text(content)
    result = cli("servers", "import", str(path), "--json")
    assert result.exit_code == 3
    assert stderr_json(result)["error"]["type"] == "config"


def test_removing_the_first_table_leaves_no_blank_first_line(cli: Invoke, write_config) -> None:
    path = write_config('[a]\ncommand = "x"\n\n# b runs y\n[b]\ncommand = "y"\n')
    assert cli("--config", str(path), "servers", "remove", "a").exit_code == 0
    assert path.read_text() == '# b runs y\n[b]\ncommand = "y"\n'


def test_replacing_an_inline_table_moves_it_to_the_end(cli: Invoke, write_config, tmp_path: Path) -> None:
    path = write_config('a = { command = "x" }\n\n[b]\ncommand = "y"\n')
    source = tmp_path / "mcp.json"
    source.write_text('{"mcpServers": {"a": {"command": "z"}}}')
    result = cli("--config", str(path), "servers", "import", str(source), "--write", "--replace")
    assert result.exit_code == 0, result.stderr
    assert (
        path.read_text() == '[b]\ncommand = "y"\n\n[a]\nenabled = true\ntransport = "stdio"\ncommand = "z"\n'
    )


def test_imported_literal_secrets_stay_in_the_file_and_out_of_messages_and_show(
    cli: Invoke, tmp_path: Path
) -> None:
    from gemma_mcp_cli.cli.app import app

    target = tmp_path / "servers.toml"
    source = SAMPLES / "claude_desktop_config.json"
    result = cli("--config", str(target), "servers", "import", str(source), "--write")
    assert result.exit_code == 0, result.stderr
    assert "env.GITHUB_PERSONAL_ACCESS_TOKEN holds a literal secret" in result.stderr
    assert "ghp_" not in result.stderr
    assert "ghp_exampleNotARealToken" in target.read_text()
    shown = CliRunner().invoke(app, ["--config", str(target), "servers", "show", "github", "--json"])
    assert shown.exit_code == 0, shown.stderr
    assert stdout_json(shown)["server"]["env"] == {"GITHUB_PERSONAL_ACCESS_TOKEN": "***"}
