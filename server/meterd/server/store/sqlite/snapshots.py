"""SQLite storage of balance snapshots (migrations/0005): the credit engine's state at an instant, kept so that
a value call replays only from the latest snapshot at or before its instant.

A snapshot is only a cache of what a full replay would give, so it must go whenever something before it
changes. Three write paths can change history, and each deletes the snapshots it invalidates inside its own
transaction (on the writer thread):

- a grant created or voided (``on_grant_change``): the entitlement's snapshots at or after the change;
- a manual reset (``on_reset``): the entitlement's snapshots at or after the reset;
- an event (``on_ingest``): for its (type, subject), the snapshots after the event's time. To keep this off
  the ingest hot path, an in-memory map holds, per (event type, subject) that has snapshots, an upper bound
  of their instants; an event at or after the bound (every on-time event) costs one dict lookup.

A snapshot computed on a reader can race a change committed after the reads it used. ``save`` therefore
re-checks, on the writer thread (where it is ordered with those transactions), that nothing it was computed
from has changed since: no event of the type and subject stored after the reads with a time before the
latest snapshot, the same grants (and voids), the same resets. If anything differs it saves nothing.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from concurrent.futures import Future
from datetime import datetime
from decimal import Decimal
from typing import Any

from meterd.server.credit.engine import BalanceState, Reset
from meterd.server.credit.snapshots import SnapshotBasis
from meterd.server.events.model import ValidEvent
from meterd.server.store.sqlite.db import Database
from meterd.server.timeutil import from_us, to_us

log = logging.getLogger("meterd.credit.snapshots")

_SELECT_LATEST = (
    "SELECT at_us, balances, overage, usage, period_start_us FROM balance_snapshots"
    " WHERE entitlement_id = ? AND at_us <= ? AND (meter_version = ? OR ? IS NULL) ORDER BY at_us DESC LIMIT 1"
)
_INSERT = (
    "INSERT OR REPLACE INTO balance_snapshots (entitlement_id, at_us, event_type, subject_key, balances, overage,"
    " usage, period_start_us, created_us, meter_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_LATE_EVENT = (
    "SELECT 1 FROM events WHERE seq > ? AND type = ? AND subject = ? AND time_us < ? LIMIT 1"
)


def _state_of(row: tuple[int, str, str, str, int]) -> BalanceState:
    at_us, balances, overage, usage, period_start_us = row
    return BalanceState(
        at=from_us(at_us),
        balances={gid: Decimal(text) for gid, text in json.loads(balances).items()},
        overage=Decimal(overage),
        usage=Decimal(usage),
        period_start=from_us(period_start_us),
    )


class SqliteSnapshotStore:
    """Balance snapshots in ``balance_snapshots``, with the listeners that invalidate them."""

    def __init__(self, db: Database) -> None:
        self._db = db
        # (event type, subject) -> an upper bound of the instants (us) of its snapshots. Only the writer
        # thread changes it (save jobs and listeners), so the ingest listener reads it without a lock.
        self._bounds: dict[tuple[str, str], int] = {}
        rows = db.reader().execute(
            "SELECT event_type, subject_key, MAX(at_us) FROM balance_snapshots GROUP BY event_type, subject_key"
        )
        for event_type, subject_key, at_us in rows:
            self._bounds[(event_type, subject_key)] = at_us

    # -- reads -------------------------------------------------------------------------------------
    def latest(self, entitlement_id: str, at: datetime, meter_version: str | None = None) -> BalanceState | None:
        """The entitlement's latest snapshot at or before ``at`` built on this version of its meter (None: any
        version, for tests), if any."""
        row = self._db.reader().execute(
            _SELECT_LATEST, (entitlement_id, to_us(at), meter_version, meter_version)
        ).fetchone()
        return _state_of(row) if row else None

    def event_seq(self) -> int:
        """The highest committed event sequence number (read before usage, for SnapshotBasis)."""
        row = self._db.reader().execute("SELECT MAX(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def count(self, entitlement_id: str) -> int:
        """How many snapshots the entitlement has (for tests and benchmarks)."""
        row = self._db.reader().execute(
            "SELECT COUNT(*) FROM balance_snapshots WHERE entitlement_id = ?", (entitlement_id,)
        ).fetchone()
        return int(row[0])

    # -- writes ------------------------------------------------------------------------------------
    def save(
        self,
        basis: SnapshotBasis,
        states: Sequence[BalanceState],
        created_at: datetime,
        prune: tuple[datetime, datetime] | None = None,
    ) -> Future[bool]:
        """Queues the states as snapshots; the future gives False if the basis changed and nothing was saved.

        ``prune`` (a, b): also delete the entitlement's snapshots strictly between a and b (superseded ones).
        Does not wait for the commit: a snapshot is a cache, and the caller's answer does not depend on it.
        """
        if not states:
            done: Future[bool] = Future()
            done.set_result(False)
            return done
        latest_us = max(to_us(s.at) for s in states)
        key = (basis.event_type, basis.subject_key)
        rows = [
            (
                basis.entitlement_id, to_us(s.at), basis.event_type, basis.subject_key,
                json.dumps({gid: str(b) for gid, b in sorted(s.balances.items())}, separators=(",", ":")),
                str(s.overage), str(s.usage), to_us(s.period_start), to_us(created_at), basis.meter_version,
            )
            for s in states
        ]

        def job(conn: sqlite3.Connection) -> bool:
            late = conn.execute(_LATE_EVENT, (basis.event_seq, *key, latest_us)).fetchone()
            if late is not None:
                return False
            if not _grants_and_resets_hold(conn, basis):
                return False
            # Raise the bound before the rows exist: a later ingest in this same group then sees it.
            self._bounds[key] = max(self._bounds.get(key, latest_us), latest_us)
            # Snapshots built on another definition of the meter are never read again.
            conn.execute(
                "DELETE FROM balance_snapshots WHERE entitlement_id = ? AND meter_version IS NOT ?",
                (basis.entitlement_id, basis.meter_version),
            )
            if prune is not None:
                conn.execute(
                    "DELETE FROM balance_snapshots WHERE entitlement_id = ? AND at_us > ? AND at_us < ?",
                    (basis.entitlement_id, to_us(prune[0]), to_us(prune[1])),
                )
            conn.executemany(_INSERT, rows)
            return True

        future = self._db.submit(job)
        future.add_done_callback(_log_failure)
        return future

    def delete_from(self, entitlement_id: str, at: datetime) -> None:
        """Deletes the entitlement's snapshots at or after ``at`` (waits for the commit)."""
        self._db.write(lambda conn: _delete_from(conn, entitlement_id, to_us(at)))

    def clear(self) -> None:
        """Deletes every snapshot (benchmarks measure cold values with it)."""
        self._db.write(lambda conn: conn.execute("DELETE FROM balance_snapshots"))

    # -- invalidation, inside other write transactions ---------------------------------------------
    def on_grant_change(self, conn: sqlite3.Connection, entitlement_id: str, changed_from: datetime) -> None:
        """A grant was created (effective at ``changed_from``) or voided (at it): later snapshots are stale."""
        _delete_from(conn, entitlement_id, to_us(changed_from))

    def on_reset(self, conn: sqlite3.Connection, entitlement_id: str, reset: Reset) -> None:
        """A manual reset: snapshots at or after it were computed without it."""
        _delete_from(conn, entitlement_id, to_us(reset.at))

    def on_ingest(self, conn: sqlite3.Connection, inserted: list[tuple[int, ValidEvent]]) -> None:
        """Newly stored events: delete the snapshots of their (type, subject) that are after their time."""
        bounds = self._bounds
        if not bounds:
            return
        late: dict[tuple[str, str], int] = {}
        for _, e in inserted:
            key = (e.type, e.subject)
            bound = bounds.get(key)
            if bound is not None and e.time_us < bound:
                earliest = late.get(key)
                if earliest is None or e.time_us < earliest:
                    late[key] = e.time_us
        for key, time_us in late.items():
            conn.execute(
                "DELETE FROM balance_snapshots WHERE event_type = ? AND subject_key = ? AND at_us > ?",
                (*key, time_us),
            )
            # The bound stays as it is: lowering it would be wrong if this transaction rolled back.


def _grants_and_resets_hold(conn: Any, basis: SnapshotBasis) -> bool:
    """Whether the entitlement's grants (with their voids) and resets are still those the states were
    computed from (either backend's connection: its SQL uses ``?`` placeholders)."""
    grants = frozenset(
        (gid, voided) for gid, voided in conn.execute(
            "SELECT id, voided_us FROM grants WHERE entitlement_id = ?", (basis.entitlement_id,)
        )
    )
    if grants != basis.grants:
        return False
    resets = tuple(
        r[0] for r in conn.execute(
            "SELECT at_us FROM entitlement_resets WHERE entitlement_id = ? ORDER BY at_us", (basis.entitlement_id,)
        )
    )
    return resets == basis.resets


def _delete_from(conn: sqlite3.Connection, entitlement_id: str, at_us: int) -> None:
    conn.execute("DELETE FROM balance_snapshots WHERE entitlement_id = ? AND at_us >= ?", (entitlement_id, at_us))


def _log_failure(future: Future[bool]) -> None:
    exc = future.exception()
    if exc is not None:
        log.warning("saving balance snapshots failed: %s", exc)
