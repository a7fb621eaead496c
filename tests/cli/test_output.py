"""Output a person and a script can trust: readable results, capability-aware listings."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, stdout_json
from tests.conftest import LOCAL_MEMORY, stdio_server
from tests.servers.content_server import FILE_TEXT, PNG_1X1, WAV_BYTES


@pytest.fixture
def content_config(write_config: Callable[..., Path]) -> Path:
    """A config with the content server (tools only), its hostile twin and the embedded server."""
    return write_config(
        stdio_server("content", "content_server.py")
        + stdio_server("hostile", "content_server.py", "--hostile", enabled=False)
        + LOCAL_MEMORY
    )


@pytest.fixture
def run(cli: Invoke, content_config: Path) -> Invoke:
    """Run `gemma-mcp --config <content config> ...`."""
    return lambda *args, **kw: cli("--config", str(content_config), *args, **kw)


def test_text_and_structured_result_prints_the_text_for_people(run: Invoke) -> None:
    result = run("call", "content", "read_text_file", "--arg", "path=a.txt")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == FILE_TEXT  # not {"content": "line one\\nline two\\n"}


def test_structured_flag_prints_the_structured_content(run: Invoke) -> None:
    result = run("call", "content", "read_text_file", "--arg", "path=a.txt", "--structured")
    assert json.loads(result.stdout) == {"content": FILE_TEXT}


def test_structured_flag_without_structured_content_says_so_and_prints_the_text(run: Invoke) -> None:
    result = run("call", "content", "read_media_file", "--structured")
    assert result.exit_code == 0
    assert result.stdout.startswith("a picture and a sound\n")
    assert "no structured content" in result.stderr


def test_structured_content_alone_is_printed_as_json(run: Invoke) -> None:
    result = run("call", "content", "structured_only")
    assert json.loads(result.stdout) == {"answer": 42, "items": ["a", "b"]}


def test_json_carries_text_structured_and_binary_whole(run: Invoke) -> None:
    document = stdout_json(run("call", "content", "read_media_file", "--json"))["result"]
    image = document["content"][1]
    assert base64.b64decode(image["data"]) == PNG_1X1
    text = stdout_json(run("call", "content", "read_text_file", "--arg", "path=a", "--json"))["result"]
    assert text["content"][0]["text"] == FILE_TEXT and text["structuredContent"] == {"content": FILE_TEXT}


def test_binary_content_is_named_with_type_and_size_never_dumped(run: Invoke) -> None:
    result = run("call", "content", "read_media_file")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "a picture and a sound",
        f"[image image/png {len(PNG_1X1)} B]",
        f"[audio audio/wav {len(WAV_BYTES)} B]",
        "[resource test://blob.bin application/octet-stream 256 B]",
    ]
    assert base64.b64encode(PNG_1X1).decode()[:20] not in result.stdout


def test_output_writes_each_binary_block_to_its_own_file(run: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "picture.png"
    result = run("call", "content", "read_media_file", "--output", str(target))
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes() == PNG_1X1
    assert (tmp_path / "picture-2.wav").read_bytes() == WAV_BYTES
    assert (tmp_path / "picture-3.bin").read_bytes() == bytes(range(256))
    assert f"wrote {target} (image/png, {len(PNG_1X1)} B)" in result.stderr
    assert result.stdout.startswith("a picture and a sound\n")


def test_output_without_binary_content_writes_the_text(run: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "copy.txt"
    result = run("call", "content", "read_text_file", "--arg", "path=a", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert target.read_text() == FILE_TEXT and result.stdout == ""


def test_output_into_a_missing_folder_exits_2_before_the_call(run: Invoke, tmp_path: Path) -> None:
    result = run("call", "content", "read_media_file", "--output", str(tmp_path / "no" / "x.png"))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --output: ") and "no such directory" in result.stderr
    assert not (tmp_path / "no").exists()


def test_hostile_image_data_is_named_and_refused_for_output(
    cli: Invoke, write_config, tmp_path: Path
) -> None:
    config = write_config(stdio_server("hostile", "content_server.py", "--hostile"))
    shown = cli("--config", str(config), "call", "hostile", "read_media_file")
    assert shown.exit_code == 0, shown.stderr
    assert "[image image/png invalid base64]" in shown.stdout
    target = tmp_path / "x.png"
    written = cli("--config", str(config), "call", "hostile", "read_media_file", "-o", str(target))
    assert written.exit_code == 5
    assert "not valid base64" in written.stderr and "Traceback" not in written.stderr
    assert not target.exists() and not list(tmp_path.glob(".x.png.*"))


def test_failed_call_with_output_writes_nothing(run: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    result = run("call", "content", "read_text_file", "--arg", "path=fail", "-o", str(target))
    assert result.exit_code == 6 and not target.exists()


@pytest.mark.parametrize(
    ("command", "noun", "key"),
    [
        ("prompts", "prompts", "prompts"),
        ("resources", "resources", "resources"),
        ("resources templates", "resource templates", "resourceTemplates"),
    ],
)
def test_listings_skip_servers_that_do_not_offer_the_capability(
    run: Invoke, command: str, noun: str, key: str
) -> None:
    words = command.split() if " " in command else [command, "list"]
    result = run(*words)
    assert result.exit_code == 0, result.stderr
    assert f"skipped (no {noun} offered): content" in result.stderr
    document = stdout_json(run(*words, "--json"))
    assert [s["server"] for s in document["skipped"]] == ["content"]
    assert document["errors"] == [] and all(item["server"] != "content" for item in document[key])


def test_an_empty_listing_says_so_on_stderr(run: Invoke) -> None:
    result = run("prompts", "list", "content")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == "(no prompts)"


def test_skipping_is_remembered_in_the_cache_and_offline(run: Invoke) -> None:
    assert run("prompts", "list", "content").exit_code == 0
    offline = stdout_json(run("prompts", "list", "content", "--offline", "--json"))
    assert offline["skipped"][0]["server"] == "content" and offline["prompts"] == []


def test_a_failing_server_still_fails_the_listing(cli: Invoke, write_config: Callable[..., Path]) -> None:
    config = write_config(
        stdio_server("content", "content_server.py") + '[missing]\ncommand = "surely-not-installed-here"\n'
    )
    result = cli("--config", str(config), "prompts", "list")
    assert result.exit_code == 4  # a server that cannot start is a failure, not a skip
    assert "skipped (no prompts offered): content" in result.stderr
    assert "(no prompts)" not in result.stderr


def test_prompts_get_checks_required_arguments_before_sending(cli: Invoke, servers_config: Path) -> None:
    missing = cli("--config", str(servers_config), "prompts", "get", "sdk", "greet")
    assert missing.exit_code == 7, missing.stderr
    assert "name: required, not given" in missing.stderr
    misspelt = cli("--config", str(servers_config), "prompts", "get", "sdk", "greet", "--arg", "nmae=Ada")
    assert misspelt.exit_code == 7
    assert "nmae: not an argument of this prompt; did you mean 'name'?" in misspelt.stderr
    given = cli("--config", str(servers_config), "prompts", "get", "sdk", "greet", "--arg", "name=Ada")
    assert given.exit_code == 0 and given.stdout == "user: Greet Ada in a plain style.\n"


def test_prompts_get_of_an_unknown_prompt_is_still_the_servers_answer(
    cli: Invoke, servers_config: Path
) -> None:
    result = cli("--config", str(servers_config), "prompts", "get", "sdk", "gret")
    assert result.exit_code == 5 and "greet" in result.stderr


def test_unions_with_string_take_json_spellings_as_the_other_type(run: Invoke) -> None:
    args = ["--arg", "thought=t", "--arg", "nextThoughtNeeded=true", "--arg", "thoughtNumber=5"]
    sent = stdout_json(run("call", "content", "think", *args, "--json"))["result"]["structuredContent"]
    assert sent == {"thought": "t", "nextThoughtNeeded": True, "thoughtNumber": 5}
    words = ["--arg", "thought=t", "--arg", "nextThoughtNeeded=maybe", "--arg", "thoughtNumber=007"]
    kept = stdout_json(run("call", "content", "think", *words, "--json"))["result"]["structuredContent"]
    assert kept == {"thought": "t", "nextThoughtNeeded": "maybe", "thoughtNumber": "007"}


def test_errors_in_nested_objects_name_their_path(run: Invoke) -> None:
    entities = '[{"name": "a", "entityType": "x"}, {"name": "b", "observations": [1]}]'
    result = run("call", "content", "create_entities", "--arg", f"entities:={entities}")
    assert result.exit_code == 7
    assert "entities[1].entityType: required, not given" in result.stderr
    assert "entities[1].observations[0]: 1 is not of type 'string'" in result.stderr


def test_tools_show_prints_nested_parameters_as_a_tree(run: Invoke) -> None:
    result = run("tools", "show", "content", "create_entities")
    assert result.exit_code == 0, result.stderr
    rows = [line.split()[:3] for line in _parameter_lines(result.stdout)]
    names = [
        line[: len(line) - len(line.lstrip())] + line.split()[0] for line in _parameter_lines(result.stdout)
    ]
    assert names == [
        "entities",
        "  name",
        "  entityType",
        "  observations",
        "options",
        "  merge",
        "  limits",
        "    depth",
    ]
    assert rows[2] == ["entityType", "string", "yes"] and rows[3] == ["observations", "array[string]", "no"]


def test_a_schema_that_refers_to_itself_is_shown_to_a_bounded_depth(run: Invoke) -> None:
    result = run("tools", "show", "content", "tree")
    assert result.exit_code == 0, result.stderr
    names = [line.split()[0] for line in _parameter_lines(result.stdout)]
    assert names[:3] == ["root", "label", "children"] and names[-1] == "odd"
    assert len(names) < 20


def _parameter_lines(text: str) -> list[str]:
    lines = text.splitlines()
    return lines[[line.startswith("PARAMETER") for line in lines].index(True) + 1 :]


def test_resources_read_into_a_missing_folder_exits_2(
    cli: Invoke, servers_config: Path, tmp_path: Path
) -> None:
    target = tmp_path / "nowhere" / "blob.bin"
    result = cli(
        "--config", str(servers_config), "resources", "read", "sdk", "test://blob.bin", "-o", str(target)
    )
    assert result.exit_code == 2 and "no such directory" in result.stderr and "Traceback" not in result.stderr
