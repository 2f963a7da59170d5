"""PostgreSQL storage of balance snapshots: the cache of the credit engine's state, shared by every replica.

The SQLite store closes its races by running every write on one writer thread. Here writes from several
replicas interleave, so the same guarantees come from locks held inside the transactions:

- ``event_seq`` (read on every value call) never blocks ingest: sequence numbers are allocated in one order
  but committed in another, so it returns the highest number below which nothing is still in flight. Each
  ingest transaction, before allocating numbers, takes a shared advisory lock whose key carries the
  sequence's value at that moment; the high-water mark is the sequence's value, lowered below the smallest
  such key among transactions still in flight (pg_locks). Every event at or below it has committed (or
  rolled back), so "events after the basis" is exactly "seq greater than it".
- ``save`` takes ``LOCK_EVENT_SEQ`` exclusive for its transaction, then the entitlement's lock, then re-checks
  the basis. An ingest committed before it is seen by the check; one starting after it waits for the commit,
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

import json
from collections.abc import Sequence
from concurrent.futures import Future
from datetime import datetime

from meterd.server.credit.engine import BalanceState, Reset
from meterd.server.credit.snapshots import SnapshotBasis
from meterd.server.events.model import ValidEvent
from meterd.server.store.postgres.db import LOCK_EVENT_SEQ, Conn, Database
from meterd.server.store.sqlite.snapshots import (
    _LATE_EVENT,
    SqliteSnapshotStore,
    _grants_and_resets_hold,
    _log_failure,
    _state_of,
)
from meterd.server.timeutil import to_us

_INSERT = (
    "INSERT INTO balance_snapshots (entitlement_id, at_us, event_type, subject_key, balances, overage,"
    " usage, period_start_us, created_us, meter_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (entitlement_id, at_us) DO UPDATE SET event_type = excluded.event_type,"
    " subject_key = excluded.subject_key, balances = excluded.balances, overage = excluded.overage,"
    " usage = excluded.usage, period_start_us = excluded.period_start_us, created_us = excluded.created_us,"
    " meter_version = excluded.meter_version"
)
_SELECT_LATEST = (
    "SELECT at_us, balances, overage, usage, period_start_us FROM balance_snapshots"
    " WHERE entitlement_id = %s AND at_us <= %s AND (meter_version = %s OR %s::text IS NULL)"
    " ORDER BY at_us DESC LIMIT 1"
)
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
# Per-entitlement transaction lock (two-key form: a class number and the hash of the id).
_LOCK_ENTITLEMENT = "SELECT pg_advisory_xact_lock(1835365477, hashtext(?))"


class PgSnapshotStore(SqliteSnapshotStore):
    """Balance snapshots in ``balance_snapshots``, with the listeners that invalidate them."""

    def __init__(self, db: Database) -> None:  # no in-memory bounds: other replicas write snapshots too
        self._db = db  # type: ignore[assignment]

    def latest(self, entitlement_id: str, at: datetime, meter_version: str | None = None) -> BalanceState | None:
        """The entitlement's latest snapshot at or before ``at`` built on this version of its meter (None: any
        version, for tests), if any."""
        with self._db.connection() as raw:  # type: ignore[attr-defined]
            row = raw.execute(_SELECT_LATEST, (entitlement_id, to_us(at), meter_version, meter_version)).fetchone()
            raw.commit()
        return _state_of(row) if row else None

    def event_seq(self) -> int:
        """The highest event sequence number at or below which every event has committed (see above)."""
        with self._db.connection() as raw:  # type: ignore[attr-defined]
            row = raw.execute("SELECT last_value, is_called FROM events_seq").fetchone()
            high = int(row[0]) if row[1] else 0
            # Read after the sequence: a transaction allocating above ``high`` took its lock before that.
            lowest = raw.execute(_IN_FLIGHT).fetchone()[0]
            raw.commit()
        return high if lowest is None else min(high, int(lowest))

    def save(
        self,
        basis: SnapshotBasis,
        states: Sequence[BalanceState],
        created_at: datetime,
        prune: tuple[datetime, datetime] | None = None,
    ) -> Future[bool]:
        if not states:
            done: Future[bool] = Future()
            done.set_result(False)
            return done
        latest_us = max(to_us(s.at) for s in states)
        rows = [
            (
                basis.entitlement_id, to_us(s.at), basis.event_type, basis.subject_key,
                json.dumps({gid: str(b) for gid, b in sorted(s.balances.items())}, separators=(",", ":")),
                str(s.overage), str(s.usage), to_us(s.period_start), to_us(created_at), basis.meter_version,
            )
            for s in states
        ]

        def job(conn: Conn) -> bool:
            conn.native("SELECT pg_advisory_xact_lock(%s)", (LOCK_EVENT_SEQ,))
            conn.execute(_LOCK_ENTITLEMENT, (basis.entitlement_id,))
            late = conn.execute(_LATE_EVENT, (basis.event_seq, basis.event_type, basis.subject_key,
                                              latest_us)).fetchone()
            if late is not None:
                return False
            if not _grants_and_resets_hold(conn, basis):
                return False
            # Snapshots built on another definition of the meter are never read again.
            conn.execute(
                "DELETE FROM balance_snapshots WHERE entitlement_id = ? AND meter_version IS DISTINCT FROM ?",
                (basis.entitlement_id, basis.meter_version),
            )
            if prune is not None:
                conn.execute(
                    "DELETE FROM balance_snapshots WHERE entitlement_id = ? AND at_us > ? AND at_us < ?",
                    (basis.entitlement_id, to_us(prune[0]), to_us(prune[1])),
                )
            conn.executemany(_INSERT, rows)
            return True

        # SERIALIZABLE, as the resets and grant changes that invalidate snapshots are: a reset that began
        # before this save committed cannot see (and so cannot delete) the snapshot it makes stale, and the
        # save cannot see the reset's uncommitted row; PostgreSQL aborts one of the two (write skew), and it
        # runs again seeing the other. (A stale snapshot survived exactly that interleaving.)
        future = self._db.submit(job, serializable=True)  # type: ignore[arg-type]
        future.add_done_callback(_log_failure)
        return future

    # -- invalidation, inside other write transactions ---------------------------------------------
    def on_grant_change(self, conn: Conn, entitlement_id: str, changed_from: datetime) -> None:  # type: ignore[override]
        conn.execute(_LOCK_ENTITLEMENT, (entitlement_id,))
        conn.execute("DELETE FROM balance_snapshots WHERE entitlement_id = ? AND at_us >= ?",
                     (entitlement_id, to_us(changed_from)))

    def on_reset(self, conn: Conn, entitlement_id: str, reset: Reset) -> None:  # type: ignore[override]
        conn.execute(_LOCK_ENTITLEMENT, (entitlement_id,))
        conn.execute("DELETE FROM balance_snapshots WHERE entitlement_id = ? AND at_us >= ?",
                     (entitlement_id, to_us(reset.at)))

    def on_ingest(self, conn: Conn, inserted: list[tuple[int, ValidEvent]]) -> None:  # type: ignore[override]
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
