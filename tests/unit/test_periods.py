"""Usage-period and expiration arithmetic, with hand-computed boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from meterd.server.errors import InvalidArgument
from meterd.server.periods import (
    ExpirationDuration,
    Interval,
    Period,
    UsagePeriod,
    add_intervals,
    boundaries_between,
    ceil_to_minute,
    expires_at,
    is_whole_minute,
    period_containing,
    period_index,
    truncate_to_minute,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


JAN31 = utc(2024, 1, 31, 10, 30)


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (0, utc(2024, 1, 31, 10, 30)),
        (1, utc(2024, 2, 29, 10, 30)),  # leap year: clamps to the 29th
        (2, utc(2024, 3, 31, 10, 30)),  # computed from the anchor, so no drift to the 29th
        (3, utc(2024, 4, 30, 10, 30)),
        (13, utc(2025, 2, 28, 10, 30)),  # not a leap year
        (-1, utc(2023, 12, 31, 10, 30)),
        (-2, utc(2023, 11, 30, 10, 30)),
        (-11, utc(2023, 2, 28, 10, 30)),
    ],
)
def test_month_steps_clamp_to_the_last_day_and_do_not_drift(k: int, expected: datetime) -> None:
    assert add_intervals(JAN31, Interval.MONTH, k) == expected


def test_year_steps_from_feb_29_clamp_to_feb_28() -> None:
    leap = utc(2024, 2, 29)
    assert add_intervals(leap, Interval.YEAR, 1) == utc(2025, 2, 28)
    assert add_intervals(leap, Interval.YEAR, 4) == utc(2028, 2, 29)
    assert add_intervals(leap, Interval.YEAR, -1) == utc(2023, 2, 28)


def test_day_and_week_steps_are_fixed_lengths() -> None:
    anchor = utc(2024, 3, 1, 12)
    assert add_intervals(anchor, Interval.DAY, 3) == utc(2024, 3, 4, 12)
    assert add_intervals(anchor, Interval.DAY, -1) == utc(2024, 2, 29, 12)
    assert add_intervals(anchor, Interval.WEEK, 2) == utc(2024, 3, 15, 12)
    assert add_intervals(anchor, Interval.WEEK, -1) == utc(2024, 2, 23, 12)


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (utc(2024, 2, 15), Period(utc(2024, 1, 31, 10, 30), utc(2024, 2, 29, 10, 30))),
        (utc(2024, 2, 29, 10, 30), Period(utc(2024, 2, 29, 10, 30), utc(2024, 3, 31, 10, 30))),
        (utc(2024, 2, 29, 10, 29), Period(utc(2024, 1, 31, 10, 30), utc(2024, 2, 29, 10, 30))),
        (utc(2024, 4, 30, 11), Period(utc(2024, 4, 30, 10, 30), utc(2024, 5, 31, 10, 30))),
        # before the anchor: negative periods
        (utc(2024, 1, 31, 10, 29), Period(utc(2023, 12, 31, 10, 30), utc(2024, 1, 31, 10, 30))),
        (utc(2023, 12, 1), Period(utc(2023, 11, 30, 10, 30), utc(2023, 12, 31, 10, 30))),
    ],
)
def test_period_containing_a_month_end_anchor(t: datetime, expected: Period) -> None:
    assert period_containing(JAN31, Interval.MONTH, t) == expected
    assert t in expected


def test_period_index_is_negative_before_the_anchor() -> None:
    anchor = utc(2024, 1, 10)
    assert period_index(anchor, Interval.DAY, utc(2024, 1, 10)) == 0
    assert period_index(anchor, Interval.DAY, utc(2024, 1, 9, 23, 59)) == -1
    assert period_index(anchor, Interval.DAY, utc(2024, 1, 1)) == -9
    assert period_index(anchor, Interval.WEEK, utc(2024, 1, 2, 23, 59)) == -2
    assert period_index(anchor, Interval.MONTH, utc(2023, 12, 10)) == -1
    assert period_index(anchor, Interval.MONTH, utc(2023, 12, 9, 23, 59)) == -2
    assert period_index(anchor, Interval.YEAR, utc(2023, 1, 10)) == -1


def test_anchor_in_the_future_and_far_past() -> None:
    future = utc(2030, 6, 15)
    assert period_containing(future, Interval.MONTH, utc(2024, 8, 20)) == Period(
        utc(2024, 8, 15), utc(2024, 9, 15)
    )
    assert period_index(future, Interval.MONTH, utc(2024, 8, 20)) == -70
    past = utc(1990, 1, 31)
    # Computed arithmetically: 34 years of months is one step of arithmetic, not 400 iterations.
    assert period_containing(past, Interval.MONTH, utc(2024, 2, 29, 0, 1)) == Period(
        utc(2024, 2, 29), utc(2024, 3, 31)
    )
    assert period_containing(past, Interval.DAY, utc(2024, 2, 29, 5)) == Period(
        utc(2024, 2, 29), utc(2024, 3, 1)
    )


def test_period_index_matches_stepping_for_many_instants() -> None:
    for interval in Interval:
        anchor = utc(2023, 1, 31, 23, 59)
        for hours in range(-3000, 3000, 37):
            t = anchor + timedelta(hours=hours * 7)
            k = period_index(anchor, interval, t)
            assert add_intervals(anchor, interval, k) <= t < add_intervals(anchor, interval, k + 1)


def test_boundaries_between_is_exclusive_of_start_and_inclusive_of_end() -> None:
    anchor = utc(2024, 1, 1)
    got = list(boundaries_between(anchor, Interval.DAY, utc(2024, 1, 1), utc(2024, 1, 3)))
    assert got == [utc(2024, 1, 2), utc(2024, 1, 3)]
    got = list(boundaries_between(anchor, Interval.DAY, utc(2023, 12, 31, 12), utc(2024, 1, 1, 12)))
    assert got == [utc(2024, 1, 1)]
    assert list(boundaries_between(anchor, Interval.DAY, utc(2024, 1, 1, 1), utc(2024, 1, 1, 23))) == []
    got = list(boundaries_between(JAN31, Interval.MONTH, utc(2024, 1, 1), utc(2024, 5, 1)))
    assert got == [JAN31, utc(2024, 2, 29, 10, 30), utc(2024, 3, 31, 10, 30), utc(2024, 4, 30, 10, 30)]


def test_minute_rounding() -> None:
    t = utc(2024, 5, 5, 10, 7, 59, 999_999)
    assert truncate_to_minute(t) == utc(2024, 5, 5, 10, 7)
    assert ceil_to_minute(t) == utc(2024, 5, 5, 10, 8)
    assert ceil_to_minute(utc(2024, 5, 5, 10, 7)) == utc(2024, 5, 5, 10, 7)
    assert ceil_to_minute(utc(2024, 12, 31, 23, 59, 1)) == utc(2025, 1, 1)
    assert is_whole_minute(utc(2024, 5, 5, 10, 7))
    assert not is_whole_minute(t)


def test_other_zones_are_converted_to_utc_and_naive_datetimes_refused() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    t = datetime(2024, 2, 1, 5, 0, 30, tzinfo=ist)  # 2024-01-31T23:30:30Z
    assert truncate_to_minute(t) == utc(2024, 1, 31, 23, 30)
    assert truncate_to_minute(t).tzinfo is UTC
    # The month step works on the UTC date (Jan 31), not the local one (Feb 1).
    assert add_intervals(t, Interval.MONTH, 1) == datetime(2024, 2, 29, 23, 30, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        truncate_to_minute(datetime(2024, 1, 1))


@pytest.mark.parametrize(
    ("duration", "count", "expected"),
    [
        (ExpirationDuration.HOUR, 5, utc(2024, 2, 1, 3, 30)),
        (ExpirationDuration.DAY, 30, utc(2024, 3, 1, 22, 30)),
        (ExpirationDuration.WEEK, 2, utc(2024, 2, 14, 22, 30)),
        (ExpirationDuration.MONTH, 1, utc(2024, 2, 29, 22, 30)),
        (ExpirationDuration.MONTH, 3, utc(2024, 4, 30, 22, 30)),
        (ExpirationDuration.YEAR, 1, utc(2025, 1, 31, 22, 30)),
        (ExpirationDuration.YEAR, 100, utc(2124, 1, 31, 22, 30)),
    ],
)
def test_expires_at(duration: ExpirationDuration, count: int, expected: datetime) -> None:
    assert expires_at(utc(2024, 1, 31, 22, 30), duration, count) == expected


def test_expires_at_needs_a_positive_count() -> None:
    with pytest.raises(InvalidArgument) as err:
        expires_at(utc(2024, 1, 1), ExpirationDuration.DAY, 0)
    assert err.value.violations[0].field == "expiration.count"


def test_usage_period_truncates_its_anchor_and_delegates() -> None:
    period = UsagePeriod(Interval("MONTH"), utc(2024, 1, 31, 10, 30, 45))
    assert period.anchor == JAN31
    assert period.interval is Interval.MONTH
    assert period.boundary(1) == utc(2024, 2, 29, 10, 30)
    assert period.index(utc(2024, 3, 1)) == 1
    assert period.containing(utc(2024, 3, 1)) == Period(utc(2024, 2, 29, 10, 30), utc(2024, 3, 31, 10, 30))
    assert list(period.boundaries_between(utc(2024, 2, 1), utc(2024, 3, 31, 10, 30))) == [
        utc(2024, 2, 29, 10, 30),
        utc(2024, 3, 31, 10, 30),
    ]
    assert period.with_anchor(utc(2024, 2, 10)).containing(utc(2024, 3, 1)) == Period(
        utc(2024, 2, 10), utc(2024, 3, 10)
    )
