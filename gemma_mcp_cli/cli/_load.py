"""Load the configuration a command runs with, from the global options."""

from __future__ import annotations

import typer

from gemma_mcp_cli.cli._run import state
from gemma_mcp_cli.config import LoadedConfig, load_config


def config_for(ctx: typer.Context) -> LoadedConfig:
    """Return the configuration named by --config, the environment, or discovery."""
    return load_config(state(ctx).config)
