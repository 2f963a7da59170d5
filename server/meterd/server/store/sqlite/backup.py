"""Consistent copies of a live database through SQLite's online backup API.

The copy is taken by one ``sqlite3.Connection.backup`` step over every page: it runs inside one read
transaction, so in WAL mode it sees one committed state while the server goes on writing (writers are
never blocked; a checkpoint only stops short of the pages the copy still reads). The copy is written
next to its destination, checked (``PRAGMA integrity_check``), made a single self-contained file
(journal_mode=DELETE), flushed to disk and only then renamed into place: a destination that exists is a
complete, verified backup.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from meterd.server.store import backend_of, sqlite_path


class BackupError(Exception):
    """The backup could not be taken or did not verify; the message says why in one line."""


@dataclass(frozen=True)
class BackupResult:
    """What was written: the file, its size, its schema version and the row count of each table."""

    path: Path
    size_bytes: int
    schema_version: int
    tables: dict[str, int]


def backup(source: str | Path, dest: str | Path, *, overwrite: bool = False) -> BackupResult:
    """Copies the meterd database at ``source`` (which may be in use) to ``dest``; verifies the copy.

    Raises BackupError when the source is missing or not a meterd database, the destination exists
    (unless ``overwrite``), or the copy fails its integrity check.
    """
    if backend_of(str(source)) == "postgres":
        raise BackupError(
            "the database is PostgreSQL: back it up with pg_dump (or your provider's snapshots)"
        )
    # Whatever `meterd serve` accepts as a SQLite database: a path or a sqlite: URL.
    source, dest = Path(sqlite_path(str(source))), Path(dest)
    if not source.is_file():
        raise BackupError(f"{source}: no such database file")
    if dest.is_dir():
        raise BackupError(f"{dest}: is a directory; name the backup file to write")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent}: no such directory")
    if dest.exists() and not overwrite:
        raise BackupError(f"{dest}: already exists (pass --force to replace it)")
    if dest.resolve() == source.resolve():
        raise BackupError(f"{dest}: is the live database itself")
    partial = dest.with_name(dest.name + ".partial")
    try:
        return _copy(source, dest, partial)
    except OSError as exc:  # the destination's directory vanished, is not writable, the disk is full, ...
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise BackupError(f"{dest}: cannot write the backup: {exc.strerror or exc}") from None


def _copy(source: Path, dest: Path, partial: Path) -> BackupResult:
    """The copy, its check and the rename of ``backup``; OSError for what the file system refuses."""
    partial.unlink(missing_ok=True)
    try:
        # mode=rw: never create a database where there was none; WAL needs write access to its index.
        src = sqlite3.connect(f"file:{source}?mode=rw", uri=True, timeout=30.0)
    except sqlite3.Error as exc:
        raise BackupError(f"{source}: cannot open: {exc}") from None
    try:
        version = src.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            raise BackupError(f"{source}: not a meterd database (schema version 0)")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # owner-only, like the source
        os.close(fd)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # pages=-1: every page in one step, so one read transaction, one state
            dst.execute("PRAGMA journal_mode=DELETE")
            check = [row[0] for row in dst.execute("PRAGMA integrity_check")]
            if check != ["ok"]:
                raise BackupError(f"{dest}: the copy failed its integrity check: {'; '.join(check[:3])}")
            tables = {
                name: dst.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                for (name,) in dst.execute(
                    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            }
        finally:
            dst.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"backup of {source} failed: {exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    with open(partial, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(partial, dest)
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return BackupResult(path=dest, size_bytes=dest.stat().st_size, schema_version=version, tables=tables)
