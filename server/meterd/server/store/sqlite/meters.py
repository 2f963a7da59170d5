"""SQLite storage of meters and their pre-aggregates (layout: migrations/0007_meter_aggregates_by_time.sql).

Layout, in short (the migration has the details). Per-subject rows exist at minute level only, keyed
(meter, day, subject, minute, groups); rows for all subjects together are kept per level (minute, hour,
day), keyed (meter, time, groups). Keys lead with time, so the rows one batch updates sit near each other
at the recent end of each table instead of all over it. A one-subject read seeks once per day of its range
and reads that day's rows of the subject, which are contiguous; its hour and day windows are ``GROUP BY``
over the minute rows. A row holds only what its meter's aggregation
needs (count always; the exact sum for SUM/AVG; min, max or latest), UNIQUE_COUNT keeps distinct values.

Ingest, in two steps:

1. ``prepare`` (on the submitting thread, before the batch reaches the writer): each event's data is parsed
   once (orjson; the exact decimal parser only for data holding a non-integer number or an integer
   beyond 64 bits), every meter of its type reads it, and the batch is folded into the rows it will
   upsert: per (subject, groups, minute) and, rolled up, per (groups, minute/hour/day). Sums are integers
   in units of 10^-9 (integer values need no decimal arithmetic). LATEST's tie-break by ingest sequence
   uses the event's index in the batch, turned into its sequence number by the writer.
2. ``apply`` (on the writer, inside the ingest transaction): ``executemany`` of the prepared rows. If the
   batch had duplicates (whose events must not count) or the meters changed since the preparation, the
   batch is folded again here from the events that were stored.

Anything an event holds that a meter cannot use (an unreadable value, a number too large for an exact
sum, data the reader chokes on) becomes that event's validation error for that meter: no content of an
event can make the writer fail.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from meterd.server.errors import AlreadyExists, NotFound
from meterd.server.events.model import ValidEvent, parse_data
from meterd.server.meters.model import (
    MAX_VALUE_DIGITS,
    Aggregation,
    MeterDefinition,
    MeterReader,
    ReadError,
    compile_path,
    parse_event_data,
)
from meterd.server.meters.plan import DAY_US, HOUR_US, NANOS, Fetch, Level, WindowRun, decimal_to_nanos
from meterd.server.meters.windows import WindowSize
from meterd.server.store.sqlite.db import Database
from meterd.server.store.sqlite.events import InsertedBatch, SqliteEventStore
from meterd.server.store.sqlite.meter_reads import WindowedRow, windowed_rows
from meterd.server.timeutil import MINUTE_US, from_us, to_us

log = logging.getLogger(__name__)
_SUFFIX = {Level.MINUTE: "m", Level.HOUR: "h", Level.DAY: "d"}
BACKFILL_CHUNK = 5000
# Numeric readings are below 10**MAX_VALUE_DIGITS in magnitude (MeterReader refuses larger ones: sums stay
# exact in int64 units of 10^-9); integers inside this bound are read inline on the fast path, others go to
# the reader. UNIQUE_COUNT reads integers inline up to _TEXT_INT (their text is str(int)).
_NUMBER_INT = 10**MAX_VALUE_DIGITS
_TEXT_INT = 10**18
_MAX_SUM_NANOS = _NUMBER_INT * NANOS
_GROUP_TEXT_CACHE_LIMIT = 100_000
# A one-subject read lists the days of its range as bound parameters up to this many.
_INLINE_DAYS = 100


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


# What a meter's rows keep, by aggregation.
_COUNT, _SUM, _MIN, _MAX, _LATEST, _DISTINCT = range(6)
_KIND = {
    Aggregation.COUNT: _COUNT, Aggregation.SUM: _SUM, Aggregation.AVG: _SUM, Aggregation.MIN: _MIN,
    Aggregation.MAX: _MAX, Aggregation.LATEST: _LATEST, Aggregation.UNIQUE_COUNT: _DISTINCT,
}


@dataclass(frozen=True, slots=True)
class _Compiled:
    meter_num: int
    slug: str
    reader: MeterReader
    kind: int
    # Set when every group path is one member name ($.a): the names, read inline on the fast path.
    group_names: tuple[str, ...] | None
    # The value path's member name on the fast path (None for COUNT meters).
    value_name: str | None


@dataclass(frozen=True, slots=True)
class _MeterSet:
    """The meters by event type, as the writer last loaded them; ``version`` changes on every change."""

    version: int
    by_type: dict[str, list[_Compiled]]


@dataclass(slots=True)
class _Prepared:
    """A batch folded into the rows it upserts (see the module docstring)."""

    version: int
    # SQL -> rows; for LATEST rows, ``seq_at`` gives the position of the latest_seq column, which holds the
    # event's index in the batch until the writer adds the batch's first sequence number.
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    seq_at: dict[str, int] = field(default_factory=dict)
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (index or seq, meter slug, message)
    subjects: set[tuple[int, str]] = field(default_factory=set)


# -- SQL ----------------------------------------------------------------------------------------------------

_SUB_KEY = "meter_num, day_us, subject, time_us, groups"
_ALL_KEY = "meter_num, time_us, groups"
_UPDATE = {
    _COUNT: ("count", "count = count + excluded.count"),
    _SUM: ("count, sum_units, sum_nanos",
           "count = count + excluded.count, sum_units = sum_units + excluded.sum_units,"
           " sum_nanos = sum_nanos + excluded.sum_nanos"),
    _MIN: ("count, min", "count = count + excluded.count, min = min(min, excluded.min)"),
    _MAX: ("count, max", "count = count + excluded.count, max = max(max, excluded.max)"),
    _LATEST: ("count, latest, latest_time_us, latest_seq",
              "count = count + excluded.count,"
              " latest = CASE WHEN (excluded.latest_time_us, excluded.latest_seq) > (latest_time_us, latest_seq)"
              "   THEN excluded.latest ELSE latest END,"
              " latest_seq = CASE WHEN (excluded.latest_time_us, excluded.latest_seq) > (latest_time_us, latest_seq)"
              "   THEN excluded.latest_seq ELSE latest_seq END,"
              " latest_time_us = max(latest_time_us, excluded.latest_time_us)"),
}


def _upsert_sql(table: str, key: str, kind: int) -> str:
    columns, update = _UPDATE[kind]
    n = key.count(",") + 1 + columns.count(",") + 1
    return (f"INSERT INTO {table} ({key}, {columns}) VALUES ({', '.join('?' * n)})"
            f" ON CONFLICT ({key}) DO UPDATE SET {update}")


_SUB_UPSERT = {kind: _upsert_sql("meter_sub_m", _SUB_KEY, kind) for kind in _UPDATE}
_ALL_UPSERT = {(level, kind): _upsert_sql(f"meter_all_{_SUFFIX[level]}", _ALL_KEY, kind)
               for level in Level for kind in _UPDATE}
_SUB_DISTINCT = f"INSERT OR IGNORE INTO meter_sub_distinct_m ({_SUB_KEY}, value) VALUES (?, ?, ?, ?, ?, ?)"
_ALL_DISTINCT = {level: f"INSERT OR IGNORE INTO meter_all_distinct_{_SUFFIX[level]} ({_ALL_KEY}, value)"
                 " VALUES (?, ?, ?, ?)" for level in Level}
# Where the latest_seq column is in the LATEST upserts' rows.
_SUB_SEQ_AT = 5 + 3
_ALL_SEQ_AT = 3 + 3


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
    """Meters and their aggregates. Registers itself as a batch listener of the event store."""

    def __init__(self, db: Database, events: SqliteEventStore) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._version = 0
        self._meters: _MeterSet | None = None  # published by the writer, read by ``prepare``
        self._group_texts: dict[tuple[str | None, ...], str] = {}
        # (meter num, subject) pairs known to be in meter_subjects; dropped on any rollback.
        self._known_subjects: set[tuple[int, str]] = set()
        events.add_batch_listener(self)
        db.add_rollback_listener(self._rolled_back)

    def _rolled_back(self) -> None:
        self._known_subjects.clear()
        self._invalidate()

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
            self._invalidate()
            self._backfill(conn, _compile(num, definition), definition.event_type)
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
            self._invalidate()
            self._backfill(conn, _compile(meter.num, definition), definition.event_type)
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
        Queries that neither filter nor group by subject read the all-subject rows of the fetch's level;
        the others read per-subject minute rows, grouped into the level's units.
        """
        unit = fetch.level.value
        per_subject = bool(subjects) or keep_subject
        distinct = meter.aggregation is Aggregation.UNIQUE_COUNT
        params: list[object] = [meter.num]
        if per_subject:
            # Minute rows, grouped into the level's units (hour and day windows too: see the migration).
            table = "meter_sub_distinct_m" if distinct else "meter_sub_m"
            first = fetch.start_us - fetch.start_us % DAY_US
            time_col = "a.time_us" if unit == MINUTE_US else f"a.time_us - a.time_us % {unit}"
            where = ["a.meter_num = ?"]
            if subjects:
                # One seek per (day, subject): the days of the range as a list the planner iterates
                # (bound parameters while few, else one JSON array).
                days = list(range(first, fetch.end_us, DAY_US))
                if len(days) <= _INLINE_DAYS:
                    where.append(f"a.day_us IN ({','.join('?' * len(days))})")
                    params += days
                else:
                    where.append("a.day_us IN (SELECT value FROM json_each(?))")
                    params.append(json.dumps(days))
                if len(subjects) == 1:
                    where.append("a.subject = ?")
                else:
                    where.append(f"a.subject IN ({','.join('?' * len(subjects))})")
                params += subjects
            else:
                where += ["a.day_us >= ?", "a.day_us < ?"]
                params += [first, fetch.end_us]
            where += ["a.time_us >= ?", "a.time_us < ?"]
            params += [fetch.start_us, fetch.end_us]
        else:
            table = f"meter_all_distinct_{_SUFFIX[fetch.level]}" if distinct else f"meter_all_{_SUFFIX[fetch.level]}"
            where = ["a.meter_num = ?", "a.time_us >= ?", "a.time_us < ?"]
            time_col = "a.time_us"
            params += [fetch.start_us, fetch.end_us]
        for index, values in filters.items():
            where.append(f"json_extract(a.groups, '$[{index}]') IN ({','.join('?' * len(values))})")
            params.extend(values)
        subject_col = "a.subject" if keep_subject else "NULL"
        group_cols = [f"json_extract(a.groups, '$[{i}]')" for i in keep_groups]
        select_keys = ", ".join([f"{time_col} AS t", subject_col, *group_cols])
        group_by = ", ".join(["t", *(["a.subject"] if keep_subject else []), *group_cols])
        conn = self._db.reader()
        width = len(group_cols)
        condition = " AND ".join(where)
        aggregation = meter.aggregation
        if distinct:
            sql = f"SELECT DISTINCT {select_keys}, a.value FROM {table} a WHERE {condition}"
            for row in conn.execute(sql, params):
                yield row[0], row[1], tuple(row[2:2 + width]), 1, 0, None, None, None, row[2 + width]
        elif aggregation is Aggregation.LATEST:
            # One row per stored row: the latest is picked in Python by (event time, ingest seq).
            sql = (f"SELECT {select_keys}, a.count, a.latest_time_us, a.latest_seq, a.latest"
                   f" FROM {table} a WHERE {condition}")
            for row in conn.execute(sql, params):
                count, lt, ls, lv = row[2 + width:]
                yield (row[0], row[1], tuple(row[2:2 + width]), count, 0, None, None,
                       (lt, ls, lv) if lt is not None else None, None)
        else:
            # Units are summed in two parts (10^9 units and the rest): SQLite's SUM raises on int64
            # overflow, which a long range of large values could reach.
            sql = (f"SELECT {select_keys}, SUM(a.count), SUM(a.sum_units / {NANOS}), SUM(a.sum_units % {NANOS}),"
                   f" SUM(a.sum_nanos), MIN(a.min), MAX(a.max) FROM {table} a WHERE {condition} GROUP BY {group_by}")
            for row in conn.execute(sql, params):
                count, giga_units, units, nanos, mn, mx = row[2 + width:]
                total = ((giga_units or 0) * NANOS + (units or 0)) * NANOS + (nanos or 0)
                yield row[0], row[1], tuple(row[2:2 + width]), count, total, mn, mx, None, None

    def fetch_windows(
        self, meter: StoredMeter, runs: Sequence[WindowRun], fetches: Sequence[Fetch], *, subjects: Sequence[str],
        keep_subject: bool, keep_groups: Sequence[int], filters: Mapping[int, tuple[str, ...]],
    ) -> Iterator[WindowedRow]:
        """Rows grouped into the query's windows in SQL (every aggregation but LATEST): see meter_reads."""
        return windowed_rows(self._db.reader(), meter.num, meter.aggregation, runs, fetches, subjects=subjects,
                             keep_subject=keep_subject, keep_groups=keep_groups, filters=filters)

    # -- ingest ------------------------------------------------------------------------------------------
    def _invalidate(self) -> None:
        with self._lock:
            self._version += 1
            self._meters = None

    def _meter_set(self, conn: sqlite3.Connection) -> _MeterSet:
        """The meters, loaded on the writer's connection (so in step with its transaction)."""
        with self._lock:
            if self._meters is None:
                by_type: dict[str, list[_Compiled]] = {}
                for row in conn.execute(f"SELECT {_COLUMNS} FROM meters"):
                    m = _row_to_meter(row)
                    by_type.setdefault(m.event_type, []).append(_compile(m.num, m.definition))
                self._meters = _MeterSet(self._version, by_type)
            return self._meters

    def prepare(self, events: Sequence[ValidEvent]) -> _Prepared | None:
        """Folds a batch before it reaches the writer (None: the meters are being reloaded, or the fold
        failed unexpectedly; the writer then folds the batch itself)."""
        meters = self._meters
        if meters is None:
            return None
        by_type = meters.by_type
        if not by_type:
            return _Prepared(meters.version)
        try:
            return self._fold(((i, e.type, e.subject, e.time_us, e.data) for i, e in enumerate(events)),
                              by_type, meters.version, by_index=True)
        except Exception:  # a bug, not an event's content (that is caught per event): never fail the batch here
            log.exception("meter fold failed before the writer; the writer folds the batch")
            return None

    def apply(self, conn: sqlite3.Connection, batches: list[InsertedBatch]) -> None:
        meters = self._meter_set(conn)
        if not meters.by_type:
            return
        rows: dict[str, list[tuple[Any, ...]]] = {}
        errors: list[tuple[int, str, str]] = []
        subjects: set[tuple[int, str]] = set()
        for batch in batches:
            prepared = batch.prepared
            seqs = batch.seqs
            if not seqs:
                continue
            if isinstance(prepared, _Prepared) and prepared.version == meters.version and None not in seqs:
                base = seqs[0]
                assert base is not None
                for sql, batch_rows in prepared.rows.items():
                    at = prepared.seq_at.get(sql)
                    if at is not None:
                        batch_rows = [(*r[:at], r[at] + base, *r[at + 1:]) for r in batch_rows]
                    rows.setdefault(sql, []).extend(batch_rows)
                errors.extend((base + i, slug, message) for i, slug, message in prepared.errors)
            else:
                # Duplicates (which must not count) or meters changed since the preparation: fold again,
                # here, only the events that were stored, with their sequence numbers.
                prepared = self._fold(
                    ((seq, e.type, e.subject, e.time_us, e.data)
                     for seq, e in zip(seqs, batch.events, strict=True) if seq is not None),
                    meters.by_type, meters.version,
                )
                for sql, batch_rows in prepared.rows.items():
                    rows.setdefault(sql, []).extend(batch_rows)
                errors.extend(prepared.errors)
            subjects |= prepared.subjects
        self._write(conn, rows, errors, subjects)

    def _write(self, conn: sqlite3.Connection, rows: Mapping[str, list[tuple[Any, ...]]],
               errors: list[tuple[int, str, str]], subjects: set[tuple[int, str]]) -> None:
        for sql, batch_rows in rows.items():
            conn.executemany(sql, batch_rows)
        if errors:
            conn.executemany("INSERT OR REPLACE INTO event_errors (event_seq, meter_slug, message) VALUES (?, ?, ?)",
                             errors)
            conn.executemany("UPDATE events SET has_error = 1 WHERE seq = ?", [(e[0],) for e in errors])
        new = subjects - self._known_subjects
        if new:
            conn.executemany("INSERT OR IGNORE INTO meter_subjects (meter_num, subject) VALUES (?, ?)", new)
            if len(self._known_subjects) > 200_000:
                self._known_subjects.clear()
            self._known_subjects |= new

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
            prepared = self._fold(((seq, event_type, subject, t, data) for seq, subject, t, data in rows),
                                  {event_type: [meter]}, 0, stored=True)
            self._write(conn, prepared.rows, prepared.errors, prepared.subjects)

    def _group_text(self, groups: tuple[str | None, ...]) -> str:
        text = self._group_texts.get(groups)
        if text is None:
            text = json.dumps(list(groups), separators=(",", ":"))
            if len(self._group_texts) > _GROUP_TEXT_CACHE_LIMIT:
                self._group_texts = {}
            self._group_texts[groups] = text
        return text

    def _fold(self, events: Iterable[tuple[int, str, str, int, str | None]],
              by_type: Mapping[str, list[_Compiled]], version: int, *, by_index: bool = False,
              stored: bool = False) -> _Prepared:
        """Reads and folds events given as (seq, type, subject, time_us, data text); with ``by_index`` the
        first item is the event's index in its batch, and LATEST rows are marked for the writer to add
        the batch's first sequence number; ``stored`` events (a backfill) are checked as stored data.

        The hot loop: for a meter whose paths are plain member names (``$.a``), a string or null group
        value and an integer value are read inline (what ``MeterReader`` gives for them, without building
        a Reading and a Decimal); anything else goes through ``MeterReader.read``.
        """
        out = _Prepared(version)
        errors = out.errors
        group_text = self._group_text
        texts = self._group_texts
        # Per meter: (subject, groups text, minute) -> [count, sum nanos, min, max, latest time, latest seq,
        # latest]; UNIQUE_COUNT meters: a set of (subject, groups text, minute, value).
        accs: dict[int, dict[tuple[str, str, int], list[Any]]] = {}
        distincts: dict[int, set[tuple[str, str, int, str]]] = {}
        meters_seen: dict[int, _Compiled] = {}
        for seq, event_type, subject, time_us, data in events:
            meters = by_type.get(event_type)
            if not meters:
                continue
            minute = time_us - time_us % MINUTE_US
            exact: Any = _UNPARSED
            if stored:
                # A stored event that today's validation would refuse is skipped by every meter, with the
                # reason (an older database may hold one).
                parsed = exact = parse_event_data(data, time_us, subject)
                if isinstance(parsed, ReadError):
                    errors.extend((seq, m.slug, parsed.message) for m in meters)
                    continue
            else:
                # A batch just validated: orjson's parse, exact for what the fast path reads (strings,
                # integers); the reader gets the exact decimal parse, made at most once per event and only
                # when needed.
                try:
                    try:
                        parsed = orjson.loads(data) if data is not None else None
                    except orjson.JSONDecodeError:  # a number beyond 64-bit integers or doubles
                        parsed = exact = _parse_exact(data)
                except Exception as exc:  # an event's content never fails the batch
                    errors.extend((seq, m.slug, f"data cannot be read: {_reason(exc)}") for m in meters)
                    continue
            is_dict = type(parsed) is dict
            last_names: tuple[str, ...] | None = None
            last_text: str | None = None
            for m in meters:
                kind = m.kind
                number: Any = None
                text: str | None = None
                if m.group_names is not None and is_dict:
                    names = m.group_names
                    if names is last_names:
                        text = last_text
                    else:
                        raw = tuple([parsed.get(n) for n in names])
                        try:
                            text = texts.get(raw)
                        except TypeError:  # an object or array: the reader's business
                            text = None
                        else:
                            if text is None and all(v is None or type(v) is str for v in raw):
                                text = group_text(raw)  # type: ignore[arg-type]
                        last_names, last_text = names, text
                    if text is not None and kind != _COUNT:
                        value = parsed.get(m.value_name)
                        if type(value) is int and -_TEXT_INT < value < _TEXT_INT:
                            if kind == _DISTINCT:
                                number = str(value)
                            elif not -_NUMBER_INT < value < _NUMBER_INT:
                                text = None  # the reader's error
                            elif kind == _SUM:
                                number = value * NANOS
                            else:
                                number = float(value)
                        elif type(value) is str and kind == _DISTINCT:
                            number = value
                        else:
                            text = None
                if text is None:
                    try:
                        if exact is _UNPARSED:
                            exact = _parse_exact(data)
                        reading = m.reader.read(exact)
                        if isinstance(reading, ReadError):
                            errors.append((seq, m.slug, reading.message))
                            continue
                        value = reading.value
                        if kind == _SUM:
                            number = _nanos(value)  # type: ignore[arg-type]
                            if number is None:
                                errors.append((seq, m.slug, f"value {value} is beyond ±1e{MAX_VALUE_DIGITS},"
                                                            " the largest value a sum keeps exactly"))
                                continue
                        elif kind == _DISTINCT:
                            number = value
                        elif kind != _COUNT:
                            number = float(value)  # type: ignore[arg-type]
                            if math.isinf(number):
                                errors.append((seq, m.slug, f"value {value} is beyond the range of a double"))
                                continue
                        text = group_text(reading.groups)
                    except Exception as exc:  # this event's error, not the batch's
                        errors.append((seq, m.slug, f"value cannot be read: {_reason(exc)}"))
                        continue
                num = m.meter_num
                if kind == _DISTINCT:
                    target = distincts.get(num)
                    if target is None:
                        target = distincts[num] = set()
                        meters_seen[num] = m
                    target.add((subject, text, minute, number))
                    continue
                meter_accs = accs.get(num)
                if meter_accs is None:
                    meter_accs = accs[num] = {}
                    meters_seen[num] = m
                key = (subject, text, minute)
                acc = meter_accs.get(key)
                if acc is None:
                    meter_accs[key] = [1, number, number, number, time_us, seq, number]
                elif kind == _SUM:
                    acc[0] += 1
                    acc[1] += number
                elif kind == _COUNT:
                    acc[0] += 1
                elif kind == _MAX:
                    acc[0] += 1
                    if number > acc[3]:
                        acc[3] = number
                elif kind == _MIN:
                    acc[0] += 1
                    if number < acc[2]:
                        acc[2] = number
                else:
                    acc[0] += 1
                    if (time_us, seq) > (acc[4], acc[5]):
                        acc[4], acc[5], acc[6] = time_us, seq, number
        for num, meter_accs in accs.items():
            _rows_of(num, meters_seen[num].kind, meter_accs, out, fix_seq=by_index)
        for num, distinct in distincts.items():
            _distinct_rows_of(num, distinct, out)
        return out

    def _drop_aggregates(self, conn: sqlite3.Connection, meter_num: int, slug: str) -> None:
        for table in ("meter_sub_m", "meter_sub_distinct_m", "meter_subjects",
                      *(f"meter_all_{s}" for s in _SUFFIX.values()),
                      *(f"meter_all_distinct_{s}" for s in _SUFFIX.values())):
            conn.execute(f"DELETE FROM {table} WHERE meter_num = ?", (meter_num,))
        self._known_subjects.clear()
        conn.execute(
            "UPDATE events SET has_error = 0 WHERE seq IN (SELECT event_seq FROM event_errors WHERE meter_slug = ?)"
            " AND NOT EXISTS (SELECT 1 FROM event_errors e WHERE e.event_seq = events.seq AND e.meter_slug != ?)",
            (slug, slug),
        )
        conn.execute("DELETE FROM event_errors WHERE meter_slug = ?", (slug,))


def _compile(num: int, definition: MeterDefinition) -> _Compiled:
    reader = MeterReader(definition)
    group_steps = [compile_path(path) for path in definition.group_by.values()]
    group_names = (tuple(steps[0] for steps in group_steps)  # type: ignore[misc]
                   if all(len(steps) == 1 and isinstance(steps[0], str) for steps in group_steps) else None)
    kind = _KIND[definition.aggregation]
    value_name: str | None = None
    if group_names is not None and kind != _COUNT:
        steps = compile_path(definition.value_property or "")
        if len(steps) == 1 and isinstance(steps[0], str):
            value_name = steps[0]
        else:
            group_names = None  # the value needs the reader: so does the event
    return _Compiled(num, definition.slug, reader, kind, group_names, value_name)


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


_UNPARSED = object()


def _parse_exact(data: str | None) -> Any:
    """Event data with every non-integer number as a Decimal (what MeterReader expects)."""
    return parse_data(data) if data is not None else None


def _nanos(value: Decimal) -> int | None:
    """A value in integer units of 10^-9 (rounded half-even beyond 9 decimals); None beyond the sum limit."""
    adjusted = value.adjusted()
    if adjusted >= MAX_VALUE_DIGITS:
        return None if value else 0
    if adjusted < -10:
        return decimal_to_nanos(value)  # a tiny value (or a zero written with an exponent): rounded
    numerator, denominator = value.as_integer_ratio()
    if denominator == 1:
        nanos = numerator * NANOS
    elif NANOS % denominator == 0:
        nanos = numerator * (NANOS // denominator)
    else:
        nanos = decimal_to_nanos(value)
    return nanos if -_MAX_SUM_NANOS < nanos < _MAX_SUM_NANOS else None


def _rows_of(num: int, kind: int, accs: Mapping[tuple[str, str, int], list[Any]], out: _Prepared,
             fix_seq: bool) -> None:
    """One meter's per-subject minute rows and their roll-ups over subjects at each level, as upsert
    parameters (minutes first, then hours and days from the minutes: fewer entries at each step)."""
    subjects = out.subjects
    values = _VALUES[kind]
    by_minute: dict[tuple[str, int], list[Any]] = {}
    merge = _MERGE[kind]
    subjects.update([(num, subject) for subject, _, _ in accs])
    if kind == _SUM:
        sub_rows = [(num, minute - minute % DAY_US, subject, minute, groups, a[0], a[1] // NANOS, a[1] % NANOS)
                    for (subject, groups, minute), a in accs.items()]
    elif kind == _COUNT:
        sub_rows = [(num, minute - minute % DAY_US, subject, minute, groups, a[0])
                    for (subject, groups, minute), a in accs.items()]
    else:
        sub_rows = [(num, minute - minute % DAY_US, subject, minute, groups, *values(a))
                    for (subject, groups, minute), a in accs.items()]
    for (_, groups, minute), acc in accs.items():
        key = (groups, minute)
        r = by_minute.get(key)
        if r is None:
            by_minute[key] = acc.copy()
        else:
            merge(r, acc)
    _add_rows(out, _SUB_UPSERT[kind], sub_rows, _SUB_SEQ_AT if kind == _LATEST and fix_seq else None)
    previous = by_minute
    for level in (Level.MINUTE, Level.HOUR, Level.DAY):
        unit = level.value
        if level is Level.MINUTE:
            rolled = by_minute
        else:
            rolled = {}
            for (groups, t), acc in previous.items():
                key = (groups, t - t % unit)
                r = rolled.get(key)
                if r is None:
                    rolled[key] = acc.copy()
                else:
                    merge(r, acc)
        previous = rolled
        _add_rows(out, _ALL_UPSERT[(level, kind)], [(num, t, groups, *values(acc)) for (groups, t), acc in rolled.items()],
                  _ALL_SEQ_AT if kind == _LATEST and fix_seq else None)


def _add_rows(out: _Prepared, sql: str, rows: list[tuple[Any, ...]], seq_at: int | None) -> None:
    target = out.rows.get(sql)
    if target is None:
        out.rows[sql] = rows
        if seq_at is not None:
            out.seq_at[sql] = seq_at
    else:
        target.extend(rows)


def _merge_count(r: list[Any], a: list[Any]) -> None:
    r[0] += a[0]


def _merge_sum(r: list[Any], a: list[Any]) -> None:
    r[0] += a[0]
    r[1] += a[1]


def _merge_min(r: list[Any], a: list[Any]) -> None:
    r[0] += a[0]
    if a[2] < r[2]:
        r[2] = a[2]


def _merge_max(r: list[Any], a: list[Any]) -> None:
    r[0] += a[0]
    if a[3] > r[3]:
        r[3] = a[3]


def _merge_latest(r: list[Any], a: list[Any]) -> None:
    r[0] += a[0]
    if (a[4], a[5]) > (r[4], r[5]):
        r[4], r[5], r[6] = a[4], a[5], a[6]


_MERGE = {_COUNT: _merge_count, _SUM: _merge_sum, _MIN: _merge_min, _MAX: _merge_max, _LATEST: _merge_latest}
# Upsert parameters after the key, by kind (see _UPDATE for the columns).
_VALUES = {
    _COUNT: lambda a: (a[0],),
    _SUM: lambda a: (a[0], a[1] // NANOS, a[1] % NANOS),
    _MIN: lambda a: (a[0], a[2]),
    _MAX: lambda a: (a[0], a[3]),
    _LATEST: lambda a: (a[0], a[6], a[4], a[5]),
}


def _distinct_rows_of(num: int, distinct: set[tuple[str, str, int, str]], out: _Prepared) -> None:
    sub = []
    levels: dict[Level, set[tuple[int, int, str, str]]] = {level: set() for level in Level}
    minutes, hours, days = levels[Level.MINUTE], levels[Level.HOUR], levels[Level.DAY]
    for subject, groups, minute, value in distinct:
        out.subjects.add((num, subject))
        hour = minute - minute % HOUR_US
        sub.append((num, minute - minute % DAY_US, subject, minute, groups, value))
        minutes.add((num, minute, groups, value))
        hours.add((num, hour, groups, value))
        days.add((num, minute - minute % DAY_US, groups, value))
    _add_rows(out, _SUB_DISTINCT, sub, None)
    for level, level_rows in levels.items():
        _add_rows(out, _ALL_DISTINCT[level], list(level_rows), None)
