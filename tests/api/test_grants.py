"""Grants through the real server and client: creation in the SDK's shape, defaults and normalisation,
listing and ordering, voiding, and every refusal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from entitlement_support import create_meter, dt
from support import Clock

from meterd.client import (
    AsyncOpenMeter,
    ExpirationDuration,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    OpenMeter,
    PeriodInterval,
)
from meterd.server.app import MeterdServer

START = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def om(clocked_om: OpenMeter, clock: Clock) -> OpenMeter:
    """A clocked server at START with a metered entitlement (customer-1, ai_tokens, MONTH from START), a
    boolean one (customer-1, sso), and a metered one for customer-2."""
    clock.set(START)
    create_meter(clocked_om)
    clocked_om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
    clocked_om.features.create({"key": "sso", "name": "SSO"})
    s = clocked_om.subjects
    metered = {"type": "metered", "featureKey": "ai_tokens", "usagePeriod": {"interval": "MONTH"}}
    s.create_entitlement("customer-1", metered)
    s.create_entitlement("customer-2", metered)
    s.create_entitlement("customer-1", {"type": "boolean", "featureKey": "sso"})
    clock.set(START + timedelta(days=2, hours=3, seconds=17))
    return clocked_om


def grant(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "amount": 100,
        "effectiveAt": START + timedelta(days=1),
        "expiration": {"duration": "DAY", "count": 30},
    }
    base.update(overrides)
    return base


def test_create_in_the_sdk_shape(om: OpenMeter) -> None:
    s = om.subjects
    created = s.create_entitlement_grant(
        "customer-1",
        "ai_tokens",
        {
            "amount": 100,
            "priority": 1,
            "effectiveAt": "2024-01-02T10:15:42.5Z",
            "expiration": {"duration": "HOUR", "count": 12},
            "minRolloverAmount": 100,
            "maxRolloverAmount": 100,
            "recurrence": {"interval": "MONTH", "anchor": "2024-06-28T18:29:44.867Z"},
            "metadata": {"source": "promo"},
        },
    )
    entitlement = s.get_entitlement("customer-1", "ai_tokens")
    assert len(created.id) == 26 and created.entitlement_id == entitlement.id
    assert (created.subject_key, created.feature_key) == ("customer-1", "ai_tokens")
    assert created.amount == 100 and created.priority == 1
    assert dt(created.effective_at) == datetime(2024, 1, 2, 10, 15, tzinfo=UTC)  # truncated to the minute
    assert (created.expiration.duration, created.expiration.count) == (ExpirationDuration.HOUR, 12)
    assert dt(created.expires_at) == datetime(2024, 1, 2, 22, 15, tzinfo=UTC)
    assert created.min_rollover_amount == created.max_rollover_amount == 100
    assert created.recurrence.interval == PeriodInterval.MONTH
    assert dt(created.recurrence.anchor) == datetime(2024, 6, 28, 18, 29, tzinfo=UTC)
    assert dict(created.metadata) == {"source": "promo"}
    assert not created.HasField("voided_at")
    assert s.list_entitlement_grants("customer-1", entitlement.id) == [created]
    assert om.grants.list() == [created]


def test_defaults(om: OpenMeter) -> None:
    created = om.subjects.create_entitlement_grant(
        "customer-1",
        "ai_tokens",
        grant(amount=0.1, expiration={"duration": "MONTH", "count": 1}, recurrence={"interval": "WEEK"}),
    )
    assert created.HasField("priority") and created.priority == 1
    assert created.amount == 0.1
    assert created.min_rollover_amount == 0 and created.max_rollover_amount == 0
    assert dt(created.recurrence.anchor) == dt(created.effective_at)
    assert dt(created.expires_at) == datetime(2024, 2, 2, tzinfo=UTC)
    zero = om.subjects.create_entitlement_grant("customer-1", "ai_tokens", grant(priority=0))
    assert zero.priority == 0


@pytest.mark.parametrize(
    ("duration", "count", "expires"),
    [
        ("WEEK", 2, datetime(2024, 1, 16, tzinfo=UTC)),
        ("YEAR", 1, datetime(2025, 1, 2, tzinfo=UTC)),
        ("MONTH", 1, datetime(2024, 2, 2, tzinfo=UTC)),
    ],
)
def test_expires_at(om: OpenMeter, duration: str, count: int, expires: datetime) -> None:
    created = om.subjects.create_entitlement_grant(
        "customer-1", "ai_tokens", grant(expiration={"duration": duration, "count": count})
    )
    assert dt(created.expires_at) == expires


def test_month_expiration_clamps_to_the_month_end(om: OpenMeter, clock: Clock) -> None:
    clock.set(datetime(2024, 1, 31, 12, tzinfo=UTC))
    created = om.subjects.create_entitlement_grant(
        "customer-1",
        "ai_tokens",
        grant(
            effectiveAt=datetime(2024, 1, 31, 12, tzinfo=UTC), expiration={"duration": "MONTH", "count": 1}
        ),
    )
    assert dt(created.expires_at) == datetime(2024, 2, 29, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": 0}, "grant.amount"),
        ({"amount": -5}, "grant.amount"),
        ({"priority": 256}, "grant.priority"),
        ({"expiration": None}, "grant.expiration.duration"),
        ({"expiration": {"duration": "DAY", "count": 0}}, "grant.expiration.count"),
        ({"expiration": {"duration": "DAY"}}, "grant.expiration.count"),
        ({"minRolloverAmount": 10, "maxRolloverAmount": 5}, "grant.min_rollover_amount"),
        ({"maxRolloverAmount": -1}, "grant.max_rollover_amount"),
        ({"effectiveAt": None}, "grant.effective_at"),
        ({"recurrence": {"anchor": START}}, "grant.recurrence.interval"),
    ],
)
def test_invalid_grants(om: OpenMeter, overrides: dict[str, object], field: str) -> None:
    body = {k: v for k, v in grant(**overrides).items() if v is not None}
    with pytest.raises(InvalidArgumentError) as info:
        om.subjects.create_entitlement_grant("customer-1", "ai_tokens", body)
    assert field in [v.field for v in info.value.violations]
    assert om.grants.list() == []


def test_effective_at_must_not_be_before_the_current_period(om: OpenMeter, clock: Clock) -> None:
    clock.set(datetime(2024, 2, 5, tzinfo=UTC))  # the second monthly period started on Feb 1
    with pytest.raises(InvalidArgumentError) as info:
        om.subjects.create_entitlement_grant(
            "customer-1", "ai_tokens", grant(effectiveAt=datetime(2024, 1, 31, tzinfo=UTC))
        )
    assert [v.field for v in info.value.violations] == ["grant.effective_at"]
    ok = om.subjects.create_entitlement_grant(
        "customer-1", "ai_tokens", grant(effectiveAt="2024-02-01T00:00:00Z")
    )
    assert dt(ok.effective_at) == datetime(2024, 2, 1, tzinfo=UTC)
    future = om.subjects.create_entitlement_grant(
        "customer-1", "ai_tokens", grant(effectiveAt="2024-06-01T00:00:00Z")
    )
    assert dt(future.effective_at) == datetime(2024, 6, 1, tzinfo=UTC)


def test_grants_need_a_metered_entitlement(om: OpenMeter) -> None:
    with pytest.raises(FailedPreconditionError, match="metered"):
        om.subjects.create_entitlement_grant("customer-1", "sso", grant())
    with pytest.raises(NotFoundError):
        om.subjects.create_entitlement_grant("customer-1", "nope", grant())
    with pytest.raises(NotFoundError):
        om.subjects.create_entitlement_grant("nobody", "ai_tokens", grant())
    with pytest.raises(NotFoundError):
        om.subjects.list_entitlement_grants("nobody", "ai_tokens")


def test_lists_order_by_effective_time_and_filter(om: OpenMeter) -> None:
    s = om.subjects
    late = s.create_entitlement_grant("customer-1", "ai_tokens", grant(effectiveAt=START + timedelta(days=9)))
    early = s.create_entitlement_grant(
        "customer-1", "ai_tokens", grant(effectiveAt=START + timedelta(days=2))
    )
    other = s.create_entitlement_grant(
        "customer-2", "ai_tokens", grant(effectiveAt=START + timedelta(days=5))
    )
    assert [g.id for g in s.list_entitlement_grants("customer-1", "ai_tokens")] == [early.id, late.id]
    assert [g.id for g in om.grants.list()] == [early.id, other.id, late.id]
    assert [g.id for g in om.grants.list(subject="customer-2")] == [other.id]
    assert [g.id for g in om.grants.list(feature="ai_tokens", subject=["customer-1"])] == [early.id, late.id]
    assert om.grants.list(feature="sso") == []
    first = om.grants.list_page(limit=2)
    rest = om.grants.list_page(limit=2, page_token=first.next_page_token)
    assert [g.id for g in [*first.grants, *rest.grants]] == [early.id, other.id, late.id]
    assert rest.next_page_token == ""
    page = s.list_entitlement_grants_page("customer-1", "ai_tokens", limit=1)
    assert [g.id for g in page.grants] == [early.id] and page.next_page_token


def test_void(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    kept = s.create_entitlement_grant("customer-1", "ai_tokens", grant())
    voided = s.create_entitlement_grant("customer-1", "ai_tokens", grant(amount=50))
    clock.set(datetime(2024, 1, 5, 8, 30, 59, tzinfo=UTC))
    result = om.grants.void(voided.id)
    assert result.id == voided.id and dt(result.voided_at) == datetime(2024, 1, 5, 8, 30, tzinfo=UTC)
    assert [g.id for g in om.grants.list()] == [kept.id]
    assert [g.id for g in om.grants.list(include_voided=True)] == [kept.id, voided.id]
    assert [g.id for g in s.list_entitlement_grants("customer-1", "ai_tokens")] == [kept.id]
    assert [g.id for g in s.list_entitlement_grants("customer-1", "ai_tokens", include_voided=True)] == [
        kept.id,
        voided.id,
    ]
    with pytest.raises(FailedPreconditionError, match="already voided"):
        om.grants.void(voided.id)
    with pytest.raises(NotFoundError):
        om.grants.void("01HZZZZZZZZZZZZZZZZZZZZZZZ")


def test_grants_of_a_deleted_entitlement_leave_the_lists(om: OpenMeter) -> None:
    s = om.subjects
    s.create_entitlement_grant("customer-2", "ai_tokens", grant())
    s.delete_entitlement("customer-2", "ai_tokens")
    assert om.grants.list() == []
    with pytest.raises(NotFoundError):
        s.list_entitlement_grants("customer-2", "ai_tokens")


def test_client_refuses_unknown_keys_and_wrong_types(om: OpenMeter) -> None:
    s = om.subjects
    with pytest.raises(InvalidArgumentError, match="expiresAt"):
        s.create_entitlement_grant("customer-1", "ai_tokens", grant(expiresAt=START))
    with pytest.raises(InvalidArgumentError, match="FORTNIGHT"):
        s.create_entitlement_grant(
            "customer-1", "ai_tokens", grant(expiration={"duration": "FORTNIGHT", "count": 1})
        )
    with pytest.raises(InvalidArgumentError, match="amount"):
        s.create_entitlement_grant("customer-1", "ai_tokens", grant(amount="100"))
    with pytest.raises(InvalidArgumentError, match="priority"):
        s.create_entitlement_grant("customer-1", "ai_tokens", grant(priority=1.5))
    with pytest.raises(InvalidArgumentError, match="effective_at"):
        s.create_entitlement_grant("customer-1", "ai_tokens", grant(effectiveAt=datetime(2024, 1, 2)))


def test_async_grants(om: OpenMeter, clocked_server: MeterdServer) -> None:
    async def session() -> None:
        async with AsyncOpenMeter(clocked_server.address) as client:
            s = client.subjects
            created = await s.create_entitlement_grant("customer-1", "ai_tokens", grant())
            assert [g.id for g in await s.list_entitlement_grants("customer-1", "ai_tokens")] == [created.id]
            assert [g.id for g in await client.grants.list()] == [created.id]
            assert (await client.grants.void(created.id)).HasField("voided_at")
            assert await client.grants.list() == []

    asyncio.run(session())
