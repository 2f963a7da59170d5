"""Server-wide settings stored in the database (SQLite migrations/0006, PostgreSQL 0001)."""

from __future__ import annotations

from meterd.server.store.sql.connection import Database


def page_token_key(db: Database) -> bytes:
    """The database's page-token signing key (made by the migration)."""
    row = db.reader().execute("SELECT value FROM server_settings WHERE name = 'page_token_key'").fetchone()
    return bytes.fromhex(row[0])
