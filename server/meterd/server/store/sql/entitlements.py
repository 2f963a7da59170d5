"""Entitlements and their manual resets (SQLite migrations/0004, PostgreSQL 0001), for both backends.

The credit engine loads a metered entitlement with ``find`` (its resets included), its grants with
``SqlGrantStore.for_entitlement`` and builds its inputs with ``Entitlement.engine_spec()`` and
``Grant.to_engine()``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from meterd.server.credit.engine import Reset
from meterd.server.entitlements.model import (
    Entitlement,
    EntitlementFilter,
    EntitlementOrderBy,
    EntitlementType,
    MeteredSettings,
)
from meterd.server.errors import AlreadyExists, FailedPrecondition, NotFound
from meterd.server.grants.model import Grant
from meterd.server.periods import Interval, UsagePeriod
from meterd.server.store.sql.connection import Conflict, Connection, Database
from meterd.server.store.sql.grants import insert_grant
from meterd.server.timeutil import from_us, to_us

COLUMNS = (
    "id, subject_key, feature_id, feature_key, type, metadata, config, usage_period_interval,"
    " usage_period_anchor_us, measure_usage_from_us, issue_after_reset, issue_after_reset_priority,"
    " is_soft_limit, preserve_overage_at_reset, created_us, updated_us, deleted_us"
)

Cursor = tuple[int, str]

# Called inside the transaction that records a manual reset with (conn, entitlement_id, reset): the credit
# engine re-checks the reset against later ones and drops its balance snapshots at or after it. A listener
# may raise a MeterdError to refuse the reset (the whole write rolls back).
ResetListener = Callable[[Connection, str, Reset], None]


def _entitlement_of(row: tuple[Any, ...], resets: Sequence[Reset] = ()) -> Entitlement:
    metered = None
    if row[4] == EntitlementType.METERED:
        metered = MeteredSettings(
            usage_period=UsagePeriod(Interval(row[7]), from_us(row[8])),
            measure_usage_from=from_us(row[9]),
            issue_after_reset=Decimal(row[10]) if row[10] is not None else None,
            issue_after_reset_priority=row[11],
            is_soft_limit=bool(row[12]),
            preserve_overage_at_reset=bool(row[13]),
        )
    return Entitlement(
        id=row[0],
        subject_key=row[1],
        feature_id=row[2],
        feature_key=row[3],
        type=EntitlementType(row[4]),
        metadata=json.loads(row[5]),
        config=row[6],
        metered=metered,
        created_at=from_us(row[14]),
        updated_at=from_us(row[15]),
        deleted_at=from_us(row[16]) if row[16] is not None else None,
        resets=tuple(resets),
    )


def _resets_of(conn: Connection, ids: Sequence[str]) -> dict[str, list[Reset]]:
    if not ids:
        return {}
    found: dict[str, list[Reset]] = {}
    rows = conn.execute(
        f"SELECT entitlement_id, at_us, retain_anchor, preserve_overage, usage_period_interval,"
        f" usage_period_anchor_us FROM entitlement_resets"
        f" WHERE entitlement_id IN ({','.join('?' * len(ids))}) ORDER BY entitlement_id, at_us",
        list(ids),
    )
    for eid, at_us, retain, preserve, interval, anchor_us in rows:
        period = UsagePeriod(Interval(interval), from_us(anchor_us)) if interval is not None else None
        found.setdefault(eid, []).append(
            Reset(
                from_us(at_us),
                retain_anchor=bool(retain),
                preserve_overage=None if preserve is None else bool(preserve),
                usage_period=period,
            )
        )
    return found


def _load(conn: Connection, rows: list[tuple[Any, ...]]) -> list[Entitlement]:
    metered_ids = [r[0] for r in rows if r[4] == EntitlementType.METERED]
    resets = _resets_of(conn, metered_ids)
    return [_entitlement_of(r, resets.get(r[0], ())) for r in rows]


def _select_active(conn: Connection, subject_key: str, id_or_feature_key: str) -> Entitlement | None:
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM entitlements WHERE subject_key = ? AND deleted_us IS NULL AND id = ?",
        (subject_key, id_or_feature_key),
    ).fetchall()
    if not rows:
        rows = conn.execute(
            f"SELECT {COLUMNS} FROM entitlements WHERE subject_key = ? AND deleted_us IS NULL AND feature_key = ?",
            (subject_key, id_or_feature_key),
        ).fetchall()
    loaded = _load(conn, rows)
    return loaded[0] if loaded else None


def _insert(conn: Connection, e: Entitlement, grant: Grant | None) -> Entitlement:
    """Inserts inside the caller's write job: NotFound/FailedPrecondition (feature), AlreadyExists (conflict)."""
    row = conn.execute("SELECT archived_us FROM features WHERE id = ?", (e.feature_id,)).fetchone()
    if row is None:
        raise NotFound(f"entitlement.feature_id: feature {e.feature_id} not found")
    if row[0] is not None:
        raise FailedPrecondition(f"entitlement.feature_id: feature {e.feature_key} is archived")
    # By key alone (a feature's key never changes, so its id adds nothing): one range of the active-entitlement
    # index, which on PostgreSQL is also all that a SERIALIZABLE job's read locks. Reading by feature id too
    # locked every entitlement of the feature, and creations for other subjects conflicted with this one.
    existing = conn.execute(
        "SELECT id FROM entitlements WHERE subject_key = ? AND deleted_us IS NULL AND feature_key = ?",
        (e.subject_key, e.feature_key),
    ).fetchone()
    if existing:
        raise AlreadyExists(
            f"entitlement: entitlement {existing[0]} already exists for feature {e.feature_key}"
            f" and subject {e.subject_key}"
        )
    m = e.metered
    conn.execute(
        f"INSERT INTO entitlements ({COLUMNS}) VALUES ({', '.join('?' * 17)})",
        (
            e.id,
            e.subject_key,
            e.feature_id,
            e.feature_key,
            e.type.value,
            json.dumps(dict(e.metadata), separators=(",", ":"), sort_keys=True),
            e.config,
            m.usage_period.interval.value if m else None,
            to_us(m.usage_period.anchor) if m else None,
            to_us(m.measure_usage_from) if m else None,
            str(m.issue_after_reset) if m and m.issue_after_reset is not None else None,
            m.issue_after_reset_priority if m else None,
            int(m.is_soft_limit) if m else 0,
            int(m.preserve_overage_at_reset) if m else 0,
            to_us(e.created_at),
            to_us(e.updated_at),
            None,
        ),
    )
    if grant is not None:
        insert_grant(conn, grant)
    return e


def _soft_delete(conn: Connection, entitlement_id: str, at: datetime) -> None:
    cursor = conn.execute(
        "UPDATE entitlements SET deleted_us = ?, updated_us = ? WHERE id = ? AND deleted_us IS NULL",
        (to_us(at), to_us(at), entitlement_id),
    )
    if cursor.rowcount != 1:
        raise NotFound(f"entitlement: entitlement {entitlement_id} not found")


class SqlEntitlementStore:
    """Entitlements in the ``entitlements`` table, manual resets in ``entitlement_resets``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._reset_listeners: list[ResetListener] = []

    def add_reset_listener(self, listener: ResetListener) -> None:
        """Registers a function run in the same transaction as every manual reset (see ResetListener)."""
        self._reset_listeners.append(listener)

    def insert(self, e: Entitlement, grant: Grant | None = None) -> Entitlement:
        """Stores a new entitlement (and its issue-after-reset grant) in one transaction.

        AlreadyExists if the subject has a non-deleted entitlement for the feature's key; FailedPrecondition
        if the feature was archived meanwhile.
        """

        return self._db.write(lambda conn: _insert(conn, e, grant))

    def replace(self, old_id: str, e: Entitlement, grant: Grant | None, at: datetime) -> Entitlement:
        """Deletes entitlement ``old_id`` at ``at`` and stores ``e`` (and its grant) in one transaction.

        NotFound if the old one is gone meanwhile; otherwise as ``insert``: on any error nothing changes.
        """

        def job(conn: Connection) -> Entitlement:
            _soft_delete(conn, old_id, at)
            return _insert(conn, e, grant)

        return self._db.write(job)

    def find(self, subject_key: str, id_or_feature_key: str) -> Entitlement | None:
        """The subject's non-deleted entitlement with this id, else the one for this feature key."""
        return _select_active(self._db.reader(), subject_key, id_or_feature_key)

    def get_by_id(self, entitlement_id: str) -> Entitlement | None:
        """By id, deleted or not, whatever its subject."""
        conn = self._db.reader()
        rows = conn.execute(f"SELECT {COLUMNS} FROM entitlements WHERE id = ?", (entitlement_id,)).fetchall()
        loaded = _load(conn, rows)
        return loaded[0] if loaded else None

    def delete(self, entitlement_id: str, at: datetime) -> None:
        """Soft-deletes; NotFound if it is unknown or already deleted."""

        self._db.write(lambda conn: _soft_delete(conn, entitlement_id, at))

    def add_reset(self, entitlement_id: str, reset: Reset, created_at: datetime) -> None:
        """Records a manual usage reset (ResetEntitlementUsage). AlreadyExists for a second one in a minute.

        Callers check the reset rules (not in the future, after the current period start) first; the check and
        this write are not atomic, so they re-check inside their own job if they need to.
        """

        def job(conn: Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO entitlement_resets (entitlement_id, at_us, retain_anchor, preserve_overage,"
                    " created_us, usage_period_interval, usage_period_anchor_us) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        entitlement_id,
                        to_us(reset.at),
                        int(reset.retain_anchor),
                        None if reset.preserve_overage is None else int(reset.preserve_overage),
                        to_us(created_at),
                        reset.usage_period.interval.value if reset.usage_period else None,
                        to_us(reset.usage_period.anchor) if reset.usage_period else None,
                    ),
                )
            except Conflict as exc:
                raise AlreadyExists(f"entitlement: a reset at {reset.at.isoformat()} already exists") from exc
            conn.execute(
                "UPDATE entitlements SET updated_us = ? WHERE id = ?", (to_us(created_at), entitlement_id)
            )
            for listener in self._reset_listeners:
                listener(conn, entitlement_id, reset)

        self._db.write(job)

    def list(
        self, filter: EntitlementFilter, limit: int, after: Cursor | None
    ) -> tuple[list[Entitlement], Cursor | None]:
        """One page in the filter's order (created or updated time, then id; ascending or descending).

        ``after`` is the (time_us, id) of the previous page's last row in that order.
        """
        where, params = _where(filter)
        column = _ORDER_COLUMNS[filter.order_by]
        if after is not None:
            beyond = "<" if filter.descending else ">"
            where.append(f"({column} {beyond} ? OR ({column} = ? AND id {beyond} ?))")
            params += [after[0], after[0], after[1]]
        direction = "DESC" if filter.descending else "ASC"
        sql = (
            f"SELECT {COLUMNS} FROM entitlements"
            + (" WHERE " + " AND ".join(where) if where else "")
            + f" ORDER BY {column} {direction}, id {direction} LIMIT ?"
        )
        conn = self._db.reader()
        rows = conn.execute(sql, [*params, limit + 1]).fetchall()
        page = _load(conn, rows[:limit])
        cursor = None
        if len(rows) > limit and page:
            last = page[-1]
            key = last.updated_at if filter.order_by is EntitlementOrderBy.UPDATED_AT else last.created_at
            cursor = (to_us(key), last.id)
        return page, cursor

    def count(self, filter: EntitlementFilter) -> int:
        """How many entitlements match the filter (every page)."""
        where, params = _where(filter)
        sql = "SELECT COUNT(*) FROM entitlements" + (" WHERE " + " AND ".join(where) if where else "")
        return int(self._db.reader().execute(sql, params).fetchone()[0])


_ORDER_COLUMNS = {EntitlementOrderBy.CREATED_AT: "created_us", EntitlementOrderBy.UPDATED_AT: "updated_us"}


def _where(filter: EntitlementFilter) -> tuple[list[str], list[object]]:
    where: list[str] = []
    params: list[object] = []
    if not filter.include_deleted:
        where.append("deleted_us IS NULL")
    if filter.subjects:
        where.append(f"subject_key IN ({','.join('?' * len(filter.subjects))})")
        params.extend(filter.subjects)
    if filter.features:
        marks = ",".join("?" * len(filter.features))
        where.append(f"(feature_id IN ({marks}) OR feature_key IN ({marks}))")
        params += [*filter.features, *filter.features]
    if filter.types:
        where.append(f"type IN ({','.join('?' * len(filter.types))})")
        params.extend(t.value for t in filter.types)
    return where, params
