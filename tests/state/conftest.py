"""Shared pieces of the state tests: a clock the tests move by hand, a registry on it, a server config."""

from __future__ import annotations

from pathlib import Path

import pytest

from gemma_mcp_cli.config.models import MCPServerConfig
from gemma_mcp_cli.state.cache import MCPToolRegistry


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(tmp_path: Path, clock: Clock) -> MCPToolRegistry:
    return MCPToolRegistry(tmp_path / "cache", default_ttl=60, clock=clock)


def server(**keys: object) -> MCPServerConfig:
    return MCPServerConfig.model_validate({"name": "s", "command": "x", **keys})
