"""Entitlements through the real server and client: the three types, lookup by id or feature key, usage
periods on the server's clock, the issue-after-reset grant, deletion, listing, and every refusal."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from entitlement_support import create_meter, dt
from support import Clock

from meterd.client import (
    AlreadyExistsError,
    AsyncOpenMeter,
    ExpirationDuration,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    OpenMeter,
    PeriodInterval,
)
from meterd.server.app import MeterdServer


@pytest.fixture
def features(om: OpenMeter) -> OpenMeter:
    """A metered feature (ai_tokens on tokens_total) and two without a meter (sso, seats)."""
    create_meter(om)
    om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
    om.features.create({"key": "sso", "name": "SSO"})
    om.features.create({"key": "seats", "name": "Seats"})
    return om


@pytest.fixture
def clocked_features(clocked_om: OpenMeter) -> OpenMeter:
    create_meter(clocked_om)
    clocked_om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
    return clocked_om


def test_boolean_entitlement_lifecycle(features: OpenMeter) -> None:
    s = features.subjects
    created = s.create_entitlement(
        "customer-1", {"type": "boolean", "featureKey": "sso", "metadata": {"k": "v"}}
    )
    assert created.WhichOneof("type") == "boolean"
    assert (created.subject_key, created.feature_key) == ("customer-1", "sso")
    assert created.feature_id == features.features.get("sso").id
    assert dict(created.metadata) == {"k": "v"}

    assert s.get_entitlement("customer-1", created.id) == created
    assert s.get_entitlement("customer-1", "sso") == created
    assert [e.id for e in s.list_entitlements("customer-1")] == [created.id]
    value = s.get_entitlement_value("customer-1", "sso")
    assert value.has_access is True and value.config == ""

    s.delete_entitlement("customer-1", "sso")
    with pytest.raises(NotFoundError):
        s.get_entitlement("customer-1", created.id)
    with pytest.raises(NotFoundError):
        s.get_entitlement_value("customer-1", "sso")
    with pytest.raises(NotFoundError):
        s.delete_entitlement("customer-1", created.id)
    assert s.list_entitlements("customer-1") == []
    [deleted] = s.list_entitlements("customer-1", include_deleted=True)
    assert deleted.id == created.id and deleted.HasField("deleted_at")
    # The feature is free again for this subject.
    again = s.create_entitlement("customer-1", {"type": "boolean", "featureId": created.feature_id})
    assert again.id != created.id


def test_static_entitlement_config_is_returned_as_given(features: OpenMeter) -> None:
    s = features.subjects
    text = '{"seats": 5,  "sso": true}'
    created = s.create_entitlement("customer-1", {"type": "static", "featureKey": "seats", "config": text})
    assert created.static.config == text
    value = s.get_entitlement_value("customer-1", "seats")
    assert value.has_access is True and value.config == text
    # A dict is encoded by the client.
    other = s.create_entitlement(
        "customer-2", {"type": "static", "feature_key": "seats", "config": {"seats": 2}}
    )
    assert json.loads(other.static.config) == {"seats": 2}


@pytest.mark.parametrize("config", ["{not json", ""])
def test_static_config_must_be_json(features: OpenMeter, config: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        features.subjects.create_entitlement("c", {"type": "static", "featureKey": "seats", "config": config})
    assert [v.field for v in info.value.violations] == ["entitlement.static.config"]


def test_metered_entitlement_in_the_sdk_shape_with_defaults(
    clocked_features: OpenMeter, clock: Clock
) -> None:
    om = clocked_features
    clock.set(datetime(2024, 3, 10, 15, 42, 31, 500, tzinfo=UTC))
    created = om.subjects.create_entitlement(
        "customer-1",
        {
            "type": "metered",
            "featureKey": "ai_tokens",
            "usagePeriod": {"interval": "MONTH"},
            "issueAfterReset": 10_000_000,
        },
    )
    m = created.metered
    minute = datetime(2024, 3, 10, 15, 42, tzinfo=UTC)
    assert m.usage_period.interval == PeriodInterval.MONTH
    assert dt(m.usage_period.anchor) == minute  # creation time truncated to the minute
    assert dt(m.measure_usage_from) == minute  # the start of the current period at creation
    assert m.issue_after_reset == 10_000_000 and m.issue_after_reset_priority == 1
    assert m.is_soft_limit is False and m.preserve_overage_at_reset is False
    assert (dt(m.current_usage_period.from_time), dt(m.current_usage_period.to_time)) == (
        minute,
        datetime(2024, 4, 10, 15, 42, tzinfo=UTC),
    )
    # Before any reset, last_reset is measure_usage_from (as OpenMeter reports it), never unset.
    assert dt(m.last_reset) == minute

    [grant] = om.subjects.list_entitlement_grants("customer-1", "ai_tokens")
    assert grant.entitlement_id == created.id
    assert grant.amount == 10_000_000 and grant.priority == 1
    assert dt(grant.effective_at) == minute
    assert grant.min_rollover_amount == grant.max_rollover_amount == 10_000_000
    assert (grant.expiration.duration, grant.expiration.count) == (ExpirationDuration.YEAR, 100)
    assert dt(grant.expires_at) == datetime(9999, 12, 31, 23, 59, tzinfo=UTC)  # never expires
    assert dict(grant.metadata) == {"issueAfterReset": "true"}

    # The period moves with the clock, without any job.
    clock.set(datetime(2024, 6, 1, tzinfo=UTC))
    m = om.subjects.get_entitlement("customer-1", created.id).metered
    assert (dt(m.current_usage_period.from_time), dt(m.current_usage_period.to_time)) == (
        datetime(2024, 5, 10, 15, 42, tzinfo=UTC),
        datetime(2024, 6, 10, 15, 42, tzinfo=UTC),
    )


def test_metered_settings_given_explicitly(clocked_features: OpenMeter, clock: Clock) -> None:
    clock.set(datetime(2024, 3, 10, 12, 0, tzinfo=UTC))
    created = clocked_features.subjects.create_entitlement(
        "c",
        {
            "type": "metered",
            "feature_key": "ai_tokens",
            "usage_period": {"interval": "DAY", "anchor": "2024-01-01T06:00:00Z"},
            "measure_usage_from": datetime(2024, 3, 10, 9, 30, 45, tzinfo=UTC),
            "issue_after_reset": 5,
            "issue_after_reset_priority": 3,
            "is_soft_limit": True,
            "preserve_overage_at_reset": True,
            "metadata": {"plan": "pro"},
        },
    )
    m = created.metered
    assert dt(m.usage_period.anchor) == datetime(2024, 1, 1, 6, 0, tzinfo=UTC)
    assert dt(m.measure_usage_from) == datetime(2024, 3, 10, 9, 30, tzinfo=UTC)
    # The first period is clipped to start at measure_usage_from.
    assert (dt(m.current_usage_period.from_time), dt(m.current_usage_period.to_time)) == (
        datetime(2024, 3, 10, 9, 30, tzinfo=UTC),
        datetime(2024, 3, 11, 6, 0, tzinfo=UTC),
    )
    assert m.issue_after_reset == 5 and m.issue_after_reset_priority == 3
    assert m.is_soft_limit and m.preserve_overage_at_reset
    [grant] = clocked_features.subjects.list_entitlement_grants("c", created.id)
    assert grant.priority == 3 and dt(grant.effective_at) == datetime(2024, 3, 10, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("interval", "anchor", "now", "period"),
    [
        # Month ends clamp: Jan 31 -> Feb 29 (leap year) -> Mar 31.
        (
            "MONTH",
            datetime(2024, 1, 31, 10, tzinfo=UTC),
            datetime(2024, 3, 5, tzinfo=UTC),
            (datetime(2024, 2, 29, 10, tzinfo=UTC), datetime(2024, 3, 31, 10, tzinfo=UTC)),
        ),
        (
            "WEEK",
            datetime(2024, 1, 1, tzinfo=UTC),
            datetime(2024, 1, 17, 8, tzinfo=UTC),
            (datetime(2024, 1, 15, tzinfo=UTC), datetime(2024, 1, 22, tzinfo=UTC)),
        ),
        (
            "DAY",
            datetime(2024, 1, 1, 18, 30, tzinfo=UTC),
            datetime(2024, 2, 2, 3, tzinfo=UTC),
            (datetime(2024, 2, 1, 18, 30, tzinfo=UTC), datetime(2024, 2, 2, 18, 30, tzinfo=UTC)),
        ),
        # Feb 29 anchors clamp to Feb 28 in common years.
        (
            "YEAR",
            datetime(2024, 2, 29, tzinfo=UTC),
            datetime(2025, 3, 1, tzinfo=UTC),
            (datetime(2025, 2, 28, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC)),
        ),
    ],
)
def test_current_usage_period_follows_the_clock(
    clocked_features: OpenMeter,
    clock: Clock,
    interval: str,
    anchor: datetime,
    now: datetime,
    period: tuple[datetime, datetime],
) -> None:
    clock.set(anchor + timedelta(minutes=1))
    created = clocked_features.subjects.create_entitlement(
        "c",
        {
            "type": "metered",
            "featureKey": "ai_tokens",
            "usagePeriod": {"interval": interval, "anchor": anchor},
        },
    )
    # Measured from the creation minute, whatever the anchor (OpenMeter's code).
    assert dt(created.metered.measure_usage_from) == anchor + timedelta(minutes=1)
    clock.set(now)
    [listed] = clocked_features.entitlements.list()
    got = listed.metered.current_usage_period
    assert (dt(got.from_time), dt(got.to_time)) == period


def test_an_anchor_in_the_future_gives_the_period_before_it(
    clocked_features: OpenMeter, clock: Clock
) -> None:
    clock.set(datetime(2024, 1, 10, tzinfo=UTC))
    created = clocked_features.subjects.create_entitlement(
        "c",
        {
            "type": "metered",
            "featureKey": "ai_tokens",
            "usagePeriod": {"interval": "MONTH", "anchor": datetime(2024, 3, 15, tzinfo=UTC)},
        },
    )
    # The period before the anchor's, cut to start at the creation (usage before it does not count).
    p = created.metered.current_usage_period
    assert (dt(p.from_time), dt(p.to_time)) == (
        datetime(2024, 1, 10, tzinfo=UTC),
        datetime(2024, 1, 15, tzinfo=UTC),
    )
    clock.set(datetime(2024, 1, 20, tzinfo=UTC))
    p = clocked_features.subjects.get_entitlement("c", "ai_tokens").metered.current_usage_period
    assert (dt(p.from_time), dt(p.to_time)) == (
        datetime(2024, 1, 15, tzinfo=UTC),
        datetime(2024, 2, 15, tzinfo=UTC),
    )
    assert dt(created.metered.measure_usage_from) == datetime(2024, 1, 10, tzinfo=UTC)


def test_one_active_entitlement_per_subject_and_feature(features: OpenMeter) -> None:
    s = features.subjects
    first = s.create_entitlement("c", {"type": "boolean", "featureKey": "sso"})
    with pytest.raises(AlreadyExistsError, match=first.id):
        s.create_entitlement("c", {"type": "static", "featureKey": "sso", "config": "{}"})
    s.create_entitlement("other", {"type": "boolean", "featureKey": "sso"})  # another subject is fine


def test_feature_refusals(features: OpenMeter) -> None:
    s = features.subjects
    with pytest.raises(NotFoundError):
        s.create_entitlement("c", {"type": "boolean", "featureKey": "nope"})
    with pytest.raises(FailedPreconditionError, match="no meter"):
        s.create_entitlement(
            "c", {"type": "metered", "featureKey": "sso", "usagePeriod": {"interval": "DAY"}}
        )


def test_boolean_and_static_entitlements_on_a_metered_feature(features: OpenMeter) -> None:
    # OpenMeter lets boolean and static entitlements use any feature, metered or not.
    s = features.subjects
    boolean = s.create_entitlement("c", {"type": "boolean", "featureKey": "ai_tokens"})
    assert boolean.WhichOneof("type") == "boolean" and boolean.feature_key == "ai_tokens"
    assert s.get_entitlement_value("c", "ai_tokens").has_access is True
    static = s.create_entitlement("d", {"type": "static", "featureKey": "ai_tokens", "config": '{"tier": 2}'})
    value = s.get_entitlement_value("d", static.id)
    assert (value.has_access, value.config, value.balance) == (True, '{"tier": 2}', 0.0)
    with pytest.raises(FailedPreconditionError, match="metered"):
        s.create_entitlement_grant(
            "c",
            "ai_tokens",
            {"amount": 10, "effectiveAt": datetime.now(UTC), "expiration": {"duration": "DAY", "count": 1}},
        )


def test_archived_feature_gets_no_new_entitlements_but_keeps_existing_ones(features: OpenMeter) -> None:
    s = features.subjects
    sso = features.features.get("sso")
    kept = s.create_entitlement("c", {"type": "boolean", "featureKey": "sso"})
    features.features.delete("sso")
    with pytest.raises(FailedPreconditionError, match="archived"):
        s.create_entitlement("d", {"type": "boolean", "featureKey": "sso"})
    with pytest.raises(FailedPreconditionError, match="archived"):
        s.create_entitlement("d", {"type": "boolean", "featureId": sso.id})
    found = s.get_entitlement("c", "sso")
    assert found.id == kept.id and found.feature_id == sso.id
    assert s.get_entitlement_value("c", kept.id).has_access


@pytest.mark.parametrize(
    ("entitlement", "field"),
    [
        ({"type": "metered", "featureKey": "ai_tokens"}, "entitlement.metered.usage_period.interval"),
        (
            {
                "type": "metered",
                "featureKey": "ai_tokens",
                "usagePeriod": {"interval": "DAY"},
                "issueAfterResetPriority": 2,
            },
            "entitlement.metered.issue_after_reset_priority",
        ),
        (
            {
                "type": "metered",
                "featureKey": "ai_tokens",
                "usagePeriod": {"interval": "DAY"},
                "issueAfterReset": -1,
            },
            "entitlement.metered.issue_after_reset",
        ),
        (
            {
                "type": "metered",
                "featureKey": "ai_tokens",
                "usagePeriod": {"interval": "DAY"},
                "issueAfterReset": 1,
                "issueAfterResetPriority": 256,
            },
            "entitlement.metered.issue_after_reset_priority",
        ),
        ({"type": "boolean"}, "entitlement.feature_key"),
    ],
)
def test_invalid_entitlements(features: OpenMeter, entitlement: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        features.subjects.create_entitlement("c", entitlement)
    assert field in [v.field for v in info.value.violations]


def test_client_refuses_unknown_keys_wrong_types_and_types(features: OpenMeter) -> None:
    s = features.subjects
    with pytest.raises(InvalidArgumentError, match="type"):
        s.create_entitlement("c", {"featureKey": "sso"})
    with pytest.raises(InvalidArgumentError, match="'gold'"):
        s.create_entitlement("c", {"type": "gold", "featureKey": "sso"})
    with pytest.raises(InvalidArgumentError, match="config"):
        s.create_entitlement("c", {"type": "boolean", "featureKey": "sso", "config": "{}"})
    with pytest.raises(InvalidArgumentError, match="usagePeriod"):
        s.create_entitlement("c", {"type": "static", "featureKey": "sso", "usagePeriod": {"interval": "DAY"}})
    with pytest.raises(InvalidArgumentError, match="FORTNIGHT"):
        s.create_entitlement(
            "c", {"type": "metered", "featureKey": "ai_tokens", "usagePeriod": {"interval": "FORTNIGHT"}}
        )
    with pytest.raises(InvalidArgumentError, match="is_soft_limit"):
        s.create_entitlement(
            "c",
            {
                "type": "metered",
                "featureKey": "ai_tokens",
                "usagePeriod": {"interval": "DAY"},
                "isSoftLimit": "yes",
            },
        )


def test_lookup_is_scoped_to_the_subject(features: OpenMeter) -> None:
    s = features.subjects
    mine = s.create_entitlement("c", {"type": "boolean", "featureKey": "sso"})
    with pytest.raises(NotFoundError):
        s.get_entitlement("someone-else", mine.id)
    with pytest.raises(NotFoundError):
        s.get_entitlement("someone-else", "sso")
    with pytest.raises(NotFoundError):
        s.get_entitlement("c", "no-such-entitlement")


def test_metered_value_without_grants_or_usage(features: OpenMeter) -> None:
    s = features.subjects
    s.create_entitlement(
        "c", {"type": "metered", "featureKey": "ai_tokens", "usagePeriod": {"interval": "DAY"}}
    )
    value = s.get_entitlement_value("c", "ai_tokens")
    assert (value.has_access, value.balance, value.usage, value.overage) == (False, 0.0, 0.0, 0.0)


def test_list_all_entitlements_with_filters_and_pages(features: OpenMeter) -> None:
    s = features.subjects
    made = [
        s.create_entitlement("a", {"type": "boolean", "featureKey": "sso"}),
        s.create_entitlement("b", {"type": "boolean", "featureKey": "sso"}),
        s.create_entitlement("a", {"type": "static", "featureKey": "seats", "config": "1"}),
        s.create_entitlement(
            "c", {"type": "metered", "featureKey": "ai_tokens", "usagePeriod": {"interval": "DAY"}}
        ),
    ]
    ids = [e.id for e in made]
    assert [e.id for e in features.entitlements.list()] == ids
    assert [e.id for e in features.entitlements.list(subject="a")] == [ids[0], ids[2]]
    assert [e.id for e in features.entitlements.list(subject=["b", "c"])] == [ids[1], ids[3]]
    seats_id = features.features.get("seats").id
    assert [e.id for e in features.entitlements.list(feature=["sso", seats_id])] == ids[:3]
    first = features.entitlements.list_page(limit=3)
    rest = features.entitlements.list_page(limit=3, page_token=first.next_page_token)
    assert [e.id for e in [*first.entitlements, *rest.entitlements]] == ids and rest.next_page_token == ""
    s.delete_entitlement("b", "sso")
    assert [e.id for e in features.entitlements.list()] == [ids[0], ids[2], ids[3]]
    assert [e.id for e in features.entitlements.list(include_deleted=True)] == ids
    page = s.list_entitlements_page("a", limit=1)
    assert [e.id for e in page.entitlements] == [ids[0]] and page.next_page_token


def test_async_subject_entitlements(features: OpenMeter, server: MeterdServer) -> None:
    async def session() -> None:
        async with AsyncOpenMeter(server.address) as om:
            s = om.subjects
            created = await s.create_entitlement(
                "c", {"type": "static", "featureKey": "seats", "config": "[1]"}
            )
            assert (await s.get_entitlement("c", "seats")).id == created.id
            assert (await s.get_entitlement_value("c", created.id)).config == "[1]"
            assert [e.id for e in await s.list_entitlements("c")] == [created.id]
            assert [e.id for e in await om.entitlements.list(subject="c")] == [created.id]
            await s.delete_entitlement("c", "seats")
            assert await s.list_entitlements("c") == []

    asyncio.run(session())
