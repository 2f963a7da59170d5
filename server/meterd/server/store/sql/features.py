"""Features (SQLite migrations/0004, PostgreSQL 0001), for both backends. On PostgreSQL the jobs run
SERIALIZABLE: of two replicas creating the same key or archiving the same feature at once, one wins and the
other is answered as if it came second (ALREADY_EXISTS, NOT_FOUND).

A feature's meter is read inside the feature's own transaction, and a meter's delete looks for the features
that use it inside its own (``check_meter_unused``): never by a read before the write, since two processes
interleave. On PostgreSQL the feature reads its meter FOR SHARE: a meter delete (which locks the row FOR
UPDATE, then looks for active features) waits for it and sees the feature; a feature whose meter another
replica deleted first fails to lock it and runs again, finding no meter (NOT_FOUND)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from meterd.server.errors import AlreadyExists, NotFound
from meterd.server.features.model import Feature, FeatureFilter, MeterInfo
from meterd.server.meters.service import in_use_by_features
from meterd.server.store.sql.connection import SQLITE, Connection, Database, Dialect
from meterd.server.timeutil import from_us, to_us

COLUMNS = "id, key, name, meter_slug, meter_group_by_filters, metadata, created_us, updated_us, archived_us"


def feature_of(row: tuple[Any, ...]) -> Feature:
    """A Feature from a row of ``SELECT {COLUMNS}``."""
    return Feature(
        id=row[0],
        key=row[1],
        name=row[2],
        meter_slug=row[3],
        meter_group_by_filters=json.loads(row[4]),
        metadata=json.loads(row[5]),
        created_at=from_us(row[6]),
        updated_at=from_us(row[7]),
        archived_at=from_us(row[8]) if row[8] is not None else None,
    )


def select_feature(conn: Connection, id_or_key: str) -> Feature | None:
    """By id (archived or not), else the active feature with that key."""
    row = conn.execute(f"SELECT {COLUMNS} FROM features WHERE id = ?", (id_or_key,)).fetchone()
    if row is None:
        row = conn.execute(
            f"SELECT {COLUMNS} FROM features WHERE key = ? AND archived_us IS NULL", (id_or_key,)
        ).fetchone()
    return feature_of(row) if row else None


# A meter in use names this many of its features in the error.
SHOWN_USERS = 10


def check_meter_unused(conn: Connection, slug: str) -> None:
    """Inside a meter's delete job: FailedPrecondition naming the active features that use the meter. Read in
    the deleting transaction, never before it: a feature created at the same moment either commits first (and
    this sees it) or waits and finds the meter gone."""
    keys = [
        row[0]
        for row in conn.execute(
            "SELECT key FROM features WHERE meter_slug = ? AND archived_us IS NULL ORDER BY created_us, id LIMIT ?",
            (slug, SHOWN_USERS),
        ).fetchall()
    ]
    if keys:
        total = conn.execute(
            "SELECT COUNT(*) FROM features WHERE meter_slug = ? AND archived_us IS NULL", (slug,)
        ).fetchone()[0]
        raise in_use_by_features(slug, keys, int(total))


@dataclass(frozen=True, slots=True)
class MeterRow:
    """What a feature needs of its meter, as read inside the feature's own transaction."""

    id: str
    slug: str
    aggregation: str
    group_by: Mapping[str, str]


def _json(value: Mapping[str, str]) -> str:
    return json.dumps(dict(value), separators=(",", ":"), sort_keys=True)


class SqlFeatureStore:
    """Features in the ``features`` table."""

    def __init__(self, db: Database, dialect: Dialect = SQLITE) -> None:
        self._db = db
        self._dialect = dialect

    def insert(
        self, feature: Feature, check_meter: Callable[[MeterInfo | None], None] | None = None
    ) -> Feature:
        """Stores a new feature; AlreadyExists if an active feature has its key. With a meter, its row is read
        in the same transaction and handed to ``check_meter`` (None: no such meter), which raises to refuse
        the feature: a meter deleted or redefined at the same moment cannot slip between check and write."""

        def job(conn: Connection) -> Feature:
            stored = feature
            if feature.meter_slug is not None and check_meter is not None:
                # By slug, or by id as MeterService.get also finds it; the feature keeps the slug.
                row = conn.execute(
                    "SELECT id, slug, aggregation, group_by FROM meters WHERE slug = ? OR id = ?"
                    f" ORDER BY slug = ? DESC LIMIT 1{self._dialect.lock_for_share}",
                    (feature.meter_slug, feature.meter_slug, feature.meter_slug),
                ).fetchone()
                check_meter(MeterRow(row[0], row[1], row[2], json.loads(row[3])) if row else None)
                stored = replace(feature, meter_slug=row[1])
            existing = conn.execute(
                "SELECT id FROM features WHERE key = ? AND archived_us IS NULL", (stored.key,)
            ).fetchone()
            if existing:
                raise AlreadyExists(
                    f"feature.key: feature {existing[0]} with key {stored.key} already exists"
                )
            conn.execute(
                f"INSERT INTO features ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (
                    stored.id,
                    stored.key,
                    stored.name,
                    stored.meter_slug,
                    _json(stored.meter_group_by_filters),
                    _json(stored.metadata),
                    to_us(stored.created_at),
                    to_us(stored.updated_at),
                ),
            )
            return stored

        return self._db.write(job)

    def get(self, id_or_key: str) -> Feature | None:
        """By id (archived or not), else the active feature with that key."""
        return select_feature(self._db.reader(), id_or_key)

    def archived_with_key(self, key: str) -> bool:
        """Whether some archived feature has this key."""
        row = (
            self._db.reader()
            .execute("SELECT 1 FROM features WHERE key = ? AND archived_us IS NOT NULL LIMIT 1", (key,))
            .fetchone()
        )
        return row is not None

    def archive(self, feature_id: str, at: datetime) -> Feature:
        """Archives an active feature; NotFound if it is unknown or already archived."""

        def job(conn: Connection) -> Feature:
            cursor = conn.execute(
                "UPDATE features SET archived_us = ?, updated_us = ? WHERE id = ? AND archived_us IS NULL",
                (to_us(at), to_us(at), feature_id),
            )
            if cursor.rowcount != 1:
                raise NotFound(f"feature: feature {feature_id} not found or already archived")
            row = conn.execute(f"SELECT {COLUMNS} FROM features WHERE id = ?", (feature_id,)).fetchone()
            return feature_of(row)

        return self._db.write(job)

    def list(
        self, filter: FeatureFilter, limit: int, after: tuple[int, str] | None
    ) -> tuple[list[Feature], tuple[int, str] | None]:
        """One page in creation order; ``after`` is the (created_us, id) of the previous page's last row."""
        where, params = _where(filter)
        if after is not None:
            where.append("(created_us > ? OR (created_us = ? AND id > ?))")
            params += [after[0], after[0], after[1]]
        sql = (
            f"SELECT {COLUMNS} FROM features"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY created_us, id LIMIT ?"
        )
        rows = self._db.reader().execute(sql, [*params, limit + 1]).fetchall()
        page = [feature_of(r) for r in rows[:limit]]
        cursor = (to_us(page[-1].created_at), page[-1].id) if len(rows) > limit and page else None
        return page, cursor

    def count(self, filter: FeatureFilter) -> int:
        """How many features match the filter (every page)."""
        where, params = _where(filter)
        sql = "SELECT COUNT(*) FROM features" + (" WHERE " + " AND ".join(where) if where else "")
        return int(self._db.reader().execute(sql, params).fetchone()[0])


def _where(filter: FeatureFilter) -> tuple[list[str], list[object]]:
    where: list[str] = []
    params: list[object] = []
    if not filter.include_archived:
        where.append("archived_us IS NULL")
    if filter.meter_slugs:
        where.append(f"meter_slug IN ({','.join('?' * len(filter.meter_slugs))})")
        params.extend(filter.meter_slugs)
    return where, params
