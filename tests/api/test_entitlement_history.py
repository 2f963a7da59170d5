"""GetEntitlementHistory through the real server and client: windowed usage with the balance at each window's
start, burn-down segments with per-grant maps, window alignment in a time zone, defaults, and refusals."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from entitlement_support import dt
from support import Clock
from test_entitlement_values import START, grant, metered, usage, with_feature

from meterd.client import (
    AsyncOpenMeter,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    OpenMeter,
    WindowSize,
)
from meterd.server.app import MeterdServer

DAY = timedelta(days=1)


@pytest.fixture
def om(clocked_om: OpenMeter, clock: Clock) -> OpenMeter:
    """A clocked server at START with the tokens_total SUM meter and the ai_tokens feature on it."""
    return with_feature(clocked_om, clock)


def test_worked_example_history(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered())
    a = s.create_entitlement_grant("customer-1", "ai_tokens", grant(100, priority=1))
    b = s.create_entitlement_grant(
        "customer-1", "ai_tokens", grant(50, priority=2, expiration={"duration": "DAY", "count": 10})
    )
    for day in range(6):
        usage(om, START + timedelta(days=day, hours=3), 20)
    usage(om, START + 11 * DAY, 5)
    clock.set(START + 12 * DAY)

    history = s.get_entitlement_history("customer-1", "ai_tokens", window_size=WindowSize.DAY)
    rows = [(dt(r.from_time), dt(r.to_time), r.usage, r.balance_at_start) for r in history.windowed_history]
    assert len(rows) == 12
    assert rows[0] == (START, START + DAY, 20, 150)
    assert rows[5] == (START + 5 * DAY, START + 6 * DAY, 20, 50)
    assert rows[9] == (START + 9 * DAY, START + 10 * DAY, 0, 30)
    assert rows[10] == (START + 10 * DAY, START + 11 * DAY, 0, 0)  # B expired
    assert rows[11] == (START + 11 * DAY, START + 12 * DAY, 5, 0)

    first, second = history.burndown_history
    assert (dt(first.from_time), dt(first.to_time)) == (START, START + 10 * DAY)
    assert (first.usage, first.overage, first.balance_at_start, first.balance_at_end) == (120, 0, 150, 30)
    assert dict(first.grant_balances_at_start) == {a.id: 100, b.id: 50}
    assert dict(first.grant_balances_at_end) == {a.id: 0, b.id: 30}
    assert dict(first.grant_usage) == {a.id: 100, b.id: 20}
    assert (dt(second.from_time), dt(second.to_time)) == (START + 10 * DAY, START + 12 * DAY)
    assert (second.usage, second.overage, second.balance_at_start, second.balance_at_end) == (5, 5, 0, 0)
    assert dict(second.grant_balances_at_start) == {a.id: 0}

    # A range inside: the balance at its start is the true one.
    part = s.get_entitlement_history(
        "customer-1",
        "ai_tokens",
        from_=START + 2 * DAY + timedelta(hours=12),
        to=START + 4 * DAY,
        window_size="day",
    )
    assert [(dt(r.from_time), r.usage, r.balance_at_start) for r in part.windowed_history] == [
        (START + 2 * DAY + timedelta(hours=12), 0, 90),
        (START + 3 * DAY, 20, 90),
    ]


def test_segments_report_balances_before_owed_overage_is_paid(om: OpenMeter, clock: Clock) -> None:
    # OpenMeter's engine test: 25 used before the grant exists is owed; when the grant of 100 becomes active
    # at START + 1 day its segment starts at 100 with 25 owed, then 25 more usage: 100 - 25 - 25 = 50 left.
    s = om.subjects
    s.create_entitlement("customer-1", metered(usagePeriod={"interval": "MONTH", "anchor": START}))
    g = s.create_entitlement_grant("customer-1", "ai_tokens", grant(100, effectiveAt=START + DAY))
    usage(om, START + timedelta(hours=23), 25)
    usage(om, START + DAY + timedelta(hours=1), 25)
    clock.set(START + 2 * DAY)

    history = s.get_entitlement_history("customer-1", "ai_tokens", window_size=WindowSize.DAY)
    before, after = history.burndown_history
    assert (dt(before.from_time), dt(before.to_time)) == (START, START + DAY)
    assert (before.usage, before.overage_at_start, before.overage, before.balance_at_start) == (25, 0, 25, 0)
    assert (dt(after.from_time), dt(after.to_time)) == (START + DAY, START + 2 * DAY)
    assert (after.usage, after.overage_at_start, after.overage) == (25, 25, 0)
    assert (after.balance_at_start, after.balance_at_end) == (100, 50)
    assert dict(after.grant_balances_at_start) == {g.id: 100}  # before the 25 owed is paid
    assert dict(after.grant_usage) == {g.id: 50}  # the 25 owed and the 25 used
    # Windows report the true balance at their start: 100 - 25 owed.
    assert [(r.usage, r.balance_at_start) for r in history.windowed_history] == [(25, 0), (25, 75)]
    assert s.get_entitlement_value("customer-1", "ai_tokens").balance == 50

    # A range starting exactly at the activation still reports the balance before the payment.
    [only] = s.get_entitlement_history(
        "customer-1", "ai_tokens", from_=START + DAY, to=START + 2 * DAY, window_size=WindowSize.HOUR
    ).burndown_history
    assert (only.balance_at_start, only.overage_at_start, only.balance_at_end) == (100, 25, 50)


def test_month_windows_in_a_time_zone(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered(usagePeriod={"interval": "YEAR"}))
    s.create_entitlement_grant("customer-1", "ai_tokens", grant(1000))
    usage(om, datetime(2024, 1, 31, 22, 30, tzinfo=UTC), 10)  # January in Budapest (UTC+1)
    usage(om, datetime(2024, 1, 31, 23, 30, tzinfo=UTC), 20)  # already February there
    usage(om, datetime(2024, 3, 31, 21, 59, tzinfo=UTC), 40)  # March (UTC+2 since Mar 31 01:00 UTC)
    usage(om, datetime(2024, 3, 31, 22, 0, tzinfo=UTC), 80)  # April
    clock.set(datetime(2024, 5, 1, tzinfo=UTC))
    history = s.get_entitlement_history(
        "customer-1", "ai_tokens", window_size="MONTH", window_time_zone="Europe/Budapest"
    )
    rows = [(dt(r.from_time), dt(r.to_time), r.usage, r.balance_at_start) for r in history.windowed_history]
    assert rows == [
        (START, datetime(2024, 1, 31, 23, tzinfo=UTC), 10, 1000),
        (datetime(2024, 1, 31, 23, tzinfo=UTC), datetime(2024, 2, 29, 23, tzinfo=UTC), 20, 990),
        (datetime(2024, 2, 29, 23, tzinfo=UTC), datetime(2024, 3, 31, 22, tzinfo=UTC), 40, 970),
        (datetime(2024, 3, 31, 22, tzinfo=UTC), datetime(2024, 4, 30, 22, tzinfo=UTC), 80, 930),
        (datetime(2024, 4, 30, 22, tzinfo=UTC), datetime(2024, 5, 1, tzinfo=UTC), 0, 850),
    ]
    # Window edges do not split burn-down segments: nothing happened to the grants.
    [segment] = history.burndown_history
    assert (segment.usage, segment.balance_at_end) == (150, 850)


def test_hour_windows_in_a_half_hour_zone(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered())
    s.create_entitlement_grant("customer-1", "ai_tokens", grant(100))
    usage(om, START + timedelta(minutes=10), 1)
    usage(om, START + timedelta(minutes=40), 2)
    clock.set(START + timedelta(hours=2))
    history = s.get_entitlement_history(
        "customer-1", "ai_tokens", window_size="HOUR", window_time_zone="Asia/Kolkata"
    )
    rows = [(dt(r.from_time), r.usage, r.balance_at_start) for r in history.windowed_history]
    assert rows == [
        (START, 1, 100),
        (START + timedelta(minutes=30), 2, 99),
        (START + timedelta(minutes=90), 0, 97),
    ]


def test_history_across_a_reset(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered(usagePeriod={"interval": "DAY"}, issueAfterReset=10))
    usage(om, START + timedelta(hours=1), 4)
    usage(om, START + timedelta(hours=25), 12)
    clock.set(START + 2 * DAY)
    history = s.get_entitlement_history("customer-1", "ai_tokens", from_=START, window_size="DAY")
    rows = [(r.usage, r.balance_at_start) for r in history.windowed_history]
    assert rows == [(4, 10), (12, 10)]
    segments = [(dt(x.from_time), x.usage, x.overage, x.balance_at_end) for x in history.burndown_history]
    assert segments == [(START, 4, 0, 6), (START + DAY, 12, 2, 0)]
    # Default from: the start of the period holding the last minute before now (yesterday's, at midnight).
    today = s.get_entitlement_history("customer-1", "ai_tokens", window_size="HOUR")
    assert dt(today.windowed_history[0].from_time) == START + DAY
    assert len(today.windowed_history) == 24
    clock.set(START + 2 * DAY + timedelta(hours=2, seconds=1))
    today = s.get_entitlement_history("customer-1", "ai_tokens", window_size="HOUR")
    assert [(dt(r.from_time), r.balance_at_start) for r in today.windowed_history] == [
        (START + 2 * DAY, 10),
        (START + 2 * DAY + timedelta(hours=1), 10),
        (START + 2 * DAY + timedelta(hours=2), 10),
    ]


def test_refusals(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    clock.set(START + DAY)
    s.create_entitlement("customer-1", metered(measureUsageFrom=START + DAY))
    om.features.create({"key": "sso", "name": "SSO"})
    s.create_entitlement("customer-1", {"type": "boolean", "featureKey": "sso"})
    clock.set(START + 3 * DAY)
    h = s.get_entitlement_history
    with pytest.raises(InvalidArgumentError, match="from_time"):
        h("customer-1", "ai_tokens", from_=START + 2 * DAY, to=START + 2 * DAY, window_size="DAY")
    with pytest.raises(InvalidArgumentError, match="from_time"):
        h("customer-1", "ai_tokens", from_=START + 2 * DAY, to=START + DAY, window_size="DAY")
    with pytest.raises(InvalidArgumentError, match="from_time"):
        h("customer-1", "ai_tokens", from_=START, window_size="DAY")  # before measure_usage_from
    with pytest.raises(InvalidArgumentError, match="from_time"):
        h("customer-1", "ai_tokens", from_=START + 2 * DAY + timedelta(seconds=3), window_size="DAY")
    with pytest.raises(InvalidArgumentError, match="window_size"):
        h("customer-1", "ai_tokens", window_size="MINUTE")
    with pytest.raises(InvalidArgumentError, match="window_time_zone"):
        h("customer-1", "ai_tokens", window_size="DAY", window_time_zone="Mars/Olympus")
    with pytest.raises(NotFoundError):
        h("customer-1", "no-such", window_size="DAY")
    with pytest.raises(FailedPreconditionError):
        h("customer-1", "sso", window_size="DAY")
    with pytest.raises(InvalidArgumentError):
        h("customer-1", "ai_tokens", window_size="WEEK")  # refused by the client before sending


def test_async_history(om: OpenMeter, clock: Clock, clocked_server: MeterdServer) -> None:
    om.subjects.create_entitlement("customer-1", metered())
    om.subjects.create_entitlement_grant("customer-1", "ai_tokens", grant(100))
    usage(om, START + timedelta(minutes=5), 3)
    clock.set(START + timedelta(hours=3))

    async def main() -> list[tuple[float, float]]:
        async with AsyncOpenMeter(clocked_server.address, timeout=30) as aom:
            history = await aom.subjects.get_entitlement_history(
                "customer-1", "ai_tokens", window_size="HOUR"
            )
            return [(r.usage, r.balance_at_start) for r in history.windowed_history]

    assert asyncio.run(main()) == [(3, 100), (0, 97), (0, 97)]
