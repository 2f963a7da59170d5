"""Every PostgreSQL store over one database, connected among themselves (``open_stores``)."""

from __future__ import annotations

from meterd.server.store.postgres.db import Database
from meterd.server.store.postgres.entitlements import PgEntitlementStore
from meterd.server.store.postgres.events import PgEventStore
from meterd.server.store.postgres.features import PgFeatureStore
from meterd.server.store.postgres.grants import PgGrantStore
from meterd.server.store.postgres.meters import PgMeterStore
from meterd.server.store.postgres.notify import PgNotifyChannel
from meterd.server.store.postgres.portal import PgPortalStore
from meterd.server.store.postgres.snapshots import PgSnapshotStore
from meterd.server.store.postgres.subjects import PgSubjectStore
from meterd.server.store.stores import Stores


def open_stores(db: Database) -> Stores:
    """The stores of ``db``. Snapshots are invalidated inside the writes that change their past: grant
    changes, resets and ingested events (see snapshots.py). Replicas sharing the database tell each other
    of committed changes through ``replicas`` (LISTEN/NOTIFY)."""
    events = PgEventStore(db)
    entitlements = PgEntitlementStore(db)
    grants = PgGrantStore(db)
    snapshots = PgSnapshotStore(db)
    grants.add_change_listener(snapshots.on_grant_change)
    entitlements.add_reset_listener(snapshots.on_reset)
    events.add_ingest_listener(snapshots.on_ingest)
    return Stores(
        events=events,
        meters=PgMeterStore(db, events),
        subjects=PgSubjectStore(db),
        portal=PgPortalStore(db),
        features=PgFeatureStore(db),
        entitlements=entitlements,
        grants=grants,
        snapshots=snapshots,
        replicas=PgNotifyChannel(db),
    )
