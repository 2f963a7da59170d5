"""Forward-only schema migrations of the PostgreSQL backend, versioned in the ``schema_version`` table.

Each ``NNNN_name.sql`` file in this folder is one version (its own series, independent of SQLite's): version
N is applied when the database's version is below N, inside one transaction with the bump, so a crash
leaves the old version intact. Replicas starting together take an advisory lock first, so one migrates
and the others then find the schema current. Never edit a released file; add the next number instead.
"""

from __future__ import annotations

from typing import Any

from meterd.server.store.sql.migrations import migrate as run_migrations
from meterd.server.store.sql.migrations import migrations_in


def available() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration, in version order."""
    return migrations_in(__package__)


class _VersionTable:
    """The schema version in the ``schema_version`` table; a migration runs in one transaction."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def version(self) -> int:
        self._conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = self._conn.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def apply(self, version: int, sql: str) -> None:
        with self._conn.transaction():
            self._conn.execute(sql)
            self._conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))


def migrate(conn: Any, lock_key: int) -> int:
    """Applies every migration newer than the database (under the advisory lock); returns the version."""
    conn.autocommit = True
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (lock_key,))
        try:
            return run_migrations(_VersionTable(conn), available())
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key,))
    finally:
        conn.autocommit = False
