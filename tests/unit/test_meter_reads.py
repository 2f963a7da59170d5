"""SQLite's windowed reads of pre-aggregates at the edges a live server cannot reach in a test's time: totals
beyond int64 (SQLite's SUM raises on overflow, and the read falls back to summing in two parts) and
group texts the migration of an older database may have written differently from today's. The rows are
written straight into the meter's slot (slot 0 of row set 1: the first meter of a fresh database)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal
from pathlib import Path

import pytest

from meterd.server.meters.model import Aggregation, MeterDefinition
from meterd.server.meters.service import MeterQuery, MeterService
from meterd.server.meters.windows import WindowSize
from meterd.server.store.sqlite.db import Database
from meterd.server.store.sqlite.events import SqliteEventStore
from meterd.server.store.sqlite.meters import SqliteMeterStore
from meterd.server.timeutil import to_us

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAY = 86_400_000_000


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Database, MeterService]]:
    db = Database(tmp_path / "m.db")
    store = SqliteMeterStore(db, SqliteEventStore(db))
    service = MeterService(store, lambda: T0 + timedelta(days=30), windows=store)
    service.create(
        MeterDefinition(
            slug="m", event_type="t", aggregation=Aggregation.SUM, value_property="$.v", group_by={"k": "$.k"}
        )
    )
    try:
        yield db, service
    finally:
        db.close()


def test_totals_beyond_int64_are_exact(service: tuple[Database, MeterService]) -> None:
    db, svc = service
    units = 4 * 10**18  # three of these pass 2**63 - 1
    nanos = 999_999_999

    def job(conn):  # type: ignore[no-untyped-def]
        for i in range(3):
            t = to_us(T0) + i * 3_600_000_000
            conn.execute(
                "INSERT INTO agg_sub_m (rowset, day_us, subject, time_us, groups, n0, a0, b0)"
                " VALUES (1, ?, 's', ?, '[\"a\"]', 1, ?, ?)",
                (t - t % DAY, t, units, nanos),
            )
            conn.execute(
                "INSERT INTO agg_sub_h (rowset, day_us, subject, time_us, n0, a0, b0)"
                " VALUES (1, ?, 's', ?, 1, ?, ?)",
                (t - t % DAY, t, units, nanos),
            )
            conn.execute(
                "INSERT INTO agg_all_h (rowset, time_us, groups, n0, a0, b0)"
                " VALUES (1, ?, '[\"a\"]', 1, ?, ?)",
                (t, units, nanos),
            )

    db.write(job)
    wide = Context(prec=60)
    exact = Decimal(3 * (units * 10**9 + nanos)).scaleb(-9, wide)  # 12000000000000000002.999999997
    end = T0 + timedelta(hours=23)  # read from the hour rows written above (per subject: the hour totals)
    for subjects in ((), ("s",)):
        total = svc.query(MeterQuery("m", T0, end, subjects=subjects))
        assert [r.value for r in total.rows] == [exact]
        hourly = svc.query(MeterQuery("m", T0, end, WindowSize.HOUR, subjects=subjects, group_by=("k",)))
        assert [(r.window_start, r.group_by, r.value) for r in hourly.rows] == [
            (T0 + timedelta(hours=i), {"k": "a"}, Decimal(units * 10**9 + nanos).scaleb(-9, wide))
            for i in range(3)
        ]


def test_group_texts_written_differently_are_one_group(service: tuple[Database, MeterService]) -> None:
    # The same values as today's JSON text and as another writer's (spaces, unescaped non-ASCII).
    db, svc = service

    def job(conn):  # type: ignore[no-untyped-def]
        t = to_us(T0)
        for i, text in enumerate(['["\\u00e9"]', '[ "é" ]', "[null]", "[ null ]"]):
            conn.execute(
                "INSERT INTO agg_sub_m (rowset, day_us, subject, time_us, groups, n0, a0, b0)"
                " VALUES (1, ?, 's', ?, ?, 1, ?, 0)",
                (t - t % DAY, t + i * 60_000_000, text, i + 1),
            )
            conn.execute(
                "INSERT INTO agg_all_m (rowset, time_us, groups, n0, a0, b0) VALUES (1, ?, ?, 1, ?, 0)",
                (t + i * 60_000_000, text, i + 1),
            )

    db.write(job)
    for subjects in ((), ("s",)):
        rows = svc.query(
            MeterQuery(
                "m", T0, T0 + timedelta(minutes=59), WindowSize.HOUR, subjects=subjects, group_by=("k",)
            )
        ).rows
        assert [(r.group_by, r.value) for r in rows] == [({"k": None}, Decimal(7)), ({"k": "é"}, Decimal(3))]


def test_an_overflow_after_the_first_rows_reads_the_rest_once(service: tuple[Database, MeterService]) -> None:
    # Hour 0 sums to 1, hour 1 passes int64 (three minutes of 4e18 units), hour 2 sums to 5: the overflow
    # comes after a row was already given out. Read from the minute rows (a group value is kept: the hour
    # totals, whose rows hold no more than int64 units each, are not read).
    db, svc = service
    t = to_us(T0)
    minutes = [
        (t, 1),
        *((t + 3_600_000_000 + i * 60_000_000, 4 * 10**18) for i in range(3)),
        (t + 7_200_000_000, 5),
    ]

    def job(conn):  # type: ignore[no-untyped-def]
        for time_us, units in minutes:
            conn.execute(
                "INSERT INTO agg_sub_m (rowset, day_us, subject, time_us, groups, n0, a0, b0)"
                " VALUES (1, ?, 's', ?, '[\"a\"]', 1, ?, 0)",
                (time_us - time_us % DAY, time_us, units),
            )

    db.write(job)
    rows = svc.query(
        MeterQuery("m", T0, T0 + timedelta(hours=3), WindowSize.HOUR, subjects=("s",), group_by=("k",))
    ).rows
    assert [(r.window_start, r.value) for r in rows] == [
        (T0, Decimal(1)),
        (T0 + timedelta(hours=1), Decimal(12 * 10**18)),
        (T0 + timedelta(hours=2), Decimal(5)),
    ]
