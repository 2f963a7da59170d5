"""Wires the meters domain: the meter store (an ingest listener of the event store), the service,
meters declared in the config file, and the servicer."""

from __future__ import annotations

import logging
from typing import Any

from meterd.server.app import AppContext
from meterd.server.errors import AlreadyExists
from meterd.server.meters.service import MeterService
from meterd.server.meters.servicer import MeterServicer

log = logging.getLogger("meterd.meters")


def wire(ctx: AppContext) -> None:
    if ctx.db.backend == "postgres":
        from meterd.server.store.postgres.meters import PgMeterStore

        store: Any = PgMeterStore(ctx.db, ctx.services["event_store"])
    else:
        from meterd.server.store.sqlite.meters import SqliteMeterStore

        store = SqliteMeterStore(ctx.db, ctx.services["event_store"])

    service = MeterService(store, ctx.clock)
    ctx.services["meters"] = service
    ctx.add_servicer("MeterService", MeterServicer(service))
    for declared in ctx.config.meters:  # validated by the config's schema
        definition = declared.definition()
        try:
            service.declare(definition)
        except AlreadyExists:
            # Another replica on the same database declared it between our lookup and our insert: declare
            # again, which now finds it (and updates it if our definition differs).
            service.declare(definition)
    if ctx.config.meters:
        log.info("declared meters ready", extra={"count": len(ctx.config.meters)})

