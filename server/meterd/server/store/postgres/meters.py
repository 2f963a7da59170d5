"""PostgreSQL storage of meters and their pre-aggregates, shared by every replica.

The layout is the SQLite backend's (see migrations/0004_meter_row_sets.sql and ``store/rowsets.py``): the
meters of one event type and group paths share a row set, each in a slot of its rows; per-subject minute
rows keyed (row set, day, subject, minute, groups) and hour totals keyed (row set, day, subject, hour); rows
of all subjects per minute, hour and day. Ingest uses the same fold as SQLite (``meters.fold``):

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
  committed without it, and no ingest commits with the old set of meters after it; slots are given and
  cleared under it too.
- Rows are locked in one global order: tables in a fixed order, row sets by number, keys sorted within
  each statement; concurrent transactions (the all-subject minute of "now" is shared by all) wait for each other
  instead of deadlocking, and no update is lost (the merge reads the committed row under its lock). Batches
  stored in one transaction may fold to the same key: their rows are then merged by the statement itself
  (``GROUP BY`` the key), since one statement may not update a row twice.
- Subjects seen are cached only once committed by an earlier transaction (one this transaction inserted
  could vanish with its rollback).
"""

from __future__ import annotations

import builtins
import functools
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
    KIND_OF,
    LATEST,
    MAX,
    MIN,
    SUB_DISTINCT_TARGET,
    SUM,
    CompiledMeter,
    Folded,
    Folder,
    Target,
    compile_meter,
    unread_warnings,
    with_seqs,
)
from meterd.server.meters.model import Aggregation, Meter, MeterDefinition
from meterd.server.meters.plan import NANOS, Fetch, Level, WindowRun
from meterd.server.store import rowsets
from meterd.server.store.postgres import arrays
from meterd.server.store.postgres.db import LOCK_METERS, Conn, Database, Reader
from meterd.server.store.postgres.events import PgEventStore
from meterd.server.store.rowsets import PartialRow, WindowedRow, partial_rows
from meterd.server.store.sql.events import InsertedBatch
from meterd.server.store.sql.features import check_meter_unused
from meterd.server.store.sql.meters import COLUMNS, INSERT_COLUMNS, MeterCatalogue, MeterSet, meter_of
from meterd.server.timeutil import to_us

log = logging.getLogger(__name__)
BACKFILL_CHUNK = 5000
_SUFFIX = {Level.MINUTE: "m", Level.HOUR: "h", Level.DAY: "d"}


# -- SQL ----------------------------------------------------------------------------------------------------

# Key columns (name, array type, sort expression) of each layout; value columns are typed by their letter.
_KEYS = {
    "rowset": ("bigint", "rowset"),
    "meter_num": ("bigint", "meter_num"),
    "day_us": ("bigint", "day_us"),
    "subject": ("text", 'subject COLLATE "C"'),
    "time_us": ("bigint", "time_us"),
    "groups": ("text", 'groups COLLATE "C"'),
    "value": ("text", 'value COLLATE "C"'),
}
_DISTINCT_KEYS = {
    SUB_DISTINCT_TARGET: ("meter_sub_distinct_m", ("meter_num", "day_us", "subject", "time_us", "groups")),
    **{
        target: (f"meter_all_distinct_{_SUFFIX[level]}", ("meter_num", "time_us", "groups"))
        for level, target in ALL_DISTINCT_TARGET.items()
    },
}
_LATEST_ORDER = "ORDER BY {a} DESC NULLS LAST, {b} DESC NULLS LAST"


def target_table(target: Target) -> tuple[str, tuple[str, ...]]:
    """The table and columns a fold target's rows go to (also for bulk loads into empty tables, e.g. the
    bench's)."""
    if target in _DISTINCT_KEYS:
        table, key = _DISTINCT_KEYS[target]
        return table, (*key, "value")
    table, key = rowsets.table_of(target)
    return table, (*key, *rowsets.value_columns(target[-1]))


def _grouped(layout: rowsets.Layout) -> list[str]:
    """Aggregates merging the rows of several folds that share a key, in one statement (one statement may
    not update a row twice)."""
    out = []
    for slot, kind in layout:
        n, a, b, x = (f"{c}{slot}" for c in "nabx")
        out.append(f"sum({n})::bigint")
        if kind == SUM:
            out += [f"sum({a})::bigint", f"sum({b})::bigint"]
        elif kind in (MIN, MAX):
            out.append(f"{'min' if kind == MIN else 'max'}({x})")
        elif kind == LATEST:
            order = _LATEST_ORDER.format(a=a, b=b)
            out += [f"(array_agg({x} {order}))[1]", f"max({a})", f"(array_agg({b} {order}))[1]"]
    return out


@functools.lru_cache(maxsize=2048)
def _upsert_sql(target: Target, merged: bool) -> tuple[str, tuple[Any, ...]]:
    """The statement of one target and the encoders of its columns: rows as arrays (one per column),
    inserted in key order; with ``merged``, rows with the same key are merged first."""
    table, columns = target_table(target)
    distinct = target in _DISTINCT_KEYS
    key = columns if distinct else columns[: len(columns) - len(rowsets.value_columns(target[-1]))]
    types = [_KEYS[c][0] if c in _KEYS else ("float8" if c[0] == "x" else "bigint") for c in columns]
    placeholders = ", ".join(f"%b::{t}[]" for t in types)
    order = ", ".join(_KEYS[c][1] for c in key)
    names = ", ".join(columns)
    source = f"unnest({placeholders}) AS u({names})"
    encoders = tuple(arrays.BY_TYPE[t] for t in types)
    if distinct:
        return (
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {source} ORDER BY {order} ON CONFLICT DO NOTHING",
            encoders,
        )
    key_names = ", ".join(key)
    if merged:
        select = f"SELECT {key_names}, {', '.join(_grouped(target[-1]))} FROM {source} GROUP BY {key_names}"
    else:
        select = f"SELECT {names} FROM {source}"
    updates = ", ".join(rowsets.pg_merges(target[-1]))
    return (
        f"INSERT INTO {table} AS a ({names}) {select} ORDER BY {order} ON CONFLICT ({key_names})"
        f" DO UPDATE SET {updates}",
        encoders,
    )


# The one order every transaction writes its targets in (the global lock order of aggregate rows is
# (table, row set, key)).
_TABLE_ORDER = {
    name: i
    for i, name in enumerate(
        (*rowsets.TABLES, "meter_sub_distinct_m", *(f"meter_all_distinct_{s}" for s in _SUFFIX.values()))
    )
}


def _target_order(target: Target) -> tuple[int, int]:
    return _TABLE_ORDER[target_table(target)[0]], (0 if target in _DISTINCT_KEYS else int(target[-2]))


_SUBJECTS = (
    "INSERT INTO meter_subjects (meter_num, subject) SELECT * FROM unnest(%b::bigint[], %b::text[]) AS u(n, s)"
    ' ORDER BY n, s COLLATE "C" ON CONFLICT DO NOTHING RETURNING meter_num, subject'
)
_ERRORS = (
    "INSERT INTO event_errors (event_seq, meter_slug, message)"
    " SELECT * FROM unnest(%b::bigint[], %b::text[], %b::text[]) AS u(q, m, t) ORDER BY q, m"
    " ON CONFLICT (event_seq, meter_slug) DO UPDATE SET message = excluded.message"
)
_METER_TABLES = (
    "meter_sub_distinct_m",
    "meter_subjects",
    *(f"meter_all_distinct_{s}" for s in _SUFFIX.values()),
)


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
                (
                    meter_id,
                    definition.slug,
                    definition.description,
                    definition.event_type,
                    definition.aggregation.value,
                    definition.value_property,
                    json.dumps(dict(definition.group_by)),
                    to_us(now),
                    to_us(now),
                    definition.window_size.value,
                ),
            ).fetchone()[0]
            self._backfill(conn, _place(conn, num, definition), definition.event_type)
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
                (
                    definition.description,
                    definition.event_type,
                    definition.aggregation.value,
                    definition.value_property,
                    json.dumps(dict(definition.group_by)),
                    to_us(now),
                    definition.window_size.value,
                    meter.id,
                ),
            )
            self._backfill(conn, _place(conn, meter.num, definition), definition.event_type)
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
        self,
        meter: Meter,
        fetch: Fetch,
        *,
        subjects: Sequence[str],
        keep_subject: bool,
        keep_groups: Sequence[int],
        filters: Mapping[int, tuple[str, ...]],
    ) -> Iterator[PartialRow]:
        """Partial rows of one level range, grouped by unit, (subject) and the kept group values (LATEST: one
        per stored row): see rowsets.level_sql, which SQLite's store runs too.

        Rows: (time_us, subject or None, kept group values, count, sum_nanos, min, max, latest, distinct).
        Kept group values are extracted and grouped in SQL (``groups::jsonb ->> i``): measured against
        grouping by the stored text and reading each distinct text once in Python, or joining the distinct
        texts of the range, it is the cheapest (an hourly all-subject query grouped by one of two keys sends
        one row per hour and kept value instead of one per hour and stored text).
        """
        with self._db.connection() as raw:
            place = _placement(raw, meter)
            if place is None and meter.aggregation is not Aggregation.UNIQUE_COUNT:
                return
            sql, params = rowsets.level_sql(
                rowsets.POSTGRES,
                meter.num,
                meter.aggregation,
                place,
                fetch,
                subjects=subjects,
                keep_subject=keep_subject,
                keep_groups=keep_groups,
                filters=filters,
            )
            rows = raw.execute(sql, params).fetchall()
        yield from partial_rows(rows, meter.aggregation, len(keep_groups))

    def fetch_windows(
        self,
        meter: Meter,
        runs: Sequence[WindowRun],
        fetches: Sequence[Fetch],
        *,
        subjects: Sequence[str],
        keep_subject: bool,
        keep_groups: Sequence[int],
        filters: Mapping[int, tuple[str, ...]],
    ) -> Iterator[WindowedRow]:
        """Rows grouped into the query's windows by PostgreSQL (every aggregation but LATEST), one per row of
        the answer and in its order, from the statement SQLite's store runs too (rowsets.windowed_sql):
        measured at 10M events, grouping 720 hour rows into windows in Python took most of a one-subject
        query's time in the replica."""
        if meter.aggregation is Aggregation.LATEST:
            raise ValueError("LATEST is picked in Python (see fetch)")
        if not fetches:
            return
        with self._db.connection() as raw:
            place = _placement(raw, meter)
            if place is None and meter.aggregation is not Aggregation.UNIQUE_COUNT:
                return
            sql, params = rowsets.windowed_sql(
                rowsets.POSTGRES,
                meter.num,
                meter.aggregation,
                place,
                runs,
                fetches,
                subjects=subjects,
                keep_subject=keep_subject,
                keep_groups=keep_groups,
                filters=filters,
            )
            rows = raw.execute(sql, params).fetchall()
        at = 2 + len(keep_groups)
        aggregation = meter.aggregation
        for row in rows:
            count = int(row[at])
            if place is None:
                yield row[0], row[1], tuple(row[2:at]), count, 0, None, None, count
            elif aggregation is Aggregation.COUNT:
                yield row[0], row[1], tuple(row[2:at]), count, 0, None, None, 0
            elif aggregation is Aggregation.MIN:
                yield row[0], row[1], tuple(row[2:at]), count, 0, row[at + 1], None, 0
            elif aggregation is Aggregation.MAX:
                yield row[0], row[1], tuple(row[2:at]), count, 0, None, row[at + 1], 0
            else:
                yield (
                    row[0],
                    row[1],
                    tuple(row[2:at]),
                    count,
                    int(row[at + 1] or 0) * NANOS + int(row[at + 2] or 0),
                    None,
                    None,
                    0,
                )

    # -- ingest ------------------------------------------------------------------------------------------
    def _meter_set(self, conn: Conn) -> MeterSet:
        """The meters by event type, reloaded when another transaction (on any replica) changed them."""
        version = conn.native("SELECT version FROM meters_version WHERE one = 1").fetchone()[0]
        meters = self._meters
        if meters is not None and meters.version == version:
            return meters
        with self._lock:
            by_type: dict[str, list[CompiledMeter]] = {}
            for row in conn.native(
                f"SELECT {COLUMNS}, s.rowset, s.slot FROM meters"
                " LEFT JOIN meter_slots s ON s.meter_num = meters.num ORDER BY num"
            ):
                m = meter_of(row[:-2])
                by_type.setdefault(m.event_type, []).append(
                    compile_meter(m.num, m.definition, row[-2], row[-1] or 0)
                )
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
            return self._folder.fold(
                ((i, e.type, e.subject, e.time_us, e.data) for i, e in enumerate(events)),
                by_type,
                meters.version,
                by_index=True,
            )
        except (
            Exception
        ):  # a bug, not an event's content (that is caught per event): never fail the batch here
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
                    if at:
                        batch_rows = with_seqs(batch_rows, at, seqs.__getitem__)  # type: ignore[arg-type]
                    if batch_rows:
                        rows.setdefault(target, []).extend(batch_rows)
                errors.extend((seqs[i], slug, message) for i, slug, message in prepared.errors)  # type: ignore[misc]
            else:
                # Duplicates (which must not count) or meters changed since the preparation: fold again,
                # here, only the events that were stored, with their sequence numbers.
                prepared = self._folder.fold(
                    (
                        (seq, e.type, e.subject, e.time_us, e.data)
                        for seq, e in zip(seqs, batch.events, strict=True)
                        if seq is not None
                    ),
                    meters.by_type,
                    meters.version,
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

    def _write(
        self,
        conn: Conn,
        rows: Mapping[Target, builtins.list[tuple[Any, ...]]],
        errors: builtins.list[tuple[int, str, str]],
        subjects: set[tuple[int, str]],
        *,
        merged: bool,
    ) -> None:
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
        for target in sorted(rows, key=_target_order):
            sql, encoders = _upsert_sql(target, merged)
            conn.native(sql, _columns(rows[target], encoders))
        if errors:
            conn.native(_ERRORS, _columns(errors, _ERROR_ENCODERS))
            conn.native(
                "UPDATE events SET has_error = 1 WHERE seq = ANY(%s)", (sorted({e[0] for e in errors}),)
            )

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
            prepared = self._folder.fold(
                ((seq, event_type, subject, t, data) for seq, subject, t, data in rows),
                {event_type: [meter]},
                0,
                stored=True,
            )
            self._write(conn, prepared.rows, prepared.errors, prepared.subjects, merged=False)

    def _drop_aggregates(self, conn: Conn, meter_num: int, slug: str) -> None:
        _release(conn, meter_num)
        for table in _METER_TABLES:
            conn.native(f"DELETE FROM {table} WHERE meter_num = %s", (meter_num,))
        conn.native(
            "UPDATE events SET has_error = 0 WHERE seq IN (SELECT event_seq FROM event_errors WHERE meter_slug = %s)"
            " AND NOT EXISTS (SELECT 1 FROM event_errors e WHERE e.event_seq = events.seq AND e.meter_slug != %s)",
            (slug, slug),
        )
        conn.native("DELETE FROM event_errors WHERE meter_slug = %s", (slug,))


def _placement(raw: Any, meter: Meter) -> rowsets.Placement | None:
    """The meter's row set and slot (None for a meter gone)."""
    row = raw.execute("SELECT rowset, slot FROM meter_slots WHERE meter_num = %s", (meter.num,)).fetchone()
    return rowsets.Placement(row[0], row[1], KIND_OF[meter.aggregation]) if row else None


def _place(conn: Conn, num: int, definition: MeterDefinition) -> CompiledMeter:
    """Gives a new (or redefined) meter its slot (under LOCK_METERS): the first free one of a row set with its
    event type and group paths, else slot 0 of a new row set (UNIQUE_COUNT meters have none); returns it
    compiled."""
    if definition.aggregation is Aggregation.UNIQUE_COUNT:
        return compile_meter(num, definition)
    paths = list(definition.group_by.values())
    found = rowsets.free_slot(
        conn.native(rowsets.ROW_SETS_OF_TYPE.format(ph="%s"), (definition.event_type,)).fetchall(), paths
    )
    if found is None:
        rowset = conn.native(
            "INSERT INTO meter_rowsets (event_type, group_paths) VALUES (%s, %s) RETURNING rowset",
            (definition.event_type, json.dumps(paths)),
        ).fetchone()[0]
        found = (rowset, 0)
    conn.native("INSERT INTO meter_slots (meter_num, rowset, slot) VALUES (%s, %s, %s)", (num, *found))
    return compile_meter(num, definition, *found)


def _release(conn: Conn, num: int) -> None:
    """Takes a meter out of its slot (under LOCK_METERS; rowsets.release_sql)."""
    row = conn.native(
        "DELETE FROM meter_slots WHERE meter_num = %s RETURNING rowset, slot", (num,)
    ).fetchone()
    if row is None:
        return
    others = (
        conn.native("SELECT 1 FROM meter_slots WHERE rowset = %s LIMIT 1", (row[0],)).fetchone() is not None
    )
    for sql, params in rowsets.release_sql(row[0], row[1], others, "%s"):
        conn.native(sql, params)
