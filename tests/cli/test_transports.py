"""The same tool, resource and prompt checks over every transport, against real servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, stdout_json
from tests.conftest import PYTHON, SERVERS, NetworkServer, everything_server, python_server

# Its tests share servers started once for the module: one test worker runs them all (see conftest.py).
pytestmark = pytest.mark.xdist_group("transports")

TRANSPORTS = ["stdio", "http", "sse", "websocket"]


@pytest.fixture(scope="module")
def sdk_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Start sdk_server over Streamable HTTP and over SSE once for the module; yield their TOML tables."""
    logs = tmp_path_factory.mktemp("logs")
    http = python_server("sdk_server.py", "--transport", "streamable-http", log=logs / "http.log")
    sse = python_server("sdk_server.py", "--transport", "sse", log=logs / "sse.log")
    ws = python_server("ws_server.py", log=logs / "ws.log")
    servers: list[NetworkServer] = [http, sse, ws]
    script = json.dumps([str(SERVERS / "sdk_server.py")])
    try:
        yield {
            "stdio": f"command = {json.dumps(PYTHON)}\nargs = {script}\n",
            "http": f'transport = "http"\nurl = "http://127.0.0.1:{http.port}/mcp"\n',
            "sse": f'transport = "sse"\nurl = "http://127.0.0.1:{sse.port}/sse"\n',
            "websocket": f'transport = "websocket"\nurl = "ws://127.0.0.1:{ws.port}/mcp"\n',
        }
    finally:
        for server in servers:
            server.close()


@pytest.fixture(params=TRANSPORTS)
def over(request: pytest.FixtureRequest, cli: Invoke, write_config, sdk_servers: dict[str, str]) -> Invoke:
    """Run gemma-mcp against the SDK test server reached over one transport, named `sdk`."""
    config = write_config("[sdk]\n" + sdk_servers[request.param] + "request_timeout = 15.0\n")
    return lambda *args, **kw: cli("--config", str(config), *args, **kw)


def test_tools_are_listed(over: Invoke) -> None:
    result = over("tools", "list", "sdk", "--json")
    assert result.exit_code == 0, result.stderr
    names = {t["name"] for t in stdout_json(result)["tools"]}
    assert {"echo", "add", "typed", "tiny_image", "fail", "progress"} <= names


def test_calls_return_text_structured_and_errors(over: Invoke) -> None:
    assert over("call", "sdk", "echo", "--arg", "text=over the wire").stdout == "over the wire\n"
    added = stdout_json(over("call", "sdk", "add", "--arg", "a=2", "--arg", "b=3", "--json"))
    assert added["result"]["structuredContent"] == {"sum": 5}
    failed = over("call", "sdk", "fail", "--arg", "message=remote boom")
    assert failed.exit_code == 6 and "remote boom" in failed.stderr
    assert over("call", "sdk", "progress", "--arg", "steps=2", "--arg", "delay=0.01").exit_code == 0


def test_resources_and_templates_are_read(over: Invoke) -> None:
    assert over("resources", "read", "sdk", "test://greeting").stdout == "hello from sdk-test\n"
    templates = stdout_json(over("resources", "templates", "sdk", "--json"))["resourceTemplates"]
    assert [t["uriTemplate"] for t in templates] == ["test://items/{item_id}"]


def test_prompts_are_rendered(over: Invoke) -> None:
    result = over("prompts", "get", "sdk", "greet", "--arg", "name=Ada")
    assert result.stdout == "user: Greet Ada in a plain style.\n"


def test_status_reports_the_negotiated_protocol(over: Invoke) -> None:
    (row,) = stdout_json(over("servers", "status", "sdk", "--json"))["servers"]
    assert row["ok"] is True and row["serverInfo"]["name"] == "sdk-test"


def test_a_url_can_stand_where_a_server_goes(cli: Invoke, sdk_servers: dict[str, str]) -> None:
    url = sdk_servers["http"].split('url = "')[1].split('"')[0]
    result = cli("-H", "X-Trace: yes", "call", url, "add", "--arg", "a=1", "--arg", "b=1", "--json")
    assert result.exit_code == 0, result.stderr
    assert stdout_json(result)["server"] == url
    sse_url = sdk_servers["sse"].split('url = "')[1].split('"')[0]
    assert cli("--transport", "sse", "call", sse_url, "echo", "--arg", "text=hi").stdout == "hi\n"
    ws_url = sdk_servers["websocket"].split('url = "')[1].split('"')[0]
    assert cli("call", ws_url, "echo", "--arg", "text=ws").stdout == "ws\n"


@pytest.mark.parametrize("mode", ["streamableHttp", "sse"])
def test_server_everything_over_http_and_sse(
    mode: str, cli: Invoke, everything_js: Path, tmp_path: Path
) -> None:
    server = everything_server(everything_js, mode, tmp_path / "everything.log")
    try:
        url = f"http://127.0.0.1:{server.port}/{'mcp' if mode == 'streamableHttp' else 'sse'}"
        transport = ["--transport", "sse"] if mode == "sse" else []
        listed = cli(*transport, "tools", "list", url, "--json")
        assert listed.exit_code == 0, listed.stderr
        assert {"echo", "get-sum"} <= {t["name"] for t in stdout_json(listed)["tools"]}
        summed = cli(*transport, "call", url, "get-sum", "--arg", "a=2", "--arg", "b=3")
        assert summed.exit_code == 0 and "5" in summed.stdout
        prompt = stdout_json(
            cli(*transport, "prompts", "get", url, "args-prompt", "--arg", "city=Oslo", "--json")
        )
        assert "Oslo" in json.dumps(prompt["result"])
    finally:
        server.close()
