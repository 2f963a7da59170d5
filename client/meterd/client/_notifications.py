"""Requests of ``om.notifications`` (channels, rules and events; OpenMeter's SDK:
``openmeter.notification.channels|rules|events``): the SDK's create and update bodies (camelCase or snake_case
keys) and list options, as wire messages. No I/O: the namespaces are in ``_async/notifications.py``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from meterd.client._convert import (
    normalize,
    optional_str,
    page_size,
    str_list,
    to_number,
    to_str_map,
    to_timestamp,
)
from meterd.client._errors import invalid_argument
from meterd.client._ordering import sort_order
from meterd.v1 import notifications_pb2 as pb

_SERVICE = "NotificationService"
_CHANNEL_KEYS = ("type", "name", "disabled", "url", "custom_headers", "signing_secret")
_RULE_KEYS = ("type", "name", "disabled", "channels", "thresholds", "features")
_THRESHOLD_TYPES = {
    "NUMBER": pb.NOTIFICATION_THRESHOLD_TYPE_NUMBER,
    "PERCENT": pb.NOTIFICATION_THRESHOLD_TYPE_PERCENT,
}
_ORDER_BY = {
    "ID": (
        pb.NOTIFICATION_CHANNEL_ORDER_BY_ID,
        pb.NOTIFICATION_RULE_ORDER_BY_ID,
        pb.NOTIFICATION_EVENT_ORDER_BY_ID,
    ),
    "TYPE": (pb.NOTIFICATION_CHANNEL_ORDER_BY_TYPE, pb.NOTIFICATION_RULE_ORDER_BY_TYPE, None),
    "CREATEDAT": (
        pb.NOTIFICATION_CHANNEL_ORDER_BY_CREATED_AT,
        pb.NOTIFICATION_RULE_ORDER_BY_CREATED_AT,
        pb.NOTIFICATION_EVENT_ORDER_BY_CREATED_AT,
    ),
    "UPDATEDAT": (
        pb.NOTIFICATION_CHANNEL_ORDER_BY_UPDATED_AT,
        pb.NOTIFICATION_RULE_ORDER_BY_UPDATED_AT,
        None,
    ),
}
ChannelLike = Mapping[str, Any]
RuleLike = Mapping[str, Any]


def notification_id(value: Any, what: str = "id") -> str:
    """A channel, rule or event id (a non-empty string)."""
    if not isinstance(value, str) or not value:
        raise invalid_argument(what, f"expected a non-empty string, got {value!r}")
    return value


def _order_by(value: str | None, which: int) -> Any:
    """The wire value of ``order_by`` for channels (0), rules (1) or events (2); 0 (the default) for None."""
    if value is None:
        return 0
    key = value.replace("_", "").upper() if isinstance(value, str) else ""
    found = _ORDER_BY.get(key, (None, None, None))[which]
    if found is None:
        names = [k for k, v in _ORDER_BY.items() if v[which] is not None]
        raise invalid_argument("order_by", f"{value!r} is not one of {', '.join(names)}")
    return found


def channel_fields(channel: ChannelLike) -> dict[str, Any]:
    """The wire fields of a create or update body ``{"type": "WEBHOOK", "name", "url", "disabled"?,
    "customHeaders"?, "signingSecret"?}`` (``type`` may be left out: WEBHOOK is the only one)."""
    c = normalize(channel, what="channel", allowed=_CHANNEL_KEYS, required=("name", "url"))
    kind = c.get("type", "WEBHOOK")
    if kind != "WEBHOOK":
        raise invalid_argument("channel.type", f"expected 'WEBHOOK', got {kind!r}")
    for key in ("name", "url"):
        if not isinstance(c[key], str):
            raise invalid_argument(f"channel.{key}", f"expected a string, got {type(c[key]).__name__}")
    fields: dict[str, Any] = {
        "type": pb.NOTIFICATION_CHANNEL_TYPE_WEBHOOK,
        "name": c["name"],
        "url": c["url"],
        "disabled": bool(c.get("disabled") or False),
        "custom_headers": to_str_map(c.get("custom_headers"), what="channel.custom_headers"),
    }
    if c.get("signing_secret") is not None:
        fields["signing_secret"] = optional_str(c["signing_secret"], what="channel.signing_secret")
    return fields


def rule_fields(rule: RuleLike) -> dict[str, Any]:
    """The wire fields of a create or update body ``{"type": "entitlements.balance.threshold", "name",
    "channels": [ids], "thresholds": [{"value", "type": "NUMBER"|"PERCENT"}], "features"?: [ids or keys],
    "disabled"?}`` (``type`` may be left out: it is the only one)."""
    r = normalize(rule, what="rule", allowed=_RULE_KEYS, required=("name", "channels", "thresholds"))
    kind = r.get("type", "entitlements.balance.threshold")
    if kind != "entitlements.balance.threshold":
        raise invalid_argument("rule.type", f"expected 'entitlements.balance.threshold', got {kind!r}")
    if not isinstance(r["name"], str):
        raise invalid_argument("rule.name", f"expected a string, got {type(r['name']).__name__}")
    thresholds = []
    if isinstance(r["thresholds"], str | bytes) or not isinstance(r["thresholds"], Iterable):
        raise invalid_argument("rule.thresholds", "expected a list of {value, type}")
    for i, t in enumerate(r["thresholds"]):
        item = normalize(
            t, what=f"rule.thresholds[{i}]", allowed=("value", "type"), required=("value", "type")
        )
        kind_name = item["type"].upper() if isinstance(item["type"], str) else None
        if kind_name not in _THRESHOLD_TYPES:
            raise invalid_argument(
                f"rule.thresholds[{i}].type", f"expected NUMBER or PERCENT, got {item['type']!r}"
            )
        thresholds.append(
            pb.NotificationThreshold(
                value=to_number(item["value"], what=f"rule.thresholds[{i}].value"),
                type=_THRESHOLD_TYPES[kind_name],
            )
        )
    return {
        "type": pb.NOTIFICATION_EVENT_TYPE_ENTITLEMENTS_BALANCE_THRESHOLD,
        "name": r["name"],
        "disabled": bool(r.get("disabled") or False),
        "channels": str_list(r["channels"], what="rule.channels"),
        "thresholds": thresholds,
        "features": str_list(r.get("features"), what="rule.features"),
    }


def channels_request(
    limit: int | None,
    page_token: str | None,
    include_disabled: bool,
    include_deleted: bool,
    order_by: str | None,
    order: str | None,
) -> pb.ListNotificationChannelsRequest:
    return pb.ListNotificationChannelsRequest(
        page_size=page_size(limit),
        page_token=optional_str(page_token, what="page_token"),
        include_disabled=include_disabled,
        include_deleted=include_deleted,
        order_by=_order_by(order_by, 0),
        order=sort_order(order),
    )


def rules_request(
    limit: int | None,
    page_token: str | None,
    include_disabled: bool,
    include_deleted: bool,
    feature: str | Iterable[str] | None,
    channel: str | Iterable[str] | None,
    order_by: str | None,
    order: str | None,
) -> pb.ListNotificationRulesRequest:
    return pb.ListNotificationRulesRequest(
        page_size=page_size(limit),
        page_token=optional_str(page_token, what="page_token"),
        include_disabled=include_disabled,
        include_deleted=include_deleted,
        features=str_list(feature, what="feature"),
        channels=str_list(channel, what="channel"),
        order_by=_order_by(order_by, 1),
        order=sort_order(order),
    )


def events_request(
    limit: int | None,
    page_token: str | None,
    from_: datetime | str | None,
    to: datetime | str | None,
    feature: str | Iterable[str] | None,
    subject: str | Iterable[str] | None,
    rule: str | Iterable[str] | None,
    channel: str | Iterable[str] | None,
    order_by: str | None,
    order: str | None,
) -> pb.ListNotificationEventsRequest:
    request = pb.ListNotificationEventsRequest(
        page_size=page_size(limit),
        page_token=optional_str(page_token, what="page_token"),
        features=str_list(feature, what="feature"),
        subjects=str_list(subject, what="subject"),
        rules=str_list(rule, what="rule"),
        channels=str_list(channel, what="channel"),
        order_by=_order_by(order_by, 2),
        order=sort_order(order),
    )
    if from_ is not None:
        request.from_time.CopyFrom(to_timestamp(from_, what="from"))
    if to is not None:
        request.to_time.CopyFrom(to_timestamp(to, what="to"))
    return request
