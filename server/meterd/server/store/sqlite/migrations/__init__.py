"""Forward-only schema migrations, versioned with ``PRAGMA user_version``.

Each ``NNNN_name.sql`` file in this folder is one version: version N is applied when the database's
user_version is below N, inside one transaction with the bump, so a crash leaves the old version intact.
Never edit a file that has been released; add the next number instead.
"""

from __future__ import annotations

import sqlite3

from meterd.server.store.sql.migrations import migrate as run_migrations
from meterd.server.store.sql.migrations import migrations_in


def available() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration, in version order."""
    return migrations_in(__package__)


class _UserVersion:
    """The schema version in ``PRAGMA user_version``; a migration runs in one IMMEDIATE transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def apply(self, version: int, sql: str) -> None:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(sql):
                self._conn.execute(statement)
            self._conn.execute(f"PRAGMA user_version = {int(version)}")
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise


def migrate(conn: sqlite3.Connection) -> int:
    """Applies every migration newer than the database; returns the resulting version."""
    return run_migrations(_UserVersion(conn), available())


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
