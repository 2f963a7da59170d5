"""Balance snapshots, the rules both backends keep them by (SQLite migrations/0005, PostgreSQL 0001).

A snapshot is the credit engine's state at an instant, kept so that a value call replays only from the latest
one at or before its instant. It is only a cache of what a full replay would give, so it must go whenever
something before it changes. Three write paths change history, and each deletes the snapshots it invalidates
inside its own transaction:

- a grant created or voided: the entitlement's snapshots at or after the change (``delete_from``);
- a manual reset: the entitlement's snapshots at or after the reset (``delete_from``);
- an event: for its (type, subject), the snapshots after the event's time (``delete_after_events``).

A snapshot computed on a reader can race a change committed after the reads it used, so ``save_checked``
re-checks, inside the saving transaction, that nothing it was computed from has changed since: no event of
the type and subject stored after the reads with a time before the latest snapshot, the same grants (and
voids), the same resets. If anything differs it saves nothing. How the saving transaction is ordered with the
others is each backend's: one writer thread (store/sqlite/snapshots.py), locks (store/postgres/snapshots.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from meterd.server.credit.engine import BalanceState
from meterd.server.credit.snapshots import SnapshotBasis
from meterd.server.store.sql.connection import Connection, Dialect
from meterd.server.timeutil import from_us, to_us

log = logging.getLogger("meterd.credit.snapshots")
T = TypeVar("T")

SELECT_LATEST = (
    "SELECT at_us, balances, overage, usage, period_start_us FROM balance_snapshots"
    " WHERE entitlement_id = ? AND at_us <= ? AND (meter_version = ? OR CAST(? AS TEXT) IS NULL)"
    " ORDER BY at_us DESC LIMIT 1"
)
_INSERT = (
    "INSERT INTO balance_snapshots (entitlement_id, at_us, event_type, subject_key, balances, overage,"
    " usage, period_start_us, created_us, meter_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (entitlement_id, at_us) DO UPDATE SET event_type = excluded.event_type,"
    " subject_key = excluded.subject_key, balances = excluded.balances, overage = excluded.overage,"
    " usage = excluded.usage, period_start_us = excluded.period_start_us, created_us = excluded.created_us,"
    " meter_version = excluded.meter_version"
)
_LATE_EVENT = "SELECT 1 FROM events WHERE seq > ? AND type = ? AND subject = ? AND time_us < ? LIMIT 1"


def state_of(row: Sequence[Any]) -> BalanceState:
    """A state from a row of ``SELECT_LATEST``."""
    at_us, balances, overage, usage, period_start_us = row
    return BalanceState(
        at=from_us(at_us),
        balances={gid: Decimal(text) for gid, text in json.loads(balances).items()},
        overage=Decimal(overage),
        usage=Decimal(usage),
        period_start=from_us(period_start_us),
    )


def latest(
    conn: Connection, entitlement_id: str, at: datetime, meter_version: str | None
) -> BalanceState | None:
    """The entitlement's latest snapshot at or before ``at`` built on this version of its meter (None: any)."""
    row = conn.execute(SELECT_LATEST, (entitlement_id, to_us(at), meter_version, meter_version)).fetchone()
    return state_of(row) if row else None


def rows_of(
    basis: SnapshotBasis, states: Iterable[BalanceState], created_at: datetime
) -> list[tuple[Any, ...]]:
    """The rows to insert for ``states``."""
    return [
        (
            basis.entitlement_id,
            to_us(s.at),
            basis.event_type,
            basis.subject_key,
            json.dumps({gid: str(b) for gid, b in sorted(s.balances.items())}, separators=(",", ":")),
            str(s.overage),
            str(s.usage),
            to_us(s.period_start),
            to_us(created_at),
            basis.meter_version,
        )
        for s in states
    ]


def save_checked(
    conn: Connection,
    dialect: Dialect,
    basis: SnapshotBasis,
    rows: Sequence[tuple[Any, ...]],
    prune: tuple[datetime, datetime] | None,
) -> bool:
    """Inside the saving transaction: saves ``rows`` (``rows_of``) unless the basis changed (False then).

    Also deletes the entitlement's snapshots of other meter versions (never read again) and, with ``prune``
    (a, b), those strictly between a and b (superseded by the newer rolling one)."""
    latest_us = max(row[1] for row in rows)
    if conn.execute(
        _LATE_EVENT, (basis.event_seq, basis.event_type, basis.subject_key, latest_us)
    ).fetchone():
        return False
    if not grants_and_resets_hold(conn, basis):
        return False
    conn.execute(
        f"DELETE FROM balance_snapshots WHERE entitlement_id = ? AND meter_version {dialect.distinct_from} ?",
        (basis.entitlement_id, basis.meter_version),
    )
    if prune is not None:
        conn.execute(
            "DELETE FROM balance_snapshots WHERE entitlement_id = ? AND at_us > ? AND at_us < ?",
            (basis.entitlement_id, to_us(prune[0]), to_us(prune[1])),
        )
    for row in rows:
        conn.execute(_INSERT, row)
    return True


def grants_and_resets_hold(conn: Connection, basis: SnapshotBasis) -> bool:
    """Whether the entitlement's grants (with their voids) and resets are still those the states were
    computed from."""
    rows = conn.execute("SELECT id, voided_us FROM grants WHERE entitlement_id = ?", (basis.entitlement_id,))
    if frozenset((gid, voided) for gid, voided in rows) != basis.grants:
        return False
    resets = conn.execute(
        "SELECT at_us FROM entitlement_resets WHERE entitlement_id = ? ORDER BY at_us",
        (basis.entitlement_id,),
    )
    return tuple(r[0] for r in resets) == basis.resets


def delete_from(conn: Connection, entitlement_id: str, at: datetime) -> None:
    """The entitlement's snapshots at or after ``at`` (a grant change, a reset, a stale snapshot)."""
    conn.execute(
        "DELETE FROM balance_snapshots WHERE entitlement_id = ? AND at_us >= ?", (entitlement_id, to_us(at))
    )


class SnapshotStore:
    """What both backends' snapshot stores share: the save (checked and pruned by ``save_checked``), counting,
    deleting. A backend supplies its reader, its writes and how a save's transaction is ordered with the
    others (``submit_save``)."""

    def reader(self) -> Connection:
        raise NotImplementedError

    def write(self, job: Callable[[Connection], T]) -> T:
        """Runs ``job`` in a transaction of its own; returns its result after the commit."""
        raise NotImplementedError

    def submit_save(
        self, basis: SnapshotBasis, rows: Sequence[tuple[Any, ...]], prune: tuple[datetime, datetime] | None
    ) -> Future[bool]:
        """Queues ``save_checked`` for the rows in a transaction ordered with the basis's changes."""
        raise NotImplementedError

    def count(self, entitlement_id: str) -> int:
        """How many snapshots the entitlement has (for tests and benchmarks)."""
        row = (
            self.reader()
            .execute("SELECT COUNT(*) FROM balance_snapshots WHERE entitlement_id = ?", (entitlement_id,))
            .fetchone()
        )
        return int(row[0])

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
        future = self.submit_save(basis, rows_of(basis, states, created_at), prune)
        future.add_done_callback(log_failure)
        return future

    def delete_from(self, entitlement_id: str, at: datetime) -> None:
        """Deletes the entitlement's snapshots at or after ``at`` (waits for the commit)."""
        self.write(lambda conn: delete_from(conn, entitlement_id, at))

    def clear(self) -> None:
        """Deletes every snapshot (benchmarks measure cold values with it)."""
        self.write(lambda conn: conn.execute("DELETE FROM balance_snapshots"))


def log_failure(future: Future[bool]) -> None:
    """Logs a save that failed (a snapshot is a cache: the value it came with was answered already)."""
    exc = future.exception()
    if exc is not None:
        log.warning("saving balance snapshots failed: %s", exc)
