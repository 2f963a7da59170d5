"""Wires the meters domain: the SQLite meter store (an ingest listener of the event store), the service,
meters declared in the config file, and the servicer."""

from __future__ import annotations

import logging

from meterd.server.app import AppContext
from meterd.server.features.model import FeatureFilter
from meterd.server.meters.service import MeterService
from meterd.server.meters.servicer import MeterServicer
from meterd.server.store.sqlite.meters import SqliteMeterStore

log = logging.getLogger("meterd.meters")


def wire(ctx: AppContext) -> None:
    store = SqliteMeterStore(ctx.db, ctx.services["event_store"])
    def feature_keys(slug: str) -> list[str]:
        # The features domain is wired later: looked up at call time.
        features = ctx.services.get("feature_store")
        if features is None:
            return []
        page, _ = features.list(FeatureFilter(meter_slugs=(slug,)), 100, None)
        return [f.key for f in page]

    service = MeterService(store, ctx.clock, feature_keys)
    ctx.services["meters"] = service
    ctx.add_servicer("MeterService", MeterServicer(service))
    for declared in ctx.config.meters:  # validated by the config's schema
        service.declare(declared.definition())
    if ctx.config.meters:
        log.info("declared meters ready", extra={"count": len(ctx.config.meters)})
