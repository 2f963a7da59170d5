"""The meters domain: the meter service (it refuses to delete a meter that features use) and the meters
declared in the config file."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from meterd.server.config import MeterDeclaration
from meterd.server.errors import AlreadyExists
from meterd.server.features.model import FeatureFilter
from meterd.server.features.service import FeatureStore
from meterd.server.meters.model import definition_from_fields
from meterd.server.meters.service import MeterService, MeterStore, WindowedMeterStore

log = logging.getLogger("meterd.meters")


def build(
    store: MeterStore,
    windows: WindowedMeterStore | None,
    features: FeatureStore,
    clock: Callable[[], datetime],
) -> MeterService:
    def feature_keys(slug: str) -> list[str]:
        page, _ = features.list(FeatureFilter(meter_slugs=(slug,)), 100, None)
        return [f.key for f in page]

    return MeterService(store, clock, feature_keys, windows)


def declare(service: MeterService, declared: Sequence[MeterDeclaration]) -> None:
    """Creates or updates the meters of the config file (validated by the config's schema)."""
    for meter in declared:
        definition = definition_from_fields(**meter.fields())
        try:
            service.declare(definition)
        except AlreadyExists:
            # Another replica on the same database declared it between our lookup and our insert: declare
            # again, which now finds it (and updates it if our definition differs).
            service.declare(definition)
    if declared:
        log.info("declared meters ready", extra={"count": len(declared)})
