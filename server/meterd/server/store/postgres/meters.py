"""PostgreSQL storage of meters and their pre-aggregates, shared by every replica.

The layout is the SQLite backend's (see migrations/0002_meter_aggregates_by_day.sql): per-subject minute
rows keyed (meter, day, subject, minute, groups); rows of all subjects per minute, hour and day; a row holds
only what its meter's aggregation needs. Ingest uses the same fold as SQLite (``meters.fold``):

1. ``prepare`` (on the submitting thread, before the transaction): the batch is folded into the rows it
   will upsert; LATEST's tie-break column holds the event's index in the batch, turned into its sequence
   number (allocated inside the transaction) by ``apply``.
2. ``apply`` (inside the ingest transaction): one ``INSERT ... SELECT FROM unnest(...) ORDER BY key ON
   CONFLICT DO UPDATE`` per fold target. If the batch had duplicates (whose events must not count) or the
   meters changed since the preparation (on any replica), the batch is folded again from what was stored.

What this store adds to SQLite's is concurrency between replicas:

- Each replica caches the meters by event type, checked against ``meters_version`` (bumped by every create,
  update and delete) in each ingest transaction, so a meter created on replica A aggregates the next batch
  ingested on B.
- A meter change takes ``LOCK_METERS`` exclusive (ingest holds it shared), so its backfill sees every event
  committed without it, and no ingest commits with the old set of meters after it.
- Rows are locked in one global order: tables (targets) in a fixed order, keys sorted within each
  statement; concurrent transactions (the all-subject minute of "now" is shared by all) wait for each other
  instead of deadlocking, and no update is lost (the merge reads the committed row under its lock). Batches
  stored in one transaction may fold to the same key: their rows are then merged by the statement itself
  (``GROUP BY`` the key), since one statement may not update a row twice.
- Subjects seen are cached only once committed by an earlier transaction (one this transaction inserted
  could vanish with its rollback).
"""

from __future__ import annotations

import builtins
import json
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from meterd.server.errors import AlreadyExists, NotFound
from meterd.server.events.model import ValidEvent
from meterd.server.meters.fold import (
    ALL_DISTINCT_TARGET,
    ALL_TARGET,
    COUNT,
    LATEST,
    MAX,
    MIN,
    SUB_DISTINCT_TARGET,
    SUB_TARGET,
    SUM,
    CompiledMeter,
    Folded,
    Folder,
    Target,
    compile_meter,
    unread_warnings,
)
from meterd.server.meters.model import Aggregation, Meter, MeterDefinition
from meterd.server.meters.plan import DAY_US, NANOS, Fetch, Level
from meterd.server.store.postgres import arrays
from meterd.server.store.postgres.db import LOCK_METERS, Conn, Database, Reader
from meterd.server.store.postgres.events import PgEventStore
from meterd.server.store.sql.events import InsertedBatch
from meterd.server.store.sql.features import check_meter_unused
from meterd.server.store.sql.meters import COLUMNS, INSERT_COLUMNS, MeterCatalogue, MeterSet, meter_of
from meterd.server.timeutil import MINUTE_US, to_us

log = logging.getLogger(__name__)
BACKFILL_CHUNK = 5000
_SUFFIX = {Level.MINUTE: "m", Level.HOUR: "h", Level.DAY: "d"}




# -- SQL ----------------------------------------------------------------------------------------------------

# Key columns (name, array type, sort expression) of each layout, then the value columns of each kind (name,
# array type, how rows of several batches with the same key merge in one statement, how a row merges into
# the stored one).
_SUB_KEY = (("meter_num", "bigint", "meter_num"), ("day_us", "bigint", "day_us"),
            ("subject", "text", 'subject COLLATE "C"'), ("time_us", "bigint", "time_us"),
            ("groups", "text", 'groups COLLATE "C"'))
_ALL_KEY = (("meter_num", "bigint", "meter_num"), ("time_us", "bigint", "time_us"),
            ("groups", "text", 'groups COLLATE "C"'))
_LATEST_ORDER = "ORDER BY latest_time_us DESC, latest_seq DESC"
_NEWER = "(excluded.latest_time_us, excluded.latest_seq) > (a.latest_time_us, a.latest_seq)"
_COUNT = ("count", "bigint", "sum(count)::bigint", "a.count + excluded.count")
_VALUES = {
    COUNT: (_COUNT,),
    SUM: (_COUNT, ("sum_units", "bigint", "sum(sum_units)::bigint", "a.sum_units + excluded.sum_units"),
          ("sum_nanos", "bigint", "sum(sum_nanos)::bigint", "a.sum_nanos + excluded.sum_nanos")),
    MIN: (_COUNT, ("min", "float8", "min(min)", "LEAST(a.min, excluded.min)")),
    MAX: (_COUNT, ("max", "float8", "max(max)", "GREATEST(a.max, excluded.max)")),
    LATEST: (_COUNT,
             ("latest", "float8", f"(array_agg(latest {_LATEST_ORDER}))[1]",
              f"CASE WHEN a.latest_time_us IS NULL OR {_NEWER} THEN excluded.latest ELSE a.latest END"),
             ("latest_time_us", "bigint", "max(latest_time_us)",
              f"CASE WHEN a.latest_time_us IS NULL OR {_NEWER} THEN excluded.latest_time_us"
              " ELSE a.latest_time_us END"),
             ("latest_seq", "bigint", f"(array_agg(latest_seq {_LATEST_ORDER}))[1]",
              f"CASE WHEN a.latest_time_us IS NULL OR {_NEWER} THEN excluded.latest_seq ELSE a.latest_seq END")),
}


def _upsert_sql(table: str, key: tuple[tuple[str, str, str], ...], kind: int | None,
                merged: bool) -> tuple[str, tuple[Any, ...]]:
    """The statement of one target and the encoders of its columns: rows as arrays (one per column),
    inserted in key order; with ``merged``, rows with the same key are merged first. ``kind`` None: distinct
    values (inserted once)."""
    values = _VALUES[kind] if kind is not None else (("value", "text", "", ""),)
    columns = [c[0] for c in key] + [v[0] for v in values]
    types = [c[1] for c in key] + [v[1] for v in values]
    placeholders = ", ".join(f"%b::{t}[]" for t in types)
    order = ", ".join(c[2] for c in key)
    names = ", ".join(columns)
    source = f"unnest({placeholders}) AS u({names})"
    encoders = tuple(arrays.BY_TYPE[t] for t in types)
    if kind is None:
        return (f"INSERT INTO {table} ({names}) SELECT {names} FROM {source} ORDER BY {order}, value COLLATE \"C\""
                " ON CONFLICT DO NOTHING", encoders)
    key_names = ", ".join(c[0] for c in key)
    if merged:
        select = f"SELECT {key_names}, {', '.join(v[2] for v in values)} FROM {source} GROUP BY {key_names}"
    else:
        select = f"SELECT {names} FROM {source}"
    updates = ", ".join(f"{v[0]} = {v[3]}" for v in values)
    return (f"INSERT INTO {table} AS a ({names}) {select} ORDER BY {order} ON CONFLICT ({key_names})"
            f" DO UPDATE SET {updates}", encoders)


def _statements(merged: bool) -> dict[Target, tuple[str, tuple[Any, ...]]]:
    kinds = (COUNT, SUM, MIN, MAX, LATEST)
    return {
        **{SUB_TARGET[kind]: _upsert_sql("meter_sub_m", _SUB_KEY, kind, merged) for kind in kinds},
        SUB_DISTINCT_TARGET: _upsert_sql("meter_sub_distinct_m", _SUB_KEY, None, merged),
        **{ALL_TARGET[(level, kind)]: _upsert_sql(f"meter_all_{_SUFFIX[level]}", _ALL_KEY, kind, merged)
           for level in Level for kind in kinds},
        **{ALL_DISTINCT_TARGET[level]: _upsert_sql(f"meter_all_distinct_{_SUFFIX[level]}", _ALL_KEY, None, merged)
           for level in Level},
    }


# The statement of each fold target (see meters.fold), in the one order every transaction writes them in
# (dicts keep their insertion order): the global lock order of aggregate rows is (target, key).
_SQL = _statements(merged=False)
_SQL_MERGED = _statements(merged=True)
_TARGET_ORDER = {target: i for i, target in enumerate(_SQL)}


def _layout() -> dict[Target, tuple[str, tuple[str, ...]]]:
    kinds = (COUNT, SUM, MIN, MAX, LATEST)
    sub_key = tuple(c[0] for c in _SUB_KEY)
    all_key = tuple(c[0] for c in _ALL_KEY)
    return {
        **{SUB_TARGET[kind]: ("meter_sub_m", sub_key + tuple(v[0] for v in _VALUES[kind])) for kind in kinds},
        SUB_DISTINCT_TARGET: ("meter_sub_distinct_m", (*sub_key, "value")),
        **{ALL_TARGET[(level, kind)]: (f"meter_all_{_SUFFIX[level]}", all_key + tuple(v[0] for v in _VALUES[kind]))
           for level in Level for kind in kinds},
        **{ALL_DISTINCT_TARGET[level]: (f"meter_all_distinct_{_SUFFIX[level]}", (*all_key, "value"))
           for level in Level},
    }


# The table and columns each fold target's rows go to (for bulk loads into empty tables, e.g. the bench's).
TARGET_TABLES = _layout()
_SUBJECTS = (
    "INSERT INTO meter_subjects (meter_num, subject) SELECT * FROM unnest(%b::bigint[], %b::text[]) AS u(n, s)"
    ' ORDER BY n, s COLLATE "C" ON CONFLICT DO NOTHING RETURNING meter_num, subject'
)
_ERRORS = (
    "INSERT INTO event_errors (event_seq, meter_slug, message)"
    " SELECT * FROM unnest(%b::bigint[], %b::text[], %b::text[]) AS u(q, m, t) ORDER BY q, m"
    " ON CONFLICT (event_seq, meter_slug) DO UPDATE SET message = excluded.message"
)
_AGG_TABLES = ("meter_sub_m", "meter_sub_distinct_m", "meter_subjects",
               *(f"meter_all_{s}" for s in _SUFFIX.values()), *(f"meter_all_distinct_{s}" for s in _SUFFIX.values()))


def _columns(rows: Sequence[tuple[Any, ...]], encoders: Sequence[Any]) -> list[Any]:
    """The rows' columns as array parameters."""
    return [encode(column) for encode, column in zip(encoders, zip(*rows, strict=True), strict=True)]


_SUBJECT_ENCODERS = (arrays.int8_array, arrays.text_array)
_ERROR_ENCODERS = (arrays.int8_array, arrays.text_array, arrays.text_array)


class PgMeterStore(MeterCatalogue):
    """Meters and their aggregates in PostgreSQL. Registers itself as a batch listener of the event store."""

    def __init__(self, db: Database, events: PgEventStore) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._meters: MeterSet | None = None  # loaded in a transaction, read by ``prepare``
        self._folder = Folder()
        self._known_subjects: set[tuple[int, str]] = set()
        events.add_batch_listener(self)

    # -- meters ------------------------------------------------------------------------------------------
    @staticmethod
    def _lock_meters(conn: Conn) -> None:
        conn.native("SELECT pg_advisory_xact_lock(%s)", (LOCK_METERS,))
        conn.native("UPDATE meters_version SET version = version + 1 WHERE one = 1")

    def create(self, meter_id: str, definition: MeterDefinition, now: datetime) -> Meter:
        """Stores a new meter and backfills its aggregates from existing events, in one transaction."""

        def job(conn: Conn) -> Meter:
            self._lock_meters(conn)
            if conn.native("SELECT 1 FROM meters WHERE slug = %s", (definition.slug,)).fetchone():
                raise AlreadyExists(f"meter.slug: a meter with slug {definition.slug!r} already exists")
            num = conn.native(
                f"INSERT INTO meters ({INSERT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " RETURNING num",
                (meter_id, definition.slug, definition.description, definition.event_type,
                 definition.aggregation.value, definition.value_property, json.dumps(dict(definition.group_by)),
                 to_us(now), to_us(now), definition.window_size.value),
            ).fetchone()[0]
            self._backfill(conn, compile_meter(num, definition), definition.event_type)
            return Meter(meter_id, definition, now, now, num)

        return self._db.write(job)

    def update(self, meter: Meter, definition: MeterDefinition, now: datetime) -> Meter:
        """Replaces a meter's definition (config-declared meters) and rebuilds its aggregates. When another
        replica stored the same definition first, it is left as it is."""

        def job(conn: Conn) -> Meter:
            self._lock_meters(conn)
            row = conn.native(f"SELECT {COLUMNS} FROM meters WHERE id = %s", (meter.id,)).fetchone()
            if row is None:
                raise NotFound(f"meter {meter.slug!r} not found")
            current = meter_of(row)
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
            self._backfill(conn, compile_meter(meter.num, definition), definition.event_type)
            return Meter(meter.id, definition, current.created_at, now, meter.num)

        return self._db.write(job)

    def delete(self, meter: Meter) -> None:
        """Deletes a meter and its aggregates and validation errors; the events stay. FailedPrecondition if
        an active feature uses it (read in the deleting transaction)."""

        def job(conn: Conn) -> None:
            self._lock_meters(conn)
            # FOR UPDATE waits for features being created on this meter (they hold it FOR SHARE); the check
            # after it reads what they committed.
            if conn.native("SELECT 1 FROM meters WHERE id = %s FOR UPDATE", (meter.id,)).fetchone() is None:
                raise NotFound(f"meter {meter.slug!r} not found")
            check_meter_unused(conn, meter.slug)
            self._drop_aggregates(conn, meter.num, meter.slug)
            conn.native("DELETE FROM meters WHERE id = %s", (meter.id,))

        self._db.write(job)

    def reader(self) -> Reader:
        """A connection that sees the last commit (the catalogue's reads)."""
        return self._db.reader()

    # -- reading aggregates -----------------------------------------------------------------------------
    def fetch(
        self, meter: Meter, fetch: Fetch, *, subjects: Sequence[str], keep_subject: bool,
        keep_groups: Sequence[int], filters: Mapping[int, tuple[str, ...]],
    ) -> Iterator[tuple[int, str | None, tuple[str | None, ...], int, int, float | None, float | None,
                        tuple[int, int, float] | None, str | None]]:
        """Partial rows of one level range, grouped by unit, (subject) and the kept group values.

        Rows: (time_us, subject or None, kept group values, count, sum_nanos, min, max, latest, distinct).
        Queries that neither filter nor group by subject read the all-subject rows of the fetch's level; the
        others read per-subject minute rows grouped into the level's units. ``filters``: group index -> the
        values it may have (a row matches any of them).

        Kept group values are extracted and grouped in SQL (``groups::jsonb ->> i``): measured against
        grouping by the stored text and reading each distinct text once in Python, or joining the distinct
        texts of the range, it is the cheapest (an hourly all-subject query grouped by one of two keys sends
        one row per hour and kept value instead of one per hour and stored text).
        """
        unit = fetch.level.value
        per_subject = bool(subjects) or keep_subject
        distinct = meter.aggregation is Aggregation.UNIQUE_COUNT
        params: list[object] = [meter.num]
        if per_subject:
            table = "meter_sub_distinct_m" if distinct else "meter_sub_m"
            first = fetch.start_us - fetch.start_us % DAY_US
            if subjects:
                # One seek per (day, subject).
                where = ["a.meter_num = %s", "a.day_us = ANY(%s)", "a.subject = ANY(%s)"]
                params += [list(range(first, fetch.end_us, DAY_US)), list(subjects)]
            else:
                where = ["a.meter_num = %s", "a.day_us >= %s", "a.day_us < %s"]
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

    def _query(self, sql: str, params: builtins.list[object]) -> builtins.list[tuple[Any, ...]]:
        with self._db.connection() as raw:
            return raw.execute(sql, params).fetchall()  # type: ignore[no-any-return]

    # -- ingest ------------------------------------------------------------------------------------------
    def _meter_set(self, conn: Conn) -> MeterSet:
        """The meters by event type, reloaded when another transaction (on any replica) changed them."""
        version = conn.native("SELECT version FROM meters_version WHERE one = 1").fetchone()[0]
        meters = self._meters
        if meters is not None and meters.version == version:
            return meters
        with self._lock:
            by_type: dict[str, list[CompiledMeter]] = {}
            for row in conn.native(f"SELECT {COLUMNS} FROM meters ORDER BY num"):
                m = meter_of(row)
                by_type.setdefault(m.event_type, []).append(compile_meter(m.num, m.definition))
            meters = self._meters = MeterSet(version, by_type)
            self._known_subjects = set()
            return meters

    def prepare(self, events: Sequence[ValidEvent]) -> Folded | None:
        """Folds a batch before its transaction (None: the meters are not loaded yet, or the fold failed
        unexpectedly; ``apply`` then folds the batch itself)."""
        meters = self._meters
        if meters is None:
            return None
        by_type = meters.by_type
        if not by_type:
            return Folded(meters.version)
        try:
            return self._folder.fold(((i, e.type, e.subject, e.time_us, e.data) for i, e in enumerate(events)),
                                     by_type, meters.version, by_index=True)
        except Exception:  # a bug, not an event's content (that is caught per event): never fail the batch here
            log.exception("meter fold failed before the transaction; the transaction folds the batch")
            return None

    def apply(self, conn: Conn, batches: Sequence[InsertedBatch]) -> list[tuple[int, str, str]]:
        """Upserts the batches' rows inside the ingest transaction (see the module docstring); returns the
        warnings of the stored events (seq, meter slug or "" when no meter reads the type, why)."""
        if not any(any(s is not None for s in b.seqs) for b in batches):
            return []
        meters = self._meter_set(conn)
        unread = unread_warnings(batches, meters.by_type)
        if not meters.by_type:
            return unread
        rows: dict[Target, list[tuple[Any, ...]]] = {}
        errors: list[tuple[int, str, str]] = []
        subjects: set[tuple[int, str]] = set()
        folds = 0
        for batch in batches:
            prepared = batch.prepared
            seqs = batch.seqs
            if isinstance(prepared, Folded) and prepared.version == meters.version and None not in seqs:
                for target, batch_rows in prepared.rows.items():
                    at = prepared.seq_at.get(target)
                    if at is not None:
                        batch_rows = [(*r[:at], seqs[r[at]], *r[at + 1:]) for r in batch_rows]
                    if batch_rows:
                        rows.setdefault(target, []).extend(batch_rows)
                errors.extend((seqs[i], slug, message) for i, slug, message in prepared.errors)  # type: ignore[misc]
            else:
                # Duplicates (which must not count) or meters changed since the preparation: fold again,
                # here, only the events that were stored, with their sequence numbers.
                prepared = self._folder.fold(
                    ((seq, e.type, e.subject, e.time_us, e.data)
                     for seq, e in zip(seqs, batch.events, strict=True) if seq is not None),
                    meters.by_type, meters.version,
                )
                for target, batch_rows in prepared.rows.items():
                    if batch_rows:
                        rows.setdefault(target, []).extend(batch_rows)
                errors.extend(prepared.errors)
            if prepared.rows or prepared.errors:
                folds += 1
            subjects |= prepared.subjects
        self._write(conn, rows, errors, subjects, merged=folds > 1)
        return errors + unread

    def _write(self, conn: Conn, rows: Mapping[Target, builtins.list[tuple[Any, ...]]], errors: builtins.list[tuple[int, str, str]],
               subjects: set[tuple[int, str]], *, merged: bool) -> None:
        """Upserts folded rows target by target in the global order (keys sorted by each statement); rows
        of several folds may share a key (``merged``: each statement merges them first)."""
        arrays.register(conn.raw)
        new = sorted(subjects - self._known_subjects)
        if new:
            created = {(n, s) for n, s in conn.native(_SUBJECTS, _columns(new, _SUBJECT_ENCODERS))}
            committed = set(new) - created  # already there before this transaction: safe to remember
            if len(self._known_subjects) > 1_000_000:
                self._known_subjects = set()
            self._known_subjects |= committed
        statements = _SQL_MERGED if merged else _SQL
        for target in sorted(rows, key=_TARGET_ORDER.__getitem__):
            sql, encoders = statements[target]
            conn.native(sql, _columns(rows[target], encoders))
        if errors:
            conn.native(_ERRORS, _columns(errors, _ERROR_ENCODERS))
            conn.native("UPDATE events SET has_error = 1 WHERE seq = ANY(%s)", (sorted({e[0] for e in errors}),))

    def _backfill(self, conn: Conn, meter: CompiledMeter, event_type: str) -> None:
        last = 0
        while True:
            rows = conn.native(
                "SELECT seq, subject, time_us, data FROM events WHERE type = %s AND seq > %s ORDER BY seq LIMIT %s",
                (event_type, last, BACKFILL_CHUNK),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            prepared = self._folder.fold(((seq, event_type, subject, t, data) for seq, subject, t, data in rows),
                                         {event_type: [meter]}, 0, stored=True)
            self._write(conn, prepared.rows, prepared.errors, prepared.subjects, merged=False)

    def _drop_aggregates(self, conn: Conn, meter_num: int, slug: str) -> None:
        for table in _AGG_TABLES:
            conn.native(f"DELETE FROM {table} WHERE meter_num = %s", (meter_num,))
        conn.native(
            "UPDATE events SET has_error = 0 WHERE seq IN (SELECT event_seq FROM event_errors WHERE meter_slug = %s)"
            " AND NOT EXISTS (SELECT 1 FROM event_errors e WHERE e.event_seq = events.seq AND e.meter_slug != %s)",
            (slug, slug),
        )
        conn.native("DELETE FROM event_errors WHERE meter_slug = %s", (slug,))
