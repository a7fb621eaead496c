"""Answer what a server asks back: elicitation, roots and sampling, through the SDK's callbacks.

The same callbacks serve both protocol eras: the handshake era's server-to-client requests, and
the 2026-07-28 input-required rounds that the SDK's client drives itself. Who answers is an
`Asker` (the command line: a terminal, or its answer options); this module turns the SDK's
requests into plain data for it, and its answers back.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
from mcp.client.session import ClientRequestContext
from mcp_types import (
    INTERNAL_ERROR,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    ErrorData,
    ListRootsResult,
    Root,
    TextContent,
)

from gemma_mcp_cli.answers import Asker
from gemma_mcp_cli.client.sampling import run_sampling_command
from gemma_mcp_cli.config.models import MCPServerConfig
from gemma_mcp_cli.errors import MCPError

# The code the spec gives a client for "the user rejected the request".
USER_REJECTED = -1


class ServerQuestions:
    """The answering side of one server's connection."""

    def __init__(self, config: MCPServerConfig, asker: Asker | None) -> None:
        self.config = config
        self.asker = asker
        self.failure: MCPError | None = None
        # The deadlines of the requests in flight: time a person spends answering is given back.
        self.deadlines: set[anyio.CancelScope] = set()

    @property
    def roots(self) -> list[str]:
        """The directories this server is told about (its own, then `--root`)."""
        extra = list(self.asker.roots) if self.asker is not None else []
        return list(dict.fromkeys([*self.config.roots, *extra]))

    def client_options(self) -> dict[str, Any]:
        """Return the SDK `Client` callbacks: each capability is advertised only when answered."""
        options: dict[str, Any] = {}
        if self.asker is not None:
            options["elicitation_callback"] = self._elicit
            options["sampling_callback"] = self._sample
        if self.roots:
            options["list_roots_callback"] = self._list_roots
        return options

    def take_failure(self) -> MCPError | None:
        """Return (and forget) why the last question could not be answered."""
        failure, self.failure = self.failure, None
        return failure

    async def _elicit(
        self, context: ClientRequestContext, params: ElicitRequestParams
    ) -> ElicitResult | ErrorData:
        assert self.asker is not None
        request = params.model_dump(mode="json", by_alias=True, exclude_none=True)
        request.pop("_meta", None)
        began = time.monotonic()
        try:
            answer = await self.asker.elicit(self.config.name, request)
        except MCPError as error:
            self.failure = error
            return ErrorData(code=USER_REJECTED, message=f"the client could not answer: {error.message}")
        finally:
            if self.asker.interactive:
                waited = time.monotonic() - began
                for scope in self.deadlines:
                    scope.deadline += waited
        return ElicitResult(action=answer["action"], content=answer.get("content"))

    async def _list_roots(self, context: ClientRequestContext) -> ListRootsResult:
        roots = [Root(uri=Path(path).as_uri(), name=Path(path).name or path) for path in self.roots]
        if self.asker is not None:
            self.asker.noted({"server": self.config.name, "type": "roots", "roots": self.roots})
        return ListRootsResult(roots=roots)

    async def _sample(
        self, context: ClientRequestContext, params: CreateMessageRequestParams
    ) -> CreateMessageResult | ErrorData:
        assert self.asker is not None
        name, command = self.config.name, self.config.sampling_command
        record: dict[str, Any] = {"server": name, "type": "sampling", "maxTokens": params.max_tokens}
        if not command:
            self.asker.noted(record | {"action": "decline"})
            self.asker.notice(
                f"server '{name}' asked for a model completion (sampling); declined: no sampling_command",
                hint=f"set sampling_command = [...] in [{name}] or in the [mcp] settings",
            )
            return ErrorData(
                code=USER_REJECTED,
                message="sampling declined: this client has no model configured (sampling_command)",
            )
        document = {"server": name, **params.model_dump(mode="json", by_alias=True, exclude_none=True)}
        document.pop("_meta", None)
        try:
            text = await run_sampling_command(command, document, self.config.request_timeout, server=name)
        except MCPError as error:
            self.asker.noted(record | {"action": "error", "error": error.message})
            self.asker.notice(error.message, hint=error.hint)
            return ErrorData(code=INTERNAL_ERROR, message=f"sampling failed: {error.message}")
        self.asker.noted(record | {"action": "accept", "model": Path(command[0]).name})
        return CreateMessageResult(
            role="assistant",
            content=TextContent(type="text", text=text),
            model=Path(command[0]).name,
            stop_reason="endTurn",
        )
