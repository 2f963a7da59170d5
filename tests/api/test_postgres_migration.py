"""PostgreSQL migrations 0002 and 0004 convert a database written in the layout of 0001 (per-subject minute
rows keyed by hour, per-subject day rows, every value column for every aggregation), as the PostgreSQL code
before them wrote it, in place: a server started on it answers every query as the brute-force reference over
the same events, and keeps aggregating new events into the converted rows."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from pgcluster import PgCluster
from test_meter_migration import METERS, check_queries, old_events

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.server.meters.model import MeterDefinition, MeterReader, ReadError
from meterd.server.meters.plan import NANOS, decimal_to_nanos
from meterd.server.store.postgres.migrations import available

MINUTE, HOUR, DAY = 60_000_000, 3_600_000_000, 86_400_000_000
VALUES = "count, sum_units, sum_nanos, min, max, latest, latest_time_us, latest_seq"


@pytest.fixture
def old_url(pg_cluster: PgCluster) -> Iterator[str]:
    """An empty database (not a copy of the migrated template)."""
    name = f"old_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_cluster.admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    url = pg_cluster.url(name)
    yield url
    pg_cluster.drop_database(url)


def write_old_database(url: str, events: list[dict[str, Any]]) -> None:
    """Schema version 1, with events, meters and aggregates as the 0001-era ingest wrote them."""
    version, _, sql = available()[0]
    assert version == 1
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute(sql)  # type: ignore[arg-type]
        conn.execute("INSERT INTO schema_version (version) VALUES (1)")
        for seq, e in enumerate(events, start=1):
            t = int(e["time"].timestamp() * 1_000_000)
            conn.execute("INSERT INTO event_keys (source, id) VALUES (%s, %s)", (e["source"], e["id"]))
            conn.execute(
                "INSERT INTO events (seq, source, id, type, subject, time_us, ingested_us, specversion,"
                " data) VALUES (%s, %s, %s, %s, %s, %s, 0, '1.0', %s)",
                (seq, e["source"], e["id"], e["type"], e["subject"], t, json.dumps(e["data"])),
            )
        conn.execute("SELECT setval('events_seq', %s)", (len(events) or 1,))
        for num, meter in enumerate(METERS, start=1):
            conn.execute(
                "INSERT INTO meters (num, id, slug, event_type, aggregation, value_property, group_by,"
                " created_us, updated_us) OVERRIDING SYSTEM VALUE VALUES (%s, %s, %s, %s, %s, %s, %s, 0, 0)",
                (
                    num,
                    f"id{num}",
                    meter.slug,
                    meter.event_type,
                    meter.aggregation.value,
                    meter.value_property,
                    json.dumps(dict(meter.group_by)),
                ),
            )
            _old_aggregates(conn, num, meter, events)
        conn.execute("SELECT setval(pg_get_serial_sequence('meters', 'num'), %s)", (len(METERS),))


def _old_aggregates(
    conn: psycopg.Connection[Any], num: int, meter: MeterDefinition, events: list[dict[str, Any]]
) -> None:
    """The 0001 layout: every value column filled for every non-distinct aggregation (the old fold kept
    count, sum, min, max and latest of every numeric reading)."""
    reader = MeterReader(meter)
    rows: dict[tuple[Any, ...], list[Any]] = {}
    distinct: set[tuple[Any, ...]] = set()
    for seq, e in enumerate(events, start=1):
        reading = reader.read(json.loads(json.dumps(e["data"]), parse_float=Decimal))
        if isinstance(reading, ReadError):
            continue
        groups = json.dumps(list(reading.groups), separators=(",", ":"))
        t = int(e["time"].timestamp() * 1_000_000)
        subject, minute = e["subject"], t - t % MINUTE
        keys = [
            ("meter_sub_m", minute - minute % HOUR, subject, minute, groups),
            ("meter_sub_d", minute - minute % DAY, subject, groups),
            *(
                (f"meter_all_{s}", minute - minute % unit, groups)
                for s, unit in (("m", MINUTE), ("h", HOUR), ("d", DAY))
            ),
        ]
        for key in keys:
            if isinstance(reading.value, str):
                distinct.add(
                    (
                        key[0].replace("_sub_", "_sub_distinct_").replace("_all_", "_all_distinct_"),
                        *key[1:],
                        reading.value,
                    )
                )
                continue
            assert isinstance(reading.value, Decimal)
            f = float(reading.value)
            acc = rows.setdefault(key, [0, 0, f, f, (t, seq, f)])
            acc[0] += 1
            acc[1] += decimal_to_nanos(reading.value)
            acc[2], acc[3] = min(acc[2], f), max(acc[3], f)
            if (t, seq) > acc[4][:2]:
                acc[4] = (t, seq, f)
    columns = {
        "meter_sub_m": "meter_num, hour_us, subject, time_us, groups",
        "meter_sub_d": "meter_num, time_us, subject, groups",
        "meter_sub_distinct_m": "meter_num, hour_us, subject, time_us, groups",
        "meter_sub_distinct_d": "meter_num, time_us, subject, groups",
    }
    for (table, *key), (count, nanos, low, high, latest) in rows.items():
        names = columns.get(table, "meter_num, time_us, groups")
        conn.execute(
            f"INSERT INTO {table} ({names}, {VALUES}) VALUES ({', '.join(['%s'] * (len(key) + 9))})",  # type: ignore[arg-type]
            (num, *key, count, nanos // NANOS, nanos % NANOS, low, high, latest[2], latest[0], latest[1]),
        )
    for table, *key, value in distinct:
        names = columns.get(table, "meter_num, time_us, groups")
        conn.execute(
            f"INSERT INTO {table} ({names}, value) VALUES ({', '.join(['%s'] * (len(key) + 2))})",  # type: ignore[arg-type]
            (num, *key, value),
        )
    subjects = {
        e["subject"]
        for e in events
        if not isinstance(reader.read(json.loads(json.dumps(e["data"]), parse_float=Decimal)), ReadError)
    }
    for subject in sorted(subjects):
        conn.execute("INSERT INTO meter_subjects (meter_num, subject) VALUES (%s, %s)", (num, subject))


def _server(url: str) -> MeterdServer:
    return MeterdServer(Config(listen="127.0.0.1:0", db=url, grace_seconds=2.0, log_format="text")).start()


def test_old_layout_is_converted_in_place(old_url: str) -> None:
    events = old_events()
    write_old_database(old_url, events)
    server = _server(old_url)
    try:
        with psycopg.connect(old_url) as conn:
            assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (available()[-1][0],)
            tables = {
                r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            }
            assert not tables & {"meter_sub_d", "meter_sub_distinct_d", "meter_sub_m", "meter_all_h"}
            # 0004: tokens (SUM) and peak (MAX) share a row set (type call, grouped by $.model), in slots 0 and
            # 1; rows keep only what each aggregation needs.
            slots = dict(conn.execute("SELECT meter_num, (rowset, slot)::text FROM meter_slots").fetchall())
            rowset = conn.execute("SELECT rowset FROM meter_slots WHERE meter_num = 1").fetchone()[0]
            assert slots[1] == f"({rowset},0)" and slots[4] == f"({rowset},1)" and 2 not in slots
            assert conn.execute(
                "SELECT count(*) FROM agg_sub_m WHERE rowset = %s AND (x0 IS NOT NULL OR"
                " a1 IS NOT NULL OR n2 IS NOT NULL)",
                (rowset,),
            ).fetchone() == (0,)
            assert conn.execute(
                "SELECT count(*) FROM agg_all_h WHERE rowset = %s AND (a1 IS NOT NULL OR b1 IS NOT NULL)",
                (rowset,),
            ).fetchone() == (0,)
            for table in ("agg_sub_m", "agg_sub_h"):
                assert conn.execute(
                    f"SELECT count(*) FROM {table} WHERE day_us != time_us - time_us %% %s",  # type: ignore[arg-type]
                    (DAY,),
                ).fetchone() == (0,)
        with OpenMeter(server.address) as om:
            check_queries(om, events)
            assert om.meters.subjects("tokens") == ["s0", "s1", "s2"]
            # New events (one late, into a converted minute and hour; one in a new subject) merge with
            # converted rows.
            more = [
                {
                    "id": "new1",
                    "source": "mig",
                    "type": "call",
                    "subject": "s1",
                    "time": events[1]["time"],
                    "data": {"tokens": 11, "model": "é", "user": "u9"},
                },
                {
                    "id": "new2",
                    "source": "mig",
                    "type": "call",
                    "subject": "s9",
                    "time": events[0]["time"] + timedelta(hours=5),
                    "data": {"tokens": "0.5", "model": 4, "user": "u0"},
                },
            ]
            om.events.ingest(more)
            check_queries(om, events + more)
            assert om.meters.subjects("users") == ["s0", "s1", "s2", "s9"]
            # Old ids stay duplicates.
            again = om.events.ingest([{**events[0], "data": {"tokens": 1}}])
            assert (again.accepted_count, again.duplicate_count) == (0, 1)
    finally:
        server.stop(0)


def test_empty_old_database_migrates(old_url: str) -> None:
    write_old_database(old_url, [])
    server = _server(old_url)
    try:
        with OpenMeter(server.address) as om:
            assert om.meters.query("tokens").rows == []
            assert om.meters.subjects("tokens") == []
    finally:
        server.stop(0)
