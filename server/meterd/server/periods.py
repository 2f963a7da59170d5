"""Usage-period and expiration arithmetic (pure, UTC, no I/O).

Period k of a usage period is ``[anchor + k * interval, anchor + (k + 1) * interval)`` for every integer k.
Month and year steps are computed from the anchor itself (never from the previous boundary) and clamp
to the target month's last day, so an anchor of Jan 31 gives Feb 28/29, Mar 31, Apr 30, ... without drift.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from meterd.server.errors import InvalidArgument

# Minute rounding lives in timeutil (meters use it too); re-exported here as part of the period API.
from meterd.server.timeutil import as_utc as as_utc
from meterd.server.timeutil import ceil_to_minute as ceil_to_minute
from meterd.server.timeutil import truncate_to_minute as truncate_to_minute

MINUTE = timedelta(minutes=1)


class Interval(StrEnum):
    """The length of a usage period or of a grant's recurrence."""

    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


class ExpirationDuration(StrEnum):
    """The unit of a grant's expiration (``expires_at = effective_at + count x duration``)."""

    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


# Intervals of a fixed length, and intervals counted in calendar months.
_FIXED_STEPS: dict[Interval, timedelta] = {Interval.DAY: timedelta(days=1), Interval.WEEK: timedelta(weeks=1)}
_MONTH_STEPS: dict[Interval, int] = {Interval.MONTH: 1, Interval.YEAR: 12}


@dataclass(frozen=True)
class Period:
    """A half-open span of time ``[start, end)``."""

    start: datetime
    end: datetime

    def __contains__(self, t: object) -> bool:
        return isinstance(t, datetime) and self.start <= t < self.end


def is_whole_minute(t: datetime) -> bool:
    """True if ``t`` has no seconds or microseconds (in UTC)."""
    return truncate_to_minute(t) == as_utc(t)


def add_months(t: datetime, months: int) -> datetime:
    """Add calendar months to ``t``'s UTC date, clamping the day to the target month's last day."""
    t = as_utc(t)
    year, month_index = divmod(t.year * 12 + (t.month - 1) + months, 12)
    month = month_index + 1
    day = min(t.day, calendar.monthrange(year, month)[1])
    return t.replace(year=year, month=month, day=day)


def add_intervals(anchor: datetime, interval: Interval, k: int) -> datetime:
    """The boundary ``anchor + k x interval`` (k may be negative), computed directly from the anchor."""
    fixed = _FIXED_STEPS.get(interval)
    if fixed is not None:
        return as_utc(anchor) + k * fixed
    return add_months(anchor, k * _MONTH_STEPS[interval])


def period_index(anchor: datetime, interval: Interval, t: datetime) -> int:
    """The k of the period ``[anchor + k x interval, anchor + (k+1) x interval)`` that contains ``t``."""
    anchor, t = as_utc(anchor), as_utc(t)
    fixed = _FIXED_STEPS.get(interval)
    if fixed is not None:
        return (t - anchor) // fixed
    # Estimate from the calendar months between the two, then correct: clamping and the time of day
    # can put t at most one step on either side of the estimate.
    months = _MONTH_STEPS[interval]
    k = ((t.year - anchor.year) * 12 + (t.month - anchor.month)) // months
    while add_intervals(anchor, interval, k) > t:
        k -= 1
    while add_intervals(anchor, interval, k + 1) <= t:
        k += 1
    return k


def period_containing(anchor: datetime, interval: Interval, t: datetime) -> Period:
    """The anchor-aligned period that contains ``t``, whether ``t`` is before or after the anchor."""
    k = period_index(anchor, interval, t)
    return Period(add_intervals(anchor, interval, k), add_intervals(anchor, interval, k + 1))


def boundaries_between(
    anchor: datetime, interval: Interval, start: datetime, end: datetime
) -> Iterator[datetime]:
    """Yield the period boundaries ``b`` with ``start < b <= end``, in order."""
    end = as_utc(end)
    k = period_index(anchor, interval, start) + 1
    while (boundary := add_intervals(anchor, interval, k)) <= end:
        yield boundary
        k += 1


def expires_at(effective_at: datetime, duration: ExpirationDuration, count: int) -> datetime:
    """``effective_at + count x duration``, months and years clamped to the month's last day.

    Raises InvalidArgument (``expiration.count``) if ``count`` is below 1.
    """
    if count < 1:
        raise InvalidArgument.of("expiration.count", "must be at least 1")
    start = as_utc(effective_at)
    match duration:
        case ExpirationDuration.HOUR:
            return start + timedelta(hours=count)
        case ExpirationDuration.DAY:
            return start + timedelta(days=count)
        case ExpirationDuration.WEEK:
            return start + timedelta(weeks=count)
        case ExpirationDuration.MONTH:
            return add_months(start, count)
        case ExpirationDuration.YEAR:
            return add_months(start, 12 * count)
    raise ValueError(f"unknown expiration duration {duration!r}")


@dataclass(frozen=True)
class UsagePeriod:
    """An interval and the anchor its periods are aligned to (the anchor is truncated to the minute)."""

    interval: Interval
    anchor: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "interval", Interval(self.interval))
        object.__setattr__(self, "anchor", truncate_to_minute(self.anchor))

    def boundary(self, k: int) -> datetime:
        """The start of period k."""
        return add_intervals(self.anchor, self.interval, k)

    def index(self, t: datetime) -> int:
        """The k of the period containing ``t``."""
        return period_index(self.anchor, self.interval, t)

    def containing(self, t: datetime) -> Period:
        """The period containing ``t``."""
        return period_containing(self.anchor, self.interval, t)

    def boundaries_between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """The boundaries in ``(start, end]``."""
        return boundaries_between(self.anchor, self.interval, start, end)

    def with_anchor(self, anchor: datetime) -> UsagePeriod:
        """The same interval aligned to a new anchor (a reset that does not retain the anchor)."""
        return UsagePeriod(self.interval, anchor)
