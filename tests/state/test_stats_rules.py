"""The statistics store's edges, value by value: rows round-trip, summaries, Prometheus text."""

from __future__ import annotations

import time
from pathlib import Path

from gemma_mcp_cli.state.stats import RETENTION_DAYS, Request, StatsStore, by_server, prometheus, summarize


def request(**keys: object) -> Request:
    values: dict[str, object] = {
        "server": "s",
        "method": "tools/call",
        "tool": "t",
        "ok": True,
        "error_type": None,
        "error": None,
        "latency": 0.5,
        "at": 1000.0,
    }
    return Request(**(values | keys))  # type: ignore[arg-type]


def test_the_default_database_lives_in_the_state_dir(tmp_path: Path) -> None:
    assert StatsStore().path == tmp_path / "state" / "stats.sqlite3"


def test_rows_come_back_exactly_as_recorded_oldest_first(tmp_path: Path) -> None:
    store = StatsStore(tmp_path / "s.db", retention_days=1e6)
    rows = [
        request(at=2000.0, ok=False, error_type="timeout", error="too slow", latency=1.25),
        request(server="other", method="tools/list", tool=None, at=1000.0),
    ]
    store.record(rows)
    assert store.rows() == [rows[1], rows[0]]
    assert store.rows("s") == [rows[0]]
    assert type(store.rows("s")[0].ok) is bool


def test_the_retention_is_exactly_30_days(tmp_path: Path) -> None:
    assert RETENTION_DAYS == 30.0
    store = StatsStore(tmp_path / "s.db")
    now = time.time()
    month = 30 * 86400
    store.record([request(at=now - month - 20), request(at=now - month + 3600), request(at=now)])
    assert [round(now - r.at) for r in store.rows()] == [month - 3600, 0]


def test_reset_counts_what_it_deleted(tmp_path: Path) -> None:
    store = StatsStore(tmp_path / "s.db", retention_days=1e6)
    store.record([request(), request(server="b"), request(server="b")])
    assert store.reset("b") == 2
    assert store.reset() == 1
    assert store.rows() == []


def test_an_empty_summary_has_no_rates_or_latencies() -> None:
    assert summarize([]) == {
        "total_requests": 0,
        "successful_requests": 0,
        "failed_requests": 0,
        "success_rate": None,
        "total_latency": 0,
        "min_latency": None,
        "max_latency": None,
        "avg_latency": None,
        "p50_latency": None,
        "p95_latency": None,
        "last_error": None,
        "last_request_at": None,
    }


def test_a_summary_of_two() -> None:
    rows = [request(latency=2.0, at=5.0, ok=False, error="late"), request(latency=1.0, at=9.0)]
    assert summarize(rows) == {
        "total_requests": 2,
        "successful_requests": 1,
        "failed_requests": 1,
        "success_rate": 0.5,
        "total_latency": 3.0,
        "min_latency": 1.0,
        "max_latency": 2.0,
        "avg_latency": 1.5,
        "p50_latency": 1.0,
        "p95_latency": 2.0,
        "last_error": "late",
        "last_request_at": 9.0,
    }


def test_percentiles_are_nearest_rank() -> None:
    rows = [request(latency=float(i)) for i in range(1, 1001)]
    summary = summarize(rows)
    assert (summary["p50_latency"], summary["p95_latency"]) == (500.0, 950.0)


def test_requests_without_a_tool_count_for_the_server_only() -> None:
    summary = by_server([request(tool=None), request()])
    assert summary["s"]["total_requests"] == 2
    assert list(summary["s"]["tools"]) == ["t"] and summary["s"]["tools"]["t"]["total_requests"] == 1


def test_the_prometheus_text_exactly() -> None:
    text = prometheus([request(server='a"b\\c\nd', tool=None, latency=0.005, ok=False)])
    labels = 'server="a\\"b\\\\c\\nd",method="tools/call",tool="",outcome="failure"'
    lines = text.split("\n")
    assert lines[:5] == [
        "# HELP gemma_mcp_requests_total MCP requests by server, method, tool and outcome.",
        "# TYPE gemma_mcp_requests_total counter",
        f"gemma_mcp_requests_total{{{labels}}} 1",
        "# HELP gemma_mcp_request_duration_seconds MCP request latency in seconds.",
        "# TYPE gemma_mcp_request_duration_seconds histogram",
    ]
    assert lines[5] == f'gemma_mcp_request_duration_seconds_bucket{{{labels},le="0.005"}} 1'  # le means <=
    assert lines[-4:] == [
        f'gemma_mcp_request_duration_seconds_bucket{{{labels},le="+Inf"}} 1',
        f"gemma_mcp_request_duration_seconds_sum{{{labels}}} 0.005",
        f"gemma_mcp_request_duration_seconds_count{{{labels}}} 1",
        "",
    ]
    assert text.endswith("} 1\n")


def test_a_corrupt_database_is_an_error_to_read_only_a_warning_to_record_and_reset_mends_it(
    tmp_path: Path,
) -> None:
    import pytest

    from gemma_mcp_cli.errors import MCPConfigError

    path = tmp_path / "s.db"
    path.write_bytes(b"not a database" * 100)
    warnings: list[str] = []
    StatsStore(path, warn=warnings.append).record([request()])
    assert warnings == [f"statistics not recorded ({path}: file is not a database)"]
    with pytest.raises(MCPConfigError) as raised:
        StatsStore(path).rows()
    assert raised.value.message == f"cannot use the statistics database {path}: file is not a database"
    assert StatsStore(path).reset() == 0
    assert StatsStore(path).rows() == []


def test_resetting_one_server_of_a_corrupt_database_says_to_reset_them_all(tmp_path: Path) -> None:
    import pytest

    from gemma_mcp_cli.errors import MCPConfigError

    path = tmp_path / "s.db"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(MCPConfigError) as raised:
        StatsStore(path).reset("one")
    assert raised.value.hint == "run 'gemma-mcp stats reset' (every server) to start it afresh"
    with pytest.raises(MCPConfigError) as read:
        StatsStore(path).rows()
    assert read.value.hint == "run 'gemma-mcp stats reset' to start it afresh"
    assert path.exists()  # one server's reset leaves the file for the full one


def test_a_full_reset_of_a_corrupt_database_removes_its_journals_too(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.write_bytes(b"not a database" * 100)
    journals = [tmp_path / f"s.db{suffix}" for suffix in ("-wal", "-shm", "-journal")]
    for journal in journals:
        journal.write_bytes(b"stale")
    assert StatsStore(path).reset() == 0
    assert [j.name for j in journals if j.exists() and j.read_bytes() == b"stale"] == []
    fresh = request(at=time.time())
    StatsStore(path).record([fresh])
    assert StatsStore(path).rows() == [fresh]


def test_a_database_in_an_unwritable_place_names_the_system_reason(tmp_path: Path) -> None:
    import pytest

    from gemma_mcp_cli.errors import MCPConfigError

    blocker = tmp_path / "file"
    blocker.write_text("")
    path = blocker / "s.db"  # a folder that is a file: the OS refuses
    with pytest.raises(MCPConfigError) as raised:
        StatsStore(path).rows()
    assert str(blocker) in raised.value.message
    with pytest.raises(MCPConfigError):
        StatsStore(path).reset()


def test_a_full_reset_leaves_the_database_alone_in_its_folder(tmp_path: Path) -> None:
    # A journal left beside a fresh database would be replayed into it: none of them may stay.
    folder = tmp_path / "state"
    folder.mkdir()
    path = folder / "s.db"
    path.write_bytes(b"not a database" * 100)
    for suffix in ("-wal", "-shm", "-journal"):
        (folder / f"s.db{suffix}").write_bytes(b"stale")
    assert StatsStore(path).reset() == 0
    assert sorted(p.name for p in folder.iterdir()) == ["s.db"]


def test_a_journal_that_cannot_be_removed_is_named_with_the_system_reason(tmp_path: Path) -> None:
    import pytest

    from gemma_mcp_cli.errors import MCPConfigError

    path = tmp_path / "s.db"
    path.write_bytes(b"not a database" * 100)
    (tmp_path / "s.db-wal").mkdir()  # unlink refuses a folder
    with pytest.raises(MCPConfigError) as raised:
        StatsStore(path).reset()
    assert raised.value.message == f"cannot use the statistics database {path}: Is a directory"
    assert raised.value.hint == f"remove {tmp_path / 's.db-wal'} by hand"


def test_a_database_that_is_a_folder_is_refused_with_the_system_reason(tmp_path: Path) -> None:
    import pytest

    from gemma_mcp_cli.errors import MCPConfigError

    path = tmp_path / "s.db"
    path.mkdir()
    for server in (None, "one"):
        with pytest.raises(MCPConfigError) as raised:
            StatsStore(path).reset(server)
        assert raised.value.message == f"cannot use the statistics database {path}: Is a directory"
        assert raised.value.hint == "check that the state directory is writable"


def test_resetting_one_server_of_a_corrupt_database_names_the_reason(tmp_path: Path) -> None:
    import pytest

    from gemma_mcp_cli.errors import MCPConfigError

    path = tmp_path / "s.db"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(MCPConfigError) as raised:
        StatsStore(path).reset("one")
    assert raised.value.message == f"cannot use the statistics database {path}: file is not a database"


def test_a_full_disk_while_a_reset_starts_afresh_is_one_error(tmp_path: Path) -> None:
    import resource
    import signal

    import pytest

    from gemma_mcp_cli.errors import MCPConfigError

    path = tmp_path / "s.db"
    path.write_bytes(b"not a database" * 100)
    # No file of this process may grow past 0 bytes for the span of the reset: a full disk.
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, limits[1]))
    try:
        with pytest.raises(MCPConfigError) as raised:
            StatsStore(path).reset()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)
    assert raised.value.message == f"cannot use the statistics database {path}: disk I/O error"
    assert raised.value.hint == "check that the state directory is writable"
