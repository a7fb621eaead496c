"""The body of `auth login`: a browser (or pasted) sign-in, or the device flow, on its own deadline."""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING, Any

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.connect import open_manager
from gemma_mcp_cli.errors import MCPTimeoutError, program

if TYPE_CHECKING:
    import httpx2

    from gemma_mcp_cli.cli.invocation import Invocation
    from gemma_mcp_cli.client.login import LoopbackReceiver
    from gemma_mcp_cli.config.loader import LoadedConfig
    from gemma_mcp_cli.config.models import MCPServerConfig


async def browser_login(
    ctx: Invocation, loaded: LoadedConfig, config: MCPServerConfig, *, use_browser: bool, timeout: float
) -> None:
    """Sign in through the browser; without one, also accept the redirect URL pasted on stdin."""
    import anyio

    from gemma_mcp_cli.client.auth import begin_login, finish_login, oauth_provider, preregister
    from gemma_mcp_cli.client.login import LoopbackReceiver, open_browser, read_pasted

    receiver = LoopbackReceiver(begin_login(config))
    uri = await receiver.start()
    await preregister(config, uri)
    paste = not use_browser and sys.stdin is not None and sys.stdin.isatty()

    async def redirect(url: str) -> None:
        receiver.expect(url)
        await open_browser(url, use_browser=use_browser, say=render.message)
        also = "; or paste here the address the browser ended on" if paste else ""
        render.message(
            f"Waiting up to {timeout:g}s for the sign-in to come back to {uri}{also} (Ctrl-C stops)"
        )

    provider = oauth_provider(config, redirect=redirect, callback=receiver.wait, redirect_uri=uri)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(receiver.serve)
            if not use_browser:
                tg.start_soon(read_pasted, receiver, render.message)
            try:
                await _reach(ctx, loaded, config, provider, timeout)
            finally:
                tg.cancel_scope.cancel()
    except BaseException as exc:
        error = _one(exc) if isinstance(exc, BaseExceptionGroup) else exc
        if isinstance(error, MCPTimeoutError):
            raise _late(config, receiver, uri, timeout) from None
        if error is exc:
            raise
        raise error from None
    finally:
        await receiver.aclose()
    finish_login(config)


async def device_login(
    ctx: Invocation, loaded: LoadedConfig, config: MCPServerConfig, timeout: float
) -> None:
    """Sign in with a user code on another device (RFC 8628), then check the server takes the token."""
    from gemma_mcp_cli.client.device import device_sign_in

    await device_sign_in(config, timeout=timeout, say=render.message)
    try:
        await _reach(ctx, loaded, config, None, timeout)
    except BaseExceptionGroup as group:
        raise _one(group) from None


async def machine_login(
    ctx: Invocation, loaded: LoadedConfig, config: MCPServerConfig, timeout: float
) -> None:
    """Get a fresh token with a grant that needs no person, and check the server takes it."""
    from gemma_mcp_cli.client.auth import FileTokenStorage

    FileTokenStorage(config).forget_tokens()
    try:
        await _reach(ctx, loaded, config, None, timeout)
    except BaseExceptionGroup as group:
        raise _one(group) from None


async def _reach(
    ctx: Invocation,
    loaded: LoadedConfig,
    config: MCPServerConfig,
    provider: httpx2.Auth | None,
    timeout: float,
) -> None:
    """Connect and ping with the login's deadline in place of the server's connection_timeout."""
    patient = config.model_copy(update={"connection_timeout": timeout})
    servers = {**loaded.servers, config.name: patient}
    extra: dict[str, Any] = {"http_auth": {config.name: provider}} if provider is not None else {}
    async with open_manager(ctx, dataclasses.replace(loaded, servers=servers), sessions=False, **extra) as m:
        await m.health_check(config.name)


def _one(group: BaseExceptionGroup[BaseException]) -> BaseException:
    from gemma_mcp_cli.client.sdk_errors import unwrap

    return unwrap(group)


def _late(config: MCPServerConfig, receiver: LoopbackReceiver, uri: str, timeout: float) -> MCPTimeoutError:
    if not receiver.waiting:
        return MCPTimeoutError(
            f"server '{config.name}' did not answer within {timeout:g}s", server=config.name
        )
    return MCPTimeoutError(
        f"the sign-in to '{config.name}' did not come back to {uri} within {timeout:g}s",
        server=config.name,
        hint=f"run {program()} auth login {config.name} again (--timeout SECONDS gives more time)",
    )
