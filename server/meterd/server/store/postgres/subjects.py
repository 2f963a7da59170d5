"""PostgreSQL storage of subjects: the SQLite store's SQL is portable (upsert by key with ON CONFLICT)."""

from __future__ import annotations

from meterd.server.store.sqlite.subjects import SqliteSubjectStore


class PgSubjectStore(SqliteSubjectStore):
    """Subjects in the ``subjects`` table of PostgreSQL (see migrations/0001_schema.sql)."""
