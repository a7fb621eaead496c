"""The exit-code table and the error family: what scripts rely on, value by value."""

from __future__ import annotations

import pytest

from gemma_mcp_cli import errors
from gemma_mcp_cli.errors import ExitCode

# The README's table: scripts branch on these numbers, so each is pinned here.
README_TABLE = {
    "OK": 0,
    "INTERNAL": 1,
    "USAGE": 2,
    "CONFIG": 3,
    "CONNECTION": 4,
    "SERVER": 5,
    "TOOL": 6,
    "INVALID_ARGUMENTS": 7,
    "TIMEOUT": 8,
    "AUTH": 9,
    "HANGUP": 129,
    "INTERRUPTED": 130,
    "TERMINATED": 143,
}

FAMILY = [
    (errors.MCPError, 1, "internal"),
    (errors.MCPUsageError, 2, "usage"),
    (errors.MCPConfigError, 3, "config"),
    (errors.MCPConnectionError, 4, "connection"),
    (errors.MCPServerError, 5, "server"),
    (errors.MCPResourceError, 5, "resource"),
    (errors.MCPPromptError, 5, "prompt"),
    (errors.MCPToolNotFoundError, 5, "tool_not_found"),
    (errors.MCPToolExecutionError, 6, "tool"),
    (errors.MCPInvalidArgumentsError, 7, "invalid_arguments"),
    (errors.MCPTimeoutError, 8, "timeout"),
    (errors.MCPAuthError, 9, "auth"),
    (errors.MCPInterruptedError, 130, "interrupted"),
]


def test_the_exit_code_table_is_the_readmes() -> None:
    assert {code.name: int(code) for code in ExitCode} == README_TABLE


@pytest.mark.parametrize(("cls", "code", "kind"), FAMILY)
def test_each_error_carries_its_exit_code_kind_and_envelope(
    cls: type[errors.MCPError], code: int, kind: str
) -> None:
    error = cls("it went wrong", server="srv", hint="try this")
    assert (int(error.exit_code), error.kind) == (code, kind)
    assert (str(error), error.message, error.server, error.hint) == (
        "it went wrong",
        "it went wrong",
        "srv",
        "try this",
    )
    assert error.as_dict() == {"type": kind, "exit_code": code, "message": "it went wrong", "server": "srv"}
    assert type(error.as_dict()["exit_code"]) is int  # JSON gets a number, not an enum's name
    assert isinstance(error, errors.MCPError) and isinstance(error, Exception)


def test_an_error_without_server_or_hint_has_none_of_either() -> None:
    error = errors.MCPConfigError("plain")
    assert (error.server, error.hint, error.args) == (None, None, ("plain",))
    assert error.as_dict()["server"] is None


def test_connection_errors_are_transient_unless_said_otherwise() -> None:
    assert errors.MCPConnectionError("x").transient is True
    final = errors.MCPConnectionError("x", server="s", hint="h", transient=False)
    assert (final.transient, final.server, final.hint) == (False, "s", "h")


def test_server_errors_keep_the_json_rpc_code() -> None:
    assert errors.MCPServerError("x").code is None
    error = errors.MCPToolNotFoundError("x", server="s", hint="h", code=-32602)
    assert (error.code, error.server, error.hint, error.exit_code) == (-32602, "s", "h", ExitCode.SERVER)


def test_a_tool_failure_puts_the_text_content_on_one_line() -> None:
    content = [
        {"type": "text", "text": "first\n  line"},
        {"type": "image", "text": "not text"},
        {"type": "text", "text": "second"},
    ]
    error = errors.tool_failure("srv", "do_it", content)
    assert isinstance(error, errors.MCPToolExecutionError)
    assert (error.message, error.server) == ("tool do_it on 'srv' failed: first line second", "srv")


def test_a_tool_failure_without_text_says_so() -> None:
    assert errors.tool_failure("s", "t", []).message == "tool t on 's' failed: no message"
    assert errors.tool_failure("s", "t", [{"type": "text"}]).message == "tool t on 's' failed: no message"
