"""The meters domain: the meter service (its store refuses, inside the deleting transaction, to delete a
meter that features use) and the meters declared in the config file."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from meterd.server.config import MeterDeclaration
from meterd.server.errors import AlreadyExists
from meterd.server.meters.model import definition_from_fields
from meterd.server.meters.service import MeterService, MeterStore, WindowedMeterStore

log = logging.getLogger("meterd.meters")


def build(
    store: MeterStore,
    windows: WindowedMeterStore | None,
    clock: Callable[[], datetime],
) -> MeterService:
    return MeterService(store, clock, windows)


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
