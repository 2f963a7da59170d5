"""PostgreSQL storage of features (the SQLite store's SQL is portable). Jobs run SERIALIZABLE (db.Serializable):
of two replicas creating the same key or archiving the same feature at once, one wins and the other is
answered as if it came second (ALREADY_EXISTS, NOT_FOUND). A feature's insert reads its meter FOR SHARE: a
meter delete (which locks the row FOR UPDATE, then looks for active features) waits for it and sees the
feature; a feature whose meter another replica deleted first fails to lock it and runs again, finding no
meter (NOT_FOUND)."""

from __future__ import annotations

from meterd.server.store.postgres.db import Database, Serializable
from meterd.server.store.sqlite.features import SqliteFeatureStore


class PgFeatureStore(SqliteFeatureStore):
    """Features in the ``features`` table of PostgreSQL."""

    meter_lock = " FOR SHARE"

    def __init__(self, db: Database) -> None:
        super().__init__(Serializable(db))  # type: ignore[arg-type]
