"""Storage: the SQL both backends share (sql/), one package per backend (sqlite: the embedded default;
postgres: scale-out), the typed ``Stores`` of a database (stores.py), and which backend a URL names. The
backend is opened once, by the composition root (meterd.server.wiring.storage). See README.md."""

from __future__ import annotations

import re

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


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
        return "/" + url[len("sqlite:///") :]
    if url.startswith("sqlite://"):
        return url[len("sqlite://") :]
    if url.startswith("sqlite:"):
        return url[len("sqlite:") :]
    return url
