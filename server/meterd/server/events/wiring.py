"""Wires the events domain: service over the event store of the database's backend, and its servicer."""

from __future__ import annotations

from meterd.server.app import AppContext
from meterd.server.events.retention import RawEventRetention
from meterd.server.events.service import EventService
from meterd.server.events.servicer import EventServicer


def wire(ctx: AppContext) -> None:
    if ctx.db.backend == "postgres":
        from meterd.server.store.postgres.events import PgEventStore

        store = PgEventStore(ctx.db)
    else:
        from meterd.server.store.sqlite.events import SqliteEventStore

        store = SqliteEventStore(ctx.db)
    service = EventService(store, ctx.clock)
    if ctx.metrics is not None:
        service = ctx.metrics.event_service(service)
    ctx.services["event_store"] = store
    ctx.services["events"] = service
    ctx.add_servicer("EventService", EventServicer(service))
    if ctx.config.raw_event_retention_days:
        retention = RawEventRetention(store, ctx.clock, ctx.config.raw_event_retention_days)
        ctx.services["raw_event_retention"] = retention
        ctx.on_start.append(retention.start)
        ctx.on_stop.append(retention.stop)
