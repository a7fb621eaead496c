"""Commands that need no server never pay for importing the SDK."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PROBE = """
import sys
from gemma_mcp_cli.cli.app import main
sys.argv = ["gemma-mcp", *{args!r}]
try:
    main()
except SystemExit:
    pass
roots = {{"mcp", "mcp_types", "httpx", "httpx2", "starlette"}}
heavy = sorted(m for m in sys.modules if m.split(".")[0] in roots)
sys.stderr.write("HEAVY=" + ",".join(heavy) + "\\n")
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["servers", "list"],
        ["servers", "list", "--json"],
        ["servers", "show", "local-memory"],
        ["validate", str(REPO / "config" / "mcp_servers.toml")],
    ],
)
def test_command_does_not_import_the_sdk(args: list[str], workdir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    marker = [line for line in done.stderr.splitlines() if line.startswith("HEAVY=")]
    assert marker == ["HEAVY="], done.stderr
