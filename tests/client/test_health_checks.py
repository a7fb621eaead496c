"""The library's background health checks: `health_check_interval = 0` disables them, and on
2026-07-28 a check is `server/discover` (that protocol has no ping), seen from the server's side.

The command line never runs them (a command ends long before the first check, and sessions
do not either), so this drives the manager the way a library user does.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio

from gemma_mcp_cli import MCPClientManager, load_mcp_servers
from tests.conftest import stdio_server


def methods(path: Path) -> list[str]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [entry["method"] for entry in map(json.loads, lines) if "method" in entry]


def test_checks_run_every_interval_and_an_interval_of_0_runs_none(write_config, tmp_path: Path) -> None:
    checked, unchecked = tmp_path / "checked.jsonl", tmp_path / "unchecked.jsonl"
    modern = ("--protocol", "2026-07-28")
    config = write_config(
        stdio_server(
            "checked", "observing_server.py", "--record", str(checked), *modern, health_check_interval=0.05
        )
        + stdio_server(
            "unchecked", "observing_server.py", "--record", str(unchecked), *modern, health_check_interval=0
        )
    )

    async def body() -> None:
        async with MCPClientManager(load_mcp_servers(str(config)), health_checks=True) as manager:
            await manager.connect_many(["checked", "unchecked"])
            with anyio.fail_after(30):  # the checked server sees its checks arrive, one per interval
                while methods(checked).count("server/discover") < 4:
                    await anyio.sleep(0.02)
            # Three checks reached the other server's twin meanwhile; this one saw only its handshake.
            assert methods(unchecked) == ["server/discover"]

    anyio.run(body)
    assert set(methods(checked)) == {"server/discover"}  # never a ping on 2026-07-28
