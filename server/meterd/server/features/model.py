"""Feature definitions and their validation (SPEC § Features). Pure domain code: no gRPC, no SQL.

Field names in errors are the wire's (``feature.key``), so a caller sees the field it sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from meterd.server.errors import InvalidArgument, ViolationCollector

# The same rule as a meter slug (SPEC § Meters).
KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
KEY_MAX_LENGTH = 63
NAME_MAX_LENGTH = 256
# Usage between arbitrary instants must be additive for the credit engine to split it into segments.
USAGE_AGGREGATIONS = frozenset({"SUM", "COUNT"})

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class MeterInfo(Protocol):
    """What features need of a meter (the meters domain's meter satisfies it)."""

    @property
    def id(self) -> str: ...

    @property
    def slug(self) -> str: ...

    @property
    def group_by(self) -> Mapping[str, str]: ...

    @property
    def aggregation(self) -> Any: ...


class MeterLookup(Protocol):
    def get(self, id_or_slug: str) -> MeterInfo:
        """The meter; raises NotFound for an unknown one."""
        ...


@dataclass(frozen=True, slots=True)
class NewFeature:
    """A feature as requested (CreateFeature)."""

    key: str
    name: str
    meter_slug: str | None = None
    meter_group_by_filters: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Feature:
    """A stored feature. ``archived_at`` is set once it is deleted."""

    id: str
    key: str
    name: str
    meter_slug: str | None
    meter_group_by_filters: Mapping[str, str]
    metadata: Mapping[str, str]
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


@dataclass(frozen=True, slots=True)
class FeatureFilter:
    """ListFeatures filters."""

    meter_slugs: tuple[str, ...] = ()
    include_archived: bool = False


def validate_new_feature(feature: NewFeature, prefix: str = "feature.") -> None:
    """Checks what can be checked without the meter; raises InvalidArgument naming every bad field."""
    errors = ViolationCollector(prefix)
    if not feature.key:
        errors.add("key", "is required")
    elif len(feature.key) > KEY_MAX_LENGTH:
        errors.add("key", f"at most {KEY_MAX_LENGTH} characters (got {len(feature.key)})")
    elif not KEY_PATTERN.fullmatch(feature.key):
        errors.add(
            "key",
            "lower-case letters, digits and single underscores between them (^[a-z0-9]+(?:_[a-z0-9]+)*$)",
        )
    if not feature.name:
        errors.add("name", "is required")
    elif len(feature.name) > NAME_MAX_LENGTH:
        errors.add("name", f"at most {NAME_MAX_LENGTH} characters")
    if feature.meter_group_by_filters and not feature.meter_slug:
        errors.add("meter_group_by_filters", "needs meter_slug")
    for key, value in feature.meter_group_by_filters.items():
        if not key:
            errors.add("meter_group_by_filters", "keys must not be empty")
        elif not value:
            errors.add(f"meter_group_by_filters[{key}]", "must not be empty")
    errors.raise_if_any()


def check_meter(feature: NewFeature, meter: MeterInfo, prefix: str = "feature.") -> None:
    """The feature's meter must aggregate additively and have every filtered group key."""
    errors = ViolationCollector(prefix)
    aggregation = str(getattr(meter.aggregation, "value", meter.aggregation)).upper()
    if aggregation not in USAGE_AGGREGATIONS:
        errors.add(
            "meter_slug",
            f"meter {meter.slug}'s aggregation is {aggregation}; features need SUM or COUNT",
        )
    for key in feature.meter_group_by_filters:
        if key not in meter.group_by:
            known = ", ".join(sorted(meter.group_by)) or "none"
            errors.add(
                f"meter_group_by_filters[{key}]",
                f"is not a group key of meter {meter.slug} (its keys: {known})",
            )
    errors.raise_if_any()


def page_limit(page_size: int) -> int:
    """The page size to use for a List call's ``page_size`` (0: the default)."""
    if page_size < 0:
        raise InvalidArgument.of("page_size", "must not be negative")
    if page_size > MAX_PAGE_SIZE:
        raise InvalidArgument.of("page_size", f"must be at most {MAX_PAGE_SIZE}")
    return page_size or DEFAULT_PAGE_SIZE
