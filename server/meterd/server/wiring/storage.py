"""Opens the database a URL names and its stores: the one place where the backend is chosen."""

from __future__ import annotations

from meterd.server.store import backend_of, sqlite_path
from meterd.server.store.postgres.db import Database as PgDatabase
from meterd.server.store.sqlite.db import Database as SqliteDatabase
from meterd.server.store.stores import Stores

Database = SqliteDatabase | PgDatabase


def open_storage(url: str, wait_seconds: float = 30.0) -> tuple[Database, Stores]:
    """The database (opened and migrated) and its stores. ``wait_seconds``: how long an unreachable
    PostgreSQL is retried (a RuntimeError after)."""
    if backend_of(url) == "postgres":
        from meterd.server.store.postgres.stores import open_stores as open_pg_stores

        pg = PgDatabase(url, wait_seconds=wait_seconds)
        try:
            return pg, open_pg_stores(pg)
        except BaseException:
            pg.close()
            raise
    from meterd.server.store.sqlite.stores import open_stores as open_sqlite_stores

    sqlite = SqliteDatabase(sqlite_path(url))
    try:
        return sqlite, open_sqlite_stores(sqlite)
    except BaseException:
        sqlite.close()
        raise
