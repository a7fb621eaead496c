"""The retry policy: how long to wait, what may be tried again."""

from __future__ import annotations

import random
from typing import Any

import pytest

from gemma_mcp_cli.client.retry import MAX_DELAY, backoff, may_retry_connect, safe_to_repeat
from gemma_mcp_cli.errors import MCPAuthError, MCPConnectionError, MCPTimeoutError


class Edges(random.Random):
    """A random source that always draws the lowest, or the highest, value it may."""

    def __init__(self, high: bool) -> None:
        super().__init__(0)
        self.high = high

    def uniform(self, a: float, b: float) -> float:
        return b if self.high else a


@pytest.mark.parametrize(("attempt", "full"), [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)])
def test_backoff_doubles_per_attempt_with_up_to_half_of_it_jittered(attempt: int, full: float) -> None:
    assert backoff(1.0, attempt, Edges(high=False)) == full / 2
    assert backoff(1.0, attempt, Edges(high=True)) == full
    assert full / 2 <= backoff(1.0, attempt, random.Random(attempt)) <= full


def test_backoff_stops_doubling_at_the_cap() -> None:
    assert MAX_DELAY == 30.0
    assert backoff(1.0, 50, Edges(high=True)) == MAX_DELAY
    assert backoff(1.0, 50, Edges(high=False)) == MAX_DELAY / 2
    assert backoff(20.0, 2, Edges(high=True)) == MAX_DELAY


def test_backoff_scales_with_the_base_and_is_a_float() -> None:
    assert backoff(0.25, 3, Edges(high=True)) == 1.0
    assert backoff(0, 3, Edges(high=True)) == 0.0
    assert type(backoff(2, 1, Edges(high=True))) is float


def test_backoff_without_a_random_source_stays_in_bounds() -> None:
    delays = {backoff(1.0, 3) for _ in range(50)}
    assert all(2.0 <= d <= 4.0 for d in delays) and len(delays) > 1
    short = [backoff(0.2, 1) for _ in range(50)]  # below one second, the jitter stays below too
    assert all(0.1 <= d <= 0.2 for d in short)
    # The jitter spans the whole upper half: 200 draws all below 5/6 of it would be a 1e-35 chance.
    assert max(backoff(1.0, 1) for _ in range(200)) > 0.5 + 1 / 3


def test_only_transient_connection_failures_are_retried() -> None:
    assert may_retry_connect(MCPConnectionError("broke off"))
    assert not may_retry_connect(MCPConnectionError("no such command", transient=False))
    assert not may_retry_connect(MCPTimeoutError("too slow"))
    assert not may_retry_connect(MCPAuthError("refused"))


@pytest.mark.parametrize(
    ("tool", "safe"),
    [
        (None, False),
        ({}, False),
        ({"annotations": None}, False),
        ({"annotations": {}}, False),
        ({"annotations": {"readOnlyHint": False, "idempotentHint": False}}, False),
        ({"annotations": {"destructiveHint": True}}, False),
        ({"annotations": {"readOnlyHint": True}}, True),
        ({"annotations": {"idempotentHint": True}}, True),
        ({"annotations": {"readOnlyHint": False, "idempotentHint": True}}, True),
    ],
)
def test_a_tool_call_is_repeated_only_when_its_annotations_allow(
    tool: dict[str, Any] | None, safe: bool
) -> None:
    assert safe_to_repeat(tool) is safe
