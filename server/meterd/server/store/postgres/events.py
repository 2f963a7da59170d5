"""PostgreSQL storage of raw events: the ingest transaction, shared by every replica.

One transaction stores a group of batches (those that queued while the previous one ran, as in the SQLite
store) and is committed before any caller is answered:

1. shared advisory locks (meters, event sequence; see db.py) so meter backfills and snapshot saves order
   themselves against it, and one that tells readers of the event high-water mark it is in flight;
2. the dedupe keys, sorted, in one ``INSERT INTO event_keys ... ON CONFLICT DO NOTHING RETURNING``: a key
   that another replica's open transaction is inserting waits for it, so exactly one of them stores it, and
   sorted keys are locked in one global order (no deadlock between replicas);
3. sequence numbers for the new events in one round trip, then the rows by COPY;
4. the batch listeners (the meters' pre-aggregates: each batch was folded by their ``prepare`` on the
   submitting thread, before the transaction) and the ingest listeners (snapshot invalidation), in the
   same transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import datetime
from typing import Protocol

from meterd.server.events.model import EventFilter, Stored, StoredEvent, ValidEvent, warnings_by_index
from meterd.server.store.postgres import arrays
from meterd.server.store.postgres.db import (
    LOCK_EVENT_SEQ,
    LOCK_METERS,
    RETRYABLE,
    Conn,
    Database,
    connection_lost,
    storage_error,
)
from meterd.server.store.sql.connection import POSTGRES
from meterd.server.store.sql.events import InsertedBatch, first_event_times, list_page
from meterd.server.timeutil import to_us

# The third lock marks this transaction as in flight with sequence numbers above the sequence's value read
# here (a negative key: -1 - value); see snapshots.PgSnapshotStore.event_seq. It is taken before any
# nextval of this transaction, so every number it allocates is above the value its key carries.
log = logging.getLogger(__name__)

_LOCKS = (
    "SELECT pg_advisory_xact_lock_shared(%s), pg_advisory_xact_lock_shared(%s),"
    " pg_advisory_xact_lock_shared(-1 - (SELECT last_value FROM events_seq))"
)
_NEW_KEYS = (
    "INSERT INTO event_keys (source, id) SELECT s, i FROM unnest(%b::text[], %b::text[]) AS k(s, i)"
    ' ORDER BY s COLLATE "C", i COLLATE "C" ON CONFLICT DO NOTHING RETURNING source, id'
)
_SEQS = "SELECT nextval('events_seq') FROM generate_series(1, %s)"
_COPY = (
    "COPY events (seq, source, id, type, subject, time_us, ingested_us, specversion, datacontenttype,"
    " dataschema, data) FROM STDIN"
)

# A submitted batch: its events, ingest time, the caller's future, and each batch listener's prepared value.
Pending = tuple[Sequence[ValidEvent], int, Future[list[bool]], list[object]]
# Called inside the ingest transaction with the events that were newly stored (seq, event).
IngestListener = Callable[[Conn, list[tuple[int, ValidEvent]]], None]


class BatchListener(Protocol):
    """Sees every batch twice: ``prepare`` on the submitting thread (before the transaction; may return
    anything), ``apply`` inside the ingest transaction with, per batch, its events, each event's sequence
    number (None for a duplicate) and what ``prepare`` returned for it."""

    def prepare(self, events: Sequence[ValidEvent]) -> object: ...

    def apply(self, conn: Conn, batches: Sequence[InsertedBatch]) -> list[tuple[int, str, str]] | None:
        """Returns the stored events' warnings for the answer: (seq, meter slug, why)."""
        ...


# Called right after a commit that stored events: per batch, its events, whether each was stored and its
# ingestion time (microseconds). Must be quick (watchers only enqueue). Changes made through this replica only.
CommitListener = Callable[[list[tuple[Sequence[ValidEvent], list[bool], int]]], None]


class PgEventStore:
    """Raw events in the partitioned ``events`` table, dedupe keys in ``event_keys``."""

    def __init__(self, db: Database) -> None:
        self._pg = db
        self._listeners: list[IngestListener] = []
        self._batch_listeners: list[BatchListener] = []
        self._pending: list[Pending] = []
        self._pending_lock = threading.Lock()
        self._drain_scheduled = False
        self._commit_listeners: list[CommitListener] = []
        self._in_flight = 0

    def add_ingest_listener(self, listener: IngestListener) -> None:
        """Registers a function run in the same transaction as every insert of new events."""
        self._listeners.append(listener)

    def add_batch_listener(self, listener: BatchListener) -> None:
        """Registers a listener whose per-batch preparation runs before the transaction (see BatchListener)."""
        self._batch_listeners.append(listener)

    def add_commit_listener(self, listener: CommitListener) -> None:
        """Registers a function run after every commit that stored events (see CommitListener)."""
        self._commit_listeners.append(listener)

    def batches_in_flight(self) -> int:
        """Batches submitted and not yet committed (several: ingest is running at full speed)."""
        return self._in_flight

    def _schedule_drain(self) -> None:
        # Unlike SQLite's single writer, several drains may run at once (on this replica's writer threads),
        # each taking what queued before it started.
        taken: list[Pending] = []

        def job(conn: Conn) -> list[list[bool] | BaseException]:
            if not taken:
                with self._pending_lock:
                    taken.extend(self._pending)
                    self._pending = []
                    self._drain_scheduled = False
            if len(taken) == 1:
                return list(self._insert_pg(conn, taken))
            try:
                with conn.raw.transaction():  # a savepoint: the batches together, the common case
                    return list(self._insert_pg(conn, taken))
            except Exception as exc:
                if isinstance(exc, RETRYABLE) or connection_lost(exc):
                    raise  # the whole job runs again (or fails as a whole: the connection is gone)
                # Batches of different callers share a transaction but never a failure: each alone now.
                log.warning("a group of %d ingest batches failed; storing each alone", len(taken))
            results: list[list[bool] | BaseException] = []
            for batch in taken:
                try:
                    with conn.raw.transaction():
                        results.append(self._insert_pg(conn, [batch])[0])
                except Exception as exc:
                    if isinstance(exc, RETRYABLE) or connection_lost(exc):
                        raise
                    self._pg.rolled_back()
                    results.append(storage_error(exc))
            return results

        def done(result: Future[list[list[bool] | BaseException]]) -> None:
            with self._pending_lock:
                if not taken:  # the job never ran (no connection): what it would have taken fails with it
                    taken.extend(self._pending)
                    self._pending = []
                    self._drain_scheduled = False
                self._in_flight -= len(taken)
            error = result.exception()
            for i, (_, _, future, _) in enumerate(taken):
                outcome = result.result()[i] if error is None else storage_error(error)
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
            if error is None and self._commit_listeners:
                committed = [
                    (events, outcome, ingested_us)
                    for (events, ingested_us, _, _), outcome in zip(taken, result.result(), strict=True)
                    if not isinstance(outcome, BaseException)
                ]
                for listener in self._commit_listeners:
                    listener(committed)

        try:
            self._pg.submit(job).add_done_callback(done)
        except RuntimeError as exc:  # closed
            with self._pending_lock:
                taken.extend(self._pending)
                self._pending = []
                self._drain_scheduled = False
                self._in_flight -= len(taken)
            for _, _, future, _ in taken:
                future.set_exception(exc)

    def _insert_pg(self, conn: Conn, batches: list[Pending]) -> list[Stored]:
        conn.native(_LOCKS, (LOCK_METERS, LOCK_EVENT_SEQ))
        first: dict[tuple[str, str], tuple[int, int]] = {}  # key -> (batch, index) of its first occurrence
        for b, (events, _, _, _) in enumerate(batches):
            for i, e in enumerate(events):
                first.setdefault((e.source, e.id), (b, i))
        keys = sorted(first)
        arrays.register(conn.raw)
        new = {
            (s, i)
            for s, i in conn.native(
                _NEW_KEYS, (arrays.text_array([k[0] for k in keys]), arrays.text_array([k[1] for k in keys]))
            ).fetchall()
        }
        outcomes = [[False] * len(events) for events, _, _, _ in batches]
        if not new:
            return [Stored(flags) for flags in outcomes]
        seqs = [r[0] for r in conn.native(_SEQS, (len(new),)).fetchall()]
        inserted: list[tuple[int, ValidEvent]] = []
        batch_seqs: list[list[int | None]] = []
        n = 0
        with conn.raw.cursor().copy(_COPY) as copy:
            for b, (events, ingested_us, _, _) in enumerate(batches):
                stored = outcomes[b]
                mine: list[int | None] = [None] * len(events)
                batch_seqs.append(mine)
                for i, e in enumerate(events):
                    key = (e.source, e.id)
                    if key not in new or first[key] != (b, i):
                        continue
                    seq = seqs[n]
                    n += 1
                    stored[i] = True
                    mine[i] = seq
                    inserted.append((seq, e))
                    copy.write_row(
                        (
                            seq,
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
                    )
        warnings: list[tuple[int, str, str]] = []
        for k, batch_listener in enumerate(self._batch_listeners):
            warnings += (
                batch_listener.apply(
                    conn,
                    [
                        InsertedBatch(events, mine, prepared[k])  # type: ignore[arg-type]
                        for (events, _, _, prepared), mine in zip(batches, batch_seqs, strict=True)
                    ],
                )
                or []
            )
        for listener in self._listeners:
            listener(conn, inserted)
        return [
            Stored(flags, found)
            for flags, found in zip(outcomes, warnings_by_index(batch_seqs, warnings), strict=True)
        ]

    def submit_ingest(self, events: Sequence[ValidEvent], ingested_at: datetime) -> Future[list[bool]]:
        """Queues the events; the future gives, per event, True if stored, False if a duplicate (also of an
        event stored through another replica). It resolves only after the commit."""
        future: Future[list[bool]] = Future()
        prepared = [listener.prepare(events) for listener in self._batch_listeners]
        with self._pending_lock:
            self._pending.append((events, to_us(ingested_at), future, prepared))
            self._in_flight += 1
            schedule = not self._drain_scheduled
            self._drain_scheduled = True
        if schedule:
            self._schedule_drain()
        return future

    def retire(self, before_us: int, limit: int) -> int:
        """Removes up to ``limit`` raw events whose event time is before ``before_us`` (oldest first), with
        their validation errors; their dedupe keys stay in event_keys and the pre-aggregates are not touched,
        so every meter's numbers stay what they were. Returns how many."""

        def job(conn: Conn) -> int:
            doomed = conn.native(
                "SELECT seq, time_us FROM events WHERE time_us < %s ORDER BY time_us LIMIT %s",
                (before_us, limit),
            ).fetchall()
            if not doomed:
                return 0
            seqs = [seq for seq, _ in doomed]
            conn.native("DELETE FROM event_errors WHERE event_seq = ANY(%s)", (seqs,))
            # time_us names the partitions to look in (the partition key), seq the rows.
            return int(
                conn.native(
                    "DELETE FROM events WHERE time_us < %s AND time_us >= %s AND seq = ANY(%s)",
                    (doomed[-1][1] + 1, doomed[0][1], seqs),
                ).rowcount
            )

        return self._pg.write(job)

    # -- listing -----------------------------------------------------------------------------------
    def list(
        self, filter: EventFilter, limit: int, after: tuple[int, int] | None
    ) -> tuple[list[StoredEvent], tuple[int, int] | None]:
        """One page, newest event time first (see store/sql/events.py), read on one connection."""
        with self._pg.connection() as raw:
            return list_page(Conn(raw), POSTGRES, filter, limit, after)

    def first_event_times(
        self, event_type: str, start_us: int, end_us: int, limit: int
    ) -> tuple[dict[str, int], int]:
        """Per subject, the earliest time of its events of ``event_type`` in a span (see store/sql/events.py)."""
        with self._pg.connection() as raw:
            return first_event_times(Conn(raw), event_type, start_us, end_us, limit)
