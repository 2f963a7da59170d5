"""Forward-only schema migrations of the PostgreSQL backend, versioned in the ``schema_version`` table.

Each ``NNNN_name.sql`` file in this folder is one version (its own series, independent of SQLite's): version
N is applied when the database's version is below N, inside one transaction with the bump, so a crash
leaves the old version intact. Replicas starting together take an advisory lock first, so one migrates
and the others then find the schema current. Never edit a released file; add the next number instead.
"""

from __future__ import annotations

import logging
import re
from importlib.resources import files
from typing import Any

log = logging.getLogger(__name__)
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def available() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration, in version order."""
    found = []
    for entry in files(__package__).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text()))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migration versions must be 1..N without gaps, found {versions}")
    return found


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
