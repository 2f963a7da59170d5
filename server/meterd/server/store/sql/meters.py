"""The meter catalogue, for both backends: meter rows (get, list, the subjects with data, the earliest data)
and the in-memory set of meters by event type that ingest folds with. Aggregate rows (their layout, ingest
and reads) are each backend's own."""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from meterd.server.errors import NotFound
from meterd.server.meters.fold import CompiledMeter
from meterd.server.meters.model import Aggregation, Meter, MeterDefinition
from meterd.server.meters.windows import WindowSize
from meterd.server.store.sql.connection import Connection
from meterd.server.timeutil import from_us

COLUMNS = (
    "id, slug, description, event_type, aggregation, value_property, group_by, created_us, updated_us, num,"
    " window_size"
)
INSERT_COLUMNS = "id, slug, description, event_type, aggregation, value_property, group_by, created_us, updated_us, window_size"


@dataclass(frozen=True, slots=True)
class MeterSet:
    """The meters by event type at ``version`` (changed by every meter change), as ingest last loaded them."""

    version: int
    by_type: dict[str, list[CompiledMeter]]


def meter_of(row: Sequence[Any]) -> Meter:
    """A meter from a row of ``SELECT {COLUMNS}``."""
    definition = MeterDefinition(
        slug=row[1],
        description=row[2],
        event_type=row[3],
        aggregation=Aggregation(row[4]),
        value_property=row[5],
        group_by=json.loads(row[6]),
        window_size=WindowSize(row[10]),
    )
    return Meter(
        id=row[0], definition=definition, created_at=from_us(row[7]), updated_at=from_us(row[8]), num=row[9]
    )


class MeterCatalogue:
    """The catalogue reads of a meter store (both backends' stores are one): meters by id or slug, in slug
    order, the subjects with data and the earliest data, each on the store's ``reader()``."""

    def reader(self) -> Connection:
        raise NotImplementedError

    def get(self, id_or_slug: str) -> Meter:
        """The meter by id or slug; NotFound otherwise."""
        return get(self.reader(), id_or_slug)

    def list(self, limit: int, after_slug: str | None) -> list[Meter]:
        """Up to ``limit`` meters in slug order after ``after_slug``."""
        return list_page(self.reader(), limit, after_slug)

    def subjects(self, meter: Meter) -> builtins.list[str]:
        """Distinct subjects with aggregates for the meter."""
        return subjects(self.reader(), meter)

    def earliest(self, meter: Meter) -> datetime | None:
        """The start of the earliest minute with data, or None."""
        return earliest(self.reader(), meter)


def get(conn: Connection, id_or_slug: str) -> Meter:
    """The meter by id or slug; NotFound otherwise."""
    row = conn.execute(
        f"SELECT {COLUMNS} FROM meters WHERE id = ? OR slug = ? LIMIT 1", (id_or_slug, id_or_slug)
    ).fetchone()
    if row is None:
        raise NotFound(f"meter {id_or_slug!r} not found")
    return meter_of(row)


def list_page(conn: Connection, limit: int, after_slug: str | None) -> list[Meter]:
    """Up to ``limit`` meters in slug order after ``after_slug``."""
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM meters WHERE slug > ? ORDER BY slug LIMIT ?", (after_slug or "", limit)
    ).fetchall()
    return [meter_of(r) for r in rows]


def subjects(conn: Connection, meter: Meter) -> list[str]:
    """Distinct subjects with aggregates for the meter."""
    rows = conn.execute(
        "SELECT subject FROM meter_subjects WHERE meter_num = ? ORDER BY subject", (meter.num,)
    )
    return [r[0] for r in rows]


def earliest(conn: Connection, meter: Meter) -> datetime | None:
    """The start of the earliest minute with data, or None."""
    table = "meter_all_distinct_m" if meter.aggregation is Aggregation.UNIQUE_COUNT else "meter_all_m"
    row = conn.execute(f"SELECT MIN(time_us) FROM {table} WHERE meter_num = ?", (meter.num,)).fetchone()
    return from_us(row[0]) if row and row[0] is not None else None
