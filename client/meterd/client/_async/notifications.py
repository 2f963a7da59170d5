"""``om.notifications``: webhook channels, balance-threshold rules, and the events rules make with their
delivery to each channel (OpenMeter's SDK: ``openmeter.notification.channels|rules|events``)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime

from meterd.client._notifications import (
    ChannelLike,
    RuleLike,
    channel_fields,
    channels_request,
    events_request,
    notification_id,
    rule_fields,
    rules_request,
)
from meterd.client._options import accept_sdk_names
from meterd.client._results import Result, results
from meterd.client._transport import AsyncTransport
from meterd.v1 import notifications_pb2 as pb


class AsyncNotifications:
    """Notifications (``om.notifications``): ``channels``, ``rules`` and ``events``."""

    def __init__(self, transport: AsyncTransport) -> None:
        self.channels = AsyncNotificationChannels(transport)
        self.rules = AsyncNotificationRules(transport)
        self.events = AsyncNotificationEvents(transport)


@accept_sdk_names
class AsyncNotificationChannels:
    """Webhook channels (``om.notifications.channels``)."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def create(
        self, channel: ChannelLike, *, timeout: float | None = None
    ) -> Result[pb.NotificationChannel]:
        """Creates a channel from ``{"type": "WEBHOOK", "name", "url", "customHeaders"?, "signingSecret"?,
        "disabled"?}``. Returns it with its ``signing_secret`` (generated when not given: keep it, only ``get``
        shows it again). Raises InvalidArgumentError naming the field (a URL meterd will not send to says
        why)."""
        request = pb.CreateNotificationChannelRequest(**channel_fields(channel))
        response = await self._t.call(
            self._t.notifications.CreateNotificationChannel, request, timeout=timeout
        )
        return Result(response.channel)

    async def get(self, channel_id: str, *, timeout: float | None = None) -> Result[pb.NotificationChannel]:
        """The channel (deleted ones too), with its signing secret. Raises NotFoundError."""
        request = pb.GetNotificationChannelRequest(id=notification_id(channel_id, "channel_id"))
        response = await self._t.call(
            self._t.notifications.GetNotificationChannel, request, timeout=timeout, idempotent=True
        )
        return Result(response.channel)

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
        """Channels (one page of ``limit``, default 100) ordered by id (or ``order_by`` type, createdAt,
        updatedAt; ``order`` ASC or DESC), without their signing secrets. Use ``list_page`` to page."""
        page = await self.list_page(
            limit=limit,
            page_token=page_token,
            include_disabled=include_disabled,
            include_deleted=include_deleted,
            order_by=order_by,
            order=order,
            timeout=timeout,
        )
        return results(page.proto.channels)

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
        """One page of ``list``, with ``next_page_token`` (empty on the last page) and ``total_size``."""
        request = channels_request(limit, page_token, include_disabled, include_deleted, order_by, order)
        return Result(
            await self._t.call(
                self._t.notifications.ListNotificationChannels, request, timeout=timeout, idempotent=True
            )
        )

    async def update(
        self, channel_id: str, channel: ChannelLike, *, timeout: float | None = None
    ) -> Result[pb.NotificationChannel]:
        """Replaces the channel's settings with ``channel`` (as ``create`` takes it; its secret stays unless
        ``signingSecret`` is given). Returns it without the secret. Raises NotFoundError, InvalidArgumentError."""
        request = pb.UpdateNotificationChannelRequest(
            id=notification_id(channel_id, "channel_id"), **channel_fields(channel)
        )
        response = await self._t.call(
            self._t.notifications.UpdateNotificationChannel, request, timeout=timeout
        )
        return Result(response.channel)

    async def delete(self, channel_id: str, *, timeout: float | None = None) -> None:
        """Deletes the channel: nothing more is sent to it. Raises NotFoundError."""
        request = pb.DeleteNotificationChannelRequest(id=notification_id(channel_id, "channel_id"))
        await self._t.call(self._t.notifications.DeleteNotificationChannel, request, timeout=timeout)


@accept_sdk_names
class AsyncNotificationRules:
    """Balance-threshold rules (``om.notifications.rules``)."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def create(self, rule: RuleLike, *, timeout: float | None = None) -> Result[pb.NotificationRule]:
        """Creates a rule from ``{"type": "entitlements.balance.threshold", "name", "channels": [ids],
        "thresholds": [{"value", "type": "NUMBER"|"PERCENT"}], "features"?: [ids or keys], "disabled"?}``.
        Raises InvalidArgumentError naming the field (unknown channels or features, no threshold or more than
        10, a value not above 0)."""
        request = pb.CreateNotificationRuleRequest(**rule_fields(rule))
        response = await self._t.call(self._t.notifications.CreateNotificationRule, request, timeout=timeout)
        return Result(response.rule)

    async def get(self, rule_id: str, *, timeout: float | None = None) -> Result[pb.NotificationRule]:
        """The rule (deleted ones too). Raises NotFoundError."""
        request = pb.GetNotificationRuleRequest(id=notification_id(rule_id, "rule_id"))
        response = await self._t.call(
            self._t.notifications.GetNotificationRule, request, timeout=timeout, idempotent=True
        )
        return Result(response.rule)

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
        """Rules (one page of ``limit``, default 100), optionally only those scoped to some features (ids or
        keys) or sending to some channels. Use ``list_page`` to page."""
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
        return results(page.proto.rules)

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
        """One page of ``list``, with ``next_page_token`` (empty on the last page) and ``total_size``."""
        request = rules_request(
            limit, page_token, include_disabled, include_deleted, feature, channel, order_by, order
        )
        return Result(
            await self._t.call(
                self._t.notifications.ListNotificationRules, request, timeout=timeout, idempotent=True
            )
        )

    async def update(
        self, rule_id: str, rule: RuleLike, *, timeout: float | None = None
    ) -> Result[pb.NotificationRule]:
        """Replaces the rule's settings with ``rule`` (as ``create`` takes it). Thresholds it keeps do not
        report again what they reported in the current usage period. Raises NotFoundError,
        InvalidArgumentError."""
        request = pb.UpdateNotificationRuleRequest(
            id=notification_id(rule_id, "rule_id"), **rule_fields(rule)
        )
        response = await self._t.call(self._t.notifications.UpdateNotificationRule, request, timeout=timeout)
        return Result(response.rule)

    async def delete(self, rule_id: str, *, timeout: float | None = None) -> None:
        """Deletes the rule: it makes no more events (those it made are still delivered). Raises NotFoundError."""
        request = pb.DeleteNotificationRuleRequest(id=notification_id(rule_id, "rule_id"))
        await self._t.call(self._t.notifications.DeleteNotificationRule, request, timeout=timeout)

    async def test(self, rule_id: str, *, timeout: float | None = None) -> Result[pb.NotificationEvent]:
        """Sends a test event (example data, annotated ``notification.rule.test``) to the rule's enabled channels
        and returns it. Raises NotFoundError, FailedPreconditionError when none of its channels is enabled."""
        request = pb.TestNotificationRuleRequest(id=notification_id(rule_id, "rule_id"))
        response = await self._t.call(self._t.notifications.TestNotificationRule, request, timeout=timeout)
        return Result(response.event)


@accept_sdk_names
class AsyncNotificationEvents:
    """Events rules made, with each channel's delivery (``om.notifications.events``)."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def get(self, event_id: str, *, timeout: float | None = None) -> Result[pb.NotificationEvent]:
        """The event, with its delivery to each channel and every attempt. Raises NotFoundError."""
        request = pb.GetNotificationEventRequest(id=notification_id(event_id, "event_id"))
        response = await self._t.call(
            self._t.notifications.GetNotificationEvent, request, timeout=timeout, idempotent=True
        )
        return Result(response.event)

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
        """Events (one page of ``limit``, default 100) by creation time (``from``/``to``, both inclusive), of
        some features, subjects, rules or channels. Use ``list_page`` to page."""
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
        return results(page.proto.events)

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
        """One page of ``list``, with ``next_page_token`` (empty on the last page) and ``total_size``."""
        request = events_request(
            limit, page_token, from_, to, feature, subject, rule, channel, order_by, order
        )
        return Result(
            await self._t.call(
                self._t.notifications.ListNotificationEvents, request, timeout=timeout, idempotent=True
            )
        )
