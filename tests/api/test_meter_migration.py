"""Migration 0008 converts a database written in the layout of migration 0002 (subject-first aggregate
rows at minute, hour and day per subject and for all subjects, group tuples interned in meter_groups) in
place: a server started on it answers every query as the brute-force reference over the same events, and
keeps aggregating new events into the converted rows."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from reference_query import reference_query

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.server.meters.model import Aggregation, MeterDefinition, MeterReader, ReadError
from meterd.server.meters.plan import NANOS, decimal_to_nanos
from meterd.server.store.sqlite.db import connect
from meterd.server.store.sqlite.migrations import _statements, available

T0 = datetime(2024, 5, 1, 22, 50, tzinfo=UTC)
OLD_VERSION = 5  # the schema before issue 12 (0006 and 0007 belong to other changes)
METERS = [
    MeterDefinition("tokens", "call", Aggregation.SUM, "$.tokens", {"model": "$.model"}),
    MeterDefinition("users", "call", Aggregation.UNIQUE_COUNT, "$.user", {"model": "$.model"}),
    MeterDefinition("last", "call", Aggregation.LATEST, "$.tokens", {}),
    MeterDefinition("peak", "call", Aggregation.MAX, "$.tokens", {"model": "$.model"}),
]


def old_events() -> list[dict[str, Any]]:
    out = []
    for i in range(60):
        data = {
            "tokens": [3, "2.5", 7, 0.125, "x"][i % 5],
            "model": ["a", "é", 4][i % 3],
            "user": f"u{i % 4}",
        }
        out.append(
            {
                "id": f"old{i}",
                "source": "mig",
                "type": "call",
                "subject": f"s{i % 3}",
                "time": T0 + timedelta(minutes=i * 7, seconds=i % 50),
                "data": data,
            }
        )
    return out


def write_old_database(path: Path, events: list[dict[str, Any]]) -> None:
    """Schema version 5, with events and meters, and aggregates as the code of that version wrote them."""
    conn = connect(str(path))
    for version, _name, sql in available():
        if version > OLD_VERSION:
            break
        conn.execute("BEGIN")
        for statement in _statements(sql):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    conn.execute("BEGIN")
    for seq, e in enumerate(events, start=1):
        t = int(e["time"].timestamp() * 1_000_000)
        conn.execute(
            "INSERT INTO events (seq, source, id, type, subject, time_us, ingested_us, specversion, data)"
            " VALUES (?, ?, ?, ?, ?, ?, 0, '1.0', ?)",
            (seq, e["source"], e["id"], e["type"], e["subject"], t, json.dumps(e["data"])),
        )
    for num, meter in enumerate(METERS, start=1):
        conn.execute(
            "INSERT INTO meters (num, id, slug, event_type, aggregation, value_property, group_by,"
            " created_us, updated_us) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)",
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
    conn.execute("COMMIT")
    conn.close()


def _old_aggregates(
    conn: sqlite3.Connection, num: int, meter: MeterDefinition, events: list[dict[str, Any]]
) -> None:
    """The 0002 layout: rows per (meter, subject, minute/hour/day, gid) for each subject and for '' (all)."""
    reader = MeterReader(meter)
    rows: dict[tuple[str, str, int, int], list[Any]] = {}
    distinct: set[tuple[str, str, int, int, str]] = set()
    for seq, e in enumerate(events, start=1):
        reading = reader.read(json.loads(json.dumps(e["data"]), parse_float=Decimal))
        if isinstance(reading, ReadError):
            continue
        text = json.dumps(list(reading.groups), separators=(",", ":"))
        gid = conn.execute(
            "SELECT gid FROM meter_groups WHERE meter_num = ? AND groups = ?", (num, text)
        ).fetchone()
        if gid is None:
            gid = (
                conn.execute(
                    "INSERT INTO meter_groups (meter_num, groups) VALUES (?, ?)", (num, text)
                ).lastrowid,
            )
        t = int(e["time"].timestamp() * 1_000_000)
        for suffix, unit in (("m", 60_000_000), ("h", 3_600_000_000), ("d", 86_400_000_000)):
            for subject in (e["subject"], ""):
                key = (suffix, subject, t - t % unit, gid[0])
                if isinstance(reading.value, str):
                    distinct.add((*key, reading.value))
                    continue
                acc = rows.setdefault(key, [0, 0, None, None, None])
                acc[0] += 1
                if isinstance(reading.value, Decimal):
                    f = float(reading.value)
                    acc[1] += decimal_to_nanos(reading.value)
                    acc[2] = f if acc[2] is None else min(acc[2], f)
                    acc[3] = f if acc[3] is None else max(acc[3], f)
                    if acc[4] is None or (t, seq) > acc[4][:2]:
                        acc[4] = (t, seq, f)
    for (suffix, subject, t, gid), (count, nanos, low, high, latest) in rows.items():
        conn.execute(
            f"INSERT INTO meter_agg_{suffix} (meter_num, subject, time_us, gid, count, sum_units,"
            " sum_nanos, min, max, latest, latest_time_us, latest_seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                num,
                subject,
                t,
                gid,
                count,
                nanos // NANOS,
                nanos % NANOS,
                low,
                high,
                *((latest[2], latest[0], latest[1]) if latest else (None, None, None)),
            ),
        )
    for suffix, subject, t, gid, value in distinct:
        conn.execute(
            f"INSERT INTO meter_distinct_{suffix} (meter_num, subject, time_us, gid, value)"
            " VALUES (?, ?, ?, ?, ?)",
            (num, subject, t, gid, value),
        )


def check_queries(om: OpenMeter, events: list[dict[str, Any]]) -> None:
    start, end = T0.replace(minute=0), T0.replace(minute=0) + timedelta(days=2)
    for meter in METERS:
        for window, subjects, group_by in [
            (None, None, ()),
            ("HOUR", ["s1"], ()),
            ("DAY", None, ("model",)),
            ("HOUR", None, ("subject", "model")),
            ("MINUTE", ["s0", "s2"], ("model",)),
            (None, ["s2"], ()),
        ]:
            group_by = tuple(g for g in group_by if g == "subject" or g in meter.group_by)
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


def test_old_layout_is_converted_in_place(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    events = old_events()
    write_old_database(db, events)
    config = Config()
    config.listen, config.db = "127.0.0.1:0", str(db)
    server = MeterdServer(config).start()
    try:
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == available()[-1][0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert not tables & {"meter_agg_m", "meter_groups", "meter_distinct_d"}
        conn.close()
        with OpenMeter(server.address) as om:
            check_queries(om, events)
            assert om.meters.subjects("tokens") == ["s0", "s1", "s2"]
            # New events (one late, into a converted hour; one in a new subject) merge with converted rows.
            more = [
                {
                    "id": "new1",
                    "source": "mig",
                    "type": "call",
                    "subject": "s1",
                    "time": T0 + timedelta(minutes=14),
                    "data": {"tokens": 11, "model": "é", "user": "u9"},
                },
                {
                    "id": "new2",
                    "source": "mig",
                    "type": "call",
                    "subject": "s9",
                    "time": T0 + timedelta(hours=5),
                    "data": {"tokens": "0.5", "model": 4, "user": "u0"},
                },
            ]
            om.events.ingest(more)
            check_queries(om, events + more)
            assert om.meters.subjects("users") == ["s0", "s1", "s2", "s9"]
    finally:
        server.stop(0)


@pytest.mark.parametrize("n", [0])
def test_empty_old_database_migrates(tmp_path: Path, n: int) -> None:
    db = tmp_path / "empty.db"
    write_old_database(db, old_events()[:n])
    config = Config()
    config.listen, config.db = "127.0.0.1:0", str(db)
    server = MeterdServer(config).start()
    try:
        with OpenMeter(server.address) as om:
            assert om.meters.query("tokens").rows == []
            assert om.meters.subjects("tokens") == []
    finally:
        server.stop(0)
