"""SQLite storage of meters and their pre-aggregates (see migrations/0002_meters.sql and meters/plan.py).

Ingest folds each committed batch into partial aggregates in memory, then upserts one row per
(meter, subject, groups, unit) and level, in the same transaction as the raw events: an acknowledged
event is already counted by every meter.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from meterd.server.errors import AlreadyExists, NotFound
from meterd.server.events.model import ValidEvent
from meterd.server.meters.model import Aggregation, MeterDefinition, MeterReader, ReadError, parse_event_data
from meterd.server.meters.plan import NANOS, Fetch, Level, decimal_to_nanos
from meterd.server.meters.windows import WindowSize
from meterd.server.store.sqlite.db import Database
from meterd.server.store.sqlite.events import SqliteEventStore
from meterd.server.timeutil import from_us, to_us

_SUFFIX = {Level.MINUTE: "m", Level.HOUR: "h", Level.DAY: "d"}
# Rows with this subject roll up every subject: queries that neither filter nor group by subject read
# them, so their cost follows windows x groups, not subjects. Real subjects are never empty.
ALL_SUBJECTS = ""
BACKFILL_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class StoredMeter:
    """A meter as stored: its definition plus identity and times (``num`` keys its aggregate rows)."""

    id: str
    definition: MeterDefinition
    created_at: datetime
    updated_at: datetime
    num: int = 0

    @property
    def slug(self) -> str:
        return self.definition.slug

    @property
    def event_type(self) -> str:
        return self.definition.event_type

    @property
    def aggregation(self) -> Aggregation:
        return self.definition.aggregation

    @property
    def group_by(self) -> Mapping[str, str]:
        return self.definition.group_by


@dataclass(slots=True)
class _Acc:
    count: int = 0
    nanos: int = 0
    min: float | None = None
    max: float | None = None
    latest: tuple[int, int, float] | None = None


@dataclass(frozen=True, slots=True)
class _Compiled:
    meter_num: int
    slug: str
    reader: MeterReader
    aggregation: Aggregation


def _row_to_meter(row: tuple) -> StoredMeter:  # type: ignore[type-arg]
    meter_id, slug, description, event_type, aggregation, value_property, group_by, created, updated, num, window = row
    return StoredMeter(
        id=meter_id,
        definition=MeterDefinition(
            slug=slug, event_type=event_type, aggregation=Aggregation(aggregation), value_property=value_property,
            group_by=json.loads(group_by), description=description, window_size=WindowSize(window),
        ),
        created_at=from_us(created),
        updated_at=from_us(updated),
        num=num,
    )


_COLUMNS = (
    "id, slug, description, event_type, aggregation, value_property, group_by, created_us, updated_us, num,"
    " window_size"
)
_INSERT_COLUMNS = (
    "id, slug, description, event_type, aggregation, value_property, group_by, created_us, updated_us, window_size"
)


class SqliteMeterStore:
    """Meters and their aggregates. Registers itself as an ingest listener of the event store."""

    def __init__(self, db: Database, events: SqliteEventStore) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._by_type: dict[str, list[_Compiled]] | None = None
        # (meter num, group values) -> gid of meter_groups; dropped on any rollback, since a rolled-back
        # insert's gid may be handed out again to other values.
        self._gids: dict[tuple[int, tuple[str | None, ...]], int] = {}
        events.add_ingest_listener(self._on_ingest)
        db.add_rollback_listener(self._gids.clear)

    # -- meters ------------------------------------------------------------------------------------------
    def create(self, meter_id: str, definition: MeterDefinition, now: datetime) -> StoredMeter:
        """Stores a new meter and backfills its aggregates from existing events, in one transaction."""

        def job(conn: sqlite3.Connection) -> StoredMeter:
            if conn.execute("SELECT 1 FROM meters WHERE slug = ?", (definition.slug,)).fetchone():
                raise AlreadyExists(f"meter.slug: a meter with slug {definition.slug!r} already exists")
            cursor = conn.execute(
                f"INSERT INTO meters ({_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (meter_id, definition.slug, definition.description, definition.event_type,
                 definition.aggregation.value, definition.value_property, json.dumps(dict(definition.group_by)),
                 to_us(now), to_us(now), definition.window_size.value),
            )
            num = cursor.lastrowid or 0
            self._backfill(conn, _Compiled(num, definition.slug, MeterReader(definition), definition.aggregation),
                           definition.event_type)
            self._invalidate()
            return StoredMeter(meter_id, definition, now, now, num)

        return self._db.write(job)

    def update(self, meter: StoredMeter, definition: MeterDefinition, now: datetime) -> StoredMeter:
        """Replaces a meter's definition (config-declared meters) and rebuilds its aggregates."""

        def job(conn: sqlite3.Connection) -> StoredMeter:
            self._drop_aggregates(conn, meter.num, meter.slug)
            conn.execute(
                "UPDATE meters SET description = ?, event_type = ?, aggregation = ?, value_property = ?,"
                " group_by = ?, updated_us = ?, window_size = ? WHERE id = ?",
                (definition.description, definition.event_type, definition.aggregation.value,
                 definition.value_property, json.dumps(dict(definition.group_by)), to_us(now),
                 definition.window_size.value, meter.id),
            )
            self._backfill(conn, _Compiled(meter.num, definition.slug, MeterReader(definition), definition.aggregation),
                           definition.event_type)
            self._invalidate()
            return StoredMeter(meter.id, definition, meter.created_at, now, meter.num)

        return self._db.write(job)

    def delete(self, meter: StoredMeter) -> None:
        """Deletes a meter and its aggregates and validation errors; the events stay."""

        def job(conn: sqlite3.Connection) -> None:
            self._drop_aggregates(conn, meter.num, meter.slug)
            conn.execute("DELETE FROM meters WHERE id = ?", (meter.id,))
            self._invalidate()

        self._db.write(job)

    def get(self, id_or_slug: str) -> StoredMeter:
        row = self._db.reader().execute(
            f"SELECT {_COLUMNS} FROM meters WHERE id = ? OR slug = ? LIMIT 1", (id_or_slug, id_or_slug)
        ).fetchone()
        if row is None:
            raise NotFound(f"meter {id_or_slug!r} not found")
        return _row_to_meter(row)

    def list(self, limit: int, after_slug: str | None) -> list[StoredMeter]:
        rows = self._db.reader().execute(
            f"SELECT {_COLUMNS} FROM meters WHERE slug > ? ORDER BY slug LIMIT ?", (after_slug or "", limit)
        ).fetchall()
        return [_row_to_meter(r) for r in rows]

    def subjects(self, meter: StoredMeter) -> list[str]:
        """Distinct subjects with aggregates for the meter (day level: one row per subject and day)."""
        rows = self._db.reader().execute(
            "SELECT DISTINCT subject FROM meter_agg_d WHERE meter_num = ? AND subject != ? ORDER BY subject",
            (meter.num, ALL_SUBJECTS),
        ).fetchall()
        return [r[0] for r in rows]

    def earliest(self, meter: StoredMeter) -> datetime | None:
        """The start of the earliest minute with data, or None."""
        row = self._db.reader().execute(
            "SELECT MIN(time_us) FROM meter_agg_m WHERE meter_num = ? AND subject = ?", (meter.num, ALL_SUBJECTS)
        ).fetchone()
        return from_us(row[0]) if row and row[0] is not None else None

    # -- reading aggregates -----------------------------------------------------------------------------
    def fetch(
        self, meter: StoredMeter, fetch: Fetch, *, subjects: Sequence[str], keep_subject: bool,
        keep_groups: Sequence[int], filters: Mapping[int, tuple[str, ...]],
    ) -> Iterator[tuple[int, str | None, tuple[str | None, ...], int, int, float | None, float | None,
                        tuple[int, int, float] | None, str | None]]:
        """Partial rows of one level range, grouped by unit, (subject) and the kept group values.

        Rows: (time_us, subject or None, kept group values, count, sum_nanos, min, max, latest, distinct).
        """
        s = _SUFFIX[fetch.level]
        where = ["a.meter_num = ?", "a.time_us >= ?", "a.time_us < ?"]
        params: list[object] = [meter.num, fetch.start_us, fetch.end_us]
        if subjects:
            where.append(f"a.subject IN ({','.join('?' * len(subjects))})")
            params.extend(subjects)
        elif keep_subject:
            where.append("a.subject != ?")
            params.append(ALL_SUBJECTS)
        else:
            where.append("a.subject = ?")
            params.append(ALL_SUBJECTS)
        for index, values in filters.items():
            where.append(f"json_extract(g.groups, '$[{index}]') IN ({','.join('?' * len(values))})")
            params.extend(values)
        # The group values are only looked up when a query groups or filters by them.
        join = " JOIN meter_groups g ON g.gid = a.gid" if keep_groups or filters else ""
        subject_col = "a.subject" if keep_subject else "NULL"
        group_cols = [f"json_extract(g.groups, '$[{i}]')" for i in keep_groups]
        select_keys = ", ".join(["a.time_us", subject_col, *group_cols])
        group_by = ", ".join(["a.time_us", *(["a.subject"] if keep_subject else []), *group_cols])
        conn = self._db.reader()
        width = len(group_cols)
        aggregation = meter.aggregation
        condition = " AND ".join(where)
        if aggregation is Aggregation.UNIQUE_COUNT:
            sql = f"SELECT DISTINCT {select_keys}, a.value FROM meter_distinct_{s} a{join} WHERE {condition}"
            for row in conn.execute(sql, params):
                yield row[0], row[1], tuple(row[2:2 + width]), 1, 0, None, None, None, row[2 + width]
        elif aggregation is Aggregation.LATEST:
            # One row per stored row: the latest is picked in Python by (event time, ingest seq).
            sql = (f"SELECT {select_keys}, a.count, a.latest_time_us, a.latest_seq, a.latest"
                   f" FROM meter_agg_{s} a{join} WHERE {condition}")
            for row in conn.execute(sql, params):
                count, lt, ls, lv = row[2 + width:]
                yield (row[0], row[1], tuple(row[2:2 + width]), count, 0, None, None,
                       (lt, ls, lv) if lt is not None else None, None)
        else:
            sql = (f"SELECT {select_keys}, SUM(a.count), SUM(a.sum_units), SUM(a.sum_nanos), MIN(a.min), MAX(a.max)"
                   f" FROM meter_agg_{s} a{join} WHERE {condition} GROUP BY {group_by}")
            for row in conn.execute(sql, params):
                count, units, nanos, mn, mx = row[2 + width:]
                yield row[0], row[1], tuple(row[2:2 + width]), count, units * NANOS + nanos, mn, mx, None, None

    # -- ingest ------------------------------------------------------------------------------------------
    def _invalidate(self) -> None:
        with self._lock:
            self._by_type = None

    def _meters_by_type(self, conn: sqlite3.Connection) -> dict[str, list[_Compiled]]:
        with self._lock:
            if self._by_type is None:
                by_type: dict[str, list[_Compiled]] = {}
                for row in conn.execute(f"SELECT {_COLUMNS} FROM meters"):
                    m = _row_to_meter(row)
                    by_type.setdefault(m.event_type, []).append(
                        _Compiled(m.num, m.slug, MeterReader(m.definition), m.aggregation)
                    )
                self._by_type = by_type
            return self._by_type

    def _on_ingest(self, conn: sqlite3.Connection, inserted: list[tuple[int, ValidEvent]]) -> None:
        by_type = self._meters_by_type(conn)
        if not by_type:
            return
        self._aggregate(conn, ((seq, e.type, e.subject, e.time_us, e.data) for seq, e in inserted if e.type in by_type), by_type)

    def _backfill(self, conn: sqlite3.Connection, meter: _Compiled, event_type: str) -> None:
        last = 0
        while True:
            rows = conn.execute(
                "SELECT seq, subject, time_us, data FROM events WHERE type = ? AND seq > ? ORDER BY seq LIMIT ?",
                (event_type, last, BACKFILL_CHUNK),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            self._aggregate(
                conn,
                ((seq, event_type, subject, t, data) for seq, subject, t, data in rows),
                {event_type: [meter]},
            )

    def _gid(self, conn: sqlite3.Connection, meter_num: int, groups: tuple[str | None, ...]) -> int:
        """The interned id of a meter's group tuple, created on first sight."""
        key = (meter_num, groups)
        gid = self._gids.get(key)
        if gid is None:
            text = json.dumps(list(groups), separators=(",", ":"))
            conn.execute("INSERT OR IGNORE INTO meter_groups (meter_num, groups) VALUES (?, ?)", (meter_num, text))
            gid = conn.execute("SELECT gid FROM meter_groups WHERE meter_num = ? AND groups = ?",
                               (meter_num, text)).fetchone()[0]
            if len(self._gids) > 1_000_000:
                self._gids.clear()
            self._gids[key] = gid
        return gid

    def _aggregate(
        self, conn: sqlite3.Connection, events: Iterable[tuple[int, str, str, int, object]],
        by_type: dict[str, list[_Compiled]],
    ) -> None:
        minute_accs: dict[tuple[int, str, int, int], _Acc] = {}
        distinct: set[tuple[int, str, int, int, str]] = set()
        errors: list[tuple[int, str, str]] = []
        for seq, event_type, subject, time_us, data in events:
            meters = by_type.get(event_type)
            if not meters:
                continue
            # Parsed here, once per event, only for types that have meters: exact numbers for aggregation. A
            # stored event that today's validation would refuse is skipped by every meter, with the reason.
            parsed = parse_event_data(data, time_us, subject)  # type: ignore[arg-type]
            if isinstance(parsed, ReadError):
                errors.extend((seq, m.slug, parsed.message) for m in meters)
                continue
            minute = time_us - time_us % 60_000_000
            for m in meters:
                reading = m.reader.read(parsed)  # type: ignore[arg-type]
                if isinstance(reading, ReadError):
                    errors.append((seq, m.slug, reading.message))
                    continue
                key = (m.meter_num, subject, self._gid(conn, m.meter_num, reading.groups), minute)
                acc = minute_accs.get(key)
                if acc is None:
                    acc = minute_accs[key] = _Acc()
                acc.count += 1
                value = reading.value
                if isinstance(value, Decimal):
                    acc.nanos += decimal_to_nanos(value)
                    f = float(value)
                    if acc.min is None or f < acc.min:
                        acc.min = f
                    if acc.max is None or f > acc.max:
                        acc.max = f
                    if acc.latest is None or (time_us, seq) > acc.latest[:2]:
                        acc.latest = (time_us, seq, f)
                elif isinstance(value, str):
                    distinct.add((*key, value))
        if errors:
            conn.executemany("INSERT OR REPLACE INTO event_errors (event_seq, meter_slug, message) VALUES (?, ?, ?)",
                             errors)
            conn.executemany("UPDATE events SET has_error = 1 WHERE seq = ?", [(e[0],) for e in errors])
        if not minute_accs:
            return
        for level in Level:
            level_accs = _roll_up(minute_accs, level)
            _upsert(conn, _SUFFIX[level], level_accs)
            if distinct:
                rows = {(num, sub, g, t - t % level.value, v) for num, sub, g, t, v in distinct}
                rows |= {(num, ALL_SUBJECTS, g, t, v) for num, _, g, t, v in rows}
                conn.executemany(
                    f"INSERT OR IGNORE INTO meter_distinct_{_SUFFIX[level]} (meter_num, subject, gid, time_us, value)"
                    " VALUES (?, ?, ?, ?, ?)",
                    rows,
                )

    def _drop_aggregates(self, conn: sqlite3.Connection, meter_num: int, slug: str) -> None:
        for s in _SUFFIX.values():
            conn.execute(f"DELETE FROM meter_agg_{s} WHERE meter_num = ?", (meter_num,))
            conn.execute(f"DELETE FROM meter_distinct_{s} WHERE meter_num = ?", (meter_num,))
        conn.execute("DELETE FROM meter_groups WHERE meter_num = ?", (meter_num,))
        self._gids.clear()
        conn.execute(
            "UPDATE events SET has_error = 0 WHERE seq IN (SELECT event_seq FROM event_errors WHERE meter_slug = ?)"
            " AND NOT EXISTS (SELECT 1 FROM event_errors e WHERE e.event_seq = events.seq AND e.meter_slug != ?)",
            (slug, slug),
        )
        conn.execute("DELETE FROM event_errors WHERE meter_slug = ?", (slug,))


def _roll_up(minute_accs: dict[tuple[int, str, int, int], _Acc], level: Level) -> dict[tuple[int, str, int, int], _Acc]:
    """The level's rows for a batch: per subject, and per group across all subjects (ALL_SUBJECTS)."""
    out: dict[tuple[int, str, int, int], _Acc] = {}
    unit = level.value
    for (mid, sub, g, t), a in minute_accs.items():
        _fold(out, (mid, sub, g, t - t % unit), a)
        _fold(out, (mid, ALL_SUBJECTS, g, t - t % unit), a)
    return out


def _fold(out: dict[tuple[int, str, int, int], _Acc], key: tuple[int, str, int, int], a: _Acc) -> None:
    b = out.get(key)
    if b is None:
        out[key] = _Acc(a.count, a.nanos, a.min, a.max, a.latest)
    else:
        b.count += a.count
        b.nanos += a.nanos
        if a.min is not None and (b.min is None or a.min < b.min):
            b.min = a.min
        if a.max is not None and (b.max is None or a.max > b.max):
            b.max = a.max
        if a.latest is not None and (b.latest is None or a.latest[:2] > b.latest[:2]):
            b.latest = a.latest


def _upsert(conn: sqlite3.Connection, s: str, accs: dict[tuple[int, str, int, int], _Acc]) -> None:
    conn.executemany(
        f"INSERT INTO meter_agg_{s} (meter_num, subject, gid, time_us, count, sum_units, sum_nanos, min, max,"
        " latest, latest_time_us, latest_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (meter_num, subject, time_us, gid) DO UPDATE SET"
        " count = count + excluded.count,"
        " sum_units = sum_units + excluded.sum_units,"
        " sum_nanos = sum_nanos + excluded.sum_nanos,"
        " min = CASE WHEN min IS NULL OR excluded.min < min THEN excluded.min ELSE min END,"
        " max = CASE WHEN max IS NULL OR excluded.max > max THEN excluded.max ELSE max END,"
        " latest = CASE WHEN latest_time_us IS NULL OR (excluded.latest_time_us, excluded.latest_seq)"
        "   > (latest_time_us, latest_seq) THEN excluded.latest ELSE latest END,"
        " latest_seq = CASE WHEN latest_time_us IS NULL OR (excluded.latest_time_us, excluded.latest_seq)"
        "   > (latest_time_us, latest_seq) THEN excluded.latest_seq ELSE latest_seq END,"
        " latest_time_us = CASE WHEN latest_time_us IS NULL OR (excluded.latest_time_us, excluded.latest_seq)"
        "   > (latest_time_us, latest_seq) THEN excluded.latest_time_us ELSE latest_time_us END",
        [
            (mid, sub, g, t, a.count, a.nanos // NANOS, a.nanos % NANOS, a.min, a.max,
             a.latest[2] if a.latest else None, a.latest[0] if a.latest else None, a.latest[1] if a.latest else None)
            for (mid, sub, g, t), a in accs.items()
        ],
    )
