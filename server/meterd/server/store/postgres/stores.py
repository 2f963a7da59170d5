"""Every PostgreSQL store over one database, connected among themselves (``open_stores``)."""

from __future__ import annotations

from meterd.server.store.postgres.db import Database, Serializable
from meterd.server.store.postgres.entitlements import still_resettable
from meterd.server.store.postgres.events import PgEventStore
from meterd.server.store.postgres.meters import PgMeterStore
from meterd.server.store.postgres.notify import PgNotifyChannel
from meterd.server.store.postgres.snapshots import PgSnapshotStore
from meterd.server.store.sql.connection import POSTGRES
from meterd.server.store.sql.entitlements import SqlEntitlementStore
from meterd.server.store.sql.features import SqlFeatureStore
from meterd.server.store.sql.grants import SqlGrantStore
from meterd.server.store.sql.notifications import SqlNotificationStore
from meterd.server.store.sql.portal import SqlPortalStore
from meterd.server.store.sql.settings import page_token_key
from meterd.server.store.sql.subjects import SqlSubjectStore
from meterd.server.store.stores import Stores


def open_stores(db: Database) -> Stores:
    """The stores of ``db``. Entitlements, grants and features are changed concurrently by replicas: their
    jobs run SERIALIZABLE. Snapshots are invalidated inside the writes that change their past (see
    store/sql/snapshots.py). Replicas tell each other of committed changes through ``replicas``."""
    serializable = Serializable(db)
    events = PgEventStore(db)
    entitlements = SqlEntitlementStore(serializable)
    entitlements.add_reset_listener(still_resettable)
    grants = SqlGrantStore(serializable)
    snapshots = PgSnapshotStore(db)
    grants.add_change_listener(snapshots.on_grant_change)
    entitlements.add_reset_listener(snapshots.on_reset)
    events.add_ingest_listener(snapshots.on_ingest)
    return Stores(
        events=events,
        meters=PgMeterStore(db, events),
        subjects=SqlSubjectStore(db),
        portal=SqlPortalStore(db),
        features=SqlFeatureStore(serializable, POSTGRES),
        entitlements=entitlements,
        grants=grants,
        snapshots=snapshots,
        # Channels and rules SERIALIZABLE (a rule never links a channel deleted at the same moment); the
        # outbox at READ COMMITTED, its claims with SKIP LOCKED.
        notifications=SqlNotificationStore(db, POSTGRES, crud=serializable),
        meter_windows=None,
        page_token_key=page_token_key(db),
        replicas=PgNotifyChannel(db),
    )
