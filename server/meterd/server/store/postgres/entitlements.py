"""PostgreSQL storage of entitlements and their manual resets (the SQLite store's SQL, except the reset's
insert: a second reset in the same minute is found by ON CONFLICT, since a failed statement would abort
the PostgreSQL transaction)."""

from __future__ import annotations

from datetime import datetime

from meterd.server.credit.engine import Reset
from meterd.server.errors import AlreadyExists
from meterd.server.store.postgres.db import Conn
from meterd.server.store.sqlite.entitlements import SqliteEntitlementStore
from meterd.server.timeutil import to_us


class PgEntitlementStore(SqliteEntitlementStore):
    """Entitlements in ``entitlements``, manual resets in ``entitlement_resets``."""

    def add_reset(self, entitlement_id: str, reset: Reset, created_at: datetime) -> None:
        def job(conn: Conn) -> None:
            cursor = conn.execute(
                "INSERT INTO entitlement_resets (entitlement_id, at_us, retain_anchor, preserve_overage,"
                " created_us) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (entitlement_id, to_us(reset.at), int(reset.retain_anchor),
                 None if reset.preserve_overage is None else int(reset.preserve_overage), to_us(created_at)),
            )
            if cursor.rowcount != 1:
                raise AlreadyExists(f"entitlement: a reset at {reset.at.isoformat()} already exists")
            conn.execute("UPDATE entitlements SET updated_us = ? WHERE id = ?", (to_us(created_at), entitlement_id))
            for listener in self._reset_listeners:
                listener(conn, entitlement_id, reset)  # type: ignore[arg-type]

        self._db.write(job)  # type: ignore[arg-type]
