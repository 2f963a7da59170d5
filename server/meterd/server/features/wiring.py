"""Wires the features domain: service over the feature store, and its servicer."""

from __future__ import annotations

from meterd.server.app import AppContext
from meterd.server.features.model import MeterLookup
from meterd.server.features.service import FeatureService
from meterd.server.features.servicer import FeatureServicer


def wire(ctx: AppContext) -> None:
    if ctx.db.backend == "postgres":
        from meterd.server.store.postgres.features import PgFeatureStore

        store = PgFeatureStore(ctx.db)
    else:
        from meterd.server.store.sqlite.features import SqliteFeatureStore

        store = SqliteFeatureStore(ctx.db)

    def meters() -> MeterLookup | None:
        # Looked up at call time, so the order in which domains are wired does not matter.
        return ctx.services.get("meters")

    service = FeatureService(store, meters, ctx.clock)
    ctx.services["feature_store"] = store
    ctx.services["features"] = service
    ctx.add_servicer("FeatureService", FeatureServicer(service))
