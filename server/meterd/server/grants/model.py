"""Grants and their validation (SPEC § Grants). Pure domain code: no gRPC, no SQL.

Field names in errors are the wire's (``grant.expiration.count``). Amounts are Decimal; the wire's
doubles are converted at the edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from meterd.server.credit import engine
from meterd.server.errors import InvalidArgument, ViolationCollector
from meterd.server.periods import (
    ExpirationDuration,
    Interval,
    UsagePeriod,
    expires_at,
    truncate_to_minute,
)

MAX_PRIORITY = 255
DEFAULT_PRIORITY = 1
# OpenMeter keeps the count in 8 bits; a larger one is refused rather than wrapped.
MAX_EXPIRATION_COUNT = 255
ZERO = Decimal(0)
ISSUE_AFTER_RESET_METADATA = {"issueAfterReset": "true"}
# What a grant that never expires stores and shows as its expiry (the issue-after-reset grant): the last whole
# minute a Timestamp holds. The engine reads a grant expiring here as never expiring.
NEVER_EXPIRES = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Expiration:
    """``count`` x ``duration`` after the grant becomes effective."""

    duration: ExpirationDuration
    count: int


@dataclass(frozen=True, slots=True)
class Recurrence:
    """The grant refills to its amount at every ``anchor + k x interval``."""

    interval: Interval
    anchor: datetime


@dataclass(frozen=True, slots=True)
class Grant:
    """A stored grant, normalised: times on the minute, expires_at computed."""

    id: str
    entitlement_id: str
    subject_key: str
    feature_key: str
    amount: Decimal
    priority: int
    effective_at: datetime
    expiration: Expiration
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    max_rollover_amount: Decimal = ZERO
    min_rollover_amount: Decimal = ZERO
    recurrence: Recurrence | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    voided_at: datetime | None = None

    @property
    def voided(self) -> bool:
        return self.voided_at is not None

    def to_engine(self) -> engine.Grant:
        """The grant as the credit engine takes it."""
        return engine.Grant(
            id=self.id,
            amount=self.amount,
            effective_at=self.effective_at,
            expires_at=None if self.expires_at >= NEVER_EXPIRES else self.expires_at,
            priority=self.priority,
            created_at=self.created_at,
            voided_at=self.voided_at,
            min_rollover_amount=self.min_rollover_amount,
            max_rollover_amount=self.max_rollover_amount,
            recurrence=(
                engine.Recurrence(self.recurrence.interval, self.recurrence.anchor)
                if self.recurrence
                else None
            ),
        )


@dataclass(frozen=True, slots=True)
class NewGrant:
    """A grant as requested (CreateGrant). None means "not given"."""

    amount: Decimal | None
    effective_at: datetime | None
    expiration_duration: ExpirationDuration | None
    expiration_count: int
    priority: int | None = None
    max_rollover_amount: Decimal = ZERO
    min_rollover_amount: Decimal = ZERO
    recurrence_interval: Interval | None = None
    recurrence_anchor: datetime | None = None
    has_recurrence: bool = False
    metadata: Mapping[str, str] = field(default_factory=dict)


class GrantOrderBy(StrEnum):
    """What grant lists order by; ties are broken by creation time, then id."""

    EFFECTIVE_AT = "EFFECTIVE_AT"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    EXPIRES_AT = "EXPIRES_AT"


@dataclass(frozen=True, slots=True)
class GrantFilter:
    """ListGrants filters (empty: no filter) and order. ``features`` are ids or keys."""

    subjects: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    include_voided: bool = False
    order_by: GrantOrderBy = GrantOrderBy.EFFECTIVE_AT
    descending: bool = False


def next_recurrence(grant: Grant, now: datetime) -> datetime | None:
    """The first refill of a recurring grant strictly after ``now``; None if it does not recur, or if that
    instant is not before its expiry or void (it would never refill then)."""
    if grant.recurrence is None:
        return None
    period = UsagePeriod(grant.recurrence.interval, grant.recurrence.anchor)
    nxt = period.boundary(period.index(now) + 1)
    if nxt <= grant.effective_at:  # before the grant starts, its first refill is the first boundary after it
        nxt = period.boundary(period.index(grant.effective_at) + 1)
    end = min(t for t in (grant.expires_at, grant.voided_at) if t is not None)
    return nxt if nxt < end else None


def validate_new_grant(new: NewGrant, prefix: str = "grant.") -> None:
    """Checks the request on its own; raises InvalidArgument naming every bad field."""
    errors = ViolationCollector(prefix)
    if new.amount is None:
        errors.add("amount", "is required")
    elif not new.amount.is_finite():
        errors.add("amount", "must be a finite number")
    elif new.amount <= 0:
        errors.add("amount", "must be greater than 0")
    if new.priority is not None and not 0 <= new.priority <= MAX_PRIORITY:
        errors.add("priority", f"must be between 0 and {MAX_PRIORITY}")
    if new.effective_at is None:
        errors.add("effective_at", "is required")
    if new.expiration_duration is None:
        errors.add("expiration.duration", "is required: HOUR, DAY, WEEK, MONTH or YEAR")
    if new.expiration_count < 1:
        errors.add("expiration.count", "must be at least 1")
    elif new.expiration_count > MAX_EXPIRATION_COUNT:
        errors.add("expiration.count", f"must be at most {MAX_EXPIRATION_COUNT}")
    rollover_ok = True
    for name, value in (
        ("max_rollover_amount", new.max_rollover_amount),
        ("min_rollover_amount", new.min_rollover_amount),
    ):
        if not value.is_finite():
            errors.add(name, "must be a finite number")
            rollover_ok = False
        elif value < 0:
            errors.add(name, "must not be negative")
            rollover_ok = False
    if rollover_ok and new.min_rollover_amount > new.max_rollover_amount:
        errors.add("min_rollover_amount", "must not be greater than max_rollover_amount")
    if new.has_recurrence and new.recurrence_interval is None:
        errors.add("recurrence.interval", "is required: DAY, WEEK, MONTH or YEAR")
    errors.raise_if_any()


def build_grant(
    new: NewGrant, *, id: str, entitlement_id: str, subject_key: str, feature_key: str, now: datetime
) -> Grant:
    """The grant to store, normalised. ``new`` must have passed validate_new_grant.

    effective_at and the recurrence anchor (default: effective_at) are truncated to the minute.
    """
    assert new.amount is not None and new.effective_at is not None and new.expiration_duration is not None
    effective = truncate_to_minute(new.effective_at)
    recurrence = None
    if new.has_recurrence and new.recurrence_interval is not None:
        anchor = truncate_to_minute(new.recurrence_anchor) if new.recurrence_anchor is not None else effective
        recurrence = Recurrence(Interval(new.recurrence_interval), anchor)
    try:
        expiry = expires_at(effective, new.expiration_duration, new.expiration_count)
    except (OverflowError, ValueError) as exc:  # past datetime.max
        raise InvalidArgument.of("grant.expiration", "ends after the year 9999") from exc
    return Grant(
        id=id,
        entitlement_id=entitlement_id,
        subject_key=subject_key,
        feature_key=feature_key,
        amount=new.amount,
        priority=DEFAULT_PRIORITY if new.priority is None else new.priority,
        effective_at=effective,
        expiration=Expiration(new.expiration_duration, new.expiration_count),
        expires_at=expiry,
        created_at=now,
        updated_at=now,
        max_rollover_amount=new.max_rollover_amount,
        min_rollover_amount=new.min_rollover_amount,
        recurrence=recurrence,
        metadata=dict(new.metadata),
    )


def issue_after_reset_grant(
    *,
    id: str,
    entitlement_id: str,
    subject_key: str,
    feature_key: str,
    amount: Decimal,
    priority: int,
    effective_at: datetime,
    now: datetime,
) -> Grant:
    """The grant an entitlement's ``issue_after_reset`` creates with it (SPEC § Grants).

    Effective at ``effective_at`` (the entitlement's first period start), min = max rollover = amount so that
    every reset brings it back to the full amount, and it never expires (stored and shown as expiring at
    NEVER_EXPIRES, whatever ``effective_at``).
    """
    template = engine.issue_after_reset_grant(
        id=id, amount=amount, effective_at=effective_at, priority=priority, created_at=now
    )
    return Grant(
        id=id,
        entitlement_id=entitlement_id,
        subject_key=subject_key,
        feature_key=feature_key,
        amount=template.amount,
        priority=template.priority,
        effective_at=template.effective_at,
        expiration=Expiration(ExpirationDuration.YEAR, engine.ISSUE_AFTER_RESET_EXPIRATION_YEARS),
        expires_at=NEVER_EXPIRES,
        created_at=now,
        updated_at=now,
        max_rollover_amount=template.max_rollover_amount,
        min_rollover_amount=template.min_rollover_amount,
        metadata=dict(ISSUE_AFTER_RESET_METADATA),
    )
