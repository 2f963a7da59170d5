"""PostgreSQL storage of notifications: the SQLite store's SQL is portable. What differs: channels and rules
are written SERIALIZABLE (db.Serializable), so a rule never links a channel another replica deleted at the
same moment; and a claim locks the deliveries it reads with FOR UPDATE SKIP LOCKED, so replicas claiming at
once take different rows without waiting for each other (the lease then holds the row while it is sent)."""

from __future__ import annotations

from meterd.server.store.postgres.db import Database, Serializable
from meterd.server.store.sqlite.notifications import SqliteNotificationStore


class PgNotificationStore(SqliteNotificationStore):
    """Notifications in the ``notification_*`` tables of PostgreSQL."""

    CLAIM_LOCK = " FOR UPDATE OF d SKIP LOCKED"

    def __init__(self, db: Database) -> None:
        super().__init__(db, Serializable(db))
