"""Finding the process groups of the servers this process started."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from gemma_mcp_cli.client import processes

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

SLEEP = [sys.executable, "-c", "import time; time.sleep(30)"]


@pytest.fixture
def two_children() -> Iterator[tuple[int, int]]:
    """Start one child in a session of its own (as a stdio server is) and one in ours."""
    leader = subprocess.Popen(SLEEP, start_new_session=True)
    plain = subprocess.Popen(SLEEP)
    try:
        yield leader.pid, plain.pid
    finally:
        for child in (leader, plain):
            child.kill()
            child.wait(timeout=10)


def test_session_children_are_the_children_that_lead_a_session(two_children: tuple[int, int]) -> None:
    leader, plain = two_children
    found = processes.session_children()
    assert leader in found
    assert plain not in found


def test_the_full_scan_sees_the_children_too(two_children: tuple[int, int]) -> None:
    assert set(two_children) <= processes.every_process()
