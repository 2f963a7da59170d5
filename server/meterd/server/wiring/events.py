"""The events domain: ingest and listing over the event store (counted when metrics are on)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from meterd.server.events.service import EventService
from meterd.server.metrics import Metrics
from meterd.server.store.stores import EventStore


def build(store: EventStore, clock: Callable[[], datetime], metrics: Metrics | None) -> EventService:
    service = EventService(store, clock)
    return service if metrics is None else metrics.event_service(service)
