"""PostgreSQL storage of grants. The SQL is the SQLite store's; change listeners (snapshot invalidation)
run inside the same PostgreSQL transaction as the grant's insert or void. A void locks the grant's row, so
two replicas voiding the same grant at once give one success and one FAILED_PRECONDITION."""

from __future__ import annotations

from datetime import datetime

from meterd.server.errors import FailedPrecondition, NotFound
from meterd.server.grants.model import Grant
from meterd.server.store.postgres.db import Conn
from meterd.server.store.sqlite.grants import COLUMNS, SqliteGrantStore, grant_of
from meterd.server.timeutil import from_us, to_us


class PgGrantStore(SqliteGrantStore):
    """Grants in the ``grants`` table of PostgreSQL."""

    def void(self, grant_id: str, at: datetime) -> Grant:
        def job(conn: Conn) -> Grant:
            row = conn.execute("SELECT voided_us FROM grants WHERE id = ? FOR UPDATE", (grant_id,)).fetchone()
            if row is None:
                raise NotFound(f"grant_id: grant {grant_id} not found")
            if row[0] is not None:
                raise FailedPrecondition(
                    f"grant_id: grant {grant_id} is already voided (at {from_us(row[0]).isoformat()})"
                )
            voided = grant_of(conn.execute(
                f"UPDATE grants SET voided_us = ?, updated_us = ? WHERE id = ? RETURNING {COLUMNS}",
                (to_us(at), to_us(at), grant_id),
            ).fetchone())
            for listener in self._listeners:
                listener(conn, voided.entitlement_id, at)  # type: ignore[arg-type]
            return voided

        return self._db.write(job)  # type: ignore[arg-type]
