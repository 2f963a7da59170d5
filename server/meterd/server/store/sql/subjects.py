"""Subjects (SQLite migrations/0003, PostgreSQL 0001), for both backends: upsert by key with ON CONFLICT."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from meterd.server.store.sql.connection import Connection, Database
from meterd.server.subjects.model import Subject
from meterd.server.subjects.service import BuildSubject
from meterd.server.timeutil import from_us, to_us

_COLUMNS = (
    "id, key, display_name, metadata, current_period_start_us, current_period_end_us, stripe_customer_id,"
    " created_us, updated_us"
)
_UPSERT = (
    f"INSERT INTO subjects ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (key) DO UPDATE SET display_name = excluded.display_name, metadata = excluded.metadata,"
    " current_period_start_us = excluded.current_period_start_us,"
    " current_period_end_us = excluded.current_period_end_us,"
    " stripe_customer_id = excluded.stripe_customer_id, updated_us = excluded.updated_us"
)


class SqlSubjectStore:
    """Subjects in the ``subjects`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def upsert(self, keys: Sequence[str], build: BuildSubject) -> list[Subject]:
        """Reads each key's row, builds its new version and writes it, all in one transaction."""

        def job(conn: Connection) -> list[Subject]:
            stored: list[Subject] = []
            for index, key in enumerate(keys):
                row = conn.execute(f"SELECT {_COLUMNS} FROM subjects WHERE key = ?", (key,)).fetchone()
                subject = build(index, _subject(row) if row else None)
                conn.execute(_UPSERT, _params(subject))
                stored.append(subject)
            return stored

        return self._db.write(job)

    def get(self, key: str) -> Subject | None:
        row = self._db.reader().execute(f"SELECT {_COLUMNS} FROM subjects WHERE key = ?", (key,)).fetchone()
        return _subject(row) if row else None

    def list(self, limit: int, after_key: str | None) -> tuple[list[Subject], str | None]:
        """Up to ``limit`` subjects with keys after ``after_key``, and the last key when more follow."""
        sql = f"SELECT {_COLUMNS} FROM subjects"
        params: list[Any] = []
        if after_key is not None:
            sql += " WHERE key > ?"
            params.append(after_key)
        rows = self._db.reader().execute(sql + " ORDER BY key LIMIT ?", [*params, limit + 1]).fetchall()
        page = [_subject(r) for r in rows[:limit]]
        return page, (page[-1].key if len(rows) > limit and page else None)

    def delete(self, key: str) -> bool:
        return self._db.write(
            lambda conn: conn.execute("DELETE FROM subjects WHERE key = ?", (key,)).rowcount == 1
        )


def _params(s: Subject) -> tuple[Any, ...]:
    return (
        s.id,
        s.key,
        s.display_name,
        json.dumps(dict(s.metadata), sort_keys=True),
        to_us(s.current_period_start) if s.current_period_start is not None else None,
        to_us(s.current_period_end) if s.current_period_end is not None else None,
        s.stripe_customer_id,
        to_us(s.created_at),
        to_us(s.updated_at),
    )


def _subject(row: tuple[Any, ...]) -> Subject:
    return Subject(
        id=row[0],
        key=row[1],
        display_name=row[2],
        metadata=json.loads(row[3]),
        current_period_start=from_us(row[4]) if row[4] is not None else None,
        current_period_end=from_us(row[5]) if row[5] is not None else None,
        stripe_customer_id=row[6],
        created_at=from_us(row[7]),
        updated_at=from_us(row[8]),
    )
