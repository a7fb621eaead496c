"""The statistics store: summaries, Prometheus text, retention, and failures that only warn."""

from __future__ import annotations

import time
from pathlib import Path

from gemma_mcp_cli.state.stats import Request, StatsStore, by_server, prometheus, summarize


def req(
    latency: float, ok: bool = True, tool: str | None = "t", at: float | None = None, server: str = "s"
) -> Request:
    error = None if ok else f"failed after {latency}"
    return Request(server, "tools/call", tool, ok, None if ok else "tool", error, latency, at or time.time())


def test_summary_has_the_seed_keys_and_nearest_rank_percentiles() -> None:
    rows = [req(i / 100) for i in range(1, 21)] + [req(0.5, ok=False)]
    summary = summarize(rows)
    assert (summary["total_requests"], summary["successful_requests"], summary["failed_requests"]) == (
        21,
        20,
        1,
    )
    assert summary["success_rate"] == 20 / 21
    assert (summary["min_latency"], summary["max_latency"]) == (0.01, 0.5)
    assert summary["p50_latency"] == 0.11 and summary["p95_latency"] == 0.2
    assert summary["last_error"] == "failed after 0.5"
    assert set(summary) == {
        "total_requests",
        "successful_requests",
        "failed_requests",
        "success_rate",
        "total_latency",
        "min_latency",
        "max_latency",
        "avg_latency",
        "p50_latency",
        "p95_latency",
        "last_error",
        "last_request_at",
    }


def test_by_server_nests_tools_and_skips_requests_without_a_tool() -> None:
    summary = by_server([req(0.1, tool=None), req(0.2, tool="a"), req(0.3, tool="b", server="other")])
    assert set(summary) == {"s", "other"}
    assert summary["s"]["total_requests"] == 2 and list(summary["s"]["tools"]) == ["a"]


def test_store_records_filters_and_resets(tmp_path: Path) -> None:
    store = StatsStore(tmp_path / "stats.sqlite3")
    store.record([req(0.1), req(0.2, server="other")])
    store.record([req(0.3, ok=False)])
    assert [r.latency for r in store.rows("s")] == [0.1, 0.3]
    assert store.reset("other") == 1
    assert len(store.rows()) == 2
    assert store.reset() == 2 and store.rows() == []


def test_old_rows_are_pruned(tmp_path: Path) -> None:
    store = StatsStore(tmp_path / "stats.sqlite3", retention_days=1)
    store.record([req(0.1, at=time.time() - 3 * 86400)])
    store.record([req(0.2)])
    assert [r.latency for r in store.rows()] == [0.2]


def test_a_corrupt_database_warns_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "stats.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    warnings: list[str] = []
    StatsStore(path, warn=warnings.append).record([req(0.1)])
    assert len(warnings) == 1 and "statistics not recorded" in warnings[0]


def test_prometheus_text_has_counters_and_a_cumulative_histogram() -> None:
    text = prometheus([req(0.003), req(0.2), req(0.2, ok=False), req(0.1, tool='we"ird')])
    lines = text.splitlines()
    assert "# TYPE gemma_mcp_requests_total counter" in lines
    assert 'gemma_mcp_requests_total{server="s",method="tools/call",tool="t",outcome="success"} 2' in lines
    assert 'gemma_mcp_requests_total{server="s",method="tools/call",tool="t",outcome="failure"} 1' in lines
    assert any('tool="we\\"ird"' in line for line in lines)
    success = 'server="s",method="tools/call",tool="t",outcome="success"'
    assert f'gemma_mcp_request_duration_seconds_bucket{{{success},le="0.005"}} 1' in lines
    assert f'gemma_mcp_request_duration_seconds_bucket{{{success},le="0.1"}} 1' in lines
    assert f'gemma_mcp_request_duration_seconds_bucket{{{success},le="0.25"}} 2' in lines
    assert f'gemma_mcp_request_duration_seconds_bucket{{{success},le="+Inf"}} 2' in lines
    assert f"gemma_mcp_request_duration_seconds_count{{{success}}} 2" in lines
