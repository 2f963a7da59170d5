"""What PostgreSQL adds to the shared entitlement store (store/sql/entitlements.py): replicas.

The store's jobs run SERIALIZABLE (db.Serializable), so two replicas creating, deleting or resetting the same
entitlement at once get the answers they would get one after the other. A reset's rules are checked by the
caller before its job; the job checks again what another replica may have changed meanwhile
(``still_resettable``): the entitlement is still there, and no later reset was stored (the first of two
resets at the same minute wins: the other gets the primary key's Conflict, as on SQLite).
"""

from __future__ import annotations

from meterd.server.credit.engine import Reset
from meterd.server.errors import FailedPrecondition, NotFound
from meterd.server.store.sql.connection import Connection
from meterd.server.timeutil import from_us, to_us


def still_resettable(conn: Connection, entitlement_id: str, reset: Reset) -> None:
    """Inside a reset's job: what the caller checked still holds after changes made through other replicas."""
    row = conn.execute(
        "SELECT subject_key, deleted_us FROM entitlements WHERE id = ?", (entitlement_id,)
    ).fetchone()
    if row is None or row[1] is not None:
        raise NotFound(
            f"entitlement: entitlement {entitlement_id!r} of subject {row[0] if row else ''!r} not found"
        )
    later = conn.execute(
        "SELECT max(at_us) FROM entitlement_resets WHERE entitlement_id = ? AND at_us > ?",
        (entitlement_id, to_us(reset.at)),
    ).fetchone()[0]
    if later is not None:
        raise FailedPrecondition(
            f"effective_at: a reset must be after the start of the current usage period"
            f" ({from_us(later).isoformat()}); {reset.at.isoformat()} is not"
        )
