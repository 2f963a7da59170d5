"""Forward-only schema migrations, versioned with ``PRAGMA user_version``.

Each ``NNNN_name.sql`` file in this folder is one version: version N is applied when the database's
user_version is below N, inside one transaction with the bump, so a crash leaves the old version intact.
Never edit a file that has been released; add the next number instead.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from importlib.resources import files

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
