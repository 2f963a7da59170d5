"""Unit tests of the entitlement, grant and feature models: defaults, validation and engine inputs,
hand-computed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from meterd.server.credit import engine
from meterd.server.entitlements.model import (
    EntitlementType,
    MeasureUsageFrom,
    MeteredRequest,
    NewEntitlement,
    build_entitlement,
    check_feature,
    validate_new_entitlement,
)
from meterd.server.errors import FailedPrecondition, InvalidArgument
from meterd.server.features.model import Feature, NewFeature, check_meter, validate_new_feature
from meterd.server.grants.model import NewGrant, build_grant, issue_after_reset_grant, validate_new_grant
from meterd.server.periods import ExpirationDuration, Interval, Period

NOW = datetime(2024, 3, 10, 15, 42, 31, tzinfo=UTC)
METERED_FEATURE = Feature(
    id="F1",
    key="ai_tokens",
    name="AI",
    meter_slug="tokens",
    meter_group_by_filters={},
    metadata={},
    created_at=NOW,
    updated_at=NOW,
)
PLAIN_FEATURE = Feature(
    id="F2",
    key="sso",
    name="SSO",
    meter_slug=None,
    meter_group_by_filters={},
    metadata={},
    created_at=NOW,
    updated_at=NOW,
)


def metered(**kwargs: object) -> NewEntitlement:
    return NewEntitlement(
        subject_key="c",
        type=EntitlementType.METERED,
        feature_key="ai_tokens",
        metered=MeteredRequest(**kwargs),
    )  # type: ignore[arg-type]


def fields(exc: pytest.ExceptionInfo[InvalidArgument]) -> list[str]:
    return [v.field for v in exc.value.violations]


def test_metered_defaults() -> None:
    e = build_entitlement(metered(interval=Interval.WEEK), METERED_FEATURE, "E1", NOW)
    assert e.metered is not None
    minute = datetime(2024, 3, 10, 15, 42, tzinfo=UTC)
    assert e.metered.usage_period.anchor == minute
    assert e.metered.measure_usage_from == minute
    assert e.metered.issue_after_reset is None and e.metered.issue_after_reset_priority == 1
    assert e.current_usage_period(NOW) == Period(minute, minute + timedelta(weeks=1))
    assert e.current_usage_period(NOW + timedelta(days=8)) == Period(
        minute + timedelta(weeks=1), minute + timedelta(weeks=2)
    )
    assert e.last_reset is None


def test_measure_usage_from_defaults_to_the_creation_minute_whatever_the_anchor() -> None:
    # OpenMeter's code: usage between the period's start and the creation does not count; the first period is
    # cut to start at the creation minute and ends on the anchor's boundary.
    anchor = datetime(2024, 1, 31, tzinfo=UTC)
    minute = datetime(2024, 3, 10, 15, 42, tzinfo=UTC)
    for preset in (None, MeasureUsageFrom.NOW):
        e = build_entitlement(
            metered(interval=Interval.MONTH, anchor=anchor, measure_usage_from_preset=preset),
            METERED_FEATURE,
            "E1",
            NOW,
        )
        assert e.metered is not None and e.metered.measure_usage_from == minute
        assert e.current_usage_period(NOW) == Period(minute, datetime(2024, 3, 31, tzinfo=UTC))
        assert e.reported_last_reset == minute


def test_measure_usage_from_current_period_start() -> None:
    anchor = datetime(2024, 1, 31, tzinfo=UTC)
    e = build_entitlement(
        metered(
            interval=Interval.MONTH,
            anchor=anchor,
            measure_usage_from_preset=MeasureUsageFrom.CURRENT_PERIOD_START,
        ),
        METERED_FEATURE,
        "E1",
        NOW,
    )
    assert e.metered is not None and e.metered.measure_usage_from == datetime(2024, 2, 29, tzinfo=UTC)
    assert e.current_usage_period(NOW) == Period(
        datetime(2024, 2, 29, tzinfo=UTC), datetime(2024, 3, 31, tzinfo=UTC)
    )
    # An explicit instant wins over the preset, truncated to the minute.
    e = build_entitlement(
        metered(
            interval=Interval.MONTH,
            anchor=anchor,
            measure_usage_from=datetime(2024, 3, 1, 8, 0, 59, tzinfo=UTC),
            measure_usage_from_preset=MeasureUsageFrom.CURRENT_PERIOD_START,
        ),
        METERED_FEATURE,
        "E1",
        NOW,
    )
    assert e.metered is not None and e.metered.measure_usage_from == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def test_zero_issue_after_reset_means_none() -> None:
    e = build_entitlement(
        metered(interval=Interval.DAY, issue_after_reset=Decimal(0)), METERED_FEATURE, "E", NOW
    )
    assert e.metered is not None and e.metered.issue_after_reset is None


def test_engine_spec_carries_the_settings_and_resets() -> None:
    e = build_entitlement(
        metered(interval=Interval.DAY, is_soft_limit=True, preserve_overage_at_reset=True),
        METERED_FEATURE,
        "E1",
        NOW,
    )
    spec = e.engine_spec()
    assert (
        spec.usage_period.interval is Interval.DAY and spec.is_soft_limit and spec.preserve_overage_at_reset
    )
    assert spec.measure_usage_from == datetime(2024, 3, 10, 15, 42, tzinfo=UTC)
    boolean = build_entitlement(
        NewEntitlement(subject_key="c", type=EntitlementType.BOOLEAN, feature_key="sso"),
        PLAIN_FEATURE,
        "E2",
        NOW,
    )
    assert boolean.current_usage_period(NOW) is None
    with pytest.raises(ValueError):
        boolean.engine_spec()


@pytest.mark.parametrize(
    ("new", "field"),
    [
        (metered(), "entitlement.metered.usage_period.interval"),
        (
            metered(interval=Interval.DAY, issue_after_reset=Decimal("NaN")),
            "entitlement.metered.issue_after_reset",
        ),
        (
            metered(interval=Interval.DAY, issue_after_reset_priority=1),
            "entitlement.metered.issue_after_reset_priority",
        ),
        (NewEntitlement(subject_key="", type=EntitlementType.BOOLEAN, feature_key="sso"), "subject_key"),
        (NewEntitlement(subject_key="c", type=None, feature_key="sso"), "entitlement.type"),
        (
            NewEntitlement(subject_key="c", type=EntitlementType.STATIC, feature_key="sso", config="[1,"),
            "entitlement.static.config",
        ),
    ],
)
def test_invalid_entitlements(new: NewEntitlement, field: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        validate_new_entitlement(new)
    assert field in fields(info)


def test_feature_must_fit_the_type() -> None:
    with pytest.raises(FailedPrecondition, match=r"entitlement\.feature_key"):
        check_feature(metered(interval=Interval.DAY), PLAIN_FEATURE)
    check_feature(metered(interval=Interval.DAY), METERED_FEATURE)
    # Boolean and static entitlements may use any feature, with or without a meter (as OpenMeter allows).
    for kind in (EntitlementType.BOOLEAN, EntitlementType.STATIC):
        check_feature(NewEntitlement(subject_key="c", type=kind, feature_id="F1"), METERED_FEATURE)
        check_feature(NewEntitlement(subject_key="c", type=kind, feature_id="F1"), PLAIN_FEATURE)


def new_grant(**kwargs: object) -> NewGrant:
    base: dict[str, object] = {
        "amount": Decimal(100),
        "effective_at": NOW,
        "expiration_duration": ExpirationDuration.DAY,
        "expiration_count": 3,
    }
    base.update(kwargs)
    return NewGrant(**base)  # type: ignore[arg-type]


def test_build_grant_normalises() -> None:
    g = build_grant(
        new_grant(has_recurrence=True, recurrence_interval=Interval.WEEK),
        id="G",
        entitlement_id="E",
        subject_key="c",
        feature_key="f",
        now=NOW,
    )
    minute = datetime(2024, 3, 10, 15, 42, tzinfo=UTC)
    assert g.effective_at == minute and g.expires_at == minute + timedelta(days=3)
    assert g.priority == 1 and g.recurrence is not None and g.recurrence.anchor == minute
    engine_grant = g.to_engine()
    assert engine_grant.amount == Decimal(100) and engine_grant.expires_at == g.expires_at
    assert engine_grant.recurrence is not None and engine_grant.recurrence.interval is Interval.WEEK


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": Decimal(0)}, "grant.amount"),
        ({"amount": None}, "grant.amount"),
        ({"priority": -1}, "grant.priority"),
        ({"expiration_duration": None}, "grant.expiration.duration"),
        ({"expiration_count": 0}, "grant.expiration.count"),
        ({"expiration_count": 256}, "grant.expiration.count"),
        ({"min_rollover_amount": Decimal(2), "max_rollover_amount": Decimal(1)}, "grant.min_rollover_amount"),
        ({"has_recurrence": True}, "grant.recurrence.interval"),
    ],
)
def test_invalid_grants(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        validate_new_grant(new_grant(**kwargs))
    assert field in fields(info)


def test_issue_after_reset_grant_matches_the_engine_helper() -> None:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    g = issue_after_reset_grant(
        id="G",
        entitlement_id="E",
        subject_key="c",
        feature_key="f",
        amount=Decimal(500),
        priority=2,
        effective_at=start,
        now=NOW,
    )
    assert g.min_rollover_amount == g.max_rollover_amount == Decimal(500)
    assert g.expires_at == datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    assert g.to_engine().expires_at is None  # never expires
    assert g.to_engine() == engine.issue_after_reset_grant(
        id="G", amount=Decimal(500), effective_at=start, priority=2, created_at=NOW
    )


def test_feature_validation() -> None:
    with pytest.raises(InvalidArgument) as info:
        validate_new_feature(NewFeature(key="A_b", name=""))
    assert fields(info) == ["feature.key", "feature.name"]

    class Meter:
        id = "M"
        slug = "tokens"
        group_by = {"model": "$.model"}
        event_type = "tokens"
        aggregation = "AVG"

    with pytest.raises(InvalidArgument) as info:
        check_meter(
            NewFeature(key="f", name="F", meter_slug="tokens", meter_group_by_filters={"x": "1"}), Meter()
        )
    assert fields(info) == ["feature.meter_slug", "feature.meter_group_by_filters[x]"]
