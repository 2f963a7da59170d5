"""PostgreSQL storage of meters and their pre-aggregates, shared by every replica.

The layout is issue 12's (see migrations/0001_schema.sql): per-subject minute rows keyed (meter, hour,
subject, minute, groups) and per-subject day rows; rows of all subjects per minute, hour and day; exact sums
in two integers; LATEST by (event time, ingest seq). What this store adds is concurrency between replicas:

- Each replica caches the meters by event type, checked against ``meters_version`` (bumped by every create,
  update and delete) at the start of each ingest transaction, so a meter created on replica A aggregates
  the next batch ingested on B.
- A meter change takes ``LOCK_METERS`` exclusive (ingest holds it shared), so its backfill sees every event
  committed without it, and no ingest commits with the old set of meters after it.
- A batch is folded in Python, then each table gets one ``INSERT ... SELECT FROM unnest(...) ORDER BY key ON
  CONFLICT DO UPDATE``: concurrent transactions lock shared rows (the all-subject minute of "now") in one
  global order, so replicas ingesting at once wait for each other instead of deadlocking, and no update is
  lost (the merge reads the committed row under its lock).
- Subjects seen are cached only once committed by an earlier transaction (one this transaction inserted
  could vanish with its rollback).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from meterd.server.errors import AlreadyExists, NotFound
from meterd.server.events.model import ValidEvent
from meterd.server.meters.model import Aggregation, MeterDefinition, MeterReader, ReadError, parse_event_data
from meterd.server.meters.plan import NANOS, Fetch, Level, decimal_to_nanos
from meterd.server.meters.windows import WindowSize
from meterd.server.store.postgres.db import LOCK_METERS, Conn, Database
from meterd.server.store.postgres.events import PgEventStore
from meterd.server.timeutil import from_us, to_us

MINUTE_US = 60_000_000
HOUR_US = 3_600_000_000
DAY_US = 86_400_000_000
BACKFILL_CHUNK = 5000
_SUFFIX = {Level.MINUTE: "m", Level.HOUR: "h", Level.DAY: "d"}


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


@dataclass(frozen=True, slots=True)
class _Compiled:
    meter_num: int
    slug: str
    reader: MeterReader
    aggregation: Aggregation


@dataclass(slots=True)
class _Acc:
    count: int = 0
    nanos: int | None = None
    min: float | None = None
    max: float | None = None
    latest: tuple[int, int, float] | None = None

    def add(self, other: _Acc) -> None:
        self.count += other.count
        if other.nanos is not None:
            self.nanos = other.nanos if self.nanos is None else self.nanos + other.nanos
        if other.min is not None and (self.min is None or other.min < self.min):
            self.min = other.min
        if other.max is not None and (self.max is None or other.max > self.max):
            self.max = other.max
        if other.latest is not None and (self.latest is None or other.latest[:2] > self.latest[:2]):
            self.latest = other.latest


_COLUMNS = (
    "id, slug, description, event_type, aggregation, value_property, group_by, created_us, updated_us, num,"
    " window_size"
)
_INSERT_COLUMNS = (
    "id, slug, description, event_type, aggregation, value_property, group_by, created_us, updated_us, window_size"
)


def _row_to_meter(row: tuple[Any, ...]) -> StoredMeter:
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


_VALUE_TYPES = "%b::bigint[], %b::bigint[], %b::bigint[], %b::float8[], %b::float8[], %b::float8[], %b::bigint[], %b::bigint[]"
_VALUE_COLUMNS = "count, sum_units, sum_nanos, min, max, latest, latest_time_us, latest_seq"
_NEWER = ("excluded.latest_time_us IS NOT NULL AND (a.latest_time_us IS NULL OR"
          " (excluded.latest_time_us, excluded.latest_seq) > (a.latest_time_us, a.latest_seq))")
_MERGE = (
    " count = a.count + excluded.count,"
    " sum_units = a.sum_units + excluded.sum_units,"
    " sum_nanos = a.sum_nanos + excluded.sum_nanos,"
    " min = CASE WHEN a.min IS NULL OR excluded.min < a.min THEN excluded.min ELSE a.min END,"
    " max = CASE WHEN a.max IS NULL OR excluded.max > a.max THEN excluded.max ELSE a.max END,"
    f" latest = CASE WHEN {_NEWER} THEN excluded.latest ELSE a.latest END,"
    f" latest_seq = CASE WHEN {_NEWER} THEN excluded.latest_seq ELSE a.latest_seq END,"
    f" latest_time_us = CASE WHEN {_NEWER} THEN excluded.latest_time_us ELSE a.latest_time_us END"
)


def _upsert(table: str, key: str, key_types: str) -> str:
    width = len(key.split(","))
    order = ", ".join(str(i + 1) for i in range(width))
    return (f"INSERT INTO {table} AS a ({key}, {_VALUE_COLUMNS}) SELECT * FROM unnest({key_types}, {_VALUE_TYPES})"
            f" ORDER BY {order} ON CONFLICT ({key}) DO UPDATE SET{_MERGE}")


def _insert_distinct(table: str, key: str, key_types: str) -> str:
    width = len(key.split(",")) + 1
    order = ", ".join(str(i + 1) for i in range(width))
    return (f"INSERT INTO {table} ({key}, value) SELECT * FROM unnest({key_types}, %b::text[])"
            f" ORDER BY {order} ON CONFLICT DO NOTHING")


_SUB_M_KEY = ("meter_num, hour_us, subject, time_us, groups", "%b::bigint[], %b::bigint[], %b::text[], %b::bigint[], %b::text[]")
_SUB_D_KEY = ("meter_num, time_us, subject, groups", "%b::bigint[], %b::bigint[], %b::text[], %b::text[]")
_ALL_KEY = ("meter_num, time_us, groups", "%b::bigint[], %b::bigint[], %b::text[]")
_UPSERT_SUB_M = _upsert("meter_sub_m", *_SUB_M_KEY)
_UPSERT_SUB_D = _upsert("meter_sub_d", *_SUB_D_KEY)
_UPSERT_ALL = {level: _upsert(f"meter_all_{s}", *_ALL_KEY) for level, s in _SUFFIX.items()}
_DISTINCT_SUB_M = _insert_distinct("meter_sub_distinct_m", *_SUB_M_KEY)
_DISTINCT_SUB_D = _insert_distinct("meter_sub_distinct_d", *_SUB_D_KEY)
_DISTINCT_ALL = {level: _insert_distinct(f"meter_all_distinct_{s}", *_ALL_KEY) for level, s in _SUFFIX.items()}
_SUBJECTS = (
    "INSERT INTO meter_subjects (meter_num, subject) SELECT * FROM unnest(%b::bigint[], %b::text[])"
    " ORDER BY 1, 2 ON CONFLICT DO NOTHING RETURNING meter_num, subject"
)
_AGG_TABLES = ("meter_sub_m", "meter_sub_d", "meter_sub_distinct_m", "meter_sub_distinct_d", "meter_subjects",
               *(f"meter_all_{s}" for s in _SUFFIX.values()), *(f"meter_all_distinct_{s}" for s in _SUFFIX.values()))


def _columns(rows: Iterable[tuple[Any, ...]], width: int) -> list[list[Any]]:
    cols: list[list[Any]] = [[] for _ in range(width)]
    for row in rows:
        for col, value in zip(cols, row, strict=True):
            col.append(value)
    return cols


def _values(a: _Acc) -> tuple[Any, ...]:
    latest = a.latest
    return (a.count, None if a.nanos is None else a.nanos // NANOS, None if a.nanos is None else a.nanos % NANOS,
            a.min, a.max, latest[2] if latest else None, latest[0] if latest else None, latest[1] if latest else None)


class PgMeterStore:
    """Meters and their aggregates in PostgreSQL. Registers itself as an ingest listener of the event store."""

    def __init__(self, db: Database, events: PgEventStore) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._by_type: dict[str, list[_Compiled]] | None = None
        self._version = -1
        self._known_subjects: set[tuple[int, str]] = set()
        self._group_texts: dict[tuple[str | None, ...], str] = {}
        events.add_ingest_listener(self._on_ingest)

    # -- meters ------------------------------------------------------------------------------------------
    @staticmethod
    def _lock_meters(conn: Conn) -> None:
        conn.native("SELECT pg_advisory_xact_lock(%s)", (LOCK_METERS,))
        conn.native("UPDATE meters_version SET version = version + 1 WHERE one = 1")

    def create(self, meter_id: str, definition: MeterDefinition, now: datetime) -> StoredMeter:
        """Stores a new meter and backfills its aggregates from existing events, in one transaction."""

        def job(conn: Conn) -> StoredMeter:
            self._lock_meters(conn)
            if conn.native("SELECT 1 FROM meters WHERE slug = %s", (definition.slug,)).fetchone():
                raise AlreadyExists(f"meter.slug: a meter with slug {definition.slug!r} already exists")
            num = conn.native(
                f"INSERT INTO meters ({_INSERT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " RETURNING num",
                (meter_id, definition.slug, definition.description, definition.event_type,
                 definition.aggregation.value, definition.value_property, json.dumps(dict(definition.group_by)),
                 to_us(now), to_us(now), definition.window_size.value),
            ).fetchone()[0]
            self._backfill(conn, _Compiled(num, definition.slug, MeterReader(definition), definition.aggregation),
                           definition.event_type)
            return StoredMeter(meter_id, definition, now, now, num)

        return self._db.write(job)

    def update(self, meter: StoredMeter, definition: MeterDefinition, now: datetime) -> StoredMeter:
        """Replaces a meter's definition (config-declared meters) and rebuilds its aggregates. When another
        replica stored the same definition first, it is left as it is."""

        def job(conn: Conn) -> StoredMeter:
            self._lock_meters(conn)
            row = conn.native(f"SELECT {_COLUMNS} FROM meters WHERE id = %s", (meter.id,)).fetchone()
            if row is None:
                raise NotFound(f"meter {meter.slug!r} not found")
            current = _row_to_meter(row)
            if current.definition == definition:
                return current
            self._drop_aggregates(conn, meter.num, meter.slug)
            conn.native(
                "UPDATE meters SET description = %s, event_type = %s, aggregation = %s, value_property = %s,"
                " group_by = %s, updated_us = %s, window_size = %s WHERE id = %s",
                (definition.description, definition.event_type, definition.aggregation.value,
                 definition.value_property, json.dumps(dict(definition.group_by)), to_us(now),
                 definition.window_size.value, meter.id),
            )
            self._backfill(conn, _Compiled(meter.num, definition.slug, MeterReader(definition),
                                           definition.aggregation), definition.event_type)
            return StoredMeter(meter.id, definition, current.created_at, now, meter.num)

        return self._db.write(job)

    def delete(self, meter: StoredMeter) -> None:
        """Deletes a meter and its aggregates and validation errors; the events stay."""

        def job(conn: Conn) -> None:
            self._lock_meters(conn)
            self._drop_aggregates(conn, meter.num, meter.slug)
            conn.native("DELETE FROM meters WHERE id = %s", (meter.id,))

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
        """Distinct subjects with aggregates for the meter."""
        rows = self._db.reader().execute(
            "SELECT subject FROM meter_subjects WHERE meter_num = ? ORDER BY subject", (meter.num,)
        ).fetchall()
        return [r[0] for r in rows]

    def earliest(self, meter: StoredMeter) -> datetime | None:
        """The start of the earliest minute with data, or None."""
        table = "meter_all_distinct_m" if meter.aggregation is Aggregation.UNIQUE_COUNT else "meter_all_m"
        row = self._db.reader().execute(f"SELECT MIN(time_us) FROM {table} WHERE meter_num = ?",
                                        (meter.num,)).fetchone()
        return from_us(row[0]) if row and row[0] is not None else None

    # -- reading aggregates -----------------------------------------------------------------------------
    def fetch(
        self, meter: StoredMeter, fetch: Fetch, *, subjects: Sequence[str], keep_subject: bool,
        keep_groups: Sequence[int], filters: Mapping[int, tuple[str, ...]],
    ) -> Iterator[tuple[int, str | None, tuple[str | None, ...], int, int, float | None, float | None,
                        tuple[int, int, float] | None, str | None]]:
        """Partial rows of one level range, grouped by unit, (subject) and the kept group values.

        Rows: (time_us, subject or None, kept group values, count, sum_nanos, min, max, latest, distinct).
        Queries that neither filter nor group by subject read the all-subject rows of the fetch's level; the
        others read per-subject day rows (day level) or minute rows grouped into the level's units.
        ``filters``: group index -> the values it may have (a row matches any of them).
        """
        unit = fetch.level.value
        per_subject = bool(subjects) or keep_subject
        distinct = meter.aggregation is Aggregation.UNIQUE_COUNT
        params: list[object] = [meter.num]
        if per_subject and fetch.level is Level.DAY:
            table = "meter_sub_distinct_d" if distinct else "meter_sub_d"
            where = ["a.meter_num = %s"]
            if subjects:
                where += ["a.time_us = ANY(%s)", "a.subject = ANY(%s)"]
                params += [list(range(fetch.start_us, fetch.end_us, DAY_US)), list(subjects)]
            where += ["a.time_us >= %s", "a.time_us < %s"]
            time_col = "a.time_us"
        elif per_subject:
            table = "meter_sub_distinct_m" if distinct else "meter_sub_m"
            first = fetch.start_us - fetch.start_us % HOUR_US
            if subjects:
                # One seek per (hour, subject).
                where = ["a.meter_num = %s", "a.hour_us = ANY(%s)", "a.subject = ANY(%s)"]
                params += [list(range(first, fetch.end_us, HOUR_US)), list(subjects)]
            else:
                where = ["a.meter_num = %s", "a.hour_us >= %s", "a.hour_us < %s"]
                params += [first, fetch.end_us]
            where += ["a.time_us >= %s", "a.time_us < %s"]
            time_col = "a.time_us" if unit == MINUTE_US else f"a.time_us - a.time_us %% {int(unit)}"
        else:
            table = f"meter_all_distinct_{_SUFFIX[fetch.level]}" if distinct else f"meter_all_{_SUFFIX[fetch.level]}"
            where = ["a.meter_num = %s", "a.time_us >= %s", "a.time_us < %s"]
            time_col = "a.time_us"
        params += [fetch.start_us, fetch.end_us]
        for index, value in filters.items():
            values = [value] if isinstance(value, str) else list(value)
            where.append(f"(a.groups::jsonb ->> {int(index)}) = ANY(%s)")
            params.append(values)
        subject_col = "a.subject" if keep_subject else "NULL::text"
        group_cols = [f"(a.groups::jsonb ->> {int(i)})" for i in keep_groups]
        select_keys = ", ".join([f"{time_col} AS t", subject_col, *group_cols])
        group_by = ", ".join(["1", *(["a.subject"] if keep_subject else []), *group_cols])
        width = len(group_cols)
        condition = " AND ".join(where)
        aggregation = meter.aggregation
        if distinct:
            sql = f"SELECT DISTINCT {select_keys}, a.value FROM {table} a WHERE {condition}"
            for row in self._query(sql, params):
                yield row[0], row[1], tuple(row[2:2 + width]), 1, 0, None, None, None, row[2 + width]
        elif aggregation is Aggregation.LATEST:
            sql = (f"SELECT {select_keys}, a.count, a.latest_time_us, a.latest_seq, a.latest"
                   f" FROM {table} a WHERE {condition}")
            for row in self._query(sql, params):
                count, lt, ls, lv = row[2 + width:]
                yield (row[0], row[1], tuple(row[2:2 + width]), count, 0, None, None,
                       (lt, ls, lv) if lt is not None else None, None)
        else:
            sql = (f"SELECT {select_keys}, SUM(a.count)::bigint, SUM(a.sum_units), SUM(a.sum_nanos), MIN(a.min),"
                   f" MAX(a.max) FROM {table} a WHERE {condition} GROUP BY {group_by}")
            for row in self._query(sql, params):
                count, units, nanos, mn, mx = row[2 + width:]
                yield (row[0], row[1], tuple(row[2:2 + width]), count, int(units or 0) * NANOS + int(nanos or 0),
                       mn, mx, None, None)

    def _query(self, sql: str, params: list[object]) -> list[tuple[Any, ...]]:
        with self._db.connection() as raw:
            return raw.execute(sql, params).fetchall()  # type: ignore[no-any-return]

    # -- ingest ------------------------------------------------------------------------------------------
    def _meters_by_type(self, conn: Conn) -> dict[str, list[_Compiled]]:
        """The meters by event type, reloaded when another transaction (on any replica) changed them."""
        version = conn.native("SELECT version FROM meters_version WHERE one = 1").fetchone()[0]
        with self._lock:
            if self._by_type is None or version != self._version:
                by_type: dict[str, list[_Compiled]] = {}
                for row in conn.native(f"SELECT {_COLUMNS} FROM meters"):
                    m = _row_to_meter(row)
                    by_type.setdefault(m.event_type, []).append(
                        _Compiled(m.num, m.slug, MeterReader(m.definition), m.aggregation)
                    )
                self._by_type = by_type
                self._version = version
                self._known_subjects = set()
            return self._by_type

    def _on_ingest(self, conn: Conn, inserted: list[tuple[int, ValidEvent]]) -> None:
        by_type = self._meters_by_type(conn)
        if not by_type:
            return
        self._aggregate(conn, ((seq, e.type, e.subject, e.time_us, e.data) for seq, e in inserted
                               if e.type in by_type), by_type)

    def _backfill(self, conn: Conn, meter: _Compiled, event_type: str) -> None:
        last = 0
        while True:
            rows = conn.native(
                "SELECT seq, subject, time_us, data FROM events WHERE type = %s AND seq > %s ORDER BY seq LIMIT %s",
                (event_type, last, BACKFILL_CHUNK),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            self._aggregate(conn, ((seq, event_type, subject, t, data) for seq, subject, t, data in rows),
                            {event_type: [meter]})

    def _group_text(self, groups: tuple[str | None, ...]) -> str:
        text = self._group_texts.get(groups)
        if text is None:
            text = json.dumps(list(groups), separators=(",", ":"))
            if len(self._group_texts) > 100_000:
                self._group_texts = {}
            self._group_texts[groups] = text
        return text

    def _aggregate(self, conn: Conn, events: Iterable[tuple[int, str, str, int, str | None]],
                   by_type: Mapping[str, list[_Compiled]]) -> None:
        minute_accs: dict[tuple[int, str, str, int], _Acc] = {}
        distinct: set[tuple[int, str, str, int, str]] = set()
        errors: list[tuple[int, str, str]] = []
        for seq, event_type, subject, time_us, data in events:
            meters = by_type.get(event_type)
            if not meters:
                continue
            # A stored event that today's validation would refuse is skipped by every meter, with the reason.
            parsed = parse_event_data(data, time_us, subject)  # type: ignore[arg-type]
            if isinstance(parsed, ReadError):
                errors.extend((seq, m.slug, parsed.message) for m in meters)
                continue
            minute = time_us - time_us % MINUTE_US
            for m in meters:
                reading = m.reader.read(parsed)  # type: ignore[arg-type]
                if isinstance(reading, ReadError):
                    errors.append((seq, m.slug, reading.message))
                    continue
                key = (m.meter_num, subject, self._group_text(reading.groups), minute)
                value = reading.value
                if isinstance(value, str):
                    distinct.add((*key, value))
                    continue
                acc = minute_accs.get(key)
                if acc is None:
                    acc = minute_accs[key] = _Acc()
                acc.count += 1
                if isinstance(value, Decimal):
                    f = float(value)
                    acc.nanos = decimal_to_nanos(value) + (acc.nanos or 0)
                    if acc.min is None or f < acc.min:
                        acc.min = f
                    if acc.max is None or f > acc.max:
                        acc.max = f
                    if acc.latest is None or (time_us, seq) > acc.latest[:2]:
                        acc.latest = (time_us, seq, f)
        if errors:
            errors.sort()
            conn.native(
                "INSERT INTO event_errors (event_seq, meter_slug, message)"
                " SELECT * FROM unnest(%b::bigint[], %b::text[], %b::text[]) ORDER BY 1, 2"
                " ON CONFLICT (event_seq, meter_slug) DO UPDATE SET message = excluded.message",
                _columns(errors, 3))
            conn.native("UPDATE events SET has_error = 1 WHERE seq = ANY(%s)", (sorted({e[0] for e in errors}),))
        self._write(conn, minute_accs, distinct)

    def _write(self, conn: Conn, minute_accs: dict[tuple[int, str, str, int], _Acc],
               distinct: set[tuple[int, str, str, int, str]]) -> None:
        """Upserts the folded minutes and their roll-ups, table by table in a fixed order, keys sorted."""
        subjects = {(num, subject) for num, subject, _, _ in minute_accs}
        subjects |= {(num, subject) for num, subject, _, _, _ in distinct}
        new = sorted(subjects - self._known_subjects)
        if new:
            created = {(n, s) for n, s in conn.native(_SUBJECTS, _columns(new, 2))}
            committed = set(new) - created  # already there before this transaction: safe to remember
            if len(self._known_subjects) > 1_000_000:
                self._known_subjects = set()
            self._known_subjects |= committed
        if minute_accs:
            conn.native(_UPSERT_SUB_M, _columns(
                ((num, minute - minute % HOUR_US, subject, minute, groups, *_values(a))
                 for (num, subject, groups, minute), a in minute_accs.items()), 13))
            days: dict[tuple[int, int, str, str], _Acc] = {}
            all_levels: dict[Level, dict[tuple[int, int, str], _Acc]] = {level: {} for level in Level}
            for (num, subject, groups, minute), a in minute_accs.items():
                _fold(days, (num, minute - minute % DAY_US, subject, groups), a)
                for level, out in all_levels.items():
                    _fold(out, (num, minute - minute % level.value, groups), a)
            conn.native(_UPSERT_SUB_D, _columns(((*k, *_values(a)) for k, a in days.items()), 12))
            for level, out in all_levels.items():
                conn.native(_UPSERT_ALL[level], _columns(((*k, *_values(a)) for k, a in out.items()), 11))
        if distinct:
            conn.native(_DISTINCT_SUB_M, _columns(
                ((num, minute - minute % HOUR_US, subject, minute, groups, value)
                 for num, subject, groups, minute, value in distinct), 6))
            conn.native(_DISTINCT_SUB_D, _columns(
                {(num, minute - minute % DAY_US, subject, groups, value)
                 for num, subject, groups, minute, value in distinct}, 5))
            for level in Level:
                conn.native(_DISTINCT_ALL[level], _columns(
                    {(num, minute - minute % level.value, groups, value)
                     for num, _, groups, minute, value in distinct}, 4))

    def _drop_aggregates(self, conn: Conn, meter_num: int, slug: str) -> None:
        for table in _AGG_TABLES:
            conn.native(f"DELETE FROM {table} WHERE meter_num = %s", (meter_num,))
        conn.native(
            "UPDATE events SET has_error = 0 WHERE seq IN (SELECT event_seq FROM event_errors WHERE meter_slug = %s)"
            " AND NOT EXISTS (SELECT 1 FROM event_errors e WHERE e.event_seq = events.seq AND e.meter_slug != %s)",
            (slug, slug),
        )
        conn.native("DELETE FROM event_errors WHERE meter_slug = %s", (slug,))


def _fold(out: dict[Any, _Acc], key: Any, a: _Acc) -> None:
    b = out.get(key)
    if b is None:
        out[key] = _Acc(a.count, a.nanos, a.min, a.max, a.latest)
    else:
        b.add(a)
