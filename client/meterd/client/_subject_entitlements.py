"""Requests of the subject-scoped entitlement calls, as the SDK puts them on ``om.subjects``: create, list,
get and delete a subject's entitlements, read their value and history, reset their usage, and create and
list their grants. Built and checked before sending; the calls themselves are the mixin in
``_async/subject_entitlements.py`` (and its blocking twin) that the Subjects namespaces inherit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from meterd.client._convert import (
    non_negative_int,
    normalize,
    str_list,
    to_enum,
    to_json_text,
    to_number,
    to_str_map,
    to_timestamp,
)
from meterd.client._enums import ExpirationDuration, PeriodInterval, WindowSize
from meterd.client._errors import invalid_argument
from meterd.client._ordering import entitlement_order_by, entitlement_types, grant_order_by, sort_order
from meterd.v1 import common_pb2, entitlements_pb2, grants_pb2

EntitlementLike = Mapping[str, Any] | entitlements_pb2.Entitlement
GrantLike = Mapping[str, Any] | grants_pb2.Grant

_COMMON_KEYS = ("type", "feature_key", "feature_id", "metadata")
_METERED_KEYS = (
    "usage_period",
    "measure_usage_from",
    "issue_after_reset",
    "issue_after_reset_priority",
    "is_soft_limit",
    "preserve_overage_at_reset",
)
_KEYS_BY_TYPE = {
    "boolean": _COMMON_KEYS,
    "static": (*_COMMON_KEYS, "config"),
    "metered": (*_COMMON_KEYS, *_METERED_KEYS),
}
_GRANT_KEYS = (
    "amount",
    "priority",
    "effective_at",
    "expiration",
    "min_rollover_amount",
    "max_rollover_amount",
    "recurrence",
    "metadata",
)
# measure_usage_from may also be one of OpenMeter's two enum values.
_MEASURE_FROM_CURRENT_PERIOD_START = "CURRENT_PERIOD_START"
_MEASURE_FROM_NOW = "NOW"


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise invalid_argument(f"{what}", f"expected a string, got {type(value).__name__}")
    return value


def _ref(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise invalid_argument(f"{what}", f"expected a non-empty string, got {value!r}")
    return value


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise invalid_argument(f"{what}", f"expected a bool, got {type(value).__name__}")
    return value


def _recurring_period(value: Any, what: str) -> common_pb2.RecurringPeriod:
    p = normalize(value, what=what, allowed=("interval", "anchor"))
    period = common_pb2.RecurringPeriod()
    if p.get("interval") is not None:
        period.interval = to_enum(p["interval"], PeriodInterval, what=f"{what}.interval").wire
    if p.get("anchor") is not None:
        period.anchor.CopyFrom(to_timestamp(p["anchor"], what=f"{what}.anchor"))
    return period


def entitlement_to_wire(entitlement: EntitlementLike) -> entitlements_pb2.Entitlement:
    """A wire Entitlement from the SDK's shape: ``{"type": "metered"|"static"|"boolean", "featureKey"|"featureId",
    "metadata"?, ...}``; static adds ``config`` (JSON text, or a dict/list to encode); metered adds
    ``usagePeriod: {interval, anchor?}``, ``measureUsageFrom``, ``issueAfterReset``, ``issueAfterResetPriority``,
    ``isSoftLimit``, ``preserveOverageAtReset``."""
    if isinstance(entitlement, entitlements_pb2.Entitlement):
        return entitlement
    head = normalize(
        entitlement, what="entitlement", allowed=_KEYS_BY_TYPE["metered"] + ("config",), required=("type",)
    )
    kind = _str(head["type"], "entitlement.type").lower()
    if kind not in _KEYS_BY_TYPE:
        raise invalid_argument("entitlement.type", f"{head['type']!r} is not one of metered, static, boolean")
    e = normalize(entitlement, what=f"entitlement ({kind})", allowed=_KEYS_BY_TYPE[kind], required=("type",))
    message = entitlements_pb2.Entitlement(
        feature_key=_str(e.get("feature_key") or "", "entitlement.feature_key"),
        feature_id=_str(e.get("feature_id") or "", "entitlement.feature_id"),
        metadata=to_str_map(e.get("metadata"), what="entitlement.metadata"),
    )
    if kind == "boolean":
        message.boolean.SetInParent()
    elif kind == "static":
        config = e.get("config")
        if config is None:
            message.static.SetInParent()
        else:
            message.static.config = config if isinstance(config, str) else to_json_text(config)
    else:
        m = message.metered
        m.SetInParent()
        if e.get("usage_period") is not None:
            m.usage_period.CopyFrom(_recurring_period(e["usage_period"], "entitlement.usage_period"))
        measure_from = e.get("measure_usage_from")
        if isinstance(measure_from, str) and measure_from.upper() == _MEASURE_FROM_NOW:
            measure_from = datetime.now(UTC)
        if isinstance(measure_from, str) and measure_from.upper() == _MEASURE_FROM_CURRENT_PERIOD_START:
            measure_from = None  # the server's default
        if measure_from is not None:
            m.measure_usage_from.CopyFrom(to_timestamp(measure_from, what="entitlement.measure_usage_from"))
        if e.get("issue_after_reset") is not None:
            m.issue_after_reset = to_number(e["issue_after_reset"], what="entitlement.issue_after_reset")
        if e.get("issue_after_reset_priority") is not None:
            m.issue_after_reset_priority = non_negative_int(
                e["issue_after_reset_priority"], what="entitlement.issue_after_reset_priority"
            )
        if e.get("is_soft_limit") is not None:
            m.is_soft_limit = _bool(e["is_soft_limit"], "entitlement.is_soft_limit")
        if e.get("preserve_overage_at_reset") is not None:
            m.preserve_overage_at_reset = _bool(
                e["preserve_overage_at_reset"], "entitlement.preserve_overage_at_reset"
            )
    return message


def grant_to_wire(grant: GrantLike) -> grants_pb2.Grant:
    """A wire Grant from the SDK's shape: ``{"amount", "priority"?, "effectiveAt", "expiration": {"duration",
    "count"}, "minRolloverAmount"?, "maxRolloverAmount"?, "recurrence"?: {"interval", "anchor"?}, "metadata"?}``."""
    if isinstance(grant, grants_pb2.Grant):
        return grant
    g = normalize(grant, what="grant", allowed=_GRANT_KEYS)
    message = grants_pb2.Grant(metadata=to_str_map(g.get("metadata"), what="grant.metadata"))
    if g.get("amount") is not None:
        message.amount = to_number(g["amount"], what="grant.amount")
    if g.get("priority") is not None:
        message.priority = non_negative_int(g["priority"], what="grant.priority")
    if g.get("effective_at") is not None:
        message.effective_at.CopyFrom(to_timestamp(g["effective_at"], what="grant.effective_at"))
    if g.get("expiration") is not None:
        x = normalize(g["expiration"], what="grant.expiration", allowed=("duration", "count"))
        if x.get("duration") is not None:
            message.expiration.duration = to_enum(
                x["duration"], ExpirationDuration, what="grant.expiration.duration"
            ).wire
        if x.get("count") is not None:
            message.expiration.count = non_negative_int(x["count"], what="grant.expiration.count")
    for key in ("min_rollover_amount", "max_rollover_amount"):
        if g.get(key) is not None:
            setattr(message, key, to_number(g[key], what=f"grant.{key}"))
    if g.get("recurrence") is not None:
        message.recurrence.CopyFrom(_recurring_period(g["recurrence"], "grant.recurrence"))
    return message


def list_entitlements_request(
    subject: str,
    include_deleted: bool,
    limit: int | None,
    page_token: str | None,
    feature: str | Iterable[str] | None = None,
    type: str | Iterable[str] | None = None,
    order_by: str | None = None,
    order: str | None = None,
) -> entitlements_pb2.ListSubjectEntitlementsRequest:
    return entitlements_pb2.ListSubjectEntitlementsRequest(
        subject_key=_ref(subject, "subject"),
        include_deleted=include_deleted,
        page_size=limit or 0,
        page_token=page_token or "",
        feature=str_list(feature, what="feature"),
        type=entitlement_types(type),
        order_by=entitlement_order_by(order_by),
        order=sort_order(order),
    )


def override_request(
    subject: str, id_or_feature_key: str, entitlement: EntitlementLike
) -> entitlements_pb2.OverrideEntitlementRequest:
    return entitlements_pb2.OverrideEntitlementRequest(
        subject_key=_ref(subject, "subject"),
        entitlement=_ref(id_or_feature_key, "entitlement_id_or_feature_key"),
        override=entitlement_to_wire(entitlement),
    )


def value_request(
    subject: str, id_or_feature_key: str, time: datetime | str | None
) -> entitlements_pb2.GetEntitlementValueRequest:
    request = entitlements_pb2.GetEntitlementValueRequest(
        subject_key=_ref(subject, "subject"), entitlement=_ref(id_or_feature_key, "id_or_feature_key")
    )
    if time is not None:
        request.time.CopyFrom(to_timestamp(time, what="time"))
    return request


def history_request(
    subject: str,
    id_or_feature_key: str,
    from_: datetime | str | None,
    to: datetime | str | None,
    window_size: WindowSize | str,
    window_time_zone: str | None,
) -> entitlements_pb2.GetEntitlementHistoryRequest:
    request = entitlements_pb2.GetEntitlementHistoryRequest(
        subject_key=_ref(subject, "subject"),
        entitlement=_ref(id_or_feature_key, "id_or_feature_key"),
        window_size=to_enum(window_size, WindowSize, what="window_size").wire,
        window_time_zone=_str(window_time_zone or "", "window_time_zone"),
    )
    if from_ is not None:
        request.from_time.CopyFrom(to_timestamp(from_, what="from_"))
    if to is not None:
        request.to_time.CopyFrom(to_timestamp(to, what="to"))
    return request


def reset_request(
    subject: str,
    id_or_feature_key: str,
    effective_at: datetime | str | None,
    retain_anchor: bool,
    preserve_overage: bool | None,
    usage_period: Mapping[str, Any] | None = None,
) -> entitlements_pb2.ResetEntitlementUsageRequest:
    request = entitlements_pb2.ResetEntitlementUsageRequest(
        subject_key=_ref(subject, "subject"),
        entitlement=_ref(id_or_feature_key, "id_or_feature_key"),
        retain_anchor=_bool(retain_anchor, "retain_anchor"),
    )
    if effective_at is not None:
        request.effective_at.CopyFrom(to_timestamp(effective_at, what="effective_at"))
    if preserve_overage is not None:
        request.preserve_overage = _bool(preserve_overage, "preserve_overage")
    if usage_period is not None:
        request.usage_period.CopyFrom(_recurring_period(usage_period, "usage_period"))
    return request


def list_grants_request(
    subject: str,
    id_or_feature_key: str,
    include_voided: bool,
    limit: int | None,
    page_token: str | None,
    order_by: str | None = None,
    order: str | None = None,
) -> grants_pb2.ListEntitlementGrantsRequest:
    return grants_pb2.ListEntitlementGrantsRequest(
        subject_key=_ref(subject, "subject"),
        entitlement=_ref(id_or_feature_key, "id_or_feature_key"),
        include_voided=include_voided,
        page_size=limit or 0,
        page_token=page_token or "",
        order_by=grant_order_by(order_by),
        order=sort_order(order),
    )


def create_request(subject: str, entitlement: EntitlementLike) -> entitlements_pb2.CreateEntitlementRequest:
    return entitlements_pb2.CreateEntitlementRequest(
        subject_key=_ref(subject, "subject"), entitlement=entitlement_to_wire(entitlement)
    )


def get_request(subject: str, id_or_feature_key: str) -> entitlements_pb2.GetEntitlementRequest:
    return entitlements_pb2.GetEntitlementRequest(
        subject_key=_ref(subject, "subject"), entitlement=_ref(id_or_feature_key, "id_or_feature_key")
    )


def delete_request(subject: str, id_or_feature_key: str) -> entitlements_pb2.DeleteEntitlementRequest:
    return entitlements_pb2.DeleteEntitlementRequest(
        subject_key=_ref(subject, "subject"), entitlement=_ref(id_or_feature_key, "id_or_feature_key")
    )


def create_grant_request(
    subject: str, id_or_feature_key: str, grant: GrantLike
) -> grants_pb2.CreateGrantRequest:
    return grants_pb2.CreateGrantRequest(
        subject_key=_ref(subject, "subject"),
        entitlement=_ref(id_or_feature_key, "id_or_feature_key"),
        grant=grant_to_wire(grant),
    )
