"""One server's connection: the task that holds it open, its state and its statistics."""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, cast

import anyio
import httpx2
from anyio.abc import TaskStatus
from mcp import Client
from mcp.client._transport import Transport
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.shared.exceptions import MCPError as SDKError
from mcp_types import (
    ElicitCompleteNotification,
    Implementation,
    LoggingLevel,
    LoggingMessageNotificationParams,
    ProgressNotification,
    PromptListChangedNotification,
    ResourceListChangedNotification,
    ResourceUpdatedNotification,
    ToolListChangedNotification,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from gemma_mcp_cli._version import __version__
from gemma_mcp_cli.answers import Asker
from gemma_mcp_cli.client.asking import ServerQuestions
from gemma_mcp_cli.client.sdk_errors import HANDSHAKE, said_why, server_text, translate, unwrap
from gemma_mcp_cli.client.tokens import read_stored
from gemma_mcp_cli.client.transports.early_start import Started, claim, open_log
from gemma_mcp_cli.client.transports.open import open_transport
from gemma_mcp_cli.client.transports.stdio import StdoutWatch, adopted_stdio_client, own_stdio_client
from gemma_mcp_cli.config.models import MCPServerConfig, strip_credentials
from gemma_mcp_cli.enums import MCPServerStatus, MCPTransportType
from gemma_mcp_cli.errors import MCPAuthError, MCPConfigError, MCPConnectionError, MCPError, program
from gemma_mcp_cli.sanitize import visible
from gemma_mcp_cli.state.files import open_private
from gemma_mcp_cli.state.paths import log_file

LogHook = Callable[[str, str, str | None, Any], Awaitable[None]]
ProgressListener = Callable[[float, float | None, str | None], Awaitable[None]]
_ECHO_LIMIT = 64 * 1024  # bytes of a server's stderr that --verbose shows
_CHANGED: dict[type, str] = {
    ToolListChangedNotification: "tools",
    ResourceListChangedNotification: "resources",
    PromptListChangedNotification: "prompts",
}


@dataclass
class ServerStats:
    """Request counters for one server within this process."""

    total_requests: int = 0
    successful_requests: int = 0
    failed_requests: int = 0
    total_latency: float = 0.0
    min_latency: float | None = None
    max_latency: float | None = None
    last_error: str | None = None
    last_request_at: float | None = None
    tools: dict[str, ServerStats] = field(default_factory=dict)

    def record(self, latency: float, error: str | None, tool: str | None = None) -> None:
        """Count one request."""
        self.total_requests += 1
        self.successful_requests += error is None
        self.failed_requests += error is not None
        self.total_latency += latency
        self.min_latency = latency if self.min_latency is None else min(self.min_latency, latency)
        self.max_latency = latency if self.max_latency is None else max(self.max_latency, latency)
        self.last_error = error or self.last_error
        self.last_request_at = time.time()
        if tool is not None:
            self.tools.setdefault(tool, ServerStats()).record(latency, error)

    def as_dict(self) -> dict[str, Any]:
        """Return the counters with success rate and average latency."""
        done = self.total_requests
        return {
            "total_requests": done,
            "successful_requests": self.successful_requests,
            "failed_requests": self.failed_requests,
            "success_rate": self.successful_requests / done if done else None,
            "total_latency": self.total_latency,
            "min_latency": self.min_latency,
            "max_latency": self.max_latency,
            "avg_latency": self.total_latency / done if done else None,
            "last_error": self.last_error,
            "last_request_at": self.last_request_at,
            "tools": {name: stats.as_dict() for name, stats in self.tools.items()},
        }


class ServerConnection:
    """A live (or failed) connection to one server, held open by a task of the manager."""

    def __init__(
        self,
        config: MCPServerConfig,
        log_dir: Path,
        on_log: LogHook | None,
        verbose: bool,
        on_list_changed: Callable[[str, str], None] | None = None,
        http_auth: httpx2.Auth | None = None,
        asker: Asker | None = None,
        log_level: str | None = None,
        protocol: str = "auto",
    ) -> None:
        self.name = config.name
        self.protocol = protocol  # the SDK's connect mode: "auto", or "legacy" for the handshake era
        self.questions = ServerQuestions(config, asker)
        self._set_level = cast("LoggingLevel | None", log_level)  # sent as logging/setLevel
        self._log_level = self._set_level or ("debug" if verbose else None)
        self._http_auth = http_auth
        self._auth_used: Any = None  # the httpx2 auth of the open transport
        self.config = config
        self.status = MCPServerStatus.DISCONNECTED
        self.client: Client | None = None
        self.connect_latency: float | None = None
        self.log_path = log_file(config.name, log_dir)
        self._log_offset = 0
        self._on_log = on_log
        self._verbose = verbose
        self._closing = anyio.Event()
        self._closed = anyio.Event()
        self._holding = False
        self.was_connected = False
        self._broken = False
        self.garbage: str | None = None
        self._stdout = StdoutWatch(
            max_line=int(config.max_response_mb * 1024 * 1024),
            strict=lambda: self.status is MCPServerStatus.CONNECTED,
        )
        self.http_failure: tuple[int, str] | None = None
        self._on_list_changed = on_list_changed
        self.update_listeners: set[Callable[[str], None]] = set()  # resources/updated, 2025 era
        # Progress of work that outlives its request (a task), by the token we gave it.
        self.progress_listeners: dict[str, ProgressListener] = {}
        self.change_listeners: set[Callable[[str], None]] = set()  # list_changed kinds, 2025 era
        self.subscribed: dict[str, int] = {}  # URI -> watchers: one subscribe per URI per connection

    @property
    def protocol_version(self) -> str | None:
        """Return the negotiated protocol version."""
        return self.client.session.protocol_version if self.client else None

    @property
    def modern(self) -> bool:
        """Whether the connection speaks a 2026-era (discover, no ping) protocol."""
        return self.protocol_version in MODERN_PROTOCOL_VERSIONS

    @property
    def server_info(self) -> dict[str, Any] | None:
        """Return the server's name and version, as it sent them."""
        info = self.client.session.server_info if self.client else None
        return info.model_dump(mode="json", by_alias=True, exclude_none=True) if info else None

    def offers(self, capability: str) -> bool:
        """Tell whether the server advertised a capability (`prompts`, `resources`, `tools`)."""
        capabilities = self.client.session.server_capabilities if self.client else None
        return capabilities is None or getattr(capabilities, capability, None) is not None

    def require_client(self) -> Client:
        """Return the connected client."""
        assert self.client is not None, "used before connect"
        return self.client

    def mark_broken(self) -> None:
        """Take the connection as unusable: the next request reconnects first."""
        self._broken = True

    def broken(self) -> bool:
        """Tell whether the transport is known to be gone (the server died or hung up)."""
        if self._broken or self.client is None:
            return True
        # The SDK's dispatcher marks itself closed at EOF; reading it avoids a request that
        # could only fail, so an unsafe call is never sent into a dead connection.
        dispatcher = getattr(self.client.session, "_dispatcher", None)
        return bool(getattr(dispatcher, "_closed", False))

    def stderr_tail(self, lines: int = 3) -> str:
        """Return the last lines the server wrote to stderr during this run, on one line."""
        try:
            with os.fdopen(open_private(self.log_path), "rb") as log:
                log.seek(0, os.SEEK_END)
                end = log.tell()  # a log rotated during the run starts again at 0
                log.seek(max(self._log_offset if self._log_offset <= end else 0, end - 8192))
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return ""
        kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
        return " | ".join(kept)[-400:]

    def failure(self, exc: BaseException, action: str, timeout: float | None) -> MCPError:
        """Translate an exception raised while doing `action` on this server."""
        if self._stdout.oversize is not None:
            return self._oversize(action)
        if self._stdout.fault is not None:
            return MCPConnectionError(
                f"server '{self.name}' {server_text(self._stdout.fault)} during {action}",
                server=self.name,
                transient=False,  # the same server writes the same again
                hint="a stdio server must write only MCP messages to stdout (logs go to stderr)"
                if "non-JSON" in self._stdout.fault
                else None,
            )
        told = getattr(self._auth_used, "failure", None)
        if isinstance(told, Exception):  # what the OAuth flow raised, lost on its way through the SDK
            self._auth_used.failure = None
            exc = told
        error = translate(
            exc,
            server=self.name,
            action=action,
            timeout=timeout,
            tail=self.stderr_tail(),
            http=self.http_failure,
        )
        garbage = self._stdout.garbage or self.garbage
        if garbage is not None and "non-JSON" not in error.message:
            error.message += f"; it wrote non-JSON to stdout: {server_text(garbage)!r}"
            if isinstance(error, MCPConnectionError):
                error.transient = False  # the same server writes the same garbage again
        auth = self.config.auth
        cause = unwrap(exc)
        bare_refusal = not isinstance(cause, MCPError) and not said_why(cause)  # OAuth errors say why
        refusal = getattr(self._auth_used, "refusal", None)
        stepped_up = refusal() if bare_refusal and callable(refusal) else None
        if isinstance(stepped_up, MCPError):
            return stepped_up
        if isinstance(error, MCPAuthError) and auth is not None and auth.type == "oauth" and bare_refusal:
            if auth.grant == "authorization_code":
                had = bool(read_stored(self.config).get("tokens"))
                error.message = f"server '{self.name}' needs an OAuth login" + (
                    " (the stored one was refused and could not be refreshed)"
                    if had
                    else " and none is stored"
                )
                error.hint = f"run {program()} auth login {self.name}"
            else:
                error.hint = "check the client_id and client_secret (or private_key) in the server's [auth]"
        return error

    def _oversize(self, action: str) -> MCPError:
        """Say that a message from the server passed max_response_mb, and how far it had come."""
        read = self._stdout.oversize or 0
        return MCPConnectionError(
            f"server '{self.name}' sent a message larger than max_response_mb = "
            f"{self.config.max_response_mb:g} during {action}: stopped reading at {read / 2**20:.1f} MB",
            server=self.name,
            transient=False,
            hint=f"raise max_response_mb in [{self.name}] if the server's answers are meant to be this big",
        )

    def _open_log(self, early: Started | None) -> TextIO:
        if early is not None:
            self._log_offset = early.log_offset
            return early.log
        try:
            log, self._log_offset = open_log(self.log_path)
        except OSError as exc:
            raise MCPConfigError(
                f"cannot write the stderr log of server '{self.name}' ({self.log_path}): {exc.strerror}",
                server=self.name,
                hint="the state directory ($GEMMA_MCP_STATE_DIR) must be a writable folder",
            ) from None
        return log

    async def hold(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Connect, report readiness, and keep the connection open until `close` is called."""
        self.status = MCPServerStatus.CONNECTING
        self._holding = True
        timeout = self.config.connection_timeout
        try:
            early = claim(self.config)  # a process started before the SDK was imported
            with self._open_log(early) as log:
                try:
                    # The deadline scope must enclose the client's whole life (its task groups
                    # open inside it), so it is lifted, not left, once the handshake is done.
                    with anyio.CancelScope(deadline=anyio.current_time() + timeout) as deadline:
                        began = time.perf_counter()
                        async with self._client(log, early) as client:
                            deadline.deadline = math.inf
                            self.client, self.connect_latency = client, time.perf_counter() - began
                            self.status = MCPServerStatus.CONNECTED
                            self.was_connected = True
                            await self._ask_for_logs(client)
                            task_status.started()
                            await self._closing.wait()
                except Exception as exc:
                    if self.status is MCPServerStatus.CONNECTING:
                        raise self.failure(exc, HANDSHAKE, timeout) from None
                if deadline.cancelled_caught:
                    raise self.failure(TimeoutError(), HANDSHAKE, timeout)
        except MCPError:
            self.status = MCPServerStatus.ERROR
            raise
        finally:
            self.client = None
            if self.status is not MCPServerStatus.ERROR:
                self.status = MCPServerStatus.DISCONNECTED
            if self._verbose:
                self._echo_stderr()
            self._closed.set()

    def _echo_stderr(self) -> None:
        """With --verbose, show what the server wrote to stderr during this run (it is in its log)."""
        try:
            with os.fdopen(open_private(self.log_path), "rb") as log:
                log.seek(self._log_offset)
                text = log.read(_ECHO_LIMIT).decode("utf-8", "replace")
        except OSError:
            return
        for line in text.splitlines():
            sys.stderr.write(visible(f"[{self.name} stderr] {line}") + "\n")

    def _client(self, log: TextIO, early: Started | None) -> Client:
        return Client(
            adopted_stdio_client(early, self._stdout) if early else self._transport(log),
            # A person answering the server mid-request must not run the request out of time;
            # the manager's own deadline, which their time moves on, bounds it instead.
            read_timeout_seconds=None if self._interactive else self.config.request_timeout,
            logging_callback=self._log_message,
            message_handler=self._on_message,
            log_level=self._log_level,
            client_info=Implementation(name="gemma-mcp", version=__version__),
            mode=self.protocol,
            **self.questions.client_options(),
        )

    @property
    def _interactive(self) -> bool:
        asker = self.questions.asker
        return asker is not None and asker.interactive

    async def _ask_for_logs(self, client: Client) -> None:
        """On a handshake-era connection, send logging/setLevel (2026 asks in each request's _meta)."""
        capabilities = client.session.server_capabilities
        if self._set_level is None or self.modern or capabilities is None or capabilities.logging is None:
            return
        # A server that fails to set its level still serves the command: it only logs less.
        with anyio.move_on_after(self.config.request_timeout), warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)  # logging is deprecated in 2026
            # A transport that broke meanwhile is found by the command's own first request.
            with contextlib.suppress(SDKError, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                await client.set_logging_level(self._set_level)

    def _transport(self, log: TextIO) -> Transport:
        if self.config.transport is MCPTransportType.STDIO and sys.platform != "win32":
            return own_stdio_client(self.config, log, self._stdout)  # linear reads, bounded lines
        auth = self._http_auth
        if auth is None and self.config.auth is not None and self.config.auth.type == "oauth":
            from gemma_mcp_cli.client.grants import provider_for  # the OAuth machinery: HTTP only

            auth = provider_for(self.config)
        self._auth_used = auth
        return open_transport(self.config, log, on_response=self._on_response, auth=auth)

    async def _on_response(self, response: Any) -> None:
        """Remember the last HTTP error status (the SDK reports it only as a generic error)."""
        if response.status_code >= 400:
            self.http_failure = (response.status_code, strip_credentials(str(response.request.url)))

    async def _on_message(self, message: Any) -> None:
        """Remember the first line the server wrote that was not JSON-RPC."""
        if isinstance(message, ValidationError) and self.garbage is None:
            errors = message.errors()
            raw = errors[0].get("input", "") if errors else ""
            self.garbage = raw[:80].decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)[:80]
        asker = self.questions.asker
        if isinstance(message, ElicitCompleteNotification) and asker is not None:
            asker.notice(f"server '{self.name}' says the step at the link is done")
        if isinstance(message, ProgressNotification):
            await self._task_progress(message)
        if isinstance(message, ResourceUpdatedNotification):
            for listener in list(self.update_listeners):
                listener(message.params.uri)
        kind = _CHANGED.get(type(message))
        if kind is not None and self._on_list_changed is not None:
            self._on_list_changed(self.name, kind)  # the caches first: a watcher re-lists at once
        if kind is not None:
            for changed in list(self.change_listeners):
                changed(kind)

    async def _task_progress(self, message: ProgressNotification) -> None:
        """Pass on the progress of a task, which the server reports after its tools/call was answered."""
        hear = self.progress_listeners.get(str(message.params.progress_token))
        if hear is not None:
            params = message.params
            await hear(params.progress, params.total, params.message)

    async def _log_message(self, params: LoggingMessageNotificationParams) -> None:
        if self._on_log is not None:
            await self._on_log(self.name, str(params.level), params.logger, params.data)

    async def close(self) -> None:
        """Close the connection and wait until the server is gone."""
        self._closing.set()
        if self._holding:
            await self._closed.wait()
