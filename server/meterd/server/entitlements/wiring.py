"""Wires the entitlements domain: service over the entitlement store (with the feature service), and
its servicer. Registers ``entitlement_store`` and ``entitlements`` for the grants and credit domains.

The credit engine (values, history and resets of metered entitlements) needs the grant store, wired after
this domain, so it is attached in an ``on_start`` hook, once every domain is wired: the credit service, its
snapshot store, and the listeners that invalidate snapshots (grant changes, resets, ingested events)."""

from __future__ import annotations

from typing import Any

from meterd.server.app import AppContext
from meterd.server.credit.service import CreditService
from meterd.server.entitlements.service import EntitlementService
from meterd.server.entitlements.servicer import EntitlementServicer


def wire(ctx: AppContext) -> None:
    if ctx.db.backend == "postgres":
        from meterd.server.store.postgres.entitlements import PgEntitlementStore
        from meterd.server.store.postgres.snapshots import PgSnapshotStore

        store: Any = PgEntitlementStore(ctx.db)
        snapshot_store: Any = PgSnapshotStore
    else:
        from meterd.server.store.sqlite.entitlements import SqliteEntitlementStore
        from meterd.server.store.sqlite.snapshots import SqliteSnapshotStore

        store = SqliteEntitlementStore(ctx.db)
        snapshot_store = SqliteSnapshotStore
    service = EntitlementService(store, ctx.services["features"], ctx.clock)
    ctx.services["entitlement_store"] = store
    ctx.services["entitlements"] = service
    ctx.add_servicer("EntitlementService", EntitlementServicer(service, ctx.clock))

    def attach_credit() -> None:
        snapshots = snapshot_store(ctx.db)
        grant_store = ctx.services["grant_store"]
        counted = snapshots if ctx.metrics is None else ctx.metrics.snapshot_store(snapshots)
        credit = CreditService(
            store, grant_store, ctx.services["feature_store"], ctx.services["meters"], counted, ctx.clock
        )
        grant_store.add_change_listener(snapshots.on_grant_change)
        store.add_reset_listener(snapshots.on_reset)
        ctx.services["event_store"].add_ingest_listener(snapshots.on_ingest)
        ctx.services["snapshot_store"] = snapshots
        ctx.services["credit"] = credit
        service.attach_credit(credit)

    ctx.on_start.append(attach_credit)
