"""Wires the meters domain: the meter store (an ingest listener of the event store), the service,
meters declared in the config file, and the servicer."""

from __future__ import annotations

import logging
from typing import Any

from meterd.server.app import AppContext
from meterd.server.errors import AlreadyExists, InvalidArgument
from meterd.server.features.model import FeatureFilter
from meterd.server.meters.model import MeterDefinition
from meterd.server.meters.service import MeterService, definition_from_fields
from meterd.server.meters.servicer import MeterServicer
from meterd.server.meters.windows import WindowSize

log = logging.getLogger("meterd.meters")


def wire(ctx: AppContext) -> None:
    if ctx.db.backend == "postgres":
        from meterd.server.store.postgres.meters import PgMeterStore

        store: Any = PgMeterStore(ctx.db, ctx.services["event_store"])
    else:
        from meterd.server.store.sqlite.meters import SqliteMeterStore

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
    for i, declared in enumerate(ctx.config.meters):
        definition = _declared_definition(i, declared)
        try:
            service.declare(definition)
        except AlreadyExists:
            # Another replica on the same database declared it between our lookup and our insert: declare
            # again, which now finds it (and updates it if our definition differs).
            service.declare(definition)
    if ctx.config.meters:
        log.info("declared meters ready", extra={"count": len(ctx.config.meters)})


def _declared_definition(i: int, raw: object) -> MeterDefinition:
    """An OpenMeter-style config meter: slug, eventType, aggregation, valueProperty, groupBy, description,
    windowSize (MINUTE, HOUR or DAY; default MINUTE)."""
    if not isinstance(raw, dict):
        raise InvalidArgument.of(f"meters[{i}]", "must be a mapping")
    get = lambda *names: next((raw[n] for n in names if n in raw), None)  # noqa: E731
    group_by = get("groupBy", "group_by") or {}
    if not isinstance(group_by, dict):
        raise InvalidArgument.of(f"meters[{i}].groupBy", "must be a mapping of key to JSONPath")
    return definition_from_fields(
        slug=str(get("slug") or ""), event_type=str(get("eventType", "event_type") or ""),
        aggregation=get("aggregation"), value_property=get("valueProperty", "value_property"),
        group_by={str(k): str(v) for k, v in group_by.items()}, description=str(get("description") or ""),
        window_size=_window_size(i, get("windowSize", "window_size")),
    )


def _window_size(i: int, raw: object) -> WindowSize | None:
    if raw is None:
        return None
    try:
        return WindowSize(str(raw).upper())
    except ValueError:
        raise InvalidArgument.of(f"meters[{i}].windowSize", "must be MINUTE, HOUR or DAY") from None
