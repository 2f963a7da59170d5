"""PostgreSQL storage of balance snapshots, shared by every replica: the rules are store/sql/snapshots.py's;
what PostgreSQL adds is how they are ordered. The SQLite store closes its races by running every write on one
writer thread. Here writes from several replicas interleave, so the same guarantees come from locks held
inside the transactions:

- ``event_seq`` (read on every value call) never blocks ingest: sequence numbers are allocated in one order
  but committed in another, so it returns the highest number below which nothing is still in flight. Each
  ingest transaction, before allocating numbers, takes a shared advisory lock whose key carries the
  sequence's value at that moment; the high-water mark is the sequence's value, lowered below the smallest
  such key among transactions still in flight (pg_locks). Every event at or below it has committed (or
  rolled back), so "events after the basis" is exactly "seq greater than it".
- ``save`` takes ``LOCK_EVENT_SEQ`` exclusive, then the entitlement's lock, both before its transaction
  begins (so the transaction's snapshot follows them), then re-checks the basis. An ingest committed before it is seen by the check; one starting after it waits for the commit,
  and its invalidation (below) then sees the new rows.
- Grant changes and resets take the same per-entitlement lock in their transaction before deleting the
  snapshots they invalidate. They run SERIALIZABLE, whose snapshot predates the lock: a save that committed
  while they waited for it would be invisible to their delete, so saves run SERIALIZABLE too and PostgreSQL
  aborts one of such a pair (it runs again and sees the other). A concurrent save either sees the change or
  is seen by it.
- Ingest deletes, for every (event type, subject) of its batch, the snapshots after the batch's earliest
  event time of that pair: one statement per batch (no per-replica memory of where snapshots are).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import datetime
from typing import Any, TypeVar

from meterd.server.credit.engine import BalanceState, Reset
from meterd.server.credit.snapshots import SnapshotBasis
from meterd.server.events.model import ValidEvent
from meterd.server.store.postgres.db import LOCK_EVENT_SEQ, Conn, Database, Reader
from meterd.server.store.sql import snapshots as rules
from meterd.server.store.sql.connection import POSTGRES, Connection

_DELETE_LATE = (
    "DELETE FROM balance_snapshots s USING unnest(%b::text[], %b::text[], %b::bigint[]) AS l(t, sub, us)"
    " WHERE s.event_type = l.t AND s.subject_key = l.sub AND s.at_us > l.us"
)
# The smallest sequence value carried by an in-flight ingest's marker lock (key -1 - value), if any.
_IN_FLIGHT = (
    "SELECT min(-1 - ((classid::bigint << 32) | objid::bigint)) FROM pg_locks WHERE locktype = 'advisory'"
    " AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND classid >= 2147483648"
)
T = TypeVar("T")
# Per-entitlement transaction lock (two-key form: a class number and the hash of the id).
_LOCK_ENTITLEMENT = "SELECT pg_advisory_xact_lock(1835365477, hashtext(?))"
# The same lock held by a session (a save takes its locks before its transaction's snapshot).
_LOCK_ENTITLEMENT_SESSION = "SELECT pg_advisory_lock(1835365477, hashtext(%s))"


class PgSnapshotStore(rules.SnapshotStore):
    """Balance snapshots in ``balance_snapshots``, with the listeners that invalidate them. No in-memory
    bounds: other replicas write snapshots too."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- reads -------------------------------------------------------------------------------------
    def latest(
        self, entitlement_id: str, at: datetime, meter_version: str | None = None
    ) -> BalanceState | None:
        """The entitlement's latest snapshot at or before ``at`` built on this version of its meter (None: any
        version, for tests), if any."""
        with self._db.connection() as raw:
            state = rules.latest(Conn(raw), entitlement_id, at, meter_version)
            raw.commit()
        return state

    def event_seq(self) -> int:
        """The highest event sequence number at or below which every event has committed (see above)."""
        with self._db.connection() as raw:
            row = raw.execute("SELECT last_value, is_called FROM events_seq").fetchone()
            high = int(row[0]) if row and row[1] else 0
            # Read after the sequence: a transaction allocating above ``high`` took its lock before that.
            in_flight = raw.execute(_IN_FLIGHT).fetchone()
            raw.commit()
        lowest = in_flight[0] if in_flight else None
        return high if lowest is None else min(high, int(lowest))

    def reader(self) -> Reader:
        return self._db.reader()

    def write(self, job: Callable[[Connection], T]) -> T:
        return self._db.write(job)

    def submit_save(
        self, basis: SnapshotBasis, rows: Sequence[tuple[Any, ...]], prune: tuple[datetime, datetime] | None
    ) -> Future[bool]:
        """Under the locks described above, on any replica."""

        def job(conn: Conn) -> bool:
            return rules.save_checked(conn, POSTGRES, basis, rows, prune)

        # SERIALIZABLE, as the resets and grant changes that invalidate snapshots are: a reset that began
        # before this save committed cannot see (and so cannot delete) the snapshot it makes stale, and the
        # save cannot see the reset's uncommitted row; PostgreSQL aborts one of the two (write skew), and it
        # runs again seeing the other. (A stale snapshot survived exactly that interleaving.) The locks are
        # taken before the transaction begins, so its snapshot follows them: taken inside, the snapshot would
        # predate the wait, and the re-check would miss an ingest that committed meanwhile (its late event
        # unseen, its invalidation run before this row existed: a stale snapshot, found by the cold-replay
        # walk under load).
        return self._db.submit(
            job,
            serializable=True,
            locks_first=[
                ("SELECT pg_advisory_lock(%s)", (LOCK_EVENT_SEQ,)),
                (_LOCK_ENTITLEMENT_SESSION, (basis.entitlement_id,)),
            ],
        )

    # -- invalidation, inside other write transactions ---------------------------------------------
    def on_grant_change(self, conn: Connection, entitlement_id: str, changed_from: datetime) -> None:
        """A grant was created (effective at ``changed_from``) or voided (at it): later snapshots are stale."""
        conn.execute(_LOCK_ENTITLEMENT, (entitlement_id,))
        rules.delete_from(conn, entitlement_id, changed_from)

    def on_reset(self, conn: Connection, entitlement_id: str, reset: Reset) -> None:
        """A manual reset: snapshots at or after it were computed without it."""
        conn.execute(_LOCK_ENTITLEMENT, (entitlement_id,))
        rules.delete_from(conn, entitlement_id, reset.at)

    def on_ingest(self, conn: Conn, inserted: list[tuple[int, ValidEvent]]) -> None:
        """Newly stored events: one statement deletes, per (type, subject) of the batch, the snapshots after
        its earliest event time."""
        earliest: dict[tuple[str, str], int] = {}
        for _, e in inserted:
            key = (e.type, e.subject)
            t = earliest.get(key)
            if t is None or e.time_us < t:
                earliest[key] = e.time_us
        if not earliest:
            return
        keys = sorted(earliest)
        conn.native(_DELETE_LATE, ([k[0] for k in keys], [k[1] for k in keys], [earliest[k] for k in keys]))
