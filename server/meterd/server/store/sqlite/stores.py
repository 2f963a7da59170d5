"""Every SQLite store over one database, connected among themselves (``open_stores``)."""

from __future__ import annotations

from meterd.server.store.sqlite.db import Database
from meterd.server.store.sqlite.entitlements import SqliteEntitlementStore
from meterd.server.store.sqlite.events import SqliteEventStore
from meterd.server.store.sqlite.features import SqliteFeatureStore
from meterd.server.store.sqlite.grants import SqliteGrantStore
from meterd.server.store.sqlite.meters import SqliteMeterStore
from meterd.server.store.sqlite.portal import SqlitePortalStore
from meterd.server.store.sqlite.snapshots import SqliteSnapshotStore
from meterd.server.store.sqlite.subjects import SqliteSubjectStore
from meterd.server.store.stores import Stores


def open_stores(db: Database) -> Stores:
    """The stores of ``db``. Snapshots are invalidated inside the writes that change their past: grant
    changes, resets and ingested events (see snapshots.py)."""
    events = SqliteEventStore(db)
    entitlements = SqliteEntitlementStore(db)
    grants = SqliteGrantStore(db)
    snapshots = SqliteSnapshotStore(db)
    grants.add_change_listener(snapshots.on_grant_change)
    entitlements.add_reset_listener(snapshots.on_reset)
    events.add_ingest_listener(snapshots.on_ingest)
    return Stores(
        events=events,
        meters=SqliteMeterStore(db, events),
        subjects=SqliteSubjectStore(db),
        portal=SqlitePortalStore(db),
        features=SqliteFeatureStore(db),
        entitlements=entitlements,
        grants=grants,
        snapshots=snapshots,
    )
