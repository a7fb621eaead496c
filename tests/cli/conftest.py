"""Drive the CLI in-process with Typer's runner, from an empty working directory."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from gemma_mcp_cli.cli.app import app

Invoke = Callable[..., Result]


@pytest.fixture(autouse=True)
def _empty_cwd(workdir: Path, no_orphans: None) -> Path:
    return workdir


@pytest.fixture
def cli() -> Invoke:
    """Return a function that runs gemma-mcp with the given arguments."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


def stdout_json(result: Result) -> Any:
    """Parse the one JSON document a --json command wrote to stdout."""
    return json.loads(result.stdout)


def stderr_json(result: Result) -> Any:
    """Parse the JSON error envelope a failing --json command wrote to stderr."""
    return json.loads(result.stderr)
