"""Metered entitlement values through the real server and client: SPEC's worked example end to end, burn
order, soft limits, issue-after-reset across automatic period boundaries, values at past instants, late events
after a balance snapshot, exact decimal burning, and refusals."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from entitlement_support import create_meter
from support import Clock

from meterd.client import AsyncOpenMeter, InvalidArgumentError, NotFoundError, OpenMeter
from meterd.server.app import MeterdServer

START = datetime(2024, 1, 1, tzinfo=UTC)
_ids = itertools.count()


def usage(om: OpenMeter, at: datetime, tokens: float | str, subject: str = "customer-1", **data: Any) -> None:
    """Ingests one tokens event (acknowledged = durable and counted)."""
    om.events.ingest(
        {
            "specversion": "1.0",
            "id": f"ev-{next(_ids)}",
            "source": "test",
            "type": "tokens",
            "subject": subject,
            "time": at,
            "data": {"tokens": tokens, **data},
        }
    )


def metered(**overrides: Any) -> dict[str, Any]:
    entitlement: dict[str, Any] = {
        "type": "metered",
        "featureKey": "ai_tokens",
        "usagePeriod": {"interval": "MONTH"},
    }
    entitlement.update(overrides)
    return entitlement


def grant(amount: float, **overrides: Any) -> dict[str, Any]:
    g: dict[str, Any] = {
        "amount": amount,
        "effectiveAt": START,
        "expiration": {"duration": "YEAR", "count": 1},
    }
    g.update(overrides)
    return g


def with_feature(clocked_om: OpenMeter, clock: Clock) -> OpenMeter:
    """The clock at START, the tokens_total SUM meter and the ai_tokens feature on it."""
    clock.set(START)
    create_meter(clocked_om)
    clocked_om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
    return clocked_om


@pytest.fixture
def om(clocked_om: OpenMeter, clock: Clock) -> OpenMeter:
    """A clocked server at START with the tokens_total SUM meter and the ai_tokens feature on it."""
    return with_feature(clocked_om, clock)


def value_tuple(
    om: OpenMeter, at: datetime | None = None, subject: str = "customer-1"
) -> tuple[bool, float, float, float]:
    v = om.subjects.get_entitlement_value(subject, "ai_tokens", at)
    return v.has_access, v.balance, v.usage, v.overage


@pytest.mark.parametrize("soft", [False, True])
def test_spec_worked_example(om: OpenMeter, clock: Clock, soft: bool) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered(isSoftLimit=soft))
    s.create_entitlement_grant("customer-1", "ai_tokens", grant(100, priority=1))
    s.create_entitlement_grant(
        "customer-1", "ai_tokens", grant(50, priority=2, expiration={"duration": "DAY", "count": 10})
    )
    assert value_tuple(om) == (True, 150, 0, 0)

    for day in range(6):  # 120 in the first week
        usage(om, START + timedelta(days=day, hours=3), 20)
    clock.set(START + timedelta(days=7))
    assert value_tuple(om) == (True, 30, 120, 0)  # A 0, B 30

    clock.set(START + timedelta(days=10))
    assert value_tuple(om) == (soft, 0, 120, 0)  # B expired with 30 left

    usage(om, START + timedelta(days=11), 5)
    clock.set(START + timedelta(days=12))
    assert value_tuple(om) == (soft, 0, 125, 5)

    # The same numbers at past instants, now that the server holds snapshots.
    assert value_tuple(om, START + timedelta(days=7)) == (True, 30, 120, 0)
    assert value_tuple(om, START + timedelta(days=9, hours=23)) == (True, 30, 120, 0)
    assert value_tuple(om, START + timedelta(days=3, seconds=1)) == (True, 150 - 60, 60, 0)


def test_priority_then_expiry_order(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered())
    late_expiry = s.create_entitlement_grant("customer-1", "ai_tokens", grant(100, priority=5))
    early_expiry = s.create_entitlement_grant(
        "customer-1", "ai_tokens", grant(100, priority=5, expiration={"duration": "DAY", "count": 20})
    )
    first = s.create_entitlement_grant("customer-1", "ai_tokens", grant(100, priority=2))
    usage(om, START + timedelta(hours=1), 150)
    clock.set(START + timedelta(hours=2))
    history = s.get_entitlement_history("customer-1", "ai_tokens", window_size="DAY")
    [segment] = history.burndown_history
    assert dict(segment.grant_usage) == {first.id: 100, early_expiry.id: 50, late_expiry.id: 0}
    assert dict(segment.grant_balances_at_end) == {first.id: 0, early_expiry.id: 50, late_expiry.id: 100}
    assert value_tuple(om) == (True, 150, 150, 0)


def test_issue_after_reset_refills_at_every_period_boundary(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered(usagePeriod={"interval": "DAY"}, issueAfterReset=10))
    usage(om, START + timedelta(hours=5), 4)
    clock.set(START + timedelta(hours=12))
    assert value_tuple(om) == (True, 6, 4, 0)
    usage(om, START + timedelta(hours=13), 9)  # 3 over
    clock.set(START + timedelta(hours=20))
    assert value_tuple(om) == (False, 0, 13, 3)
    # Midnight: an automatic reset; the grant comes back to 10, usage and overage restart.
    clock.set(START + timedelta(days=1, minutes=1))
    assert value_tuple(om) == (True, 10, 0, 0)
    usage(om, START + timedelta(days=2, hours=1), 7)
    clock.set(START + timedelta(days=2, hours=2))
    assert value_tuple(om) == (True, 3, 7, 0)
    assert value_tuple(om, START + timedelta(hours=20)) == (False, 0, 13, 3)
    entitlement = s.get_entitlement("customer-1", "ai_tokens")
    assert entitlement.metered.current_usage_period.from_time == START + timedelta(days=2)


def test_preserved_overage_carries_into_the_next_period(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered(usagePeriod={"interval": "DAY"}, preserveOverageAtReset=True))
    s.create_entitlement_grant(
        "customer-1",
        "ai_tokens",
        grant(10, recurrence={"interval": "DAY"}, expiration={"duration": "DAY", "count": 5}),
    )
    usage(om, START + timedelta(hours=3), 14)
    clock.set(START + timedelta(days=1, hours=1))
    # Recurrence refills 10 at midnight, the reset carries the 4 of overage, which burns from it.
    assert value_tuple(om) == (True, 6, 0, 0)


def test_a_new_grant_pays_off_overage(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered())
    usage(om, START + timedelta(hours=1), 30)
    clock.set(START + timedelta(hours=2))
    assert value_tuple(om) == (False, 0, 30, 30)
    s.create_entitlement_grant("customer-1", "ai_tokens", grant(100, effectiveAt=START + timedelta(hours=2)))
    assert value_tuple(om) == (True, 70, 30, 0)


def test_decimal_usage_burns_exactly(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered())
    s.create_entitlement_grant("customer-1", "ai_tokens", grant(0.3))
    usage(om, START + timedelta(minutes=1), "0.1")
    usage(om, START + timedelta(minutes=2), 0.2)
    clock.set(START + timedelta(hours=1))
    has_access, balance, used, overage = value_tuple(om)
    assert (has_access, balance, overage) == (False, 0, 0)  # 0.1 + 0.2 in binary would leave 5.5e-17
    assert used == pytest.approx(0.3)


def test_group_by_filters_and_other_subjects_do_not_count(om: OpenMeter, clock: Clock) -> None:
    om.features.create(
        {
            "key": "gpt4",
            "name": "GPT-4",
            "meterSlug": "tokens_total",
            "meterGroupByFilters": {"model": "gpt-4"},
        }
    )
    s = om.subjects
    s.create_entitlement("customer-1", {**metered(), "featureKey": "gpt4"})
    s.create_entitlement_grant("customer-1", "gpt4", grant(100))
    usage(om, START + timedelta(minutes=5), 10, model="gpt-4")
    usage(om, START + timedelta(minutes=5), 20, model="gpt-3")
    usage(om, START + timedelta(minutes=5), 40, model="gpt-4", subject="customer-2")
    clock.set(START + timedelta(hours=1))
    v = s.get_entitlement_value("customer-1", "gpt4")
    assert (v.balance, v.usage) == (90, 10)


def test_value_reads_up_to_the_next_minute(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered())
    s.create_entitlement_grant("customer-1", "ai_tokens", grant(100))
    clock.set(START + timedelta(hours=1, seconds=10))
    usage(om, START + timedelta(hours=1, seconds=5), 7)  # acknowledged a moment ago: it counts
    assert value_tuple(om) == (True, 93, 7, 0)
    assert value_tuple(om, START + timedelta(hours=1)) == (
        True,
        100,
        0,
        0,
    )  # a whole minute: events before it
    assert value_tuple(om, START + timedelta(hours=1, microseconds=1)) == (True, 93, 7, 0)


def test_late_event_invalidates_the_snapshot(
    om: OpenMeter, clock: Clock, clocked_server: MeterdServer
) -> None:
    s = om.subjects
    e = s.create_entitlement("customer-1", metered())
    s.create_entitlement_grant("customer-1", "ai_tokens", grant(100))
    usage(om, START + timedelta(days=1), 10)
    clock.set(START + timedelta(days=3))
    assert value_tuple(om) == (True, 90, 10, 0)
    snapshots = clocked_server.stores.snapshots
    wait_for(lambda: snapshots.count(e.id) > 0)
    latest = snapshots.latest(e.id, START + timedelta(days=3))
    assert latest is not None and latest.at > START + timedelta(days=2)

    usage(om, START + timedelta(days=2), 25)  # two days late: before the snapshot, which is gone now
    assert snapshots.latest(e.id, START + timedelta(days=3)) is None
    assert value_tuple(om) == (True, 65, 35, 0)
    # A new snapshot is saved; an on-time event leaves it alone (none is later than an hour before now).
    wait_for(lambda: snapshots.latest(e.id, clock()) is not None)
    kept = snapshots.latest(e.id, clock())
    assert kept.balances and sum(kept.balances.values()) == 65
    usage(om, clock() - timedelta(minutes=1), 5)
    assert snapshots.latest(e.id, clock()) == kept
    assert value_tuple(om) == (True, 60, 40, 0)


def wait_for(condition: Any, deadline_s: float = 10.0) -> None:
    """Snapshots are written after the answer: wait for the writer thread, with a deadline."""
    import time

    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_refusals(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    clock.set(START + timedelta(days=1))
    s.create_entitlement("customer-1", metered())
    with pytest.raises(InvalidArgumentError) as info:
        s.get_entitlement_value("customer-1", "ai_tokens", START + timedelta(hours=23))
    assert "time" in str(info.value)
    with pytest.raises(NotFoundError):
        s.get_entitlement_value("customer-1", "no-such")
    with pytest.raises(NotFoundError):
        s.get_entitlement_value("customer-2", "ai_tokens")


def test_async_value(om: OpenMeter, clock: Clock, clocked_server: MeterdServer) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered())
    s.create_entitlement_grant("customer-1", "ai_tokens", grant(100))
    usage(om, START + timedelta(minutes=3), 12)
    clock.set(START + timedelta(hours=1))

    async def main() -> tuple[float, float]:
        async with AsyncOpenMeter(clocked_server.address, timeout=30) as aom:
            v = await aom.subjects.get_entitlement_value("customer-1", "ai_tokens")
            return v.balance, v.usage

    assert asyncio.run(main()) == (88, 12)
