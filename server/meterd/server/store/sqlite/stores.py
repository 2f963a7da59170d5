"""Every SQLite store over one database, connected among themselves (``open_stores``)."""

from __future__ import annotations

from meterd.server.store.sql.connection import SQLITE
from meterd.server.store.sql.entitlements import SqlEntitlementStore
from meterd.server.store.sql.features import SqlFeatureStore
from meterd.server.store.sql.grants import SqlGrantStore
from meterd.server.store.sql.notifications import SqlNotificationStore
from meterd.server.store.sql.portal import SqlPortalStore
from meterd.server.store.sql.settings import page_token_key
from meterd.server.store.sql.subjects import SqlSubjectStore
from meterd.server.store.sqlite.db import Database, SharedSql
from meterd.server.store.sqlite.events import SqliteEventStore
from meterd.server.store.sqlite.meters import SqliteMeterStore
from meterd.server.store.sqlite.snapshots import SqliteSnapshotStore
from meterd.server.store.stores import Stores


def open_stores(db: Database) -> Stores:
    """The stores of ``db``. Snapshots are invalidated inside the writes that change their past: grant
    changes, resets and ingested events (see store/sql/snapshots.py)."""
    shared = SharedSql(db)
    events = SqliteEventStore(db)
    entitlements = SqlEntitlementStore(shared)
    grants = SqlGrantStore(shared)
    snapshots = SqliteSnapshotStore(db)
    grants.add_change_listener(snapshots.on_grant_change)
    entitlements.add_reset_listener(snapshots.on_reset)
    events.add_ingest_listener(snapshots.on_ingest)
    meters = SqliteMeterStore(db, events)
    return Stores(
        events=events,
        meters=meters,
        subjects=SqlSubjectStore(shared),
        portal=SqlPortalStore(shared),
        features=SqlFeatureStore(shared),
        entitlements=entitlements,
        grants=grants,
        snapshots=snapshots,
        notifications=SqlNotificationStore(shared, SQLITE),
        meter_windows=meters,
        page_token_key=page_token_key(shared),
    )
