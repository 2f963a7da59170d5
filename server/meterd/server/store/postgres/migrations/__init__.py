"""Forward-only schema migrations of the PostgreSQL backend, versioned in the ``schema_version`` table.

Each ``NNNN_name.sql`` file in this folder is one version (its own series, independent of SQLite's): version
N is applied when the database's version is below N, inside one transaction with the bump, so a crash
leaves the old version intact. Replicas starting together take an advisory lock first, so one migrates
and the others then find the schema current. Never edit a released file; add the next number instead.
"""

from __future__ import annotations

import logging
from typing import Any

from meterd.server.store import migrations_in

log = logging.getLogger(__name__)


def available() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration, in version order."""
    return migrations_in(__package__)


def migrate(conn: Any, lock_key: int) -> int:
    """Applies every migration newer than the database (under the advisory lock); returns the version."""
    conn.autocommit = True
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (lock_key,))
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            current = int(row[0] or 0)
            migrations = available()
            latest = migrations[-1][0] if migrations else 0
            if current > latest:
                raise RuntimeError(f"database schema version {current} is newer than this meterd ({latest})")
            for version, name, sql in migrations:
                if version <= current:
                    continue
                log.info("applying migration", extra={"migration": name})
                with conn.transaction():
                    conn.execute(sql)
                    conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
                current = version
            return current
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key,))
    finally:
        conn.autocommit = False
