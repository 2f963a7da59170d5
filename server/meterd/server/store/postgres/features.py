"""PostgreSQL storage of features (the SQLite store's SQL is portable; the partial unique index on active
keys turns a race between two replicas creating the same key into ALREADY_EXISTS)."""

from __future__ import annotations

from meterd.server.store.sqlite.features import SqliteFeatureStore


class PgFeatureStore(SqliteFeatureStore):
    """Features in the ``features`` table of PostgreSQL."""
