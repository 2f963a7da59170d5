"""``om.notifications``: channels, rules and events (OpenMeter's SDK: ``openmeter.notification.channels|rules|
events``), with the SDK's create and update bodies (camelCase or snake_case keys) and list options.

The request building is plain functions (no I/O); the namespaces below only call them and the transport.
"""

from __future__ import annotations

import builtins
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
from meterd.client._results import Result
from meterd.client._transport import AsyncTransport, Transport
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


def _id(value: Any, what: str = "id") -> str:
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


class Notifications:
    """``om.notifications``: ``channels``, ``rules`` and ``events``."""

    def __init__(self, transport: Transport) -> None:
        self.channels = NotificationChannels(transport)
        self.rules = NotificationRules(transport)
        self.events = NotificationEvents(transport)


class AsyncNotifications:
    """``om.notifications`` for AsyncOpenMeter."""

    def __init__(self, transport: AsyncTransport) -> None:
        self.channels = AsyncNotificationChannels(transport)
        self.rules = AsyncNotificationRules(transport)
        self.events = AsyncNotificationEvents(transport)


class NotificationChannels:
    """Webhook channels (``om.notifications.channels``)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, channel: ChannelLike, *, timeout: float | None = None) -> Result[pb.NotificationChannel]:
        """Creates a channel from ``{"type": "WEBHOOK", "name", "url", "customHeaders"?, "signingSecret"?,
        "disabled"?}``. Returns it with its ``signing_secret`` (generated when not given: keep it, only
        ``get`` shows it again). Raises InvalidArgumentError naming the field (a URL meterd will not send to
        says why)."""
        request = pb.CreateNotificationChannelRequest(**channel_fields(channel))
        result: Result[pb.NotificationChannel] = self._t.call(
            _SERVICE, "CreateNotificationChannel", request, lambda r: r.channel, timeout=timeout
        )
        return result

    def get(self, channel_id: str, *, timeout: float | None = None) -> Result[pb.NotificationChannel]:
        """The channel (deleted ones too), with its signing secret. Raises NotFoundError."""
        request = pb.GetNotificationChannelRequest(id=_id(channel_id, "channel_id"))
        result: Result[pb.NotificationChannel] = self._t.call(
            _SERVICE,
            "GetNotificationChannel",
            request,
            lambda r: r.channel,
            timeout=timeout,
            idempotent=True,
        )
        return result

    def list(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        include_disabled: bool = False,
        include_deleted: bool = False,
        order_by: str | None = None,
        order: str | None = None,
        timeout: float | None = None,
    ) -> builtins.list[Result[pb.NotificationChannel]]:
        """Channels (one page of ``limit``, default 100) ordered by id (or ``order_by`` type, createdAt,
        updatedAt), without their signing secrets. Use ``list_page`` to page."""
        return list(
            self.list_page(
                limit=limit,
                page_token=page_token,
                include_disabled=include_disabled,
                include_deleted=include_deleted,
                order_by=order_by,
                order=order,
                timeout=timeout,
            ).channels
        )

    def list_page(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        include_disabled: bool = False,
        include_deleted: bool = False,
        order_by: str | None = None,
        order: str | None = None,
        timeout: float | None = None,
    ) -> Result[pb.ListNotificationChannelsResponse]:
        """One page of ``list``, with ``next_page_token`` (empty on the last page) and ``total_size``."""
        request = channels_request(limit, page_token, include_disabled, include_deleted, order_by, order)
        result: Result[pb.ListNotificationChannelsResponse] = self._t.call(
            _SERVICE, "ListNotificationChannels", request, timeout=timeout, idempotent=True
        )
        return result

    def update(
        self, channel_id: str, channel: ChannelLike, *, timeout: float | None = None
    ) -> Result[pb.NotificationChannel]:
        """Replaces the channel's settings with ``channel`` (as ``create`` takes it; its secret stays unless
        ``signingSecret`` is given). Returns it without the secret. Raises NotFoundError, InvalidArgumentError."""
        request = pb.UpdateNotificationChannelRequest(
            id=_id(channel_id, "channel_id"), **channel_fields(channel)
        )
        result: Result[pb.NotificationChannel] = self._t.call(
            _SERVICE, "UpdateNotificationChannel", request, lambda r: r.channel, timeout=timeout
        )
        return result

    def delete(self, channel_id: str, *, timeout: float | None = None) -> None:
        """Deletes the channel: nothing more is sent to it. Raises NotFoundError."""
        request = pb.DeleteNotificationChannelRequest(id=_id(channel_id, "channel_id"))
        self._t.call(_SERVICE, "DeleteNotificationChannel", request, timeout=timeout)


class NotificationRules:
    """Balance-threshold rules (``om.notifications.rules``)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, rule: RuleLike, *, timeout: float | None = None) -> Result[pb.NotificationRule]:
        """Creates a rule from ``{"type": "entitlements.balance.threshold", "name", "channels": [ids],
        "thresholds": [{"value", "type": "NUMBER"|"PERCENT"}], "features"?: [ids or keys], "disabled"?}``.
        Raises InvalidArgumentError naming the field (unknown channels or features, 0 or more than 10
        thresholds, a value not above 0)."""
        request = pb.CreateNotificationRuleRequest(**rule_fields(rule))
        result: Result[pb.NotificationRule] = self._t.call(
            _SERVICE, "CreateNotificationRule", request, lambda r: r.rule, timeout=timeout
        )
        return result

    def get(self, rule_id: str, *, timeout: float | None = None) -> Result[pb.NotificationRule]:
        """The rule (deleted ones too). Raises NotFoundError."""
        request = pb.GetNotificationRuleRequest(id=_id(rule_id, "rule_id"))
        result: Result[pb.NotificationRule] = self._t.call(
            _SERVICE,
            "GetNotificationRule",
            request,
            lambda r: r.rule,
            timeout=timeout,
            idempotent=True,
        )
        return result

    def list(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        include_disabled: bool = False,
        include_deleted: bool = False,
        feature: str | Iterable[str] | None = None,
        channel: str | Iterable[str] | None = None,
        order_by: str | None = None,
        order: str | None = None,
        timeout: float | None = None,
    ) -> builtins.list[Result[pb.NotificationRule]]:
        """Rules (one page of ``limit``, default 100), optionally only those scoped to some features or
        sending to some channels. Use ``list_page`` to page."""
        return list(
            self.list_page(
                limit=limit,
                page_token=page_token,
                include_disabled=include_disabled,
                include_deleted=include_deleted,
                feature=feature,
                channel=channel,
                order_by=order_by,
                order=order,
                timeout=timeout,
            ).rules
        )

    def list_page(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        include_disabled: bool = False,
        include_deleted: bool = False,
        feature: str | Iterable[str] | None = None,
        channel: str | Iterable[str] | None = None,
        order_by: str | None = None,
        order: str | None = None,
        timeout: float | None = None,
    ) -> Result[pb.ListNotificationRulesResponse]:
        """One page of ``list``, with ``next_page_token`` (empty on the last page) and ``total_size``."""
        request = rules_request(
            limit, page_token, include_disabled, include_deleted, feature, channel, order_by, order
        )
        result: Result[pb.ListNotificationRulesResponse] = self._t.call(
            _SERVICE, "ListNotificationRules", request, timeout=timeout, idempotent=True
        )
        return result

    def update(
        self, rule_id: str, rule: RuleLike, *, timeout: float | None = None
    ) -> Result[pb.NotificationRule]:
        """Replaces the rule's settings with ``rule`` (as ``create`` takes it). Raises NotFoundError,
        InvalidArgumentError."""
        request = pb.UpdateNotificationRuleRequest(id=_id(rule_id, "rule_id"), **rule_fields(rule))
        result: Result[pb.NotificationRule] = self._t.call(
            _SERVICE, "UpdateNotificationRule", request, lambda r: r.rule, timeout=timeout
        )
        return result

    def delete(self, rule_id: str, *, timeout: float | None = None) -> None:
        """Deletes the rule: it makes no more events. Raises NotFoundError."""
        request = pb.DeleteNotificationRuleRequest(id=_id(rule_id, "rule_id"))
        self._t.call(_SERVICE, "DeleteNotificationRule", request, timeout=timeout)

    def test(self, rule_id: str, *, timeout: float | None = None) -> Result[pb.NotificationEvent]:
        """Sends a test event (example data) to the rule's enabled channels and returns it. Raises
        NotFoundError, FailedPreconditionError when none of its channels is enabled."""
        request = pb.TestNotificationRuleRequest(id=_id(rule_id, "rule_id"))
        result: Result[pb.NotificationEvent] = self._t.call(
            _SERVICE, "TestNotificationRule", request, lambda r: r.event, timeout=timeout
        )
        return result


class NotificationEvents:
    """Events rules made, with each channel's delivery (``om.notifications.events``)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def get(self, event_id: str, *, timeout: float | None = None) -> Result[pb.NotificationEvent]:
        """The event, with its delivery to each channel and every attempt. Raises NotFoundError."""
        request = pb.GetNotificationEventRequest(id=_id(event_id, "event_id"))
        result: Result[pb.NotificationEvent] = self._t.call(
            _SERVICE,
            "GetNotificationEvent",
            request,
            lambda r: r.event,
            timeout=timeout,
            idempotent=True,
        )
        return result

    def list(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        feature: str | Iterable[str] | None = None,
        subject: str | Iterable[str] | None = None,
        rule: str | Iterable[str] | None = None,
        channel: str | Iterable[str] | None = None,
        order_by: str | None = None,
        order: str | None = None,
        timeout: float | None = None,
    ) -> builtins.list[Result[pb.NotificationEvent]]:
        """Events (one page of ``limit``, default 100) by creation time (``from``/``to`` inclusive), of some
        features, subjects, rules or channels. Use ``list_page`` to page."""
        return list(
            self.list_page(
                limit=limit,
                page_token=page_token,
                from_=from_,
                to=to,
                feature=feature,
                subject=subject,
                rule=rule,
                channel=channel,
                order_by=order_by,
                order=order,
                timeout=timeout,
            ).events
        )

    def list_page(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        feature: str | Iterable[str] | None = None,
        subject: str | Iterable[str] | None = None,
        rule: str | Iterable[str] | None = None,
        channel: str | Iterable[str] | None = None,
        order_by: str | None = None,
        order: str | None = None,
        timeout: float | None = None,
    ) -> Result[pb.ListNotificationEventsResponse]:
        """One page of ``list``, with ``next_page_token`` (empty on the last page) and ``total_size``."""
        request = events_request(
            limit, page_token, from_, to, feature, subject, rule, channel, order_by, order
        )
        result: Result[pb.ListNotificationEventsResponse] = self._t.call(
            _SERVICE, "ListNotificationEvents", request, timeout=timeout, idempotent=True
        )
        return result


class AsyncNotificationChannels:
    """``om.notifications.channels`` for AsyncOpenMeter: the same methods, awaitable."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def create(
        self, channel: ChannelLike, *, timeout: float | None = None
    ) -> Result[pb.NotificationChannel]:
        """See ``NotificationChannels.create``."""
        request = pb.CreateNotificationChannelRequest(**channel_fields(channel))
        result: Result[pb.NotificationChannel] = await self._t.call(
            _SERVICE, "CreateNotificationChannel", request, lambda r: r.channel, timeout=timeout
        )
        return result

    async def get(self, channel_id: str, *, timeout: float | None = None) -> Result[pb.NotificationChannel]:
        """See ``NotificationChannels.get``."""
        request = pb.GetNotificationChannelRequest(id=_id(channel_id, "channel_id"))
        result: Result[pb.NotificationChannel] = await self._t.call(
            _SERVICE,
            "GetNotificationChannel",
            request,
            lambda r: r.channel,
            timeout=timeout,
            idempotent=True,
        )
        return result

    async def list(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        include_disabled: bool = False,
        include_deleted: bool = False,
        order_by: str | None = None,
        order: str | None = None,
        timeout: float | None = None,
    ) -> builtins.list[Result[pb.NotificationChannel]]:
        """See ``NotificationChannels.list``."""
        page = await self.list_page(
            limit=limit,
            page_token=page_token,
            include_disabled=include_disabled,
            include_deleted=include_deleted,
            order_by=order_by,
            order=order,
            timeout=timeout,
        )
        return list(page.channels)

    async def list_page(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        include_disabled: bool = False,
        include_deleted: bool = False,
        order_by: str | None = None,
        order: str | None = None,
        timeout: float | None = None,
    ) -> Result[pb.ListNotificationChannelsResponse]:
        """See ``NotificationChannels.list_page``."""
        request = channels_request(limit, page_token, include_disabled, include_deleted, order_by, order)
        result: Result[pb.ListNotificationChannelsResponse] = await self._t.call(
            _SERVICE, "ListNotificationChannels", request, timeout=timeout, idempotent=True
        )
        return result

    async def update(
        self, channel_id: str, channel: ChannelLike, *, timeout: float | None = None
    ) -> Result[pb.NotificationChannel]:
        """See ``NotificationChannels.update``."""
        request = pb.UpdateNotificationChannelRequest(
            id=_id(channel_id, "channel_id"), **channel_fields(channel)
        )
        result: Result[pb.NotificationChannel] = await self._t.call(
            _SERVICE, "UpdateNotificationChannel", request, lambda r: r.channel, timeout=timeout
        )
        return result

    async def delete(self, channel_id: str, *, timeout: float | None = None) -> None:
        """See ``NotificationChannels.delete``."""
        request = pb.DeleteNotificationChannelRequest(id=_id(channel_id, "channel_id"))
        await self._t.call(_SERVICE, "DeleteNotificationChannel", request, timeout=timeout)


class AsyncNotificationRules:
    """``om.notifications.rules`` for AsyncOpenMeter: the same methods, awaitable."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def create(self, rule: RuleLike, *, timeout: float | None = None) -> Result[pb.NotificationRule]:
        """See ``NotificationRules.create``."""
        request = pb.CreateNotificationRuleRequest(**rule_fields(rule))
        result: Result[pb.NotificationRule] = await self._t.call(
            _SERVICE, "CreateNotificationRule", request, lambda r: r.rule, timeout=timeout
        )
        return result

    async def get(self, rule_id: str, *, timeout: float | None = None) -> Result[pb.NotificationRule]:
        """See ``NotificationRules.get``."""
        request = pb.GetNotificationRuleRequest(id=_id(rule_id, "rule_id"))
        result: Result[pb.NotificationRule] = await self._t.call(
            _SERVICE,
            "GetNotificationRule",
            request,
            lambda r: r.rule,
            timeout=timeout,
            idempotent=True,
        )
        return result

    async def list(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        include_disabled: bool = False,
        include_deleted: bool = False,
        feature: str | Iterable[str] | None = None,
        channel: str | Iterable[str] | None = None,
        order_by: str | None = None,
        order: str | None = None,
        timeout: float | None = None,
    ) -> builtins.list[Result[pb.NotificationRule]]:
        """See ``NotificationRules.list``."""
        page = await self.list_page(
            limit=limit,
            page_token=page_token,
            include_disabled=include_disabled,
            include_deleted=include_deleted,
            feature=feature,
            channel=channel,
            order_by=order_by,
            order=order,
            timeout=timeout,
        )
        return list(page.rules)

    async def list_page(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        include_disabled: bool = False,
        include_deleted: bool = False,
        feature: str | Iterable[str] | None = None,
        channel: str | Iterable[str] | None = None,
        order_by: str | None = None,
        order: str | None = None,
        timeout: float | None = None,
    ) -> Result[pb.ListNotificationRulesResponse]:
        """See ``NotificationRules.list_page``."""
        request = rules_request(
            limit, page_token, include_disabled, include_deleted, feature, channel, order_by, order
        )
        result: Result[pb.ListNotificationRulesResponse] = await self._t.call(
            _SERVICE, "ListNotificationRules", request, timeout=timeout, idempotent=True
        )
        return result

    async def update(
        self, rule_id: str, rule: RuleLike, *, timeout: float | None = None
    ) -> Result[pb.NotificationRule]:
        """See ``NotificationRules.update``."""
        request = pb.UpdateNotificationRuleRequest(id=_id(rule_id, "rule_id"), **rule_fields(rule))
        result: Result[pb.NotificationRule] = await self._t.call(
            _SERVICE, "UpdateNotificationRule", request, lambda r: r.rule, timeout=timeout
        )
        return result

    async def delete(self, rule_id: str, *, timeout: float | None = None) -> None:
        """See ``NotificationRules.delete``."""
        request = pb.DeleteNotificationRuleRequest(id=_id(rule_id, "rule_id"))
        await self._t.call(_SERVICE, "DeleteNotificationRule", request, timeout=timeout)

    async def test(self, rule_id: str, *, timeout: float | None = None) -> Result[pb.NotificationEvent]:
        """See ``NotificationRules.test``."""
        request = pb.TestNotificationRuleRequest(id=_id(rule_id, "rule_id"))
        result: Result[pb.NotificationEvent] = await self._t.call(
            _SERVICE, "TestNotificationRule", request, lambda r: r.event, timeout=timeout
        )
        return result


class AsyncNotificationEvents:
    """``om.notifications.events`` for AsyncOpenMeter: the same methods, awaitable."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def get(self, event_id: str, *, timeout: float | None = None) -> Result[pb.NotificationEvent]:
        """See ``NotificationEvents.get``."""
        request = pb.GetNotificationEventRequest(id=_id(event_id, "event_id"))
        result: Result[pb.NotificationEvent] = await self._t.call(
            _SERVICE,
            "GetNotificationEvent",
            request,
            lambda r: r.event,
            timeout=timeout,
            idempotent=True,
        )
        return result

    async def list(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        feature: str | Iterable[str] | None = None,
        subject: str | Iterable[str] | None = None,
        rule: str | Iterable[str] | None = None,
        channel: str | Iterable[str] | None = None,
        order_by: str | None = None,
        order: str | None = None,
        timeout: float | None = None,
    ) -> builtins.list[Result[pb.NotificationEvent]]:
        """See ``NotificationEvents.list``."""
        page = await self.list_page(
            limit=limit,
            page_token=page_token,
            from_=from_,
            to=to,
            feature=feature,
            subject=subject,
            rule=rule,
            channel=channel,
            order_by=order_by,
            order=order,
            timeout=timeout,
        )
        return list(page.events)

    async def list_page(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        feature: str | Iterable[str] | None = None,
        subject: str | Iterable[str] | None = None,
        rule: str | Iterable[str] | None = None,
        channel: str | Iterable[str] | None = None,
        order_by: str | None = None,
        order: str | None = None,
        timeout: float | None = None,
    ) -> Result[pb.ListNotificationEventsResponse]:
        """See ``NotificationEvents.list_page``."""
        request = events_request(
            limit, page_token, from_, to, feature, subject, rule, channel, order_by, order
        )
        result: Result[pb.ListNotificationEventsResponse] = await self._t.call(
            _SERVICE, "ListNotificationEvents", request, timeout=timeout, idempotent=True
        )
        return result
