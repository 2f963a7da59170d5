"""Storage: the SQL both backends share (sql/), one package per backend (sqlite: the embedded default;
postgres: scale-out), the typed ``Stores`` of a database (stores.py), and which backend a URL names. The
backend is opened once, by the composition root (meterd.server.wiring.storage). See README.md."""

from __future__ import annotations

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
