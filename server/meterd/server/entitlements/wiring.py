"""Wires the entitlements domain: service over the SQLite entitlement store (with the feature service), and
its servicer. Registers ``entitlement_store`` and ``entitlements`` for the grants and credit domains."""

from __future__ import annotations

from meterd.server.app import AppContext
from meterd.server.entitlements.service import EntitlementService
from meterd.server.entitlements.servicer import EntitlementServicer
from meterd.server.store.sqlite.entitlements import SqliteEntitlementStore


def wire(ctx: AppContext) -> None:
    store = SqliteEntitlementStore(ctx.db)
    service = EntitlementService(store, ctx.services["features"], ctx.clock)
    ctx.services["entitlement_store"] = store
    ctx.services["entitlements"] = service
    ctx.add_servicer("EntitlementService", EntitlementServicer(service, ctx.clock))
