"""PostgreSQL storage of grants: the SQLite store's SQL is portable. Change listeners (snapshot
invalidation) run inside the same PostgreSQL transaction as the grant's insert or void."""

from __future__ import annotations

from meterd.server.store.sqlite.grants import SqliteGrantStore


class PgGrantStore(SqliteGrantStore):
    """Grants in the ``grants`` table of PostgreSQL."""
