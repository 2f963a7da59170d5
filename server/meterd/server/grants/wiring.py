"""Wires the grants domain: service over the grant store, and its servicer. Registers
``grant_store`` and ``grants`` for the credit engine."""

from __future__ import annotations

from meterd.server.app import AppContext
from meterd.server.grants.service import GrantService
from meterd.server.grants.servicer import GrantServicer


def wire(ctx: AppContext) -> None:
    if ctx.db.backend == "postgres":
        from meterd.server.store.postgres.grants import PgGrantStore

        store = PgGrantStore(ctx.db)
    else:
        from meterd.server.store.sqlite.grants import SqliteGrantStore

        store = SqliteGrantStore(ctx.db)
    service = GrantService(store, ctx.services["entitlements"], ctx.clock)
    ctx.services["grant_store"] = store
    ctx.services["grants"] = service
    ctx.add_servicer("GrantService", GrantServicer(service))
