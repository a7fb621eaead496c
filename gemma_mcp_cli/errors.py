"""The exit-code table and the error family every failure is expressed in."""

from __future__ import annotations

from contextvars import ContextVar
from enum import IntEnum

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gemma_mcp_cli/__init__.py)
if TYPE_CHECKING:
    from typing import Any

# The program as the user typed it, for hints that say what to run: `gemma-mcp` alone,
# `gemma mcp` inside gemma-cli. Set for each invocation by the command line's root.
PROGRAM: ContextVar[str] = ContextVar("program", default="gemma-mcp")


def program() -> str:
    """Return the name this invocation was run by, as hints should spell it."""
    return PROGRAM.get()


class ExitCode(IntEnum):
    """Process exit codes: the one table (see the README)."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    CONFIG = 3
    CONNECTION = 4
    SERVER = 5
    TOOL = 6
    INVALID_ARGUMENTS = 7
    TIMEOUT = 8
    AUTH = 9
    HANGUP = 129  # SIGHUP: the terminal or ssh session closed
    INTERRUPTED = 130  # SIGINT: Ctrl-C
    TERMINATED = 143  # SIGTERM: timeout, kill, CI cancellation


class MCPError(Exception):
    """Base of every error the client reports; carries its exit code."""

    exit_code: ExitCode = ExitCode.INTERNAL
    kind: str = "internal"

    def __init__(self, message: str, *, server: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.server = server
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, object]:
        """Return the JSON error envelope body."""
        return {
            "type": self.kind,
            "exit_code": int(self.exit_code),
            "message": self.message,
            "server": self.server,
        }


class MCPUsageError(MCPError):
    """The command line itself is wrong."""

    exit_code = ExitCode.USAGE
    kind = "usage"


class MCPConfigError(MCPError):
    """The configuration is missing, invalid, or names no such server."""

    exit_code = ExitCode.CONFIG
    kind = "config"


class MCPUntrustedConfigError(MCPConfigError):
    """A configuration found in the current directory names servers, and the user has not trusted it."""


class MCPConnectionError(MCPError):
    """The server could not be started or reached, or the transport broke."""

    exit_code = ExitCode.CONNECTION
    kind = "connection"

    def __init__(
        self, message: str, *, server: str | None = None, hint: str | None = None, transient: bool = True
    ) -> None:
        super().__init__(message, server=server, hint=hint)
        self.transient = transient


class MCPServerError(MCPError):
    """The server answered with a JSON-RPC error."""

    exit_code = ExitCode.SERVER
    kind = "server"

    def __init__(
        self, message: str, *, server: str | None = None, hint: str | None = None, code: int | None = None
    ) -> None:
        super().__init__(message, server=server, hint=hint)
        self.code = code


class MCPResourceError(MCPServerError):
    """A resource could not be listed or read."""

    kind = "resource"


class MCPPromptError(MCPServerError):
    """A prompt could not be listed or rendered."""

    kind = "prompt"


class MCPNotOfferedError(MCPServerError):
    """The server does not advertise the capability a request needs (prompts, resources)."""

    kind = "not_offered"


class MCPToolNotFoundError(MCPServerError):
    """The server has no tool of that name."""

    kind = "tool_not_found"


class MCPToolExecutionError(MCPError):
    """The tool ran and reported failure (`isError: true`)."""

    exit_code = ExitCode.TOOL
    kind = "tool"


def tool_failure(server: str, tool: str, content: list[dict[str, Any]]) -> MCPToolExecutionError:
    """Return the error for a tool result with `isError: true`, its text on one line."""
    text = " ".join(str(c.get("text", "")) for c in content if c.get("type") == "text")
    return MCPToolExecutionError(
        f"tool {tool} on '{server}' failed: {' '.join(text.split()) or 'no message'}", server=server
    )


class MCPInvalidArgumentsError(MCPError):
    """The arguments break the tool's input schema; nothing was sent."""

    exit_code = ExitCode.INVALID_ARGUMENTS
    kind = "invalid_arguments"


class MCPTimeoutError(MCPError):
    """A connection or request took longer than allowed."""

    exit_code = ExitCode.TIMEOUT
    kind = "timeout"


class MCPAuthError(MCPError):
    """Authentication or authorization failed."""

    exit_code = ExitCode.AUTH
    kind = "auth"


class MCPInterruptedError(MCPError):
    """The user interrupted the command."""

    exit_code = ExitCode.INTERRUPTED
    kind = "interrupted"


class MCPTaskFailedError(MCPServerError):
    """A task ended `failed` without a tool result to show (one with `isError` exits 6 instead)."""

    kind = "task_failed"


class MCPTaskCancelledError(MCPError):
    """A task ended `cancelled`: its work was stopped on request, here or elsewhere (exit 130)."""

    exit_code = ExitCode.INTERRUPTED
    kind = "task_cancelled"


class MCPTaskPendingError(MCPTimeoutError):
    """A task has not finished: not yet (`tasks result` without `--wait`), or not within `--timeout`."""

    kind = "task_pending"
