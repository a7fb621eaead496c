"""The CLI against the pinned `@modelcontextprotocol/server-everything`, over stdio."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from typer.testing import Result

from tests.cli.conftest import Invoke, stderr_json, stdout_json

pytestmark = pytest.mark.npm

FEATURES = "demo://resource/static/document/features.md"
BLOB = "demo://resource/dynamic/blob/1"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def everything(cli: Invoke, everything_config: Path) -> Invoke:
    """Return a function that runs gemma-mcp on the server-everything config."""

    def run(*args: str, input: str | None = None) -> Result:
        return cli("--config", str(everything_config), *args, input=input)

    return run


def error_line(result: Result) -> str:
    """Return the one `Error: ...` line a failing human-mode command wrote to stderr."""
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("Error: ")]
    return line


def test_tools_list_names_the_demo_tools_with_their_server_and_schema(everything: Invoke) -> None:
    result = everything("tools", "list", "--json")
    assert result.exit_code == 0, result.stderr
    document = stdout_json(result)
    assert document["errors"] == []
    tools = {tool["name"]: tool for tool in document["tools"]}
    assert {
        "echo",
        "get-sum",
        "get-tiny-image",
        "get-structured-content",
        "trigger-long-running-operation",
    } <= tools.keys()
    assert all(tool["server"] == "everything" for tool in document["tools"])
    assert all(tool["inputSchema"]["type"] == "object" for tool in document["tools"])
    assert tools["get-sum"]["inputSchema"]["properties"]["a"]["type"] == "number"
    assert tools["get-sum"]["inputSchema"]["required"] == ["a", "b"]
    assert tools["echo"]["description"] == "Echoes back the input string"


def test_resources_list_has_demo_uris_and_a_text_one_reads_to_stdout(everything: Invoke) -> None:
    listed = everything("resources", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    document = stdout_json(listed)
    assert document["errors"] == []
    uris = [resource["uri"] for resource in document["resources"]]
    assert uris and all(uri.startswith("demo://") for uri in uris)
    assert all(resource["server"] == "everything" for resource in document["resources"])
    assert FEATURES in uris

    read = everything("resources", "read", "everything", FEATURES)
    assert read.exit_code == 0, read.stderr
    assert read.stdout.startswith("# Everything Server - Features\n")
    assert "`get-sum`" in read.stdout
    assert read.stderr == ""


def test_resource_templates_list_the_dynamic_uri_templates(everything: Invoke) -> None:
    result = everything("resources", "templates", "--json")
    assert result.exit_code == 0, result.stderr
    document = stdout_json(result)
    assert document["errors"] == []
    templates = {t["uriTemplate"]: t for t in document["resourceTemplates"]}
    assert set(templates) == {
        "demo://resource/dynamic/text/{resourceId}",
        "demo://resource/dynamic/blob/{resourceId}",
    }
    assert templates["demo://resource/dynamic/blob/{resourceId}"]["mimeType"] == "application/octet-stream"
    assert all(t["server"] == "everything" for t in document["resourceTemplates"])


def test_a_blob_resource_is_base64_in_json_and_decoded_into_the_output_file(
    everything: Invoke, tmp_path: Path
) -> None:
    as_json = everything("resources", "read", "everything", BLOB, "--json")
    assert as_json.exit_code == 0, as_json.stderr
    document = stdout_json(as_json)
    assert (document["server"], document["uri"]) == ("everything", BLOB)
    (content,) = document["contents"]
    assert "text" not in content
    expected = base64.b64decode(content["blob"], validate=True)

    target = tmp_path / "blob.bin"
    written = everything("resources", "read", "everything", BLOB, "--output", str(target))
    assert written.exit_code == 0, written.stderr
    assert written.stdout == ""
    assert f"wrote {target}" in written.stderr
    data = target.read_bytes()
    assert data.startswith(b"Resource 1: This is a base64 blob")
    # The server stamps each read with the time of day, so two reads agree up to that stamp.
    stamp = re.compile(rb"\d{1,2}:\d{2}:\d{2}(\s?[AP]M)?")
    assert stamp.sub(b"<time>", data) == stamp.sub(b"<time>", expected)


def test_prompts_list_and_get_render_the_arguments(everything: Invoke) -> None:
    listed = everything("prompts", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    document = stdout_json(listed)
    assert document["errors"] == []
    prompts = {prompt["name"]: prompt for prompt in document["prompts"]}
    assert prompts["args-prompt"]["server"] == "everything"
    assert [(a["name"], a["required"]) for a in prompts["args-prompt"]["arguments"]] == [
        ("city", True),
        ("state", False),
    ]

    got = everything("prompts", "get", "everything", "args-prompt", "--arg", "city=Paris", "--json")
    assert got.exit_code == 0, got.stderr
    rendered = stdout_json(got)
    assert (rendered["server"], rendered["prompt"]) == ("everything", "args-prompt")
    messages = rendered["result"]["messages"]
    assert messages and all(m["role"] == "user" for m in messages)
    assert any("Paris" in m["content"]["text"] for m in messages)


def test_prompt_with_a_missing_argument_exits_7_and_an_unknown_name_exits_5(everything: Invoke) -> None:
    missing = everything("prompts", "get", "everything", "args-prompt", "--json")
    assert missing.exit_code == 7  # checked against the prompt's declared arguments, nothing sent
    assert missing.stdout == ""
    error = stderr_json(missing)["error"]
    assert (error["type"], error["exit_code"], error["server"]) == ("invalid_arguments", 7, "everything")
    assert "city: required, not given" in error["message"]

    unknown = everything("prompts", "get", "everything", "args-promt")
    assert unknown.exit_code == 5
    assert unknown.stdout == ""
    line = error_line(unknown)
    assert "args-promt" in line
    assert "did you mean 'args-prompt'" in line
    assert "Traceback" not in unknown.stderr


def test_echo_prints_the_text_raw_on_stdout(everything: Invoke) -> None:
    result = everything("call", "everything", "echo", "--arg", "message=hello [bold]world[/bold]")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Echo: hello [bold]world[/bold]\n"
    assert result.stderr == ""


def test_get_sum_converts_arguments_by_schema_and_rejects_a_non_number(everything: Invoke) -> None:
    result = everything("call", "everything", "get-sum", "--arg", "a=2", "--arg", "b=3", "--json")
    assert result.exit_code == 0, result.stderr
    document = stdout_json(result)
    assert (document["server"], document["tool"]) == ("everything", "get-sum")
    assert document["result"]["isError"] is False
    (block,) = document["result"]["content"]
    assert block == {"type": "text", "text": "The sum of 2 and 3 is 5."}

    bad = everything("call", "everything", "get-sum", "--arg", "a=two", "--arg", "b=3")
    assert bad.exit_code == 7
    assert bad.stdout == ""
    line = error_line(bad)
    assert line.startswith("Error: invalid arguments for get-sum on 'everything': a: ")
    assert "'two'" in line and "number" in line
    assert "b:" not in line
    assert "Hint: 'gemma-mcp tools show everything get-sum'" in bad.stderr


def test_tiny_image_is_named_with_its_size_and_carried_whole_in_json(everything: Invoke) -> None:
    as_json = everything("call", "everything", "get-tiny-image", "--json")
    assert as_json.exit_code == 0, as_json.stderr
    (image,) = [b for b in stdout_json(as_json)["result"]["content"] if b["type"] == "image"]
    assert image["mimeType"] == "image/png"
    data = base64.b64decode(image["data"], validate=True)
    assert data.startswith(PNG_SIGNATURE)
    assert data.rstrip(b"\0").endswith(b"IEND\xaeB`\x82")

    human = everything("call", "everything", "get-tiny-image")
    assert human.exit_code == 0, human.stderr
    lines = human.stdout.splitlines()
    assert f"[image image/png {len(data) / 1024:.1f} KB]" in lines
    assert "[image image/png 3.9 KB]" in lines
    assert "Here's the image you requested:" in lines
    assert image["data"] not in human.stdout


def test_structured_content_is_in_json_and_printed_as_json(everything: Invoke) -> None:
    as_json = everything(
        "call", "everything", "get-structured-content", "--arg", "location=Chicago", "--json"
    )
    assert as_json.exit_code == 0, as_json.stderr
    result = stdout_json(as_json)["result"]
    structured = result["structuredContent"]
    assert set(structured) == {"temperature", "conditions", "humidity"}
    assert isinstance(structured["temperature"], int | float)
    assert result["isError"] is False

    human = everything("call", "everything", "get-structured-content", "--arg", "location=Chicago")
    assert human.exit_code == 0, human.stderr
    (text,) = [block["text"] for block in result["content"] if block["type"] == "text"]
    assert human.stdout == text + "\n"  # the text content, as the server wrote it for people
    shown = everything(
        "call", "everything", "get-structured-content", "--arg", "location=Chicago", "--structured"
    )
    assert set(stdout_json(shown)) == {"temperature", "conditions", "humidity"}
    assert shown.stdout.startswith("{\n  ")


def test_long_running_operation_completes_without_a_progress_bar_off_a_terminal(
    everything: Invoke,
) -> None:
    result = everything(
        "call", "everything", "trigger-long-running-operation", "--arg", "duration=0.3", "--arg", "steps=3"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Long running operation completed. Duration: 0.3 seconds, Steps: 3.\n"
    assert result.stderr == ""


def test_an_unknown_tool_exits_5_naming_close_or_existing_tools(everything: Invoke) -> None:
    misspelt = everything("call", "everything", "get-summ", "--json")
    assert misspelt.exit_code == 5
    assert misspelt.stdout == ""
    error = stderr_json(misspelt)["error"]
    assert (error["type"], error["exit_code"], error["server"]) == ("tool_not_found", 5, "everything")
    assert error["message"] == "server 'everything' has no tool 'get-summ'; did you mean 'get-sum'?"

    unknown = everything("call", "everything", "no-such-tool")
    assert unknown.exit_code == 5
    line = error_line(unknown)
    assert line.startswith("Error: server 'everything' has no tool 'no-such-tool'; it has: echo, ")


def test_tools_show_lists_the_parameters(everything: Invoke) -> None:
    result = everything("tools", "show", "everything", "get-sum")
    assert result.exit_code == 0, result.stderr
    rows = {line.split()[0]: line.rstrip() for line in result.stdout.splitlines() if line.strip()}
    assert rows["PARAMETER"].split() == ["PARAMETER", "TYPE", "REQUIRED", "DEFAULT", "ENUM", "DESCRIPTION"]
    assert rows["a"].split() == ["a", "number", "yes", "First", "number"]
    assert rows["b"].split() == ["b", "number", "yes", "Second", "number"]
    assert rows["description"].split(maxsplit=1) == ["description", "Returns the sum of two numbers"]


def test_servers_status_reports_the_handshake(everything: Invoke) -> None:
    result = everything("servers", "status", "--json")
    assert result.exit_code == 0, result.stderr
    (server,) = stdout_json(result)["servers"]
    assert server["name"] == "everything"
    assert server["ok"] is True
    assert server["error"] is None
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", server["protocolVersion"])
    assert server["serverInfo"]["name"] == "mcp-servers/everything"
    assert server["latency_ms"] >= 0
