"""Grants (SQLite migrations/0004, PostgreSQL 0001), for both backends: insert, void, and listing in
effective_at order. Change listeners (snapshot invalidation) run inside the grant's own transaction. On
PostgreSQL the jobs run SERIALIZABLE: of two replicas voiding the same grant at once, one wins and the other
gets FAILED_PRECONDITION (already voided), as one after the other."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from meterd.server.errors import FailedPrecondition, InvalidArgument, NotFound
from meterd.server.grants.model import Expiration, Grant, GrantFilter, GrantOrderBy, Recurrence
from meterd.server.periods import ExpirationDuration, Interval
from meterd.server.store.sql.connection import Connection, Database
from meterd.server.timeutil import from_us, to_us

COLUMNS = (
    "id, entitlement_id, subject_key, feature_key, amount, priority, effective_us, expiration_duration,"
    " expiration_count, expires_us, max_rollover_amount, min_rollover_amount, recurrence_interval,"
    " recurrence_anchor_us, metadata, created_us, updated_us, voided_us"
)
_G_COLUMNS = ", ".join(f"g.{c.strip()}" for c in COLUMNS.split(","))

# (order key us, created_us, id) of the last row of a page; the order key is the filter's order_by column.
Cursor = tuple[int, int, str]
_ORDER_COLUMNS = {
    GrantOrderBy.EFFECTIVE_AT: "g.effective_us",
    GrantOrderBy.CREATED_AT: "g.created_us",
    GrantOrderBy.UPDATED_AT: "g.updated_us",
    GrantOrderBy.EXPIRES_AT: "g.expires_us",
}


def _order_key(grant: Grant, order_by: GrantOrderBy) -> datetime:
    return {
        GrantOrderBy.EFFECTIVE_AT: grant.effective_at,
        GrantOrderBy.CREATED_AT: grant.created_at,
        GrantOrderBy.UPDATED_AT: grant.updated_at,
        GrantOrderBy.EXPIRES_AT: grant.expires_at,
    }[order_by]


# Called inside the transaction that creates or voids a grant with (conn, entitlement_id, changed_from): the
# balance history of that entitlement may differ from ``changed_from`` on (the credit engine drops its
# balance snapshots after it). Not called for the issue-after-reset grant written with a new entitlement.
GrantChangeListener = Callable[[Connection, str, datetime], None]


def grant_of(row: tuple[Any, ...]) -> Grant:
    """A Grant from a row of ``SELECT {COLUMNS}``."""
    return Grant(
        id=row[0],
        entitlement_id=row[1],
        subject_key=row[2],
        feature_key=row[3],
        amount=Decimal(row[4]),
        priority=row[5],
        effective_at=from_us(row[6]),
        expiration=Expiration(ExpirationDuration(row[7]), row[8]),
        expires_at=from_us(row[9]),
        max_rollover_amount=Decimal(row[10]),
        min_rollover_amount=Decimal(row[11]),
        recurrence=Recurrence(Interval(row[12]), from_us(row[13])) if row[12] is not None else None,
        metadata=json.loads(row[14]),
        created_at=from_us(row[15]),
        updated_at=from_us(row[16]),
        voided_at=from_us(row[17]) if row[17] is not None else None,
    )


def insert_grant(conn: Connection, g: Grant) -> None:
    """Inserts a grant inside the caller's write job."""
    conn.execute(
        f"INSERT INTO grants ({COLUMNS}) VALUES ({', '.join('?' * 18)})",
        (
            g.id,
            g.entitlement_id,
            g.subject_key,
            g.feature_key,
            str(g.amount),
            g.priority,
            to_us(g.effective_at),
            g.expiration.duration.value,
            g.expiration.count,
            to_us(g.expires_at),
            str(g.max_rollover_amount),
            str(g.min_rollover_amount),
            g.recurrence.interval.value if g.recurrence else None,
            to_us(g.recurrence.anchor) if g.recurrence else None,
            json.dumps(dict(g.metadata), separators=(",", ":"), sort_keys=True),
            to_us(g.created_at),
            to_us(g.updated_at),
            to_us(g.voided_at) if g.voided_at else None,
        ),
    )


def select_grants(conn: Connection, entitlement_id: str, *, include_voided: bool = True) -> list[Grant]:
    """Every grant of one entitlement in effective_at order (voided ones too unless told otherwise)."""
    sql = f"SELECT {COLUMNS} FROM grants WHERE entitlement_id = ?"
    if not include_voided:
        sql += " AND voided_us IS NULL"
    rows = conn.execute(sql + " ORDER BY effective_us, created_us, id", (entitlement_id,)).fetchall()
    return [grant_of(r) for r in rows]


class SqlGrantStore:
    """Grants in the ``grants`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._listeners: list[GrantChangeListener] = []

    def add_change_listener(self, listener: GrantChangeListener) -> None:
        """Registers a function run in the same transaction as every grant creation and void."""
        self._listeners.append(listener)

    def insert(self, grant: Grant) -> Grant:
        """Stores a grant; NotFound if its entitlement was deleted meanwhile."""

        def job(conn: Connection) -> Grant:
            row = conn.execute(
                "SELECT deleted_us FROM entitlements WHERE id = ?", (grant.entitlement_id,)
            ).fetchone()
            if row is None or row[0] is not None:
                raise NotFound(f"entitlement: entitlement {grant.entitlement_id} not found")
            insert_grant(conn, grant)
            for listener in self._listeners:
                listener(conn, grant.entitlement_id, grant.effective_at)
            return grant

        return self._db.write(job)

    def get(self, grant_id: str) -> Grant | None:
        row = self._db.reader().execute(f"SELECT {COLUMNS} FROM grants WHERE id = ?", (grant_id,)).fetchone()
        return grant_of(row) if row else None

    def void(
        self, grant_id: str, at: datetime, now: datetime | None = None, *, not_before_effective: bool = False
    ) -> Grant:
        """Sets voided_at to ``at`` (updated_at to ``now``, default ``at``); NotFound for an unknown grant,
        FailedPrecondition if it is already voided; with ``not_before_effective``, InvalidArgument (``at``) for
        an instant before its effective time."""

        def job(conn: Connection) -> Grant:
            row = conn.execute(
                "SELECT voided_us, effective_us FROM grants WHERE id = ?", (grant_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"grant_id: grant {grant_id} not found")
            if row[0] is not None:
                raise FailedPrecondition(
                    f"grant_id: grant {grant_id} is already voided (at {from_us(row[0]).isoformat()})"
                )
            if not_before_effective and to_us(at) < row[1]:
                raise InvalidArgument.of(
                    "at", f"is before the grant's effective time {from_us(row[1]).isoformat()}"
                )
            conn.execute(
                "UPDATE grants SET voided_us = ?, updated_us = ? WHERE id = ?",
                (to_us(at), to_us(now or at), grant_id),
            )
            voided = grant_of(
                conn.execute(f"SELECT {COLUMNS} FROM grants WHERE id = ?", (grant_id,)).fetchone()
            )
            for listener in self._listeners:
                listener(conn, voided.entitlement_id, at)
            return voided

        return self._db.write(job)

    def for_entitlement(self, entitlement_id: str, *, include_voided: bool = True) -> list[Grant]:
        """Every grant of one entitlement in effective_at order: what the credit engine replays."""
        return select_grants(self._db.reader(), entitlement_id, include_voided=include_voided)

    def list_for_entitlement(
        self, entitlement_id: str, filter: GrantFilter, limit: int, after: Cursor | None
    ) -> tuple[list[Grant], Cursor | None]:
        """One page of one entitlement's grants in the filter's order (default effective_at, creation, id)."""
        return self._page(filter, entitlement_id, limit, after)

    def _where(self, filter: GrantFilter, entitlement_id: str | None) -> tuple[list[str], list[object]]:
        where = ["e.deleted_us IS NULL"]
        params: list[object] = []
        if entitlement_id is not None:
            where.append("g.entitlement_id = ?")
            params.append(entitlement_id)
        if not filter.include_voided:
            where.append("g.voided_us IS NULL")
        if filter.subjects:
            where.append(f"g.subject_key IN ({','.join('?' * len(filter.subjects))})")
            params.extend(filter.subjects)
        if filter.features:
            marks = ",".join("?" * len(filter.features))
            where.append(f"(e.feature_id IN ({marks}) OR e.feature_key IN ({marks}))")
            params += [*filter.features, *filter.features]
        return where, params

    def _page(
        self, filter: GrantFilter, entitlement_id: str | None, limit: int, after: Cursor | None
    ) -> tuple[list[Grant], Cursor | None]:
        where, params = self._where(filter, entitlement_id)
        column = _ORDER_COLUMNS[filter.order_by]
        if after is not None:
            op = "<" if filter.descending else ">"
            where.append(
                f"({column} {op} ? OR ({column} = ? AND (g.created_us {op} ? OR (g.created_us = ? AND g.id {op} ?))))"
            )
            params += [after[0], after[0], after[1], after[1], after[2]]
        direction = "DESC" if filter.descending else "ASC"
        sql = (
            f"SELECT {_G_COLUMNS} FROM grants g JOIN entitlements e ON e.id = g.entitlement_id"
            f" WHERE {' AND '.join(where)} ORDER BY {column} {direction}, g.created_us {direction},"
            f" g.id {direction} LIMIT ?"
        )
        rows = self._db.reader().execute(sql, [*params, limit + 1]).fetchall()
        page = [grant_of(r) for r in rows[:limit]]
        cursor = None
        if len(rows) > limit and page:
            last = page[-1]
            cursor = (to_us(_order_key(last, filter.order_by)), to_us(last.created_at), last.id)
        return page, cursor

    def count(self, filter: GrantFilter, entitlement_id: str | None = None) -> int:
        """How many grants match the filter (of one entitlement, or of every non-deleted one)."""
        where, params = self._where(filter, entitlement_id)
        sql = f"SELECT COUNT(*) FROM grants g JOIN entitlements e ON e.id = g.entitlement_id WHERE {' AND '.join(where)}"
        return int(self._db.reader().execute(sql, params).fetchone()[0])

    def list(
        self, filter: GrantFilter, limit: int, after: Cursor | None
    ) -> tuple[list[Grant], Cursor | None]:
        """One page of grants of non-deleted entitlements in the filter's order (default effective_at)."""
        return self._page(filter, None, limit, after)
