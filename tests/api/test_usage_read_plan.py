"""A usage read of one subject (each segment of a balance replay makes one) seeks that subject's rows in the
aggregate tables, range by range: it never scans the row set, whatever the tables' size or statistics. SQLite's
planner, left to itself, put the ranges inside a scan of every row of the row set on a small database without
statistics: a year's replay of an entitlement with 50 grants over 8,760 hourly events took 16 s instead of
under half a second."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config

START = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def traced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[MeterdServer, list[str], Path]]:
    statements: list[str] = []
    connect = sqlite3.connect

    def traced_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", traced_connect)
    db = tmp_path / "m.db"
    server = MeterdServer(Config(listen="127.0.0.1:0", db=str(db))).start()
    try:
        yield server, statements, db
    finally:
        server.stop(0)


def test_a_usage_read_seeks_the_subject_range_by_range(traced: tuple[MeterdServer, list[str], Path]) -> None:
    server, statements, db = traced
    with OpenMeter(server.address) as om:
        om.meters.create({"slug": "tokens", "eventType": "t", "aggregation": "SUM", "valueProperty": "$.n"})
        om.events.ingest(
            [
                {
                    "id": f"e{i}",
                    "source": "test",
                    "type": "t",
                    "subject": f"s{i % 3}",
                    "time": START + timedelta(hours=i),
                    "data": {"n": 1},
                }
                for i in range(24 * 20)
            ]
        )
    for span, expected in ((timedelta(hours=5), 2), (timedelta(days=7), 56)):
        statements.clear()
        usage = server.services.meters.usage(
            "tokens", "s1", {}, START + timedelta(minutes=30), START + timedelta(minutes=30) + span
        )
        assert usage == expected  # hours 1, 4, 7, ... of s1 in the span
        reads = [s for s in statements if "agg_sub_" in s]
        assert reads, statements
        with sqlite3.connect(db) as conn:
            for sql in reads:
                plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
                searches = [p for p in plan if p.startswith(("SEARCH a", "SCAN a"))]
                assert searches and all("subject=?" in p and "time_us>?" in p for p in searches), plan
