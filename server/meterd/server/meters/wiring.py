"""Wires the meters domain: the SQLite meter store (an ingest listener of the event store), the service,
meters declared in the config file, and the servicer."""

from __future__ import annotations

import logging

from meterd.server.app import AppContext
from meterd.server.meters.service import MeterService
from meterd.server.meters.servicer import MeterServicer
from meterd.server.store.sqlite.meters import SqliteMeterStore

log = logging.getLogger("meterd.meters")


def wire(ctx: AppContext) -> None:
    store = SqliteMeterStore(ctx.db, ctx.services["event_store"])
    service = MeterService(store, ctx.clock)
    ctx.services["meters"] = service
    ctx.add_servicer("MeterService", MeterServicer(service))
    for declared in ctx.config.meters:  # validated by the config's schema
        service.declare(declared.definition())
    if ctx.config.meters:
        log.info("declared meters ready", extra={"count": len(ctx.config.meters)})
