"""Storage backends, one package each (sqlite: the embedded default; postgres: scale-out), and the choice
between them by database URL."""

from __future__ import annotations

from typing import Any

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def backend_of(url: str) -> str:
    """``postgres`` for a postgresql:// (or postgres://) URL; ``sqlite`` for a path or a sqlite: URL."""
    return "postgres" if url.startswith(POSTGRES_SCHEMES) else "sqlite"


def sqlite_path(url: str) -> str:
    """The file of a SQLite database URL (``sqlite:path``, ``sqlite:///abs/path``) or plain path."""
    if url.startswith("sqlite:///"):
        return "/" + url[len("sqlite:///"):]
    if url.startswith("sqlite://"):
        return url[len("sqlite://"):]
    if url.startswith("sqlite:"):
        return url[len("sqlite:"):]
    return url


def open_database(url: str) -> Any:
    """Opens (and migrates) the database the URL names; the object has ``backend``, ``close()``."""
    if backend_of(url) == "postgres":
        from meterd.server.store.postgres.db import Database as PgDatabase

        return PgDatabase(url)
    from meterd.server.store.sqlite.db import Database as SqliteDatabase

    return SqliteDatabase(sqlite_path(url))
