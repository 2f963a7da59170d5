"""SQLite storage of balance snapshots: the rules are store/sql/snapshots.py's; what SQLite adds is where it
runs them. Every write (saves and the invalidating listeners) runs on the one writer thread, which orders a
save with the transactions that could change its basis. To keep invalidation off the ingest hot path, an
in-memory map holds, per (event type, subject) that has snapshots, an upper bound of their instants: an event
at or after the bound (every on-time event) costs one dict lookup.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import datetime
from typing import Any, TypeVar

from meterd.server.credit.engine import BalanceState, Reset
from meterd.server.credit.snapshots import SnapshotBasis
from meterd.server.events.model import ValidEvent
from meterd.server.store.sql import snapshots as rules
from meterd.server.store.sql.connection import SQLITE, Connection
from meterd.server.store.sqlite.db import Database

T = TypeVar("T")


class SqliteSnapshotStore(rules.SnapshotStore):
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
    def latest(
        self, entitlement_id: str, at: datetime, meter_version: str | None = None
    ) -> BalanceState | None:
        """The entitlement's latest snapshot at or before ``at`` built on this version of its meter (None: any
        version, for tests), if any."""
        return rules.latest(self._db.reader(), entitlement_id, at, meter_version)

    def event_seq(self) -> int:
        """The highest committed event sequence number (read before usage, for SnapshotBasis)."""
        row = self._db.reader().execute("SELECT MAX(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def reader(self) -> sqlite3.Connection:
        return self._db.reader()

    def write(self, job: Callable[[Connection], T]) -> T:
        return self._db.write(job)

    def submit_save(
        self, basis: SnapshotBasis, rows: Sequence[tuple[Any, ...]], prune: tuple[datetime, datetime] | None
    ) -> Future[bool]:
        """On the writer thread, which orders it with every change to the basis."""
        latest_us = max(row[1] for row in rows)
        key = (basis.event_type, basis.subject_key)

        def job(conn: Connection) -> bool:
            if not rules.save_checked(conn, SQLITE, basis, rows, prune):
                return False
            # Raised in the saving job, on the writer thread: the next ingest (even in this group) sees it.
            self._bounds[key] = max(self._bounds.get(key, latest_us), latest_us)
            return True

        return self._db.submit(job)

    # -- invalidation, inside other write transactions ---------------------------------------------
    def on_grant_change(self, conn: Connection, entitlement_id: str, changed_from: datetime) -> None:
        """A grant was created (effective at ``changed_from``) or voided (at it): later snapshots are stale."""
        rules.delete_from(conn, entitlement_id, changed_from)

    def on_reset(self, conn: Connection, entitlement_id: str, reset: Reset) -> None:
        """A manual reset: snapshots at or after it were computed without it."""
        rules.delete_from(conn, entitlement_id, reset.at)

    def on_ingest(self, conn: Connection, inserted: list[tuple[int, ValidEvent]]) -> None:
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
