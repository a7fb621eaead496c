"""Servers that ask back: each answer policy, roots, sampling and the 2026 input-required rounds.

One asking server over Streamable HTTP (2026-07-28) serves most tests; a few run it over stdio in
the handshake era (`--legacy-only`), where the same questions arrive as server-to-client requests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Invoke, stdout_json
from tests.conftest import PYTHON, NetworkServer, python_server, stdio_server

# Its tests share servers started once for the module: one test worker runs them all (see conftest.py).
pytestmark = pytest.mark.xdist_group("asking")

Run = Callable[..., Any]


@pytest.fixture(scope="module")
def asking_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NetworkServer, Path]]:
    """Start one asking server over HTTP for the module; its record file lists the methods it got."""
    folder = tmp_path_factory.mktemp("asking")
    record = folder / "record.jsonl"
    server = python_server("asking_server.py", "--record", str(record), log=folder / "server.log")
    yield server, record
    server.close()


@pytest.fixture
def config(write_config: Callable[..., Path], asking_http: tuple[NetworkServer, Path]) -> Callable[..., Path]:
    """Return a function that writes a config whose [asking] is the shared HTTP server, plus `extra` keys."""

    def make(extra: str = "", tail: str = "") -> Path:
        url = f"http://127.0.0.1:{asking_http[0].port}/mcp"
        return write_config(f'[asking]\ntransport = "http"\nurl = "{url}"\n{extra}\n{tail}')

    return make


@pytest.fixture
def ask(cli: Invoke, config: Callable[..., Path]) -> Run:
    """Run `gemma-mcp --config <asking server> ARGS...`."""
    return lambda *args, **kw: cli("--config", str(config()), *args, **kw)


def only_text(result: Any) -> str:
    return str(result.stdout).strip()


# Form elicitation: each policy without a terminal


def test_without_an_answer_option_the_question_is_declined_and_said(ask: Run) -> None:
    result = ask("call", "asking", "register")
    assert result.exit_code == 0, result.stderr
    assert only_text(result) == "action=decline content=null"
    assert "server 'asking' asked: Please register.; declined: no terminal to ask on" in result.stderr
    assert "Hint: answer with --answers" in result.stderr


def test_answers_json_accepts_and_json_records_the_question_without_the_secret(ask: Run) -> None:
    answers = json.dumps({"name": "Ann", "age": 41, "password": "hunter2-secret"})
    result = ask("call", "asking", "register", "--answers", answers, "--json")
    assert result.exit_code == 0, result.stderr
    document = stdout_json(result)
    text = document["result"]["content"][0]["text"]
    assert text == 'action=accept content={"age": 41, "name": "Ann", "password": "<14 chars>"}'
    (asked,) = document["asked"]
    assert asked["type"] == "elicitation" and asked["mode"] == "form"
    assert asked["message"] == "Please register."
    assert asked["requestedSchema"]["required"] == ["name"]
    assert (asked["action"], asked["answeredBy"]) == ("accept", "--answers")
    assert asked["content"] == {"name": "Ann", "age": 41, "password": "***"}
    assert "hunter2-secret" not in result.stdout + result.stderr


def test_answers_after_the_subcommand_or_before_it_are_the_same(ask: Run) -> None:
    before = ask("--answers", '{"name": "Bo"}', "call", "asking", "register")
    after = ask("call", "asking", "register", "--answers", '{"name": "Bo"}')
    assert before.stdout == after.stdout == 'action=accept content={"name": "Bo"}\n'


def test_answers_from_a_file_answer_several_questions_in_order(ask: Run, tmp_path: Path) -> None:
    file = tmp_path / "answers.json"
    file.write_text(json.dumps([{"answer": "the grail"}, "decline"]), encoding="utf-8")
    result = ask("call", "asking", "two_questions", "--answers", f"@{file}")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        'action=accept content={"answer": "the grail"}',
        "action=decline content=null",
    ]
    assert "what is your favourite colour?; declined (--answers)" in result.stderr


def test_answers_from_standard_input(ask: Run) -> None:
    result = ask("call", "asking", "register", "--answers", "-", input='{"name": "Cy"}')
    assert result.exit_code == 0, result.stderr
    assert only_text(result) == 'action=accept content={"name": "Cy"}'


def test_too_few_answers_for_the_questions_exit_7(ask: Run) -> None:
    result = ask("call", "asking", "two_questions", "--answers", '[{"answer": "one"}]')
    assert result.exit_code == 7
    assert result.stdout == ""
    assert "Error: server 'asking' asked question 2, but --answers holds 1 answer" in result.stderr


def test_accept_defaults_fails_clearly_for_a_required_field_without_one(ask: Run) -> None:
    result = ask("call", "asking", "register", "--accept-defaults")
    assert result.exit_code == 7
    assert result.stdout == ""
    assert "Error: server 'asking' needs name, which has no default" in result.stderr


def test_accept_defaults_fills_what_the_answers_leave_out(ask: Run) -> None:
    result = ask("call", "asking", "register", "--accept-defaults", "--answers", '{"name": "Di"}')
    assert result.exit_code == 0, result.stderr
    assert only_text(result) == (
        'action=accept content={"age": 30, "colour": "green", "name": "Di", "subscribe": false}'
    )


def test_accept_defaults_alone_answers_a_form_whose_fields_all_have_one(ask: Run) -> None:
    result = ask("call", "asking", "preferences", "--accept-defaults")
    assert result.exit_code == 0, result.stderr
    assert only_text(result) == 'action=accept content={"size": 3, "theme": "dark"}'
    assert "Choose your preferences.; answered from --accept-defaults" in result.stderr


@pytest.mark.parametrize("option", ["--decline", "--cancel"])
def test_decline_and_cancel_answer_every_question(ask: Run, option: str) -> None:
    result = ask("call", "asking", "two_questions", option)
    assert result.exit_code == 0, result.stderr
    action = option.lstrip("-")
    assert result.stdout.splitlines() == [f"action={action} content=null"] * 2


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ('{"name": "Ann", "age": 200}', "age: 200 is greater than the maximum of 150"),
        ('{"name": "Ann", "colour": "mauve"}', "colour: 'mauve' is not one of ['red', 'green', 'blue']"),
        ('{"name": ""}', "name: '' should be non-empty"),
        ('[{"name": "Ann", "nmae": "x"}]', "nmae: not a field of the form"),
    ],
)
def test_answers_that_do_not_fit_the_form_exit_7_naming_the_field(
    ask: Run, answers: str, problem: str
) -> None:
    result = ask("call", "asking", "register", "--answers", answers)
    assert result.exit_code == 7, result.stderr
    assert result.stdout == ""
    assert problem in result.stderr


def test_a_secret_that_does_not_fit_is_not_repeated_in_the_error(ask: Run) -> None:
    result = ask("call", "asking", "register", "--answers", '{"name": "A", "password": 12345678}')
    assert result.exit_code == 7
    assert "password: type 'string'" in result.stderr
    assert "12345678" not in result.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--decline", "--cancel"], "--decline and --cancel contradict each other"),
        (["--decline", "--answers", "{}"], "--decline contradicts --answers and --accept-defaults"),
        (["--answers", "{nope"], "--answers: the value is not valid JSON"),
        (["--answers", "[1]"], "--answers: the value must hold an object of answers"),
        (["--root", "/surely/not/a/folder"], "--root /surely/not/a/folder: not a directory"),
    ],
)
def test_answer_options_that_make_no_sense_exit_2(ask: Run, options: list[str], message: str) -> None:
    result = ask("call", "asking", "register", *options)
    assert result.exit_code == 2
    assert f"Error: {message}" in result.stderr


def test_server_text_in_a_question_reaches_stderr_escaped(ask: Run) -> None:
    result = ask("call", "asking", "hostile_form")
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr and "\x07" not in result.stderr
    assert "Fine\\x1b[2J\\x1b]52;c;aGVsbG8=\\x07 \\u202egnp.exe\\u202c" in result.stderr


# Input-required rounds (2026-07-28), prompts and resources


def test_prompt_and_resource_that_ask_are_answered_by_the_same_policy(ask: Run) -> None:
    prompt = ask("prompts", "get", "asking", "interview", "--answers", '{"answer": "owls"}', "--json")
    assert prompt.exit_code == 0, prompt.stderr
    document = stdout_json(prompt)
    assert document["result"]["messages"][0]["content"]["text"] == (
        "Interview me about owls in a friendly style."
    )
    assert document["asked"][0]["message"] == "Which topic should the interview be about?"
    resource = ask("resources", "read", "asking", "ask://secret/db", "--answers", '{"answer": "s3"}')
    assert resource.exit_code == 0, resource.stderr
    assert only_text(resource) == 'db: action=accept content={"answer": "s3"}'


def sampler(tmp_path: Path, body: str = "print('reply from the local model')") -> tuple[list[str], Path]:
    """Return a sampling_command that saves the request it gets to a file, then runs `body`."""
    script = tmp_path / "sampler.py"
    seen = tmp_path / "sampling-request.json"
    script.write_text(
        f"import sys, pathlib\npathlib.Path({str(seen)!r}).write_text(sys.stdin.read())\n{body}\n",
        encoding="utf-8",
    )
    return [PYTHON, str(script)], seen


def test_several_input_rounds_are_answered_elicitation_roots_then_sampling(
    cli: Invoke, config: Callable[..., Path], tmp_path: Path
) -> None:
    command, seen = sampler(tmp_path)
    path = config(f"sampling_command = {json.dumps(command)}")
    result = cli(
        "--config", str(path), "call", "asking", "needs_input", "--answers", '{"number": 7}',
        "--root", str(tmp_path), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    document = stdout_json(result)
    summary = json.loads(document["result"]["content"][0]["text"])
    assert summary == {
        "model": "reply from the local model",
        "number": {"number": 7},
        "roots": [tmp_path.as_uri()],
    }
    kinds = [(entry["type"], entry.get("action")) for entry in document["asked"]]
    assert sorted(kinds[:2], key=str) == [("elicitation", "accept"), ("roots", None)]
    assert kinds[2] == ("sampling", "accept")
    request = json.loads(seen.read_text())
    assert request["server"] == "asking"
    assert request["messages"] == [
        {"role": "user", "content": {"type": "text", "text": "Round 2: say something about the number 7"}}
    ]
    assert (request["systemPrompt"], request["maxTokens"]) == ("You are a test fixture.", 50)


# Sampling


def test_sampling_without_a_command_is_declined_with_a_line_on_stderr(ask: Run) -> None:
    result = ask("call", "asking", "ask_model")
    assert result.exit_code == 5
    assert "server 'asking' asked for a model completion (sampling); declined: no sampling_command" in (
        result.stderr
    )
    assert "this client has no model configured (sampling_command)" in result.stderr


def test_sampling_command_answers_with_its_stdout(
    cli: Invoke, config: Callable[..., Path], tmp_path: Path
) -> None:
    command, _ = sampler(tmp_path)
    path = config(f"sampling_command = {json.dumps(command)}")
    result = cli("--config", str(path), "call", "asking", "ask_model", "--arg", "prompt=hi")
    assert result.exit_code == 0, result.stderr
    assert only_text(result) == f"{Path(PYTHON).name}: reply from the local model"


def test_sampling_command_from_the_mcp_settings_applies_to_every_server(
    cli: Invoke, config: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command, _ = sampler(tmp_path)
    settings = tmp_path / "settings.toml"
    settings.write_text(f"[mcp]\nsampling_command = {json.dumps(command)}\n", encoding="utf-8")
    monkeypatch.setenv("GEMMA_MCP_SETTINGS", str(settings))
    result = cli("--config", str(config()), "call", "asking", "ask_model")
    assert result.exit_code == 0, result.stderr
    assert only_text(result).endswith(": reply from the local model")


def test_a_failing_sampling_command_is_reported_to_the_server_and_the_user(
    cli: Invoke, config: Callable[..., Path], tmp_path: Path
) -> None:
    command, _ = sampler(tmp_path, "sys.stderr.write('model not loaded\\n'); sys.exit(3)")
    path = config(f"sampling_command = {json.dumps(command)}")
    result = cli("--config", str(path), "call", "asking", "ask_model")
    assert result.exit_code == 5
    assert "exited with 3: model not loaded" in result.stderr


def test_a_sampling_command_that_hangs_is_stopped_at_the_request_timeout(
    cli: Invoke, config: Callable[..., Path], tmp_path: Path
) -> None:
    command, _ = sampler(tmp_path, "import time; time.sleep(120)")
    path = config(f"sampling_command = {json.dumps(command)}\nrequest_timeout = 1.0")
    result = cli("--config", str(path), "call", "asking", "ask_model")
    assert result.exit_code == 5, result.stderr
    assert "did not answer within 1s" in result.stderr


# Roots


def test_roots_come_from_the_config_relative_to_it_and_from_root_options(
    cli: Invoke, config: Callable[..., Path], tmp_path: Path
) -> None:
    (tmp_path / "project").mkdir()
    extra = tmp_path / "extra"
    extra.mkdir()
    path = config('roots = ["project"]')
    result = cli("--config", str(path), "--root", str(extra), "call", "asking", "show_roots")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"uri": (tmp_path / "project").as_uri(), "name": "project"},
        {"uri": extra.as_uri(), "name": "extra"},
    ]


def test_without_roots_the_capability_is_not_advertised(ask: Run) -> None:
    result = ask("call", "asking", "show_roots")
    assert result.exit_code == 6
    assert "the client does not support roots" in result.stderr


# URL elicitation


def test_a_link_is_printed_and_declined_without_a_terminal(ask: Run) -> None:
    result = ask("call", "asking", "open_link")
    assert result.exit_code == 0, result.stderr
    assert only_text(result) == "action=decline content=null"
    assert "asks you to open a link: Please sign in at the link." in result.stderr
    assert "https://example.com/login?session=abc123" in result.stderr


def test_a_link_is_accepted_when_the_options_accept(ask: Run) -> None:
    result = ask("call", "asking", "open_link", "--accept-defaults")
    assert result.exit_code == 0, result.stderr
    assert only_text(result) == "action=accept content=null"


# x-mcp-header parameters and null


def methods(record: Path) -> list[str]:
    if not record.exists():
        return []
    return [json.loads(line)["method"] for line in record.read_text().splitlines()]


def test_header_parameters_are_sent_when_the_schema_comes_from_the_cache(
    ask: Run, asking_http: tuple[NetworkServer, Path]
) -> None:
    listed = ask("tools", "list", "asking")
    assert listed.exit_code == 0, listed.stderr
    before = methods(asking_http[1])
    result = ask(
        "call", "asking", "header_echo", "--arg", "region=eü", "--arg", "tenant=42", "--arg", "note:=null"
    )
    assert result.exit_code == 0, result.stderr
    echoed = json.loads(result.stdout)
    assert echoed["note"] is None
    assert echoed["headers"]["mcp-param-region"] == "=?base64?ZcO8?="
    assert echoed["headers"]["mcp-param-tenant"] == "42"
    sent = methods(asking_http[1])[len(before) :]
    assert sent == ["server/discover", "tools/call"], "the cached schema was used: no tools/list"


# The handshake era: the same questions as server-to-client requests


@pytest.fixture
def legacy(cli: Invoke, write_config: Callable[..., Path]) -> Run:
    path = write_config(stdio_server("old", "asking_server.py", "--legacy-only"))
    return lambda *args, **kw: cli("--config", str(path), *args, **kw)


def test_handshake_era_questions_follow_the_same_answers(legacy: Run) -> None:
    result = legacy("call", "old", "two_questions", "--answers", '[{"answer": "a"}, "cancel"]', "--json")
    assert result.exit_code == 0, result.stderr
    document = stdout_json(result)
    assert document["result"]["content"][0]["text"].splitlines() == [
        'action=accept content={"answer": "a"}',
        "action=cancel content=null",
    ]
    assert [entry["action"] for entry in document["asked"]] == ["accept", "cancel"]


def test_handshake_era_link_is_accepted_and_its_completion_reported(legacy: Run) -> None:
    result = legacy("call", "old", "open_link", "--accept-defaults")
    assert result.exit_code == 0, result.stderr
    assert only_text(result) == "action=accept content=null"
    assert "server 'old' says the step at the link is done" in result.stderr


def test_args_and_answers_cannot_both_come_from_standard_input(ask: Run) -> None:
    result = ask("call", "asking", "register", "--args", "-", "--answers", "-", input="{}")
    assert result.exit_code == 2
    assert "Error: --args - and --answers - cannot both read standard input" in result.stderr
