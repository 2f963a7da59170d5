"""ResetEntitlementUsage through the real server and client: rollover, the anchor retained or moved, preserved
overage (the entitlement's setting and the per-reset override), values on both sides of a reset, and refusals."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from entitlement_support import dt
from support import Clock
from test_entitlement_values import START, grant, metered, usage, value_tuple, wait_for, with_feature

from meterd.client import (
    AsyncOpenMeter,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    OpenMeter,
)
from meterd.server.app import MeterdServer

DAY = timedelta(days=1)


@pytest.fixture
def om(clocked_om: OpenMeter, clock: Clock) -> OpenMeter:
    """A clocked server at START with the tokens_total SUM meter and the ai_tokens feature on it."""
    return with_feature(clocked_om, clock)


def test_reset_rolls_grants_over_and_moves_the_anchor(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered())
    s.create_entitlement_grant("customer-1", "ai_tokens", grant(100, maxRolloverAmount=20))
    s.create_entitlement_grant("customer-1", "ai_tokens", grant(50, priority=2, maxRolloverAmount=50))
    usage(om, START + DAY, 70)
    clock.set(START + 5 * DAY + timedelta(seconds=42))
    assert value_tuple(om) == (True, 80, 70, 0)

    updated = s.reset_entitlement_usage("customer-1", "ai_tokens")
    reset_at = START + 5 * DAY  # now, truncated to the minute
    assert dt(updated.metered.last_reset) == reset_at
    assert dt(updated.metered.usage_period.anchor) == reset_at
    assert (
        dt(updated.metered.current_usage_period.from_time),
        dt(updated.metered.current_usage_period.to_time),
    ) == (reset_at, datetime(2024, 2, 6, tzinfo=UTC))
    assert s.get_entitlement("customer-1", "ai_tokens") == updated
    # 30 left of the first grant rolls over as 20; the second keeps its 50.
    assert value_tuple(om) == (True, 70, 0, 0)
    usage(om, START + 6 * DAY, 25)
    clock.set(START + 7 * DAY)
    assert value_tuple(om) == (True, 45, 25, 0)
    # Before the reset nothing changed.
    assert value_tuple(om, START + 4 * DAY) == (True, 80, 70, 0)
    # The next automatic reset follows the new anchor: Feb 6, not Feb 1.
    clock.set(datetime(2024, 2, 3, tzinfo=UTC))
    assert value_tuple(om)[2] == 25
    clock.set(datetime(2024, 2, 6, 0, 1, tzinfo=UTC))
    # The first grant (burnt to 0) rolls over as 0, the second keeps its 45.
    assert value_tuple(om) == (True, 45, 0, 0)


def test_reset_with_retained_anchor_keeps_the_period(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered())
    s.create_entitlement_grant("customer-1", "ai_tokens", grant(100, maxRolloverAmount=100))
    usage(om, START + DAY, 30)
    clock.set(START + 10 * DAY)
    updated = s.reset_entitlement_usage(
        "customer-1", "ai_tokens", START + 3 * DAY + timedelta(seconds=5), retain_anchor=True
    )
    assert dt(updated.metered.last_reset) == START + 3 * DAY
    assert dt(updated.metered.usage_period.anchor) == START
    period = updated.metered.current_usage_period
    assert (dt(period.from_time), dt(period.to_time)) == (START, datetime(2024, 2, 1, tzinfo=UTC))
    usage(om, START + 4 * DAY, 5)
    assert value_tuple(om) == (True, 65, 5, 0)  # usage counts from the reset, the balance rolled over
    clock.set(datetime(2024, 2, 1, 0, 1, tzinfo=UTC))
    assert value_tuple(om) == (True, 65, 0, 0)  # the Feb 1 boundary still resets


@pytest.mark.parametrize(
    ("setting", "override", "expected"),
    [
        (False, None, (True, 10, 0, 0)),
        (True, None, (True, 5, 0, 0)),
        (False, True, (True, 5, 0, 0)),
        (True, False, (True, 10, 0, 0)),
    ],
)
def test_preserve_overage(
    om: OpenMeter,
    clock: Clock,
    setting: bool,
    override: bool | None,
    expected: tuple[bool, float, float, float],
) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered(preserveOverageAtReset=setting))
    s.create_entitlement_grant(
        "customer-1", "ai_tokens", grant(10, minRolloverAmount=10, maxRolloverAmount=10)
    )
    usage(om, START + DAY, 15)
    clock.set(START + 2 * DAY)
    assert value_tuple(om) == (False, 0, 15, 5)
    s.reset_entitlement_usage("customer-1", "ai_tokens", preserve_overage=override)
    assert value_tuple(om) == expected


def test_too_much_preserved_overage_stays_overage(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered())
    s.create_entitlement_grant(
        "customer-1", "ai_tokens", grant(10, minRolloverAmount=10, maxRolloverAmount=10)
    )
    usage(om, START + DAY, 35)
    clock.set(START + 2 * DAY)
    s.reset_entitlement_usage("customer-1", "ai_tokens", preserve_overage=True)
    assert value_tuple(om) == (False, 0, 0, 15)


def test_a_reset_in_the_past_invalidates_later_snapshots(
    om: OpenMeter, clock: Clock, clocked_server: MeterdServer
) -> None:
    s = om.subjects
    e = s.create_entitlement("customer-1", metered())
    s.create_entitlement_grant("customer-1", "ai_tokens", grant(100))
    usage(om, START + DAY, 10)
    usage(om, START + 3 * DAY, 20)
    clock.set(START + 5 * DAY)
    assert value_tuple(om) == (True, 70, 30, 0)
    snapshots = clocked_server.stores.snapshots
    wait_for(lambda: snapshots.latest(e.id, clock()) is not None)
    s.reset_entitlement_usage("customer-1", "ai_tokens", START + 2 * DAY)
    latest = snapshots.latest(e.id, clock())
    assert latest is None or latest.at < START + 2 * DAY
    assert value_tuple(om) == (False, 0, 20, 20)  # the grant rolled over as 0 at the reset


def test_refusals(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    clock.set(START + DAY)
    s.create_entitlement("customer-1", metered())
    clock.set(START + 3 * DAY)
    with pytest.raises(InvalidArgumentError, match="effective_at"):
        s.reset_entitlement_usage("customer-1", "ai_tokens", START + 3 * DAY + timedelta(seconds=1))
    with pytest.raises(InvalidArgumentError, match="effective_at"):
        s.reset_entitlement_usage("customer-1", "ai_tokens", START + DAY - timedelta(minutes=1))
    s.reset_entitlement_usage("customer-1", "ai_tokens", START + 2 * DAY)
    with pytest.raises(FailedPreconditionError, match="effective_at"):
        s.reset_entitlement_usage(
            "customer-1", "ai_tokens", START + 2 * DAY - timedelta(hours=1)
        )  # before last
    with pytest.raises(FailedPreconditionError, match="effective_at"):
        s.reset_entitlement_usage(
            "customer-1", "ai_tokens", START + 2 * DAY + timedelta(seconds=30)
        )  # same minute
    s.reset_entitlement_usage("customer-1", "ai_tokens")
    with pytest.raises(FailedPreconditionError):
        s.reset_entitlement_usage("customer-1", "ai_tokens")  # twice in the same minute
    with pytest.raises(NotFoundError):
        s.reset_entitlement_usage("customer-1", "no-such")
    om.features.create({"key": "sso", "name": "SSO"})
    s.create_entitlement("customer-1", {"type": "boolean", "featureKey": "sso"})
    with pytest.raises(FailedPreconditionError, match="metered"):
        s.reset_entitlement_usage("customer-1", "sso")


def test_async_reset(om: OpenMeter, clock: Clock, clocked_server: MeterdServer) -> None:
    om.subjects.create_entitlement("customer-1", metered())
    clock.set(START + DAY)

    async def main() -> datetime:
        async with AsyncOpenMeter(clocked_server.address, timeout=30) as aom:
            updated = await aom.subjects.reset_entitlement_usage(
                "customer-1", "ai_tokens", retain_anchor=True
            )
            return dt(updated.metered.last_reset)

    assert asyncio.run(main()) == START + DAY
