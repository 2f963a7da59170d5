"""PostgreSQL storage of entitlements and their manual resets: the SQLite store's SQL is portable (a second
reset in the same minute surfaces as sqlite3.IntegrityError through the connection wrapper, see db.Conn)."""

from __future__ import annotations

from meterd.server.store.sqlite.entitlements import SqliteEntitlementStore


class PgEntitlementStore(SqliteEntitlementStore):
    """Entitlements in ``entitlements``, manual resets in ``entitlement_resets``."""
