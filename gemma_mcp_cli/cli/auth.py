"""`auth`: sign in to remote servers with OAuth, see who is signed in, sign out."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.boundary import run
from gemma_mcp_cli.cli.loading import config_for
from gemma_mcp_cli.cli.options import JsonOpt, ServerArg
from gemma_mcp_cli.errors import MCPConfigError

if TYPE_CHECKING:
    from gemma_mcp_cli.config.loader import LoadedConfig
    from gemma_mcp_cli.config.models import MCPServerConfig

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Sign in to remote servers with OAuth.")
NoBrowserOpt = Annotated[
    bool,
    typer.Option(
        "--no-browser",
        help="Print the sign-in URL instead of opening it; accept the redirect URL pasted back.",
    ),
]
DeviceOpt = Annotated[
    bool, typer.Option("--device", help="Sign in on another device with a user code (RFC 8628).")
]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", min=1, help="Seconds to wait for the sign-in to finish.")
]


@app.command("login")
def login(
    ctx: typer.Context,
    server: ServerArg,
    no_browser: NoBrowserOpt = False,
    device: DeviceOpt = False,
    timeout: TimeoutOpt = 300.0,
    as_json: JsonOpt = False,
) -> None:
    """Sign in to a server with OAuth and store its tokens (mode 0600)."""

    def work() -> None:
        import anyio

        from gemma_mcp_cli.cli.login import browser_login, device_login, machine_login
        from gemma_mcp_cli.state.trust import require_trusted

        loaded = config_for(ctx)
        require_trusted(loaded.source)  # before the stored tokens are forgotten, too
        config = _oauth_server(loaded, server)
        assert config.auth is not None
        if config.auth.grant != "authorization_code":
            anyio.run(machine_login, ctx, loaded, config, timeout)
        elif device:
            anyio.run(device_login, ctx, loaded, config, timeout)
        else:
            anyio.run(lambda: browser_login(ctx, loaded, config, use_browser=not no_browser, timeout=timeout))
        row = _status_row(config)
        if as_json:
            render.emit_json({"server": config.name, "auth": row})
        else:
            render.message(
                f"Signed in to {config.name}" + (f" (expires {row['expires']})" if row["expires"] else "")
            )

    run(ctx, as_json, work)


@app.command("status")
def status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show which servers have stored tokens, their expiry and scopes (never the tokens)."""

    def work() -> None:
        loaded = config_for(ctx)
        rows = [_status_row(s) for s in loaded.servers.values() if s.auth is not None]
        if as_json:
            render.emit_json({"servers": rows})
            return
        columns = ("SERVER", "URL", "TYPE", "SIGNED IN", "EXPIRES", "SCOPES")
        keys = ("server", "url", "type", "signed_in", "expires", "scopes")
        render.table(columns, [[_cell(row[key]) for key in keys] for row in rows])
        if not rows:
            render.message("no server is configured with [NAME.auth]", style="dim")

    run(ctx, as_json, work)


@app.command("logout")
def logout(ctx: typer.Context, server: ServerArg, as_json: JsonOpt = False) -> None:
    """Forget a server's stored tokens and client registration."""

    def work() -> None:
        from gemma_mcp_cli.client.tokens import token_path

        config = config_for(ctx).server(server, allow_disabled=True)
        path = token_path(config)
        existed = path.exists()
        path.unlink(missing_ok=True)
        if as_json:
            render.emit_json({"server": config.name, "removed": existed})
        else:
            render.message(
                f"Signed out of {config.name}" if existed else f"No stored tokens for {config.name}"
            )

    run(ctx, as_json, work)


def _oauth_server(loaded: LoadedConfig, name: str) -> MCPServerConfig:
    config = loaded.server(name)
    if config.auth is None or config.auth.type != "oauth":
        raise MCPConfigError(
            f"server '{config.name}' is not configured for OAuth",
            server=config.name,
            hint=f'add [{config.name}.auth] with type = "oauth"',
        )
    return config


def _status_row(config: MCPServerConfig) -> dict[str, Any]:
    from gemma_mcp_cli.client.tokens import binding, read_stored

    assert config.auth is not None
    stored = read_stored(config)
    tokens = stored.get("tokens") or {}
    expires_at = tokens.get("expires_at")
    return {
        "server": config.name,
        "url": binding(config)[0],
        "issuer": stored.get("issuer") or config.auth.issuer,
        "type": config.auth.type,
        "signed_in": bool(tokens.get("access_token")) if config.auth.type == "oauth" else None,
        "expires": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(expires_at)) if expires_at else None,
        "expired": bool(expires_at and expires_at <= time.time()),
        "refreshable": bool(tokens.get("refresh_token")),
        "scopes": tokens.get("scope") or " ".join(config.auth.scopes) or None,
    }


def _cell(value: Any) -> str:
    return "" if value is None else ("yes" if value is True else "no" if value is False else str(value))
