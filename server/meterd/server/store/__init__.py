"""Storage backends, one package each (sqlite: the embedded default; postgres: scale-out), and the choice
between them by database URL."""

from __future__ import annotations

import re
from importlib.resources import files
from typing import Any

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def backend_of(url: str) -> str:
    """``postgres`` for a postgresql:// (or postgres://) URL; ``sqlite`` for a path or a sqlite: URL."""
    return "postgres" if url.startswith(POSTGRES_SCHEMES) else "sqlite"


_PASSWORD_PARAM = re.compile(r"(?P<key>[?&]password=)[^&#]*", re.I)


def redact_url(url: str) -> str:
    """The database URL as logs and messages may show it: a password (``user:password@`` or
    ``?password=``) replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if sep:
        # The user info ends at the last @ before the query: a password may hold an unescaped @ or /.
        at = rest.split("?", 1)[0].rfind("@")
        if at >= 0:
            user, colon, _ = rest[:at].partition(":")
            url = f"{scheme}{sep}{user}{':***' if colon else ''}{rest[at:]}"
    return _PASSWORD_PARAM.sub(lambda m: f"{m['key']}***", url)


def sqlite_path(url: str) -> str:
    """The file of a SQLite database URL (``sqlite:path``, ``sqlite:///abs/path``) or plain path."""
    if url.startswith("sqlite:///"):
        return "/" + url[len("sqlite:///"):]
    if url.startswith("sqlite://"):
        return url[len("sqlite://"):]
    if url.startswith("sqlite:"):
        return url[len("sqlite:"):]
    return url


def open_database(url: str, wait_seconds: float = 30.0) -> Any:
    """Opens (and migrates) the database the URL names; the object has ``backend``, ``close()``.
    ``wait_seconds``: how long an unreachable PostgreSQL is retried (a RuntimeError after)."""
    if backend_of(url) == "postgres":
        from meterd.server.store.postgres.db import Database as PgDatabase

        return PgDatabase(url, wait_seconds=wait_seconds)
    from meterd.server.store.sqlite.db import Database as SqliteDatabase

    return SqliteDatabase(sqlite_path(url))


def migrations_in(package: str) -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every ``NNNN_name.sql`` migration in a backend's migrations package, in
    version order; a RuntimeError unless the versions run 1..N without gaps."""
    found = []
    for entry in files(package).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text()))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migration versions must be 1..N without gaps, found {versions}")
    return found
