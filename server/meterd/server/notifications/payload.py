"""The body a channel receives: OpenMeter's NotificationEventPayload as JSON.

``{"id", "type": "entitlements.balance.threshold", "timestamp", "data": {"entitlement", "feature",
"subject", "value", "threshold"}}``, the entitlement as OpenMeter's EntitlementMetered, the feature as its
Feature, the subject as its Subject (only ``key`` for a subject that was never upserted), the value as its
EntitlementValue (the numbers GetEntitlementValue answered) and the threshold as its
NotificationRuleBalanceThresholdValue. Times are RFC 3339 in UTC. The text is built once, stored with the
event and sent byte for byte on every attempt (the signature covers those bytes).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from meterd.server.entitlements.model import Entitlement, EntitlementValue
from meterd.server.features.model import Feature
from meterd.server.notifications.model import RuleType, Threshold, ThresholdType
from meterd.server.subjects.model import Subject


def rfc3339(t: datetime) -> str:
    """``2024-01-01T00:00:00Z``, with milliseconds or microseconds when there are any."""
    t = t.astimezone(UTC)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond // 1000:03d}" if t.microsecond % 1000 == 0 else f".{t.microsecond:06d}"
    return text + "Z"


def number(value: Decimal) -> float | int:
    """A decimal amount as the JSON number the wire's double gives (whole numbers without a fraction)."""
    f = float(value)
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


def entitlement_json(e: Entitlement, at: datetime) -> dict[str, Any]:
    """A metered entitlement in OpenMeter's EntitlementMetered shape, its current usage period at ``at``."""
    m = e.metered
    assert m is not None, "only metered entitlements cross thresholds"
    out: dict[str, Any] = {
        "type": "metered",
        "id": e.id,
        "featureId": e.feature_id,
        "featureKey": e.feature_key,
        "subjectKey": e.subject_key,
        "metadata": dict(e.metadata),
        "createdAt": rfc3339(e.created_at),
        "updatedAt": rfc3339(e.updated_at),
        "isSoftLimit": m.is_soft_limit,
        "isUnlimited": False,
        "preserveOverageAtReset": m.preserve_overage_at_reset,
        "usagePeriod": {"interval": m.usage_period.interval.value, "anchor": rfc3339(m.usage_period.anchor)},
        "measureUsageFrom": rfc3339(m.measure_usage_from),
    }
    if e.deleted_at is not None:
        out["deletedAt"] = rfc3339(e.deleted_at)
    if m.issue_after_reset is not None:
        out["issueAfterReset"] = number(m.issue_after_reset)
        out["issueAfterResetPriority"] = m.issue_after_reset_priority
    last_reset = e.reported_last_reset
    if last_reset is not None:
        out["lastReset"] = rfc3339(last_reset)
    period = e.current_usage_period(at)
    if period is not None:
        out["currentUsagePeriod"] = {"from": rfc3339(period.start), "to": rfc3339(period.end)}
    return out


def feature_json(f: Feature) -> dict[str, Any]:
    """A feature in OpenMeter's Feature shape."""
    out: dict[str, Any] = {
        "id": f.id,
        "key": f.key,
        "name": f.name,
        "metadata": dict(f.metadata),
        "createdAt": rfc3339(f.created_at),
        "updatedAt": rfc3339(f.updated_at),
    }
    if f.meter_slug:
        out["meterSlug"] = f.meter_slug
    if f.meter_group_by_filters:
        out["meterGroupByFilters"] = dict(f.meter_group_by_filters)
    if f.archived_at is not None:
        out["archivedAt"] = rfc3339(f.archived_at)
    return out


def subject_json(key: str, s: Subject | None) -> dict[str, Any]:
    """A subject in OpenMeter's Subject shape; ``{"key"}`` alone for a key events name but nobody upserted."""
    if s is None:
        return {"key": key}
    out: dict[str, Any] = {"id": s.id, "key": s.key, "metadata": dict(s.metadata)}
    if s.display_name is not None:
        out["displayName"] = s.display_name
    if s.current_period_start is not None:
        out["currentPeriodStart"] = rfc3339(s.current_period_start)
    if s.current_period_end is not None:
        out["currentPeriodEnd"] = rfc3339(s.current_period_end)
    if s.stripe_customer_id is not None:
        out["stripeCustomerId"] = s.stripe_customer_id
    return out


def value_json(v: EntitlementValue) -> dict[str, Any]:
    return {
        "hasAccess": v.has_access,
        "balance": number(v.balance),
        "usage": number(v.usage),
        "overage": number(v.overage),
    }


def threshold_json(t: Threshold) -> dict[str, Any]:
    return {"value": number(t.value), "type": t.type.value}


def balance_threshold(
    event_id: str,
    created_at: datetime,
    entitlement: Entitlement,
    feature: Feature,
    subject: Subject | None,
    value: EntitlementValue,
    threshold: Threshold,
    at: datetime,
) -> str:
    """The JSON text of an entitlements.balance.threshold event (``at``: the instant of the value)."""
    return dumps(
        {
            "id": event_id,
            "type": RuleType.BALANCE_THRESHOLD.value,
            "timestamp": rfc3339(created_at),
            "data": {
                "entitlement": entitlement_json(entitlement, at),
                "feature": feature_json(feature),
                "subject": subject_json(entitlement.subject_key, subject),
                "value": value_json(value),
                "threshold": threshold_json(threshold),
            },
        }
    )


def test_payload(event_id: str, created_at: datetime) -> str:
    """The example body of TestNotificationRule (OpenMeter's test event data, dated around ``created_at``)."""
    day = timedelta(days=1)
    start = created_at - day
    return dumps(
        {
            "id": event_id,
            "type": RuleType.BALANCE_THRESHOLD.value,
            "timestamp": rfc3339(created_at),
            "data": {
                "entitlement": {
                    "type": "metered",
                    "id": "01J5AVNM7H1PT65RDFWGXXPT47",
                    "featureId": "01J5AVN2T6S0RDGJHVNN0BW3F5",
                    "featureKey": "test-feature-1",
                    "subjectKey": "test-subject-1",
                    "metadata": {"test-metadata-key": "test-metadata-value"},
                    "createdAt": rfc3339(start),
                    "updatedAt": rfc3339(start + day / 2),
                    "isSoftLimit": False,
                    "isUnlimited": False,
                    "issueAfterReset": 10,
                    "issueAfterResetPriority": 5,
                    "preserveOverageAtReset": True,
                    "usagePeriod": {"interval": "DAY", "anchor": rfc3339(start)},
                    "measureUsageFrom": rfc3339(start),
                    "lastReset": rfc3339(start),
                    "currentUsagePeriod": {"from": rfc3339(start), "to": rfc3339(start + day)},
                },
                "feature": {
                    "id": "01J5AVN2T6S0RDGJHVNN0BW3F5",
                    "key": "test-feature-1",
                    "name": "test-meter-1",
                    "meterSlug": "test-meter-1",
                    "metadata": {"test-metadata-key": "test-metadata-value"},
                    "createdAt": rfc3339(start),
                    "updatedAt": rfc3339(start + day / 2),
                },
                "subject": {
                    "id": "01J5AW0ZD6T8624PCK0Q5TYX71",
                    "key": "test-subject-1",
                    "displayName": "Test Subject 1",
                    "metadata": {"test-metadata-key": "test-metadata-value"},
                    "currentPeriodStart": rfc3339(start),
                    "currentPeriodEnd": rfc3339(start + day),
                    "stripeCustomerId": "01J5AW2XS6DYHH7E9PNJSQJ341",
                },
                "value": {"hasAccess": True, "balance": 10000, "usage": 50000, "overage": 0},
                "threshold": {"value": 50, "type": ThresholdType.PERCENT.value},
            },
        }
    )


def dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
