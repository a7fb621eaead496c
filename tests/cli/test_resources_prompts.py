"""`resources` and `prompts` against a server written on the SDK."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, stdout_json


@pytest.fixture
def sdk(cli: Invoke, servers_config: Path) -> Invoke:
    return lambda *args, **kw: cli("--config", str(servers_config), *args, **kw)


def test_resources_list_and_templates(sdk: Invoke) -> None:
    resources = stdout_json(sdk("resources", "list", "sdk", "paged", "--json"))
    uris = [(r["server"], r["uri"]) for r in resources["resources"]]
    assert ("sdk", "test://greeting") in uris and ("sdk", "test://blob.bin") in uris
    assert len([u for s, u in uris if s == "paged"]) == 25
    templates = stdout_json(sdk("resources", "templates", "sdk", "--json"))
    assert [t["uriTemplate"] for t in templates["resourceTemplates"]] == ["test://items/{item_id}"]


def test_read_text_resource_prints_it_raw(sdk: Invoke) -> None:
    result = sdk("resources", "read", "sdk", "test://greeting")
    assert (result.exit_code, result.stdout) == (0, "hello from sdk-test\n")
    assert sdk("resources", "read", "sdk", "test://items/42").stdout == "item 42\n"


def test_read_binary_resource_to_a_file_and_to_a_pipe(sdk: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    result = sdk("resources", "read", "sdk", "test://blob.bin", "--output", str(target))
    assert result.exit_code == 0
    assert target.read_bytes() == bytes(range(256))
    piped = sdk("resources", "read", "sdk", "test://blob.bin")
    assert piped.stdout_bytes == bytes(range(256))
    (content,) = stdout_json(sdk("resources", "read", "sdk", "test://blob.bin", "--json"))["contents"]
    assert base64.b64decode(content["blob"]) == bytes(range(256))


def test_unknown_resource_exits_5_naming_close_uris(sdk: Invoke) -> None:
    result = sdk("resources", "read", "sdk", "test://greetings")
    assert result.exit_code == 5
    assert "did you mean 'test://greeting'" in result.stderr


def test_prompts_list_and_get(sdk: Invoke) -> None:
    listed = stdout_json(sdk("prompts", "list", "sdk", "--json"))["prompts"]
    assert [p["name"] for p in listed] == ["greet", "summarize"]
    result = sdk("prompts", "get", "sdk", "greet", "--arg", "name=Ada", "--arg", "style=formal")
    assert result.exit_code == 0
    assert result.stdout == "user: Greet Ada in a formal style.\n"
    document = stdout_json(sdk("prompts", "get", "sdk", "summarize", "--arg", "text=abc", "--json"))
    assert [m["role"] for m in document["result"]["messages"]] == ["user", "assistant"]


def test_unknown_prompt_exits_5_naming_close_prompts(sdk: Invoke) -> None:
    result = sdk("prompts", "get", "sdk", "gret", "--arg", "name=x")
    assert result.exit_code == 5
    assert "did you mean 'greet'" in result.stderr


def test_prompt_argument_without_equals_is_a_usage_error(sdk: Invoke) -> None:
    assert sdk("prompts", "get", "sdk", "greet", "--arg", "name").exit_code == 2
