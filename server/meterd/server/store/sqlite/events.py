"""SQLite storage of raw events: deduplicated insert on the write path, filtered paging on the read path."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import datetime
from typing import Any, Protocol

from meterd.server.events.model import EventFilter, Stored, StoredEvent, ValidEvent, warnings_by_index
from meterd.server.store.sql.connection import SQLITE
from meterd.server.store.sql.events import InsertedBatch, first_event_times, list_page
from meterd.server.store.sqlite.db import Database, disk_error, storage_error
from meterd.server.timeutil import to_us

log = logging.getLogger(__name__)

# Called inside the ingest transaction with the events that were newly stored (seq, event); meters use
# it to update their pre-aggregates atomically with the raw rows.
IngestListener = Callable[[sqlite3.Connection, list[tuple[int, ValidEvent]]], None]
# Called on the writer thread right after a commit that stored events: per batch, its events, whether each
# was stored (False: a duplicate) and its ingestion time (microseconds). Must be quick (watchers enqueue).
CommitListener = Callable[[list[tuple[Sequence[ValidEvent], list[bool], int]]], None]


class BatchListener(Protocol):
    """Like an IngestListener, with per-batch work done before the batch reaches the writer thread.

    ``prepare`` runs on the submitting thread for every batch (in parallel with the writer's SQL) and may
    return anything; ``apply`` runs inside the ingest transaction with, per batch: its events, each event's
    ingest sequence number (None for a duplicate) and what ``prepare`` returned for it. A batch is always
    handed over whole with its own prepared value, so a batch can be applied (or retried) alone.
    """

    def prepare(self, events: Sequence[ValidEvent]) -> object: ...

    def apply(
        self, conn: sqlite3.Connection, batches: list[InsertedBatch]
    ) -> list[tuple[int, str, str]] | None:
        """Returns the stored events' warnings for the answer: (seq, meter slug, why)."""
        ...


# The dedupe is the unique key: a row whose (source, id) is stored already is not inserted. seq is left to
# SQLite, which gives each new row the greatest seq so far plus one (the writer checks it did).
_INSERT = (
    "INSERT INTO events (source, id, type, subject, time_us, ingested_us, specversion, datacontenttype,"
    " dataschema, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, id) DO NOTHING"
)
_NEW_KEYS = "SELECT seq, source, id FROM events WHERE seq >= ?"
# The same insert once raw events have been removed (retention): the keys of removed events stay duplicates.
_INSERT_UNLESS_RETIRED = (
    "INSERT INTO events (source, id, type, subject, time_us, ingested_us, specversion, datacontenttype,"
    " dataschema, data) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10"
    " WHERE NOT EXISTS (SELECT 1 FROM event_keys_retired WHERE source = ?1 AND id = ?2)"
    " ON CONFLICT (source, id) DO NOTHING"
)


# A submitted batch: its events, ingest time, the caller's future, each batch listener's prepared value,
# and its rows for the insert (built on the submitting thread).
_Pending = tuple[Sequence[ValidEvent], int, "Future[list[bool]]", list[object], list[tuple[Any, ...]]]


class SqliteEventStore:
    """Raw events in the ``events`` table; see migrations/0001_events.sql."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._listeners: list[IngestListener] = []
        self._commit_listeners: list[CommitListener] = []
        self._batch_listeners: list[BatchListener] = []
        self._pending: list[_Pending] = []
        self._pending_lock = threading.Lock()
        self._drain_scheduled = False
        self._in_flight = 0
        # Whether any raw event was removed (its key kept in event_keys_retired): ingest then checks those keys.
        self._retired = db.reader().execute("SELECT 1 FROM event_keys_retired LIMIT 1").fetchone() is not None

    def add_ingest_listener(self, listener: IngestListener) -> None:
        """Registers a function run in the same transaction as every insert of new events."""
        self._listeners.append(listener)

    def batches_in_flight(self) -> int:
        """Batches submitted and not yet committed (several: ingest is running at full speed)."""
        return self._in_flight

    def add_commit_listener(self, listener: CommitListener) -> None:
        """Registers a function run after every commit that stored events (see CommitListener)."""
        self._commit_listeners.append(listener)

    def add_batch_listener(self, listener: BatchListener) -> None:
        """Registers a listener whose per-batch preparation runs before the writer (see BatchListener)."""
        self._batch_listeners.append(listener)

    def submit_ingest(self, events: Sequence[ValidEvent], ingested_at: datetime) -> Future[list[bool]]:
        """Queues the events for storage; the future gives, per event, True if stored, False if a duplicate.

        It resolves only after the commit, so a result in hand means the events are durable. Batches that
        queue up while the writer is busy are stored together by one job: one dedupe lookup, one insert
        and one pass of the meters' aggregation for all of them.
        """
        future: Future[list[bool]] = Future()
        # Per-batch work of the listeners (reading meter values, folding minutes) happens here, on the
        # caller's thread, while the writer is busy with earlier batches.
        prepared = [listener.prepare(events) for listener in self._batch_listeners]
        ingested_us = to_us(ingested_at)
        rows = [
            (
                e.source,
                e.id,
                e.type,
                e.subject,
                e.time_us,
                ingested_us,
                e.specversion,
                e.datacontenttype or None,
                e.dataschema or None,
                e.data,
            )
            for e in events
        ]
        with self._pending_lock:
            self._pending.append((events, ingested_us, future, prepared, rows))
            self._in_flight += 1
            schedule = not self._drain_scheduled
            self._drain_scheduled = True
        if schedule:
            self._schedule_drain()
        return future

    def _schedule_drain(self) -> None:
        taken: list[_Pending] = []

        def job(conn: sqlite3.Connection) -> list[list[bool] | BaseException]:
            with self._pending_lock:
                taken.extend(self._pending)
                self._pending = []
                self._drain_scheduled = False
            return self._insert_isolated(conn, taken)

        def done(result: Future[list[list[bool] | BaseException]]) -> None:
            # Resolved after the commit (or its failure): every batch the job took learns its own outcome.
            with self._pending_lock:
                self._in_flight -= len(taken)
            error = result.exception()
            for i, (_, _, future, _, _) in enumerate(taken):
                outcome = error if error is not None else result.result()[i]
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
            if error is None and self._commit_listeners:
                committed = [
                    (events, outcome, ingested_us)
                    for (events, ingested_us, _, _, _), outcome in zip(taken, result.result(), strict=True)
                    if not isinstance(outcome, BaseException)
                ]
                for listener in self._commit_listeners:
                    listener(committed)

        self._db.submit(job).add_done_callback(done)

    def _insert_isolated(
        self, conn: sqlite3.Connection, batches: list[_Pending]
    ) -> list[list[bool] | BaseException]:
        """``_insert`` of every batch together (group commit); if that fails, each batch again alone in its
        own savepoint, so a batch that cannot be stored fails alone and the others still commit."""
        try:
            with self._db.savepoint(conn, "batches"):
                return list(self._insert(conn, batches))
        except Exception as exc:
            # SQLite rolled the transaction back (a full disk), or the disk failed (the transaction is not
            # carried on after an I/O error): the writer fails the whole group.
            if not conn.in_transaction or disk_error(exc):
                raise
            if len(batches) == 1:
                return [storage_error(exc)]
        outcomes: list[list[bool] | BaseException] = []
        for batch in batches:
            try:
                with self._db.savepoint(conn, "batch"):
                    outcomes.append(self._insert(conn, [batch])[0])
            except Exception as exc:
                if not conn.in_transaction or disk_error(exc):
                    raise
                log.exception("one ingest batch of %d events failed and was not stored", len(batch[0]))
                outcomes.append(storage_error(exc))
        return outcomes

    def _insert(self, conn: sqlite3.Connection, batches: list[_Pending]) -> list[Stored]:
        # One executemany of every batch's rows; the unique key drops duplicates (of stored events, or of
        # an earlier event of the same batches: the first stays). When every row went in, the new seqs
        # are the next ones in order; otherwise the new rows are read back to learn which went in.
        next_seq = (conn.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0) + 1
        rows = batches[0][4] if len(batches) == 1 else [r for batch in batches for r in batch[4]]
        before = conn.total_changes
        conn.executemany(_INSERT_UNLESS_RETIRED if self._retired else _INSERT, rows)
        stored_count = conn.total_changes - before
        outcomes: list[list[bool]] = []
        seqs: list[Sequence[int | None]] = []
        inserted: list[tuple[int, ValidEvent]]
        if stored_count == len(rows):
            last = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
            if rows and last != next_seq + len(rows) - 1:
                raise RuntimeError(
                    f"events got seqs up to {last}, not {next_seq}..{next_seq + len(rows) - 1}"
                )
            inserted = []
            seq = next_seq
            for events, _, _, _, _ in batches:
                seqs.append(range(seq, seq + len(events)))
                inserted.extend(zip(range(seq, seq + len(events)), events, strict=True))
                outcomes.append([True] * len(events))
                seq += len(events)
        else:
            new = {(source, event_id): seq for seq, source, event_id in conn.execute(_NEW_KEYS, (next_seq,))}
            if len(new) != stored_count:
                raise RuntimeError(
                    f"{stored_count} events stored but {len(new)} found from seq {next_seq} on"
                )
            inserted = []
            for events, _, _, _, _ in batches:
                batch_seqs: list[int | None] = [new.pop((e.source, e.id), None) for e in events]
                seqs.append(batch_seqs)
                outcomes.append([s is not None for s in batch_seqs])
                inserted.extend((s, e) for s, e in zip(batch_seqs, events, strict=True) if s is not None)
        warnings: list[tuple[int, str, str]] = []
        if inserted:
            for listener in self._listeners:
                listener(conn, inserted)
            if self._batch_listeners:
                for i, batch_listener in enumerate(self._batch_listeners):
                    warnings += (
                        batch_listener.apply(
                            conn,
                            [
                                InsertedBatch(events, batch_seqs, prepared[i])
                                for (events, _, _, prepared, _), batch_seqs in zip(batches, seqs, strict=True)
                            ],
                        )
                        or []
                    )
        return [
            Stored(flags, found)
            for flags, found in zip(outcomes, warnings_by_index(seqs, warnings), strict=True)
        ]

    def retire(self, before_us: int, limit: int) -> int:
        """Removes up to ``limit`` raw events whose event time is before ``before_us`` (oldest first), with
        their validation errors, keeping their dedupe keys; returns how many. The pre-aggregates are not
        touched: every meter's numbers stay what they were."""

        def job(conn: sqlite3.Connection) -> int:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS retiring (seq INTEGER PRIMARY KEY)")
            conn.execute("DELETE FROM retiring")
            conn.execute(
                "INSERT INTO retiring SELECT seq FROM events WHERE time_us < ? ORDER BY time_us LIMIT ?",
                (before_us, limit),
            )
            conn.execute(
                "INSERT OR IGNORE INTO event_keys_retired (source, id)"
                " SELECT source, id FROM events WHERE seq IN (SELECT seq FROM retiring)"
            )
            conn.execute("DELETE FROM event_errors WHERE event_seq IN (SELECT seq FROM retiring)")
            removed = conn.execute("DELETE FROM events WHERE seq IN (SELECT seq FROM retiring)").rowcount
            conn.execute("DELETE FROM retiring")
            if removed:
                self._retired = True  # on the writer, before any later insert (same thread)
            return removed

        return self._db.write(job)

    def list(
        self, filter: EventFilter, limit: int, after: tuple[int, int] | None
    ) -> tuple[list[StoredEvent], tuple[int, int] | None]:
        """One page, newest event time first (see store/sql/events.py)."""
        return list_page(self._db.reader(), SQLITE, filter, limit, after)

    def first_event_times(
        self, event_type: str, start_us: int, end_us: int, limit: int
    ) -> tuple[dict[str, int], int]:
        """Per subject, the earliest time of its events of ``event_type`` in a span (see store/sql/events.py)."""
        return first_event_times(self._db.reader(), event_type, start_us, end_us, limit)
