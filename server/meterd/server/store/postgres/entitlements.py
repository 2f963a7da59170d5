"""PostgreSQL storage of entitlements and their manual resets: the SQLite store's SQL is portable (a second
reset in the same minute surfaces as sqlite3.IntegrityError through the connection wrapper, see db.Conn).

Jobs run SERIALIZABLE (db.Serializable), so two replicas creating, deleting or resetting the same
entitlement at once get the answers they would get one after the other. A reset's rules are checked by the
caller before its job; the job checks again what another replica may have changed meanwhile: the
entitlement is still there, and no later reset was stored (the first of two resets at the same minute wins:
the other gets the primary key's conflict, as before).
"""

from __future__ import annotations

from meterd.server.credit.engine import Reset
from meterd.server.errors import FailedPrecondition, NotFound
from meterd.server.store.postgres.db import Conn, Database, Serializable
from meterd.server.store.sqlite.entitlements import SqliteEntitlementStore
from meterd.server.timeutil import from_us, to_us


class PgEntitlementStore(SqliteEntitlementStore):
    """Entitlements in ``entitlements``, manual resets in ``entitlement_resets``."""

    def __init__(self, db: Database) -> None:
        super().__init__(Serializable(db))  # type: ignore[arg-type]
        self.add_reset_listener(_still_resettable)  # type: ignore[arg-type]


def _still_resettable(conn: Conn, entitlement_id: str, reset: Reset) -> None:
    """Inside a reset's job: what the caller checked still holds after changes made through other replicas."""
    row = conn.native("SELECT subject_key, deleted_us FROM entitlements WHERE id = %s", (entitlement_id,)).fetchone()
    if row is None or row[1] is not None:
        raise NotFound(f"entitlement: entitlement {entitlement_id!r} of subject {row[0] if row else ''!r} not found")
    later = conn.native("SELECT max(at_us) FROM entitlement_resets WHERE entitlement_id = %s AND at_us > %s",
                        (entitlement_id, to_us(reset.at))).fetchone()[0]
    if later is not None:
        raise FailedPrecondition(
            f"effective_at: a reset must be after the start of the current usage period"
            f" ({from_us(later).isoformat()}); {reset.at.isoformat()} is not"
        )
