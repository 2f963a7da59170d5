"""Forward-only schema migrations, the loop both backends run: each ``NNNN_name.sql`` file of a backend's
migrations package is one version, applied when the database's version is below it, inside one transaction
with the bump, so a crash leaves the old version intact. Never edit a released file; add the next number.
Where the version is kept, and how a migration's transaction runs, is each backend's (``Schema``)."""

from __future__ import annotations

import logging
import re
from importlib.resources import files
from typing import Protocol

log = logging.getLogger("meterd.server.store.migrations")

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class Schema(Protocol):
    """A database's schema version and how one migration is applied."""

    def version(self) -> int: ...

    def apply(self, version: int, sql: str) -> None:
        """Runs ``sql`` and sets the version to ``version``, in one transaction."""
        ...


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


def migrate(schema: Schema, migrations: list[tuple[int, str, str]]) -> int:
    """Applies every migration newer than the database; returns the resulting version. A RuntimeError for a
    database newer than this meterd."""
    current = schema.version()
    latest = migrations[-1][0] if migrations else 0
    if current > latest:
        raise RuntimeError(f"database schema version {current} is newer than this meterd ({latest})")
    for version, name, sql in migrations:
        if version <= current:
            continue
        log.info("applying migration", extra={"migration": name})
        schema.apply(version, sql)
        current = version
    return current
