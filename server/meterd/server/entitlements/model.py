"""Entitlements and their validation (SPEC § Entitlements, § Usage periods). Pure domain code.

Three types: BOOLEAN (access while it exists), STATIC (access plus a JSON config), METERED (access while
credit lasts; a usage period that resets at every boundary). Field names in errors are the wire's
(``entitlement.metered.usage_period.interval``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from meterd.server.credit.engine import EntitlementSpec, Reset, usage_period_at
from meterd.server.credit.engine import current_usage_period as engine_current_usage_period
from meterd.server.errors import FailedPrecondition, ViolationCollector
from meterd.server.features.model import Feature
from meterd.server.periods import Interval, Period, UsagePeriod, truncate_to_minute

SUBJECT_KEY_MAX_LENGTH = 256
MAX_PRIORITY = 255
DEFAULT_ISSUE_AFTER_RESET_PRIORITY = 1


class EntitlementType(StrEnum):
    BOOLEAN = "BOOLEAN"
    STATIC = "STATIC"
    METERED = "METERED"


@dataclass(frozen=True, slots=True)
class MeteredSettings:
    """A metered entitlement's settings, defaults applied (anchor and measure_usage_from on the minute)."""

    usage_period: UsagePeriod
    measure_usage_from: datetime
    issue_after_reset: Decimal | None = None
    issue_after_reset_priority: int = DEFAULT_ISSUE_AFTER_RESET_PRIORITY
    is_soft_limit: bool = False
    preserve_overage_at_reset: bool = False


@dataclass(frozen=True, slots=True)
class Entitlement:
    """A stored entitlement. ``resets`` are its manual usage resets, oldest first (metered only)."""

    id: str
    subject_key: str
    feature_id: str
    feature_key: str
    type: EntitlementType
    created_at: datetime
    updated_at: datetime
    metadata: Mapping[str, str] = field(default_factory=dict)
    deleted_at: datetime | None = None
    config: str | None = None  # STATIC: JSON text as given
    metered: MeteredSettings | None = None
    resets: tuple[Reset, ...] = ()

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def last_reset(self) -> datetime | None:
        """The latest manual reset, or None before the first."""
        return self.resets[-1].at if self.resets else None

    @property
    def reported_last_reset(self) -> datetime | None:
        """``last_reset`` as OpenMeter reports it: the latest manual reset, else measure_usage_from (metered)."""
        if self.resets:
            return self.resets[-1].at
        return self.metered.measure_usage_from if self.metered is not None else None

    def engine_spec(self) -> EntitlementSpec:
        """What the credit engine needs of this (metered) entitlement. ValueError for other types."""
        if self.metered is None:
            raise ValueError(f"entitlement {self.id} is {self.type}, not metered")
        m = self.metered
        return EntitlementSpec(
            usage_period=m.usage_period,
            measure_usage_from=m.measure_usage_from,
            preserve_overage_at_reset=m.preserve_overage_at_reset,
            is_soft_limit=m.is_soft_limit,
            resets=self.resets,
        )

    def usage_period_in_effect(self, at: datetime) -> UsagePeriod | None:
        """The usage period (interval and anchor) in effect at ``at`` (None for non-metered entitlements): a
        reset re-anchors the period (unless it retains the anchor) or changes it."""
        if self.metered is None:
            return None
        return usage_period_at(self.engine_spec(), at) if self.resets else self.metered.usage_period

    def current_usage_period(self, at: datetime) -> Period | None:
        """The usage period containing ``at`` (None for non-metered entitlements).

        The anchor-aligned period (re-anchored by resets that do not retain the anchor); the first one is
        clipped to start at measure_usage_from.
        """
        if self.metered is None:
            return None
        return engine_current_usage_period(self.engine_spec(), at)


class MeasureUsageFrom(StrEnum):
    """Where measuring starts when no instant is given (OpenMeter's MeasureUsageFromEnum)."""

    NOW = "NOW"  # the creation time, truncated to the minute (the default)
    CURRENT_PERIOD_START = (
        "CURRENT_PERIOD_START"  # the start of the usage period containing the creation time
    )


@dataclass(frozen=True, slots=True)
class MeteredRequest:
    """Metered settings as requested: None means "use the default"."""

    interval: Interval | None = None
    anchor: datetime | None = None
    measure_usage_from: datetime | None = None  # wins over the preset
    measure_usage_from_preset: MeasureUsageFrom | None = None
    issue_after_reset: Decimal | None = None
    issue_after_reset_priority: int | None = None
    is_soft_limit: bool = False
    preserve_overage_at_reset: bool = False


@dataclass(frozen=True, slots=True)
class NewEntitlement:
    """An entitlement as requested (CreateEntitlement). ``feature_id`` wins over ``feature_key``."""

    subject_key: str
    type: EntitlementType | None
    feature_id: str = ""
    feature_key: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    config: str | None = None  # STATIC
    metered: MeteredRequest | None = None  # METERED

    @property
    def feature(self) -> tuple[str, str]:
        """(id or key, the wire field that named it)."""
        if self.feature_id:
            return self.feature_id, "entitlement.feature_id"
        return self.feature_key, "entitlement.feature_key"


class EntitlementOrderBy(StrEnum):
    """What entitlement lists order by (OpenMeter's orderBy); ties are broken by id."""

    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"


@dataclass(frozen=True, slots=True)
class EntitlementFilter:
    """ListEntitlements filters (empty: no filter) and order. ``features`` are ids or keys."""

    subjects: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    include_deleted: bool = False
    types: tuple[EntitlementType, ...] = ()
    order_by: EntitlementOrderBy = EntitlementOrderBy.CREATED_AT
    descending: bool = False


@dataclass(frozen=True, slots=True)
class EntitlementValue:
    """Whether the subject has access, and for metered entitlements the balance."""

    has_access: bool
    balance: Decimal = Decimal(0)
    usage: Decimal = Decimal(0)
    overage: Decimal = Decimal(0)
    config: str | None = None


def validate_subject_key(subject_key: str, field_name: str = "subject_key") -> None:
    """Subjects need not exist (events may name subjects never upserted); the key must be sane."""
    errors = ViolationCollector()
    if not subject_key:
        errors.add(field_name, "is required")
    elif len(subject_key) > SUBJECT_KEY_MAX_LENGTH:
        errors.add(field_name, f"at most {SUBJECT_KEY_MAX_LENGTH} characters")
    errors.raise_if_any()


def validate_new_entitlement(new: NewEntitlement) -> None:
    """Checks the request on its own (not the feature); raises InvalidArgument naming every bad field."""
    errors = ViolationCollector()
    if not new.subject_key:
        errors.add("subject_key", "is required")
    elif len(new.subject_key) > SUBJECT_KEY_MAX_LENGTH:
        errors.add("subject_key", f"at most {SUBJECT_KEY_MAX_LENGTH} characters")
    if not new.feature_id and not new.feature_key:
        errors.add("entitlement.feature_key", "feature_id or feature_key is required")
    if new.type is None:
        errors.add("entitlement.type", "is required: boolean, static or metered")
    elif new.type is EntitlementType.STATIC:
        _check_config(new.config, errors)
    elif new.type is EntitlementType.METERED:
        _check_metered(new.metered or MeteredRequest(), errors)
    errors.raise_if_any()


def _check_config(config: str | None, errors: ViolationCollector) -> None:
    if not config:
        errors.add("entitlement.static.config", "is required (JSON text)")
        return
    try:
        json.loads(config)
    except ValueError as exc:
        errors.add("entitlement.static.config", f"is not valid JSON: {exc}")
    except RecursionError:
        errors.add("entitlement.static.config", "is not valid JSON: nested too deep")


EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(9999, 1, 1, tzinfo=UTC)


def _check_metered(m: MeteredRequest, errors: ViolationCollector) -> None:
    prefix = "entitlement.metered."
    if m.interval is None:
        errors.add(prefix + "usage_period.interval", "is required: DAY, WEEK, MONTH or YEAR")
    # Period arithmetic (a period before the anchor, a century of issue-after-reset) must stay inside datetime.
    for name, value in (("usage_period.anchor", m.anchor), ("measure_usage_from", m.measure_usage_from)):
        if value is not None and not EARLIEST_TIME <= value < LATEST_TIME:
            errors.add(prefix + name, "must be between 1970-01-01T00:00:00Z and 9999-01-01T00:00:00Z")
    if m.issue_after_reset is not None:
        if not m.issue_after_reset.is_finite():
            errors.add(prefix + "issue_after_reset", "must be a finite number")
        elif m.issue_after_reset < 0:
            errors.add(prefix + "issue_after_reset", "must not be negative")
    if m.issue_after_reset_priority is not None:
        if m.issue_after_reset is None:
            errors.add(prefix + "issue_after_reset_priority", "needs issue_after_reset")
        elif not 0 <= m.issue_after_reset_priority <= MAX_PRIORITY:
            errors.add(prefix + "issue_after_reset_priority", f"must be between 0 and {MAX_PRIORITY}")


def check_feature(new: NewEntitlement, feature: Feature) -> None:
    """A metered entitlement needs a feature with a meter; boolean and static ones may use any feature (as
    OpenMeter allows: with or without a meter). Raises FailedPrecondition naming the feature field.
    """
    _, field_name = new.feature
    if new.type is EntitlementType.METERED and not feature.meter_slug:
        raise FailedPrecondition(
            f"{field_name}: feature {feature.key} has no meter; metered entitlements need one"
        )


def build_entitlement(new: NewEntitlement, feature: Feature, id: str, now: datetime) -> Entitlement:
    """The entitlement to store, defaults applied. ``new`` must have passed validate_new_entitlement.

    Metered defaults: the anchor is ``now`` truncated to the minute; measure_usage_from is ``now`` truncated
    to the minute whatever the anchor (OpenMeter's code: usage between the period's start and the creation
    does not count), or with the CURRENT_PERIOD_START preset the start of the period containing ``now``; an
    explicit one is truncated to the minute.
    """
    assert new.type is not None
    metered: MeteredSettings | None = None
    if new.type is EntitlementType.METERED:
        m = new.metered or MeteredRequest()
        assert m.interval is not None
        period = UsagePeriod(m.interval, m.anchor if m.anchor is not None else now)
        if m.measure_usage_from is not None:
            measure_from = truncate_to_minute(m.measure_usage_from)
        elif m.measure_usage_from_preset is MeasureUsageFrom.CURRENT_PERIOD_START:
            measure_from = period.containing(now).start
        else:
            measure_from = truncate_to_minute(now)
        amount = m.issue_after_reset if m.issue_after_reset else None  # 0 means no grant
        metered = MeteredSettings(
            usage_period=period,
            measure_usage_from=measure_from,
            issue_after_reset=amount,
            issue_after_reset_priority=(
                m.issue_after_reset_priority
                if m.issue_after_reset_priority is not None
                else DEFAULT_ISSUE_AFTER_RESET_PRIORITY
            ),
            is_soft_limit=m.is_soft_limit,
            preserve_overage_at_reset=m.preserve_overage_at_reset,
        )
    return Entitlement(
        id=id,
        subject_key=new.subject_key,
        feature_id=feature.id,
        feature_key=feature.key,
        type=new.type,
        created_at=now,
        updated_at=now,
        metadata=dict(new.metadata),
        config=new.config if new.type is EntitlementType.STATIC else None,
        metered=metered,
    )


def static_value(entitlement: Entitlement) -> EntitlementValue:
    """The value of a boolean or static entitlement: access while it exists (and the config)."""
    return EntitlementValue(has_access=True, config=entitlement.config)
