"""The balance engine, one rule at a time, with hand-computed numbers (SPEC: Balance engine, Resets)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from meterd.server.credit.engine import (
    BalanceState,
    EntitlementSpec,
    Grant,
    Recurrence,
    Reset,
    StaleSnapshot,
    burn_order,
    current_usage_period,
    history,
    initial_state,
    issue_after_reset_grant,
    period_start_at,
    reset_points,
    run,
    state_at,
    value_at,
    value_instant,
)
from meterd.server.errors import InvalidArgument
from meterd.server.periods import Interval, Period, UsagePeriod


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def D(value: str | int) -> Decimal:
    return Decimal(str(value))


S = utc(2024, 1, 1)  # a Monday; the usual period start in these tests
YEAR_LATER = utc(2025, 1, 1)


def at(**delta: float) -> datetime:
    return S + timedelta(**delta)


class Usage:
    """A meter: events at instants; answers the usage in [a, b) and records every call."""

    def __init__(self, events: Iterable[tuple[datetime, str | int]] = ()) -> None:
        self.events = [(t, D(v)) for t, v in events]
        self.calls: list[tuple[datetime, datetime]] = []

    def add(self, t: datetime, amount: str | int) -> None:
        self.events.append((t, D(amount)))

    def __call__(self, a: datetime, b: datetime) -> Decimal:
        self.calls.append((a, b))
        return sum((v for t, v in self.events if a <= t < b), Decimal(0))


def grant(gid: str, amount: str | int, **fields: Any) -> Grant:
    fields.setdefault("effective_at", S)
    fields.setdefault("expires_at", YEAR_LATER)
    return Grant(id=gid, amount=D(amount), **fields)


def spec(**fields: Any) -> EntitlementSpec:
    fields.setdefault("usage_period", UsagePeriod(Interval.MONTH, S))
    fields.setdefault("measure_usage_from", S)
    return EntitlementSpec(**fields)


def balances(value: Any) -> dict[str, Decimal]:
    return dict(value.grant_balances if hasattr(value, "grant_balances") else value.balances)


# --------------------------------------------------------------------------------------------------------
# SPEC's worked example


class TestWorkedExample:
    """A (100, priority 1) and B (50, priority 2, expires day 10); 120 used in week 1; B expires; 5 more."""

    grants = (grant("A", 100, priority=1), grant("B", 50, priority=2, expires_at=at(days=10)))

    def usage(self) -> Usage:
        return Usage([(at(days=1), 60), (at(days=5), 60), (at(days=12), 5)])

    def test_after_the_first_week(self) -> None:
        value = value_at(spec(), self.grants, self.usage(), at(days=7))
        assert balances(value) == {"A": 0, "B": 30}
        assert (value.balance, value.usage, value.overage, value.has_access) == (30, 120, 0, True)

    def test_b_expires_on_day_10(self) -> None:
        value = value_at(spec(), self.grants, self.usage(), at(days=10))
        assert balances(value) == {"A": 0}
        assert (value.balance, value.usage, value.overage, value.has_access) == (0, 120, 0, False)

    def test_five_more_is_overage_and_no_access(self) -> None:
        value = value_at(spec(), self.grants, self.usage(), at(days=13))
        assert (value.balance, value.usage, value.overage, value.has_access) == (0, 125, 5, False)

    def test_soft_limit_keeps_access(self) -> None:
        value = value_at(spec(is_soft_limit=True), self.grants, self.usage(), at(days=13))
        assert (value.balance, value.overage, value.has_access) == (0, 5, True)


# --------------------------------------------------------------------------------------------------------
# Burn order


def test_lower_priority_number_burns_first_and_zero_is_accepted() -> None:
    grants = [grant("p2", 100, priority=2), grant("p1", 100, priority=1), grant("p0", 100, priority=0)]
    value = value_at(spec(), grants, Usage([(at(hours=1), 150)]), at(hours=2))
    assert balances(value) == {"p0": 0, "p1": 50, "p2": 100}


def test_equal_priority_burns_the_earliest_expiry_first_and_never_expiring_last() -> None:
    grants = [
        grant("never", 100, expires_at=None),
        grant("century", 100, expires_at=utc(2124, 1, 1)),
        grant("month", 100, expires_at=at(days=30)),
    ]
    value = value_at(spec(), grants, Usage([(at(hours=1), 220)]), at(hours=2))
    assert balances(value) == {"month": 0, "century": 0, "never": 80}


def test_then_creation_time_then_id() -> None:
    grants = [
        grant("b-later", 10, created_at=at(minutes=5)),
        grant("z-early", 10, created_at=at(minutes=1)),
        grant("a-later", 10, created_at=at(minutes=5)),
    ]
    assert [g.id for g in sorted(grants, key=burn_order)] == ["z-early", "a-later", "b-later"]
    value = value_at(spec(), grants, Usage([(at(hours=1), 15)]), at(hours=2))
    assert balances(value) == {"z-early": 0, "a-later": 5, "b-later": 10}


def test_earliest_expiry_beats_earliest_creation() -> None:
    grants = [
        grant("old", 100, created_at=at(days=-30), expires_at=at(days=60)),
        grant("new", 100, created_at=at(days=-1), expires_at=at(days=20)),
    ]
    value = value_at(spec(), grants, Usage([(at(hours=1), 30)]), at(hours=2))
    assert balances(value) == {"old": 100, "new": 70}


def test_burn_order_is_re_evaluated_when_a_grant_activates() -> None:
    # p2 burns alone until the p1 grant arrives at 1h; from then p1 burns first.
    grants = [grant("p2", 100, priority=2), grant("p1", 100, priority=1, effective_at=at(hours=1))]
    usage = Usage([(at(minutes=30), 30), (at(hours=2), 50)])
    value = value_at(spec(), grants, usage, at(hours=3))
    assert balances(value) == {"p2": 70, "p1": 50}


# --------------------------------------------------------------------------------------------------------
# Activation, expiration, void


def test_grant_starting_mid_period_pays_the_overage_first() -> None:
    grants = [grant("g", 100, effective_at=at(hours=3))]
    usage = Usage([(at(hours=1), 30), (at(hours=4), 10)])
    before = value_at(spec(), grants, usage, at(hours=2))
    assert (before.balance, before.overage, before.usage, before.has_access) == (0, 30, 30, False)
    activated = value_at(spec(), grants, usage, at(hours=3))
    assert (activated.balance, activated.overage) == (70, 0)
    later = value_at(spec(), grants, usage, at(hours=5))
    assert (later.balance, later.overage, later.usage) == (60, 0, 40)


def test_new_grant_smaller_than_the_overage_leaves_the_rest_outstanding() -> None:
    grants = [grant("g", 20, effective_at=at(hours=3))]
    value = value_at(spec(), grants, Usage([(at(hours=1), 30)]), at(hours=4))
    assert (value.balance, value.overage, value.usage) == (0, 10, 30)


def test_grant_expiring_with_balance_left_drops_it() -> None:
    grants = [grant("short", 100, expires_at=at(days=2)), grant("long", 10, priority=5)]
    usage = Usage([(at(days=1), 40), (at(days=3), 25)])
    assert balances(value_at(spec(), grants, usage, at(days=2) - timedelta(minutes=1))) == {
        "short": 60,
        "long": 10,
    }
    at_expiry = value_at(spec(), grants, usage, at(days=2))
    assert balances(at_expiry) == {"long": 10}
    after = value_at(spec(), grants, usage, at(days=4))
    assert (after.balance, after.overage, after.usage) == (0, 15, 65)


def test_void_mid_period() -> None:
    grants = [grant("g", 100, voided_at=at(hours=1, seconds=42))]  # truncated to 1h00
    usage = Usage([(at(minutes=30), 50), (at(hours=1, minutes=30), 50)])
    end, segments = run(spec(), grants, usage, initial_state(spec(), grants), at(hours=2))
    assert [(s.start, s.end) for s in segments] == [(S, at(hours=1)), (at(hours=1), at(hours=2))]
    assert (end.balance, end.overage, end.usage) == (0, 50, 100)
    assert balances(end) == {}
    assert segments[0].grant_balances_at_end == {"g": 50}


def test_grant_effective_at_a_reset_starts_full_and_one_expiring_there_is_dropped() -> None:
    grants = [
        grant("new", 100, effective_at=at(hours=5)),
        grant("old", 100, expires_at=at(hours=5), max_rollover_amount=D(100)),
    ]
    s = spec(resets=(Reset(at(hours=5)),))
    value = value_at(s, grants, Usage([(at(hours=1), 10)]), at(hours=5))
    assert balances(value) == {"new": 100}
    assert (value.usage, value.overage) == (0, 0)


def test_empty_reset() -> None:
    s = spec(resets=(Reset(at(hours=5)),))
    value = value_at(s, [], Usage([(at(hours=1), 10)]), at(hours=6))
    assert (value.balance, value.usage, value.overage, value.has_access) == (0, 0, 0, False)


# --------------------------------------------------------------------------------------------------------
# Recurrence


def test_recurrence_refills_and_carried_overage_is_deducted() -> None:
    # OpenMeter engine_test case C: day 1 uses 120 of 100 (overage 20); the refill at day 1 pays it -> 80.
    grants = [grant("daily", 100, recurrence=Recurrence(Interval.DAY, S))]
    usage = Usage([(at(hours=1), 120)])
    value = value_at(spec(), grants, usage, at(days=1, hours=1))
    assert (value.balance, value.overage, value.usage) == (80, 0, 120)


def test_recurrence_does_not_roll_over_the_old_balance() -> None:
    grants = [grant("daily", 100, recurrence=Recurrence(Interval.DAY, S))]
    value = value_at(spec(), grants, Usage([(at(hours=1), 30)]), at(days=1))
    assert value.balance == 100


def test_recurrence_only_inside_the_grants_active_span() -> None:
    # Anchor at midnight, effective at noon day 0, expiring noon day 2: refills at day 1 and day 2 only.
    g = grant(
        "g",
        100,
        effective_at=at(hours=12),
        expires_at=at(days=2, hours=12),
        recurrence=Recurrence(Interval.DAY, S),
    )
    other = grant("other", 1000, priority=9)
    usage = Usage([(at(hours=13), 70), (at(days=1, hours=1), 50), (at(days=2, hours=1), 40)])
    end, segments = run(spec(), [g, other], usage, initial_state(spec(), [g, other]), at(days=4))
    boundaries = [s.start for s in segments]
    # No refill at S (before effective_at) nor at day 3 (after expiry).
    assert boundaries == [S, at(hours=12), at(days=1), at(days=2), at(days=2, hours=12)]
    # 70 -> 30 left; refill 100; 50 -> 50; refill 100; 40 -> 60; dropped at expiry.
    assert [dict(s.grant_balances_at_end) for s in segments[1:4]] == [
        {"g": 30, "other": 1000},
        {"g": 50, "other": 1000},
        {"g": 60, "other": 1000},
    ]
    assert balances(end) == {"other": 1000}


def test_recurrence_on_the_expiry_instant_does_not_revive_the_grant() -> None:
    g = grant("g", 100, expires_at=at(days=1), recurrence=Recurrence(Interval.DAY, S))
    other = grant("other", 100, priority=5)
    usage = Usage([(at(days=1, hours=1), 10)])
    assert balances(value_at(spec(), [g, other], usage, at(days=1))) == {"other": 100}
    assert balances(value_at(spec(), [g, other], usage, at(days=2))) == {"other": 90}


def test_recurrence_anchor_other_than_effective_at() -> None:
    g = grant("g", 100, effective_at=S, recurrence=Recurrence(Interval.WEEK, utc(2023, 12, 28, 6)))
    usage = Usage([(at(hours=1), 90)])
    # Weekly from Thursday 06:00: the first refill is Jan 4 06:00.
    assert value_at(spec(), [g], usage, utc(2024, 1, 4, 5, 59)).balance == 10
    assert value_at(spec(), [g], usage, utc(2024, 1, 4, 6)).balance == 100


def test_recurrence_and_reset_at_the_same_instant_refill_after_rollover() -> None:
    # A monthly allowance recurring on the period anchor: rollover (max 0) wipes it, the refill restores it.
    g = grant("monthly", 100, expires_at=None, recurrence=Recurrence(Interval.MONTH, S))
    usage = Usage([(at(days=3), 40), (utc(2024, 2, 3), 30)])
    assert value_at(spec(), [g], usage, utc(2024, 2, 1)).balance == 100
    assert value_at(spec(), [g], usage, utc(2024, 2, 10)).balance == 70


# --------------------------------------------------------------------------------------------------------
# Resets: rollover, overage, usage


def test_rollover_min_and_max() -> None:
    def rolled(balance_before: int) -> Decimal:
        g = grant("g", 100, min_rollover_amount=D(30), max_rollover_amount=D(80))
        usage = Usage([(at(hours=1), 100 - balance_before)])
        return value_at(spec(resets=(Reset(at(hours=5)),)), [g], usage, at(hours=5)).balance

    assert rolled(10) == 30  # below min: raised to min
    assert rolled(50) == 50  # between: kept
    assert rolled(95) == 80  # above max: cut to max


def test_default_rollover_wipes_a_grant_at_an_automatic_reset() -> None:
    g = grant("g", 100)
    assert value_at(spec(), [g], Usage(), utc(2024, 1, 31, 23, 59)).balance == 100
    value = value_at(spec(), [g], Usage(), utc(2024, 2, 1))
    assert (value.balance, balances(value)) == (0, {"g": 0})


def test_openmeter_reset_rollover_example() -> None:
    # 600 used before the grants (overage), paid at activation by g1 -> 400; reset: g1 400, g2 min(100, 1000).
    g1 = grant("g1", 1000, priority=1, effective_at=at(hours=2), max_rollover_amount=D(1000))
    g2 = grant("g2", 1000, priority=3, effective_at=at(hours=2), max_rollover_amount=D(100))
    s = spec(resets=(Reset(at(hours=5)),))
    value = value_at(s, [g1, g2], Usage([(at(minutes=1), 600)]), at(hours=5))
    assert balances(value) == {"g1": 400, "g2": 100}
    assert (value.balance, value.overage, value.usage) == (500, 0, 0)


def test_openmeter_second_reset_example() -> None:
    g1 = grant("g1", 1000, priority=1, effective_at=at(hours=2), max_rollover_amount=D(1000))
    g2 = grant("g2", 1000, priority=3, effective_at=at(hours=2), max_rollover_amount=D(100))
    g3 = grant("g3", 1000, priority=1, effective_at=at(hours=6), max_rollover_amount=D(1000))
    s = spec(resets=(Reset(at(hours=5)), Reset(at(hours=10))))
    usage = Usage([(at(minutes=1), 600), (at(hours=5, minutes=10), 300)])
    value = value_at(s, [g1, g2, g3], usage, at(hours=10))
    assert balances(value) == {"g1": 100, "g2": 100, "g3": 1000}
    assert value.balance == 1200


@pytest.mark.parametrize(
    ("used", "preserve", "expected_balances", "expected_overage"),
    [
        (2100, True, {"g1": 0, "g2": 400}, 0),  # overage 100 burnt from the rolled-over g2 (500)
        (2600, True, {"g1": 0, "g2": 0}, 100),  # overage 600 > 500: the rest carries into the period
        (2100, False, {"g1": 0, "g2": 500}, 0),  # forgiven
        (2600, False, {"g1": 0, "g2": 500}, 0),
    ],
)
def test_preserve_overage_at_reset(
    used: int, preserve: bool, expected_balances: dict[str, int], expected_overage: int
) -> None:
    g1 = grant("g1", 1000, priority=1, max_rollover_amount=D(1000))
    g2 = grant("g2", 1000, priority=3, min_rollover_amount=D(500), max_rollover_amount=D(500))
    s = spec(resets=(Reset(at(hours=5), preserve_overage=preserve),))
    value = value_at(s, [g1, g2], Usage([(at(hours=1), used)]), at(hours=5))
    assert balances(value) == expected_balances
    assert (value.overage, value.usage) == (expected_overage, 0)


def test_preserved_overage_burns_in_burn_order_not_grant_order() -> None:
    g_late = grant("a", 1000, priority=2, min_rollover_amount=D(50), max_rollover_amount=D(50))
    g_first = grant("b", 1000, priority=1, min_rollover_amount=D(50), max_rollover_amount=D(50))
    s = spec(resets=(Reset(at(hours=5), preserve_overage=True),))
    value = value_at(s, [g_late, g_first], Usage([(at(hours=1), 2070)]), at(hours=5))
    assert balances(value) == {"a": 30, "b": 0}


def test_entitlement_default_and_per_reset_override_of_preserve_overage() -> None:
    g = grant("g", 100, min_rollover_amount=D(100), max_rollover_amount=D(100))
    usage = Usage([(at(hours=1), 130)])
    on = spec(preserve_overage_at_reset=True, resets=(Reset(at(hours=5)),))
    assert value_at(on, [g], usage, at(hours=5)).balance == 70
    off_for_this_reset = spec(
        preserve_overage_at_reset=True, resets=(Reset(at(hours=5), preserve_overage=False),)
    )
    assert value_at(off_for_this_reset, [g], usage, at(hours=5)).balance == 100
    # Automatic resets use the entitlement's default.
    assert value_at(spec(preserve_overage_at_reset=True), [g], usage, utc(2024, 2, 1)).balance == 70
    assert value_at(spec(), [g], usage, utc(2024, 2, 1)).balance == 100


def test_issue_after_reset_across_several_periods() -> None:
    g = issue_after_reset_grant(id="iar", amount=D(100), effective_at=S, priority=1)
    assert (g.min_rollover_amount, g.max_rollover_amount, g.expires_at) == (100, 100, None)
    usage = Usage([(utc(2024, 1, 10), 70), (utc(2024, 2, 10), 130), (utc(2024, 3, 10), 10)])
    jan = value_at(spec(), [g], usage, utc(2024, 1, 31))
    assert (jan.balance, jan.usage, jan.overage) == (30, 70, 0)
    feb = value_at(spec(), [g], usage, utc(2024, 2, 29))
    assert (feb.balance, feb.usage, feb.overage, feb.has_access) == (0, 130, 30, False)
    mar1 = value_at(spec(), [g], usage, utc(2024, 3, 1))
    assert (mar1.balance, mar1.usage, mar1.overage, mar1.period_start) == (100, 0, 0, utc(2024, 3, 1))
    mar = value_at(spec(), [g], usage, utc(2024, 3, 20))
    assert (mar.balance, mar.usage) == (90, 10)
    # Preserving overage: the 30 of February is paid from March's 100.
    assert value_at(spec(preserve_overage_at_reset=True), [g], usage, utc(2024, 3, 1)).balance == 70


def test_overage_carries_within_the_period_and_a_new_grant_pays_it() -> None:
    g1 = grant("g1", 50)
    g2 = grant("g2", 100, effective_at=at(days=5))
    usage = Usage([(at(days=1), 80), (at(days=6), 10)])
    value = value_at(spec(), [g1, g2], usage, at(days=7))
    assert balances(value) == {"g1": 0, "g2": 60}
    assert (value.overage, value.usage) == (0, 90)


# --------------------------------------------------------------------------------------------------------
# Anchors and usage periods


def test_retain_anchor_keeps_the_period_end() -> None:
    s = spec(resets=(Reset(utc(2024, 1, 15), retain_anchor=True),))
    points = [p.at for p in reset_points(s, S, utc(2024, 3, 31))]
    assert points == [utc(2024, 1, 15), utc(2024, 2, 1), utc(2024, 3, 1)]
    assert current_usage_period(s, utc(2024, 1, 20)) == Period(S, utc(2024, 2, 1))
    assert period_start_at(s, utc(2024, 1, 20)) == utc(2024, 1, 15)


def test_without_retain_anchor_the_reset_becomes_the_anchor() -> None:
    s = spec(resets=(Reset(utc(2024, 1, 15, 9, 30, 59)),))  # truncated to 09:30
    points = [p.at for p in reset_points(s, S, utc(2024, 3, 31))]
    assert points == [utc(2024, 1, 15, 9, 30), utc(2024, 2, 15, 9, 30), utc(2024, 3, 15, 9, 30)]
    assert current_usage_period(s, utc(2024, 2, 1)) == Period(
        utc(2024, 1, 15, 9, 30), utc(2024, 2, 15, 9, 30)
    )
    assert period_start_at(s, utc(2024, 2, 20)) == utc(2024, 2, 15, 9, 30)


def test_retain_anchor_seen_in_the_balance() -> None:
    g = grant("g", 100, min_rollover_amount=D(100), max_rollover_amount=D(100))
    usage = Usage([(utc(2024, 1, 20), 40), (utc(2024, 2, 5), 5)])
    kept = spec(resets=(Reset(utc(2024, 1, 15), retain_anchor=True),))
    moved = spec(resets=(Reset(utc(2024, 1, 15), retain_anchor=False),))
    # Retained: Feb 1 is still a reset, so on Feb 10 the grant is full again minus 5.
    assert (
        value_at(kept, [g], usage, utc(2024, 2, 10)).balance,
        value_at(kept, [g], usage, utc(2024, 2, 10)).usage,
    ) == (
        95,
        5,
    )
    # Moved: no reset until Feb 15, so both uses count against the same period.
    value = value_at(moved, [g], usage, utc(2024, 2, 10))
    assert (value.balance, value.usage, value.period_start) == (55, 45, utc(2024, 1, 15))


def test_manual_reset_on_an_automatic_boundary_is_one_reset() -> None:
    s = spec(resets=(Reset(utc(2024, 2, 1), preserve_overage=True),))
    points = list(reset_points(s, S, utc(2024, 3, 1)))
    assert [(p.at, p.manual, p.preserve_overage) for p in points] == [
        (utc(2024, 2, 1), True, True),
        (utc(2024, 3, 1), False, False),
    ]


def test_month_end_anchor_and_leap_year() -> None:
    anchor = utc(2024, 1, 31, 12)
    s = spec(usage_period=UsagePeriod(Interval.MONTH, anchor), measure_usage_from=anchor)
    points = [p.at for p in reset_points(s, anchor, utc(2024, 6, 1))]
    assert points == [utc(2024, 2, 29, 12), utc(2024, 3, 31, 12), utc(2024, 4, 30, 12), utc(2024, 5, 31, 12)]
    g = issue_after_reset_grant(id="g", amount=D(10), effective_at=anchor)
    usage = Usage([(utc(2024, 2, 29, 11, 59), 4), (utc(2024, 2, 29, 12), 3)])
    value = value_at(s, [g], usage, utc(2024, 3, 1))
    assert (value.balance, value.usage, value.period_start) == (7, 3, utc(2024, 2, 29, 12))


def test_yearly_anchor_on_feb_29() -> None:
    anchor = utc(2024, 2, 29)
    s = spec(usage_period=UsagePeriod(Interval.YEAR, anchor), measure_usage_from=anchor)
    points = [p.at for p in reset_points(s, anchor, utc(2029, 1, 1))]
    assert points == [utc(2025, 2, 28), utc(2026, 2, 28), utc(2027, 2, 28), utc(2028, 2, 29)]


def test_anchor_in_the_future() -> None:
    s = spec(usage_period=UsagePeriod(Interval.MONTH, utc(2030, 6, 15)), measure_usage_from=S)
    assert [p.at for p in reset_points(s, S, utc(2024, 3, 1))] == [utc(2024, 1, 15), utc(2024, 2, 15)]
    assert current_usage_period(s, at(days=3)) == Period(S, utc(2024, 1, 15))  # clipped to measure_usage_from
    assert current_usage_period(s, utc(2024, 1, 20)) == Period(utc(2024, 1, 15), utc(2024, 2, 15))
    g = grant("g", 100, max_rollover_amount=D(100))
    value = value_at(s, [g], Usage([(at(days=2), 30), (utc(2024, 1, 16), 5)]), utc(2024, 1, 20))
    assert (value.balance, value.usage, value.period_start) == (65, 5, utc(2024, 1, 15))


def test_anchor_decades_in_the_past() -> None:
    s = spec(usage_period=UsagePeriod(Interval.WEEK, utc(1990, 1, 3, 8)), measure_usage_from=S)
    # 1990-01-03 was a Wednesday: weeks start Wednesdays 08:00.
    assert [p.at for p in reset_points(s, S, utc(2024, 1, 20))] == [
        utc(2024, 1, 3, 8),
        utc(2024, 1, 10, 8),
        utc(2024, 1, 17, 8),
    ]
    assert current_usage_period(s, S) == Period(S, utc(2024, 1, 3, 8))
    assert period_start_at(s, utc(2024, 1, 5)) == utc(2024, 1, 3, 8)


def test_measure_usage_from_inside_a_period_before_the_anchor() -> None:
    # Anchor 2024-03-10, measured from 2024-01-20: periods -2 and -1 (negative) still reset automatically.
    s = spec(usage_period=UsagePeriod(Interval.MONTH, utc(2024, 3, 10)), measure_usage_from=utc(2024, 1, 20))
    assert [p.at for p in reset_points(s, S, utc(2024, 4, 1))] == [utc(2024, 2, 10), utc(2024, 3, 10)]
    assert current_usage_period(s, utc(2024, 1, 25)) == Period(utc(2024, 1, 20), utc(2024, 2, 10))


def test_usage_before_measure_usage_from_never_counts() -> None:
    s = spec(measure_usage_from=at(hours=2))
    g = grant("g", 100)
    usage = Usage([(at(hours=1), 50), (at(hours=3), 10)])
    value = value_at(s, [g], usage, at(hours=4))
    assert (value.balance, value.usage) == (90, 10)
    assert all(a >= at(hours=2) for a, _ in usage.calls)
    before = value_at(s, [g], usage, at(hours=1))
    assert (before.balance, before.usage, before.overage) == (100, 0, 0)


# --------------------------------------------------------------------------------------------------------
# Instants, decimals, calls


def test_value_at_a_past_instant_across_a_later_reset() -> None:
    g = grant("g", 100, max_rollover_amount=D(100))
    s = spec(resets=(Reset(at(days=10)),))
    usage = Usage([(at(days=1), 10), (at(days=5), 20), (at(days=11), 5)])
    assert (value_at(s, [g], usage, at(days=3)).balance, value_at(s, [g], usage, at(days=3)).usage) == (
        90,
        10,
    )
    past = value_at(s, [g], usage, at(days=9))
    assert (past.balance, past.usage, past.period_start) == (70, 30, S)
    now = value_at(s, [g], usage, at(days=12))
    assert (now.balance, now.usage, now.period_start) == (65, 5, at(days=10))


def test_value_instant_is_rounded_up_to_the_minute() -> None:
    g = grant("g", 10)
    usage = Usage([(at(minutes=7, seconds=30), 4)])  # acknowledged a moment ago
    value = value_at(spec(), [g], usage, at(minutes=7, seconds=40))
    assert value.at == at(minutes=8)
    assert (value.balance, value.usage) == (6, 4)
    assert value_instant(at(minutes=8)) == at(minutes=8)


def test_decimal_exactness() -> None:
    g = grant("g", "0.3")
    usage = Usage([(at(minutes=1), "0.1"), (at(hours=2), "0.2")])
    s = spec(resets=(Reset(at(hours=1), preserve_overage=True),))
    g = replace(g, min_rollover_amount=D("0.2"), max_rollover_amount=D("0.2"))
    value = value_at(s, [g], usage, at(hours=3))
    assert (value.balance, value.overage, value.has_access) == (0, 0, False)
    plain = value_at(spec(), [grant("g", "0.3")], usage, at(hours=3))
    assert (plain.balance, plain.overage, plain.usage) == (Decimal("0.0"), 0, Decimal("0.3"))
    assert isinstance(plain.balance, Decimal)


def test_usage_function_is_called_once_per_segment_on_whole_minutes() -> None:
    grants = [grant("a", 10, effective_at=at(minutes=10, seconds=20)), grant("b", 10, expires_at=at(hours=1))]
    usage = Usage()
    _, segments = run(spec(), grants, usage, initial_state(spec(), grants), at(hours=2))
    assert usage.calls == [(s.start, s.end) for s in segments]
    assert usage.calls == [(S, at(minutes=10)), (at(minutes=10), at(hours=1)), (at(hours=1), at(hours=2))]


def test_negative_usage_counts_in_usage_but_burns_nothing() -> None:
    # A SUM meter can go down. A segment whose net usage is below zero burns nothing (no refunds).
    usage = Usage([(at(minutes=1), 3), (at(hours=1), -5), (at(hours=3), 4)])
    grants = [grant("g", 10), grant("h", 10, priority=2, effective_at=at(hours=2))]
    value = value_at(spec(), grants, usage, at(hours=4))
    assert balances(value) == {"g": 6, "h": 10}
    assert value.usage == 2


def test_segments_record_per_grant_balances_and_usage() -> None:
    grants = [grant("a", 50, priority=1), grant("b", 50, priority=2, effective_at=at(hours=1))]
    usage = Usage([(at(minutes=5), 30), (at(hours=1, minutes=5), 40)])
    _, segments = run(spec(), grants, usage, initial_state(spec(), grants), at(hours=2))
    first, second = segments
    assert (first.usage, first.balance_at_start, first.balance_at_end) == (30, 50, 20)
    assert dict(first.grant_usages) == {"a": 30}
    assert dict(second.grant_balances_at_start) == {"a": 20, "b": 50}
    assert dict(second.grant_usages) == {"a": 20, "b": 20}
    assert dict(second.grant_balances_at_end) == {"a": 0, "b": 30}
    assert (second.overage_at_start, second.overage) == (0, 0)


# --------------------------------------------------------------------------------------------------------
# Snapshots


def test_resuming_from_a_snapshot_equals_full_replay() -> None:
    grants = [
        issue_after_reset_grant(id="iar", amount=D(100), effective_at=S),
        grant("rec", 30, priority=2, recurrence=Recurrence(Interval.WEEK, S)),
        grant("late", 500, priority=3, effective_at=utc(2024, 2, 10)),
    ]
    s = spec(resets=(Reset(utc(2024, 2, 20), retain_anchor=False, preserve_overage=True),))
    usage = Usage([(S + timedelta(hours=h * 13), 9) for h in range(200)])
    full = state_at(s, grants, usage, utc(2024, 4, 1))
    for k in (utc(2024, 1, 1), utc(2024, 2, 1), utc(2024, 2, 10), utc(2024, 2, 20), utc(2024, 3, 3, 3, 3)):
        snapshot = state_at(s, grants, usage, k)
        assert snapshot.period_start == period_start_at(s, k)
        assert state_at(s, grants, usage, utc(2024, 4, 1), snapshot=snapshot) == full


def test_a_snapshot_that_misses_a_grant_is_stale() -> None:
    g1 = grant("g1", 100)
    snapshot = state_at(spec(), [g1], Usage(), at(days=2))
    g2 = grant("g2", 100, effective_at=at(days=1))  # created later, effective before the snapshot
    with pytest.raises(StaleSnapshot):
        value_at(spec(), [g1, g2], Usage(), at(days=3), snapshot=snapshot)
    voided = replace(g1, voided_at=at(days=1))
    with pytest.raises(StaleSnapshot):
        value_at(spec(), [voided], Usage(), at(days=3), snapshot=snapshot)


def test_a_snapshot_after_the_instant_is_refused() -> None:
    snapshot = BalanceState(at(days=2), {}, D(0), D(0), S)
    with pytest.raises(ValueError, match="after"):
        value_at(spec(), [], Usage(), at(days=1), snapshot=snapshot)


# --------------------------------------------------------------------------------------------------------
# History


def test_history_windows_and_burndown() -> None:
    # OpenMeter's "Should return windowed history", with true balances at each window start.
    grants = [
        grant("g1", 10000, created_at=S),
        grant("g2", 10000, effective_at=at(hours=3)),
        grant("g3", 10000, effective_at=at(hours=5, minutes=30)),
    ]
    usage = Usage(
        [
            (at(minutes=1), 100),
            (at(hours=2, minutes=1), 100),
            (at(hours=3, minutes=1), 100),
            (at(hours=5, minutes=1), 100),
            (at(hours=8, minutes=1), 1100),
            (at(hours=12) - timedelta(seconds=1), 100),
        ]
    )
    s = spec(usage_period=UsagePeriod(Interval.DAY, S))
    edges = [at(hours=h) for h in range(1, 12)]
    result = history(s, grants, usage, S, at(hours=12), edges)
    starts = [int(w.balance_at_start) for w in result.windows]
    assert starts == [10000, 9900, 9900, 19800, 19700, 19700, 29600, 29600, 29600, 28500, 28500, 28500]
    assert [int(w.usage) for w in result.windows] == [100, 0, 100, 100, 0, 100, 0, 0, 1100, 0, 0, 100]
    assert [(b.start, b.end) for b in result.segments] == [
        (S, at(hours=3)),
        (at(hours=3), at(hours=5, minutes=30)),
        (at(hours=5, minutes=30), at(hours=12)),
    ]
    last = result.segments[-1]
    assert (last.usage, last.balance_at_start, last.balance_at_end) == (1200, 29600, 28400)
    assert dict(last.grant_usages) == {"g1": 1200, "g2": 0, "g3": 0}
    assert result.end_state.balance == 28400


def test_history_clips_windows_and_splits_burndown_at_resets() -> None:
    g = issue_after_reset_grant(id="g", amount=D(10), effective_at=S)
    s = spec(usage_period=UsagePeriod(Interval.DAY, S))
    usage = Usage([(at(hours=20), 4), (at(days=1, hours=1), 7)])
    # Windows aligned to 18:30 UTC (local midnight at +05:30), range starting mid-window.
    edges = [at(hours=-5, minutes=-30), at(hours=18, minutes=30), at(days=1, hours=18, minutes=30)]
    result = history(s, [g], usage, at(hours=12), at(days=1, hours=12), edges)
    assert [(w.start, w.end, int(w.usage), int(w.balance_at_start)) for w in result.windows] == [
        (at(hours=12), at(hours=18, minutes=30), 0, 10),
        (at(hours=18, minutes=30), at(days=1, hours=12), 11, 10),
    ]
    assert [(b.start, b.end, int(b.usage), int(b.balance_at_end)) for b in result.segments] == [
        (at(hours=12), at(days=1), 4, 6),
        (at(days=1), at(days=1, hours=12), 7, 3),
    ]


def test_history_rejects_bad_ranges() -> None:
    s = spec(measure_usage_from=at(hours=1))
    for start, end, field in [
        (S, at(hours=2), "from"),
        (at(hours=2), at(hours=2), "from"),
        (at(hours=1, seconds=1), at(hours=2), "from"),
        (at(hours=1), at(hours=2, seconds=1), "to"),
    ]:
        with pytest.raises(InvalidArgument) as err:
            history(s, [], Usage(), start, end)
        assert err.value.violations[0].field == field


# --------------------------------------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": D(0)}, "amount"),
        ({"amount": D(-1)}, "amount"),
        ({"min_rollover_amount": D(5), "max_rollover_amount": D(4)}, "min_rollover_amount"),
        ({"max_rollover_amount": D(-1)}, "max_rollover_amount"),
        ({"expires_at": S}, "expiration"),
    ],
)
def test_grant_validation(fields: dict[str, Any], field: str) -> None:
    base: dict[str, Any] = {"id": "g", "amount": D(1), "effective_at": S, "expires_at": YEAR_LATER}
    with pytest.raises(InvalidArgument) as err:
        Grant(**{**base, **fields})
    assert err.value.violations[0].field == field


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        Grant(id="g", amount=0.3, effective_at=S, expires_at=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        value_at(spec(), [grant("g", 1)], lambda a, b: 0.1, at(hours=1))  # type: ignore[arg-type,return-value]


def test_grant_times_are_truncated_to_the_minute() -> None:
    g = Grant(
        id="g",
        amount=D(1),
        effective_at=at(minutes=3, seconds=59),
        expires_at=at(hours=1, seconds=30),
        voided_at=at(minutes=30, microseconds=5),
        recurrence=Recurrence(Interval.DAY, at(seconds=10)),
    )
    assert (g.effective_at, g.expires_at, g.voided_at) == (at(minutes=3), at(hours=1), at(minutes=30))
    assert g.recurrence is not None and g.recurrence.anchor == S
    assert g.created_at == at(minutes=3)


def test_two_resets_in_one_minute_are_refused() -> None:
    with pytest.raises(InvalidArgument):
        spec(resets=(Reset(at(hours=1, seconds=5)), Reset(at(hours=1, seconds=50))))
    assert spec(resets=(Reset(at(hours=2)), Reset(at(hours=1)))).resets[0].at == at(hours=1)
