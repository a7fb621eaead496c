"""Load the configuration a command runs with, from the global options."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gemma_mcp_cli.cli.invocation import Invocation, defer_notice, state
from gemma_mcp_cli.state import trust

if TYPE_CHECKING:
    from gemma_mcp_cli.config.loader import LoadedConfig


def config_for(invocation: Invocation) -> LoadedConfig:
    """Return the configuration named by --config, the environment, or discovery."""
    from gemma_mcp_cli.config.loader import load_config

    options = state(invocation)
    loaded = load_config(options.config, url_transport=options.transport, url_headers=options.headers)
    notice = trust.notice(loaded.source)
    if notice is not None:
        defer_notice(notice)
    if not loaded.problems and not loaded.disabled_problems:
        from gemma_mcp_cli.state import snapshot
        from gemma_mcp_cli.state.cache import fingerprint

        servers = [{"summary": s.summary(), "fingerprint": fingerprint(s)} for s in loaded.servers.values()]
        snapshot.save(loaded.source, servers)
    return loaded
