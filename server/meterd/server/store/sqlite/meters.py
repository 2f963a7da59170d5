"""SQLite storage of meters and their pre-aggregates (layout: migrations/0010_meter_row_sets.sql and
``store/rowsets.py``).

Layout, in short. The meters of one event type that group by the same paths share a row set: one row per
(subject, group values, minute) carries every such meter's values, each in its slot, so an event read by
three meters is one upsert, not three. Per subject there are minute rows, keyed (row set, day, subject,
minute, groups), and hour totals over every group value, keyed (row set, day, subject, hour); rows for all
subjects together are kept per level (minute, hour, day), keyed (row set, time, groups). Keys lead with
time, so the rows one batch updates sit near each other at the recent end of each table. UNIQUE_COUNT
meters keep their distinct values in tables of their own, keyed by the meter's number.

Ingest, in two steps:

1. ``prepare`` (on the submitting thread, before the batch reaches the writer): the batch is folded
   (``meters.fold``) into the rows it will upsert. LATEST's tie-break by ingest sequence uses the event's
   index in the batch, turned into its sequence number by the writer.
2. ``apply`` (on the writer, inside the ingest transaction): ``executemany`` of the prepared rows of every
   batch of the commit; where the batches' event times meet (live traffic), the rows of one key are merged
   first (``meters.fold.merge_rows``), so each is upserted once per commit. If a batch had duplicates
   (whose events must not count) or the meters changed since the preparation, it is folded again here
   from the events that were stored.

A meter created later is given a free slot (of a row set with its type and group paths, else a new row
set) and backfilled into it from the stored events: its upserts write its slot's columns only. A meter
deleted, or redefined, has its slot cleared in every row of its row set (rows left without any reading are
deleted), so a slot is empty when it is given again.
"""

from __future__ import annotations

import builtins
import itertools
import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from meterd.server.errors import AlreadyExists, NotFound
from meterd.server.events.model import ValidEvent
from meterd.server.meters.fold import (
    ALL_DISTINCT_TARGET,
    SUB_DISTINCT_TARGET,
    CompiledMeter,
    Folded,
    Folder,
    Target,
    compile_meter,
    merge_rows,
    target_unit,
    unread_warnings,
    with_seqs,
)
from meterd.server.meters.model import Aggregation, Meter, MeterDefinition
from meterd.server.meters.plan import Fetch, Level, WindowRun
from meterd.server.store import rowsets
from meterd.server.store.sql.events import InsertedBatch
from meterd.server.store.sql.features import check_meter_unused
from meterd.server.store.sql.meters import COLUMNS, INSERT_COLUMNS, MeterCatalogue, MeterSet, meter_of
from meterd.server.store.sqlite.db import Database
from meterd.server.store.sqlite.events import SqliteEventStore
from meterd.server.store.sqlite.meter_reads import (
    PartialRow,
    WindowedRow,
    fetch_rows,
    windowed_rows,
)
from meterd.server.timeutil import to_us

log = logging.getLogger(__name__)
_SUFFIX = {Level.MINUTE: "m", Level.HOUR: "h", Level.DAY: "d"}
BACKFILL_CHUNK = 5000


# -- SQL ----------------------------------------------------------------------------------------------------

_SUB_KEY = "meter_num, day_us, subject, time_us, groups"
_ALL_KEY = "meter_num, time_us, groups"
# UNIQUE_COUNT's distinct values (row set targets: rowsets.sqlite_upsert).
_DISTINCT_SQL: dict[Target, str] = {
    SUB_DISTINCT_TARGET: f"INSERT OR IGNORE INTO meter_sub_distinct_m ({_SUB_KEY}, value) VALUES (?, ?, ?, ?, ?, ?)",
    **{
        target: f"INSERT OR IGNORE INTO meter_all_distinct_{_SUFFIX[level]} ({_ALL_KEY}, value) VALUES (?, ?, ?, ?)"
        for level, target in ALL_DISTINCT_TARGET.items()
    },
}


def upsert_sql(target: Target) -> str:
    """The statement that upserts a fold target's rows (one row's parameters at a time)."""
    return _DISTINCT_SQL.get(target) or rowsets.sqlite_upsert(target)


class _Prepared(NamedTuple):
    """A batch folded before the writer, with the range of its event times (microseconds)."""

    folded: Folded
    first_us: int
    last_us: int


def _overlap(parts: Sequence[tuple[object, int, int]], unit: int) -> bool:
    """Whether any two time ranges, widened to whole units, share a unit (their rows may share a key)."""
    spans = sorted((first - first % unit, last - last % unit) for _, first, last in parts)
    return any(start <= end for (_, end), (start, _) in itertools.pairwise(spans))


class SqliteMeterStore(MeterCatalogue):
    """Meters and their aggregates. Registers itself as a batch listener of the event store."""

    def __init__(self, db: Database, events: SqliteEventStore) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._version = 0
        self._meters: MeterSet | None = None  # published by the writer, read by ``prepare``
        self._folder = Folder()
        # (meter num, subject) pairs known to be in meter_subjects; dropped on any rollback.
        self._known_subjects: set[tuple[int, str]] = set()
        events.add_batch_listener(self)
        db.add_rollback_listener(self._rolled_back)

    def _rolled_back(self) -> None:
        self._known_subjects.clear()
        self._invalidate()

    # -- meters ------------------------------------------------------------------------------------------
    def create(self, meter_id: str, definition: MeterDefinition, now: datetime) -> Meter:
        """Stores a new meter and backfills its aggregates from existing events, in one transaction."""

        def job(conn: sqlite3.Connection) -> Meter:
            if conn.execute("SELECT 1 FROM meters WHERE slug = ?", (definition.slug,)).fetchone():
                raise AlreadyExists(f"meter.slug: a meter with slug {definition.slug!r} already exists")
            cursor = conn.execute(
                f"INSERT INTO meters ({INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            )
            num = cursor.lastrowid or 0
            self._invalidate()
            self._backfill(conn, _place(conn, num, definition), definition.event_type)
            return Meter(meter_id, definition, now, now, num)

        return self._db.write(job)

    def update(self, meter: Meter, definition: MeterDefinition, now: datetime) -> Meter:
        """Replaces a meter's definition (config-declared meters) and rebuilds its aggregates."""

        def job(conn: sqlite3.Connection) -> Meter:
            self._drop_aggregates(conn, meter.num, meter.slug)
            conn.execute(
                "UPDATE meters SET description = ?, event_type = ?, aggregation = ?, value_property = ?,"
                " group_by = ?, updated_us = ?, window_size = ? WHERE id = ?",
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
            self._invalidate()
            self._backfill(conn, _place(conn, meter.num, definition), definition.event_type)
            return Meter(meter.id, definition, meter.created_at, now, meter.num)

        return self._db.write(job)

    def delete(self, meter: Meter) -> None:
        """Deletes a meter and its aggregates and validation errors; the events stay. FailedPrecondition if
        an active feature uses it, NotFound if it is gone (both read in the deleting transaction)."""

        def job(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM meters WHERE id = ?", (meter.id,)).fetchone() is None:
                raise NotFound(f"meter {meter.slug!r} not found")
            check_meter_unused(conn, meter.slug)
            self._drop_aggregates(conn, meter.num, meter.slug)
            conn.execute("DELETE FROM meters WHERE id = ?", (meter.id,))
            self._invalidate()

        self._db.write(job)

    def reader(self) -> sqlite3.Connection:
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
        """Partial rows of one level range, grouped by unit, (subject) and the kept group values (see
        meter_reads.fetch_rows).

        Rows: (time_us, subject or None, kept group values, count, sum_nanos, min, max, latest, distinct).
        """
        return fetch_rows(
            self._db.reader(),
            meter.num,
            meter.aggregation,
            fetch,
            subjects=subjects,
            keep_subject=keep_subject,
            keep_groups=keep_groups,
            filters=filters,
        )

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
        """Rows grouped into the query's windows in SQL (every aggregation but LATEST): see meter_reads."""
        return windowed_rows(
            self._db.reader(),
            meter.num,
            meter.aggregation,
            runs,
            fetches,
            subjects=subjects,
            keep_subject=keep_subject,
            keep_groups=keep_groups,
            filters=filters,
        )

    # -- ingest ------------------------------------------------------------------------------------------
    def _invalidate(self) -> None:
        with self._lock:
            self._version += 1
            self._meters = None

    def _meter_set(self, conn: sqlite3.Connection) -> MeterSet:
        """The meters, loaded on the writer's connection (so in step with its transaction)."""
        with self._lock:
            if self._meters is None:
                by_type: dict[str, list[CompiledMeter]] = {}
                for row in conn.execute(
                    f"SELECT {COLUMNS}, s.rowset, s.slot FROM meters"
                    " LEFT JOIN meter_slots s ON s.meter_num = meters.num ORDER BY num"
                ):
                    m = meter_of(row[:-2])
                    by_type.setdefault(m.event_type, []).append(
                        compile_meter(m.num, m.definition, row[-2], row[-1] or 0)
                    )
                self._meters = MeterSet(self._version, by_type)
            return self._meters

    def prepare(self, events: Sequence[ValidEvent]) -> _Prepared | None:
        """Folds a batch before it reaches the writer (None: the meters are being reloaded, or the fold
        failed unexpectedly; the writer then folds the batch itself)."""
        meters = self._meters
        if meters is None:
            return None
        by_type = meters.by_type
        times = [e.time_us for e in events]
        if not by_type or not times:
            return _Prepared(Folded(meters.version), 0, 0)
        try:
            folded = self._folder.fold(
                ((i, e.type, e.subject, e.time_us, e.data) for i, e in enumerate(events)),
                by_type,
                meters.version,
                by_index=True,
            )
        except (
            Exception
        ):  # a bug, not an event's content (that is caught per event): never fail the batch here
            log.exception("meter fold failed before the writer; the writer folds the batch")
            return None
        return _Prepared(folded, min(times), max(times))

    def apply(
        self, conn: sqlite3.Connection, batches: builtins.list[InsertedBatch]
    ) -> builtins.list[tuple[int, str, str]]:
        """Upserts the batches' rows inside the ingest transaction; returns the warnings of the stored events
        (seq, meter slug or "" when no meter reads the type, why) for the ingest's answer."""
        meters = self._meter_set(conn)
        unread = unread_warnings(batches, meters.by_type)
        if not meters.by_type:
            return unread
        # Per target, each batch's rows with the batch's range of event times.
        parts: dict[Target, list[tuple[list[tuple[Any, ...]], int, int]]] = {}
        errors: list[tuple[int, str, str]] = []
        subjects: set[tuple[int, str]] = set()
        for batch in batches:
            prepared = batch.prepared
            seqs = batch.seqs
            if not seqs:
                continue
            if (
                isinstance(prepared, _Prepared)
                and prepared.folded.version == meters.version
                and None not in seqs
            ):
                folded, first, last = prepared
                base = seqs[0]
                assert base is not None
                for target, batch_rows in folded.rows.items():
                    at = folded.seq_at.get(target)
                    if at:
                        batch_rows = with_seqs(batch_rows, at, base.__add__)
                    parts.setdefault(target, []).append((batch_rows, first, last))
                errors.extend((base + i, slug, message) for i, slug, message in folded.errors)
            else:
                # Duplicates (which must not count) or meters changed since the preparation: fold again,
                # here, only the events that were stored, with their sequence numbers.
                stored = [
                    (seq, e.type, e.subject, e.time_us, e.data)
                    for seq, e in zip(seqs, batch.events, strict=True)
                    if seq is not None
                ]
                if not stored:
                    continue
                folded = self._folder.fold(stored, meters.by_type, meters.version)
                first, last = min(e[3] for e in stored), max(e[3] for e in stored)
                for target, batch_rows in folded.rows.items():
                    parts.setdefault(target, []).append((batch_rows, first, last))
                errors.extend(folded.errors)
            subjects |= folded.subjects
        rows: dict[Target, list[tuple[Any, ...]]] = {}
        for target, target_parts in parts.items():
            if len(target_parts) == 1:
                rows[target] = target_parts[0][0]
            elif _overlap(target_parts, target_unit(target)):
                # Batches of one commit whose times meet (live traffic): each row upserted once, not once
                # per batch.
                rows[target] = merge_rows(target, [part[0] for part in target_parts])
            else:
                rows[target] = [row for part in target_parts for row in part[0]]
        self._write(conn, rows, errors, subjects)
        return errors + unread

    def _write(
        self,
        conn: sqlite3.Connection,
        rows: Mapping[Target, builtins.list[tuple[Any, ...]]],
        errors: builtins.list[tuple[int, str, str]],
        subjects: set[tuple[int, str]],
    ) -> None:
        for target, batch_rows in rows.items():
            conn.executemany(upsert_sql(target), batch_rows)
        if errors:
            conn.executemany(
                "INSERT OR REPLACE INTO event_errors (event_seq, meter_slug, message) VALUES (?, ?, ?)",
                errors,
            )
            conn.executemany("UPDATE events SET has_error = 1 WHERE seq = ?", [(e[0],) for e in errors])
        new = subjects - self._known_subjects
        if new:
            conn.executemany("INSERT OR IGNORE INTO meter_subjects (meter_num, subject) VALUES (?, ?)", new)
            if len(self._known_subjects) > 200_000:
                self._known_subjects.clear()
            self._known_subjects |= new

    def _backfill(self, conn: sqlite3.Connection, meter: CompiledMeter, event_type: str) -> None:
        last = 0
        while True:
            rows = conn.execute(
                "SELECT seq, subject, time_us, data FROM events WHERE type = ? AND seq > ? ORDER BY seq LIMIT ?",
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
            self._write(conn, prepared.rows, prepared.errors, prepared.subjects)

    def _drop_aggregates(self, conn: sqlite3.Connection, meter_num: int, slug: str) -> None:
        _release(conn, meter_num)
        for table in (
            "meter_sub_distinct_m",
            "meter_subjects",
            *(f"meter_all_distinct_{s}" for s in _SUFFIX.values()),
        ):
            conn.execute(f"DELETE FROM {table} WHERE meter_num = ?", (meter_num,))
        self._known_subjects.clear()
        conn.execute(
            "UPDATE events SET has_error = 0 WHERE seq IN (SELECT event_seq FROM event_errors WHERE meter_slug = ?)"
            " AND NOT EXISTS (SELECT 1 FROM event_errors e WHERE e.event_seq = events.seq AND e.meter_slug != ?)",
            (slug, slug),
        )
        conn.execute("DELETE FROM event_errors WHERE meter_slug = ?", (slug,))


def _place(conn: sqlite3.Connection, num: int, definition: MeterDefinition) -> CompiledMeter:
    """Gives a new (or redefined) meter its slot: the first free one of a row set with its event type and
    group paths, else slot 0 of a new row set (UNIQUE_COUNT meters have none); returns it compiled."""
    if definition.aggregation is Aggregation.UNIQUE_COUNT:
        return compile_meter(num, definition)
    paths = list(definition.group_by.values())
    found = rowsets.free_slot(
        conn.execute(rowsets.ROW_SETS_OF_TYPE.format(ph="?"), (definition.event_type,)).fetchall(), paths
    )
    if found is None:
        cursor = conn.execute(
            "INSERT INTO meter_rowsets (event_type, group_paths) VALUES (?, ?)",
            (definition.event_type, json.dumps(paths)),
        )
        found = (cursor.lastrowid or 0, 0)
    conn.execute("INSERT INTO meter_slots (meter_num, rowset, slot) VALUES (?, ?, ?)", (num, *found))
    return compile_meter(num, definition, *found)


def _release(conn: sqlite3.Connection, num: int) -> None:
    """Takes a meter out of its slot (rowsets.release_sql)."""
    row = conn.execute("SELECT rowset, slot FROM meter_slots WHERE meter_num = ?", (num,)).fetchone()
    if row is None:
        return
    conn.execute("DELETE FROM meter_slots WHERE meter_num = ?", (num,))
    others = (
        conn.execute("SELECT 1 FROM meter_slots WHERE rowset = ? LIMIT 1", (row[0],)).fetchone() is not None
    )
    for sql, params in rowsets.release_sql(row[0], row[1], others, "?"):
        conn.execute(sql, params)
