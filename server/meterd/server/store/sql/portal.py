"""Portal tokens and the portal's signing secret (SQLite migrations/0003, PostgreSQL 0001), for both
backends. Nothing is cached in memory: every authenticated portal call reads its token's row, so a token
invalidated through one replica is refused by every other at once. The secret is generated once (the first
INSERT wins, ON CONFLICT DO NOTHING) and read by all."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from meterd.server.portal.model import PortalToken
from meterd.server.portal.service import Cursor
from meterd.server.store.sql.connection import Connection, Database
from meterd.server.timeutil import from_us, to_us

_COLUMNS = "id, subject, allowed_meter_slugs, expires_us, created_us, invalidated_us"
_SECRET = "token_secret"


class SqlPortalStore:
    """Issued tokens in ``portal_tokens``; settings in ``portal_settings``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def secret(self, generate: Callable[[], str]) -> str:
        """The signing secret kept in the database, generated and stored on first use."""

        def job(conn: Connection) -> str:
            conn.execute(
                "INSERT INTO portal_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                (_SECRET, generate()),
            )
            return str(
                conn.execute("SELECT value FROM portal_settings WHERE name = ?", (_SECRET,)).fetchone()[0]
            )

        return self._db.write(job)

    def insert(self, token: PortalToken) -> None:
        self._db.write(
            lambda conn: conn.execute(
                f"INSERT INTO portal_tokens ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    token.id,
                    token.subject,
                    json.dumps(list(token.allowed_meter_slugs)),
                    to_us(token.expires_at),
                    to_us(token.created_at),
                    to_us(token.invalidated_at) if token.invalidated_at else None,
                ),
            )
        )

    def get(self, token_id: str) -> PortalToken | None:
        row = (
            self._db.reader()
            .execute(f"SELECT {_COLUMNS} FROM portal_tokens WHERE id = ?", (token_id,))
            .fetchone()
        )
        return _token(row) if row else None

    def list(
        self, subject: str | None, usable_at: datetime | None, limit: int, after: Cursor | None
    ) -> tuple[list[PortalToken], Cursor | None]:
        """Newest first; ``usable_at`` keeps only tokens neither invalidated nor expired at that instant."""
        where: list[str] = []
        params: list[Any] = []
        if subject is not None:
            where.append("subject = ?")
            params.append(subject)
        if usable_at is not None:
            where.append("invalidated_us IS NULL AND expires_us > ?")
            params.append(to_us(usable_at))
        if after is not None:
            where.append("(created_us < ? OR (created_us = ? AND id < ?))")
            params += [after[0], after[0], after[1]]
        sql = (
            f"SELECT {_COLUMNS} FROM portal_tokens"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY created_us DESC, id DESC LIMIT ?"
        )
        rows = self._db.reader().execute(sql, [*params, limit + 1]).fetchall()
        page = [_token(r) for r in rows[:limit]]
        cursor = (to_us(page[-1].created_at), page[-1].id) if len(rows) > limit and page else None
        return page, cursor

    def invalidate(self, subject: str | None, token_id: str | None, at: datetime) -> int:
        """Marks matching tokens invalidated at ``at``; returns how many were not invalidated before."""
        where = ["invalidated_us IS NULL"]
        params: list[Any] = [to_us(at)]
        if subject is not None:
            where.append("subject = ?")
            params.append(subject)
        if token_id is not None:
            where.append("id = ?")
            params.append(token_id)
        sql = "UPDATE portal_tokens SET invalidated_us = ? WHERE " + " AND ".join(where)
        return self._db.write(lambda conn: conn.execute(sql, params).rowcount)


def _token(row: tuple[Any, ...]) -> PortalToken:
    return PortalToken(
        id=row[0],
        subject=row[1],
        allowed_meter_slugs=tuple(json.loads(row[2])),
        expires_at=from_us(row[3]),
        created_at=from_us(row[4]),
        invalidated_at=from_us(row[5]) if row[5] is not None else None,
    )
