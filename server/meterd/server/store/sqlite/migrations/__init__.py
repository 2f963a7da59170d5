"""Forward-only schema migrations, versioned with ``PRAGMA user_version``.

Each ``NNNN_name.sql`` file in this folder is one version: version N is applied when the database's
user_version is below N, inside one transaction with the bump, so a crash leaves the old version intact.
Never edit a file that has been released; add the next number instead.
"""

from __future__ import annotations

import logging
import sqlite3

from meterd.server.store import migrations_in

log = logging.getLogger(__name__)


def available() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration, in version order."""
    return migrations_in(__package__)


def migrate(conn: sqlite3.Connection) -> int:
    """Applies every migration newer than the database; returns the resulting version."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    migrations = available()
    latest = migrations[-1][0] if migrations else 0
    if current > latest:
        raise RuntimeError(f"database schema version {current} is newer than this meterd ({latest})")
    for version, name, sql in migrations:
        if version <= current:
            continue
        log.info("applying migration", extra={"migration": name})
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        current = version
    return current


def _statements(sql: str) -> list[str]:
    """Splits a migration into statements (complete_statement keeps triggers' inner ';' together)."""
    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
