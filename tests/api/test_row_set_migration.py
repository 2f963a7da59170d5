"""SQLite's migration 0010 and PostgreSQL's 0004 (row sets) convert, in place, databases written by the code
before them: tests/data/old_layout_*.json hold every table that code's server stored for meters and events
given through its client (tests/data/write_old_layouts.py: six meters with one group path, more than a row
set holds; others with other paths or none; UNIQUE_COUNT; a meter deleted after its events, one created
after them; decimals, numbers a sum cannot keep, non-ASCII and numeric group values, LATEST ties). A server
started on the loaded tables answers every meter's queries as the brute-force reference over the stored
events, keeps aggregating new events into the converted rows, and gives a meter created afterwards a
freed or free slot without a stale value."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pgcluster import PgCluster
from reference_query import reference_query
from test_meter_row_sets import stale_values

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.server.meters.model import Aggregation, MeterDefinition
from meterd.server.store.postgres.migrations import available as pg_migrations
from meterd.server.store.sqlite.db import connect
from meterd.server.store.sqlite.migrations import _statements
from meterd.server.store.sqlite.migrations import available as sqlite_migrations

DATA = Path(__file__).resolve().parent.parent / "data"
T0 = datetime(2024, 5, 1, 22, 0, tzinfo=UTC)


def dump(backend: str) -> dict[str, Any]:
    """The old tables, those others refer to first."""
    old = json.loads((DATA / f"old_layout_{backend}.json").read_text())
    first = ("events", "meters")
    old["tables"] = dict(sorted(old["tables"].items(), key=lambda kv: (kv[0] not in first, kv[0])))
    return old  # type: ignore[no-any-return]


def load_sqlite(path: Path, old: dict[str, Any]) -> None:
    conn = connect(str(path))
    for version, _, sql in sqlite_migrations():
        if version > old["version"]:
            break
        conn.execute("BEGIN")
        for statement in _statements(sql):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    conn.execute("BEGIN")
    for table, content in old["tables"].items():
        columns = content["columns"]
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            content["rows"],
        )
    conn.execute("COMMIT")
    conn.close()


def load_postgres(url: str, old: dict[str, Any]) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for version, _, sql in pg_migrations():
            if version > old["version"]:
                break
            conn.execute(sql)  # type: ignore[arg-type]
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
        for table, content in old["tables"].items():
            columns = content["columns"]
            conn.execute(f"DELETE FROM {table}")  # type: ignore[arg-type]  # rows the schema starts with
            overriding = " OVERRIDING SYSTEM VALUE" if table == "meters" else ""
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}){overriding}"  # type: ignore[arg-type]
                    f" VALUES ({', '.join(['%s'] * len(columns))})",
                    content["rows"],
                )
        for sequence, value in old["sequences"].items():
            conn.execute("SELECT setval(%s, %s)", (sequence, value))


@pytest.fixture
def old_server(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[MeterdServer, str, dict[str, Any]]]:
    backend = request.param
    old = dump(backend)
    if backend == "sqlite":
        db = str(tmp_path / "old.db")
        load_sqlite(Path(db), old)
        cleanup = None
    else:
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        name = f"old_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(cluster.admin_url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
        db = cluster.url(name)
        load_postgres(db, old)
        cleanup = lambda: cluster.drop_database(db)  # noqa: E731
    server = MeterdServer(Config(listen="127.0.0.1:0", db=db, grace_seconds=2.0, log_format="text")).start()
    try:
        yield server, db, old
    finally:
        server.stop(0)
        if cleanup:
            cleanup()


def stored_events(old: dict[str, Any]) -> list[dict[str, Any]]:
    """The events the old server stored, in ingestion order, as the reference reads them."""
    table = old["tables"]["events"]
    rows = sorted(
        (dict(zip(table["columns"], r, strict=True)) for r in table["rows"]), key=lambda r: r["seq"]
    )
    return [
        {
            "id": r["id"],
            "source": r["source"],
            "type": r["type"],
            "subject": r["subject"],
            "time": datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=r["time_us"]),
            "data": None if r["data"] is None else json.loads(r["data"]),
        }
        for r in rows
    ]


def slots(db: str) -> dict[str, tuple[int, int]]:
    """Each meter's (row set, slot)."""
    sql = "SELECT m.slug, s.rowset, s.slot FROM meter_slots s JOIN meters m ON m.num = s.meter_num"
    if db.startswith("postgresql://"):
        with psycopg.connect(db) as pg:
            return {slug: (rowset, slot) for slug, rowset, slot in pg.execute(sql)}
    conn = sqlite3.connect(db)
    try:
        return {slug: (rowset, slot) for slug, rowset, slot in conn.execute(sql)}
    finally:
        conn.close()


def definitions(om: OpenMeter) -> list[MeterDefinition]:
    return [
        MeterDefinition(
            m.slug, m.event_type, Aggregation(m.aggregation), m.value_property or None, dict(m.group_by)
        )
        for m in om.meters.list()
    ]


def check_all(om: OpenMeter, events: list[dict[str, Any]]) -> None:
    start, end = T0, T0 + timedelta(days=2)
    for meter in definitions(om):
        first = next(iter(meter.group_by), None)
        for window, subjects, group_by in [
            (None, None, ()),
            ("HOUR", ["s1"], ()),
            ("DAY", None, (first,)),
            ("HOUR", None, ("subject", first)),
            ("MINUTE", ["s0", "s2"], (first,)),
            (None, ["s2"], ()),
            ("DAY", ["s3"], ()),
        ]:
            group_by = tuple(g for g in group_by if g is not None)
            want = reference_query(events, meter, start, end, window, "Europe/Budapest", subjects, group_by)
            reply = om.meters.query(
                meter.slug,
                from_=start,
                to=end,
                window_size=window,
                window_time_zone="Europe/Budapest",
                subject=subjects or [],
                group_by=list(group_by),
            )
            got = [(r.window_start, r.subject, dict(r.group_by), r.value) for r in reply.rows]
            assert got == [
                (w.window_start, w.subject, {k: v for k, v in w.group_by.items() if v is not None}, w.value)
                for w in want
            ], (meter.slug, window, subjects, group_by)


@pytest.mark.parametrize("old_server", ["sqlite", "postgres"], indirect=True)
def test_row_sets_convert_what_the_old_code_stored(
    old_server: tuple[MeterdServer, str, dict[str, Any]],
) -> None:
    server, db, old = old_server
    events = stored_events(old)
    with OpenMeter(server.address) as om:
        assert {m.slug for m in om.meters.list()} == {
            "tokens",
            "calls",
            "peak",
            "low",
            "mean",
            "peak_by_m",
            "by_region",
            "last",
            "users",
            "later",
        }
        # Meters of one type and group paths fill row sets of four in the order of their numbers (the sixth
        # groups by the same path under another key); UNIQUE_COUNT has no slot.
        placed = slots(db)
        first, second = placed["tokens"][0], placed["mean"][0]
        assert [placed[m] for m in ("tokens", "calls", "peak", "low", "mean", "peak_by_m")] == [
            (first, 0),
            (first, 1),
            (first, 2),
            (first, 3),
            (second, 0),
            (second, 1),
        ]
        assert len({placed[m][0] for m in ("tokens", "mean", "by_region", "last", "later")}) == 5
        assert "users" not in placed
        check_all(om, events)
        assert om.meters.subjects("tokens") == ["s0", "s1", "s2", "s3"]
        assert stale_values(db) == 0
        # New events: late ones into converted minutes and hours (a LATEST tie among them), a new subject.
        more = [
            {
                "id": "new1",
                "source": "mig",
                "type": "call",
                "subject": "s1",
                "time": events[1]["time"],
                "data": {"tokens": 11, "model": "é", "user": "u9", "where": {"region": "eu"}},
            },
            {
                "id": "new2",
                "source": "mig",
                "type": "call",
                "subject": "s9",
                "time": events[0]["time"] + timedelta(hours=5),
                "data": {"tokens": "0.5", "model": 4, "user": "u0"},
            },
            {
                "id": "new3",
                "source": "mig",
                "type": "call",
                "subject": "s0",
                "time": events[0]["time"],
                "data": {"tokens": 5, "model": "a", "user": "u0"},
            },
            {
                "id": "new4",
                "source": "mig",
                "type": "other",
                "subject": "s1",
                "time": events[-1]["time"],
                "data": {"v": "0.25", "k": "q"},
            },
        ]
        om.events.ingest(more)
        events += more
        check_all(om, events)
        assert om.meters.subjects("users") == ["s0", "s1", "s2", "s3", "s9"]
        # A meter deleted (its slot cleared) and others created after the events (backfilled into free and
        # freed slots of the converted row sets).
        om.meters.delete("calls")
        om.meters.create(
            {
                "slug": "calls_again",
                "eventType": "call",
                "aggregation": "COUNT",
                "groupBy": {"model": "$.model"},
            }
        )
        om.meters.create(
            {
                "slug": "last_by_model",
                "eventType": "call",
                "aggregation": "LATEST",
                "valueProperty": "$.tokens",
                "groupBy": {"mm": "$.model"},
            }
        )
        placed = slots(db)
        assert placed["calls_again"] == (first, 1) and placed["last_by_model"] == (
            second,
            2,
        )  # the freed slot first
        assert stale_values(db) == 0
        check_all(om, events)
