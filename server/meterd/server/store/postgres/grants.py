"""PostgreSQL storage of grants: the SQLite store's SQL is portable. Change listeners (snapshot
invalidation) run inside the same PostgreSQL transaction as the grant's insert or void. Jobs run SERIALIZABLE
(db.Serializable): of two replicas voiding the same grant at once, one wins and the other gets
FAILED_PRECONDITION (already voided), as one after the other."""

from __future__ import annotations

from meterd.server.store.postgres.db import Database, Serializable
from meterd.server.store.sqlite.grants import SqliteGrantStore


class PgGrantStore(SqliteGrantStore):
    """Grants in the ``grants`` table of PostgreSQL."""

    def __init__(self, db: Database) -> None:
        super().__init__(Serializable(db))  # type: ignore[arg-type]
