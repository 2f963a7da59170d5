"""NotificationService over gRPC: wire <-> domain.

A channel's signing secret goes out only in the answers of CreateNotificationChannel and
GetNotificationChannel (every call that reaches a servicer is an admin's: see portal/auth.py); lists,
updates and the channels named inside rules and events never carry it.
"""

from __future__ import annotations

from typing import Any

import grpc

from meterd.server import errors, rpc, wire
from meterd.server.entitlements.model import EntitlementValue
from meterd.server.notifications.model import (
    Attempt,
    Channel,
    ChannelFilter,
    ChannelInput,
    ChannelMeta,
    ChannelType,
    Delivery,
    DeliveryState,
    Event,
    EventFilter,
    OrderBy,
    Rule,
    RuleFilter,
    RuleInput,
    RuleType,
    Threshold,
    ThresholdType,
)
from meterd.server.notifications.service import NotificationService
from meterd.v1 import entitlements_pb2, notifications_pb2_grpc
from meterd.v1 import notifications_pb2 as pb

_CHANNEL_TYPES = {pb.NOTIFICATION_CHANNEL_TYPE_WEBHOOK: ChannelType.WEBHOOK}
_CHANNEL_TYPES_TO_WIRE = {v: k for k, v in _CHANNEL_TYPES.items()}
_RULE_TYPES = {pb.NOTIFICATION_EVENT_TYPE_ENTITLEMENTS_BALANCE_THRESHOLD: RuleType.BALANCE_THRESHOLD}
_RULE_TYPES_TO_WIRE = {v: k for k, v in _RULE_TYPES.items()}
_THRESHOLD_TYPES = {
    pb.NOTIFICATION_THRESHOLD_TYPE_NUMBER: ThresholdType.NUMBER,
    pb.NOTIFICATION_THRESHOLD_TYPE_PERCENT: ThresholdType.PERCENT,
}
_THRESHOLD_TYPES_TO_WIRE = {v: k for k, v in _THRESHOLD_TYPES.items()}
_STATES_TO_WIRE = {
    DeliveryState.SUCCESS: pb.NOTIFICATION_DELIVERY_STATE_SUCCESS,
    DeliveryState.FAILED: pb.NOTIFICATION_DELIVERY_STATE_FAILED,
    DeliveryState.SENDING: pb.NOTIFICATION_DELIVERY_STATE_SENDING,
    DeliveryState.PENDING: pb.NOTIFICATION_DELIVERY_STATE_PENDING,
}
_CHANNEL_ORDER = {
    pb.NOTIFICATION_CHANNEL_ORDER_BY_UNSPECIFIED: OrderBy.ID,
    pb.NOTIFICATION_CHANNEL_ORDER_BY_ID: OrderBy.ID,
    pb.NOTIFICATION_CHANNEL_ORDER_BY_TYPE: OrderBy.TYPE,
    pb.NOTIFICATION_CHANNEL_ORDER_BY_CREATED_AT: OrderBy.CREATED_AT,
    pb.NOTIFICATION_CHANNEL_ORDER_BY_UPDATED_AT: OrderBy.UPDATED_AT,
}
_RULE_ORDER = {
    pb.NOTIFICATION_RULE_ORDER_BY_UNSPECIFIED: OrderBy.ID,
    pb.NOTIFICATION_RULE_ORDER_BY_ID: OrderBy.ID,
    pb.NOTIFICATION_RULE_ORDER_BY_TYPE: OrderBy.TYPE,
    pb.NOTIFICATION_RULE_ORDER_BY_CREATED_AT: OrderBy.CREATED_AT,
    pb.NOTIFICATION_RULE_ORDER_BY_UPDATED_AT: OrderBy.UPDATED_AT,
}
_EVENT_ORDER = {
    pb.NOTIFICATION_EVENT_ORDER_BY_UNSPECIFIED: OrderBy.CREATED_AT,
    pb.NOTIFICATION_EVENT_ORDER_BY_ID: OrderBy.ID,
    pb.NOTIFICATION_EVENT_ORDER_BY_CREATED_AT: OrderBy.CREATED_AT,
}


def _enum(value: int, known: dict[Any, Any], field: str, *, required: bool = False) -> Any:
    found = known.get(value)
    if found is None and (value != 0 or required):
        raise errors.InvalidArgument.of(field, "is required" if value == 0 else f"unknown value {value}")
    return found


def _order(value: int, known: dict[Any, OrderBy]) -> OrderBy:
    found = known.get(value)
    if found is None:
        raise errors.InvalidArgument.of("order_by", f"unknown value {value}")
    return found


def _cursor(token: str, order: OrderBy) -> tuple[Any, str] | None:
    cursor = rpc.decode_cursor(token, str, object, str)
    if cursor is None:
        return None
    if cursor[0] != order.value:
        raise errors.InvalidArgument.of("page_token", "was issued for another order_by")
    return cursor[1], cursor[2]


def _token(cursor: tuple[Any, str] | None, order: OrderBy) -> str:
    return rpc.encode_cursor((order.value, *cursor) if cursor else None)


def channel_meta_to_wire(meta: ChannelMeta) -> pb.NotificationChannelMeta:
    return pb.NotificationChannelMeta(id=meta.id, type=_CHANNEL_TYPES_TO_WIRE[meta.type])


def channel_to_wire(c: Channel, *, with_secret: bool = False) -> pb.NotificationChannel:
    message = pb.NotificationChannel(
        id=c.id,
        type=_CHANNEL_TYPES_TO_WIRE[c.type],
        name=c.name,
        disabled=c.disabled,
        url=c.url,
        custom_headers=dict(c.custom_headers),
        created_at=wire.dt_to_ts(c.created_at),
        updated_at=wire.dt_to_ts(c.updated_at),
    )
    if with_secret:
        message.signing_secret = c.signing_secret
    if c.deleted_at is not None:
        message.deleted_at.CopyFrom(wire.dt_to_ts(c.deleted_at))
    return message


def threshold_to_wire(t: Threshold) -> pb.NotificationThreshold:
    return pb.NotificationThreshold(value=float(t.value), type=_THRESHOLD_TYPES_TO_WIRE[t.type])


def rule_to_wire(r: Rule) -> pb.NotificationRule:
    message = pb.NotificationRule(
        id=r.id,
        type=_RULE_TYPES_TO_WIRE[r.type],
        name=r.name,
        disabled=r.disabled,
        channels=[channel_meta_to_wire(c) for c in r.channels],
        thresholds=[threshold_to_wire(t) for t in r.thresholds],
        features=[pb.NotificationFeatureMeta(id=f.id, key=f.key) for f in r.features],
        created_at=wire.dt_to_ts(r.created_at),
        updated_at=wire.dt_to_ts(r.updated_at),
    )
    if r.deleted_at is not None:
        message.deleted_at.CopyFrom(wire.dt_to_ts(r.deleted_at))
    return message


def attempt_to_wire(a: Attempt) -> pb.NotificationDeliveryAttempt:
    return pb.NotificationDeliveryAttempt(
        attempted_at=wire.dt_to_ts(a.attempted_at),
        status_code=a.status_code,
        error=a.error,
        duration_seconds=a.duration_seconds,
    )


def delivery_to_wire(d: Delivery) -> pb.NotificationDeliveryStatus:
    message = pb.NotificationDeliveryStatus(
        channel=channel_meta_to_wire(d.channel),
        state=_STATES_TO_WIRE[d.state],
        reason=d.reason,
        updated_at=wire.dt_to_ts(d.updated_at),
        attempts=[attempt_to_wire(a) for a in d.attempts],
    )
    if d.next_attempt_at is not None:
        message.next_attempt_at.CopyFrom(wire.dt_to_ts(d.next_attempt_at))
    return message


def event_to_wire(e: Event, rule: Rule | None) -> pb.NotificationEvent:
    message = pb.NotificationEvent(
        id=e.id,
        type=_RULE_TYPES_TO_WIRE[e.type],
        created_at=wire.dt_to_ts(e.created_at),
        delivery_status=[delivery_to_wire(d) for d in e.deliveries],
        payload_json=e.payload_json,
        annotations=dict(e.annotations),
    )
    if rule is not None:
        message.rule.CopyFrom(rule_to_wire(rule))
    c = e.crossing
    if c is not None:
        message.balance_threshold.CopyFrom(
            pb.BalanceThresholdPayload(
                entitlement_id=c.entitlement_id,
                feature_id=c.feature_id,
                feature_key=c.feature_key,
                subject_key=c.subject_key,
                threshold=threshold_to_wire(c.threshold),
                value=value_to_wire(c.value),
                usage_period_start=wire.dt_to_ts(c.period_start),
            )
        )
    return message


def value_to_wire(v: EntitlementValue) -> entitlements_pb2.EntitlementValue:
    """A metered entitlement's value as GetEntitlementValue answers it (amounts as doubles)."""
    return entitlements_pb2.EntitlementValue(
        has_access=v.has_access, balance=float(v.balance), usage=float(v.usage), overage=float(v.overage)
    )


def _channel_input(request: Any) -> ChannelInput:
    return ChannelInput(
        type=_enum(request.type, _CHANNEL_TYPES, "type"),
        name=request.name,
        url=request.url,
        disabled=request.disabled,
        custom_headers=dict(request.custom_headers),
        signing_secret=request.signing_secret if request.HasField("signing_secret") else None,
    )


def _rule_input(request: Any) -> RuleInput:
    thresholds = []
    for i, t in enumerate(request.thresholds):
        kind = _enum(t.type, _THRESHOLD_TYPES, f"thresholds[{i}].type", required=True)
        if t.value != t.value or t.value in (float("inf"), float("-inf")):
            raise errors.InvalidArgument.of(f"thresholds[{i}].value", "must be a finite number")
        thresholds.append(Threshold(kind, wire.decimal_from_wire(t.value)))
    return RuleInput(
        type=_enum(request.type, _RULE_TYPES, "type"),
        name=request.name,
        disabled=request.disabled,
        channels=tuple(request.channels),
        thresholds=tuple(thresholds),
        features=tuple(request.features),
    )


def _required_id(request: Any) -> str:
    if not request.id:
        raise errors.InvalidArgument.of("id", "is required")
    return str(request.id)


class NotificationServicer(notifications_pb2_grpc.NotificationServiceServicer):
    def __init__(self, service: NotificationService) -> None:
        self._service = service

    # -- channels --------------------------------------------------------------------------------------
    @rpc.unary
    def CreateNotificationChannel(
        self, request: pb.CreateNotificationChannelRequest, context: grpc.ServicerContext
    ) -> pb.CreateNotificationChannelResponse:
        channel = self._service.create_channel(_channel_input(request))
        return pb.CreateNotificationChannelResponse(channel=channel_to_wire(channel, with_secret=True))

    @rpc.unary
    def GetNotificationChannel(
        self, request: pb.GetNotificationChannelRequest, context: grpc.ServicerContext
    ) -> pb.GetNotificationChannelResponse:
        channel = self._service.get_channel(_required_id(request))
        return pb.GetNotificationChannelResponse(channel=channel_to_wire(channel, with_secret=True))

    @rpc.unary
    def ListNotificationChannels(
        self, request: pb.ListNotificationChannelsRequest, context: grpc.ServicerContext
    ) -> pb.ListNotificationChannelsResponse:
        order = _order(request.order_by, _CHANNEL_ORDER)
        filter = ChannelFilter(
            include_disabled=request.include_disabled,
            include_deleted=request.include_deleted,
            order_by=order,
            descending=wire.descending_from_wire(request.order),
        )
        page, cursor = self._service.list_channels(
            filter, request.page_size, _cursor(request.page_token, order)
        )
        return pb.ListNotificationChannelsResponse(
            channels=[channel_to_wire(c) for c in page],
            next_page_token=_token(cursor, order),
            total_size=self._service.count_channels(filter),
        )

    @rpc.unary
    def UpdateNotificationChannel(
        self, request: pb.UpdateNotificationChannelRequest, context: grpc.ServicerContext
    ) -> pb.UpdateNotificationChannelResponse:
        channel = self._service.update_channel(_required_id(request), _channel_input(request))
        return pb.UpdateNotificationChannelResponse(channel=channel_to_wire(channel))

    @rpc.unary
    def DeleteNotificationChannel(
        self, request: pb.DeleteNotificationChannelRequest, context: grpc.ServicerContext
    ) -> pb.DeleteNotificationChannelResponse:
        self._service.delete_channel(_required_id(request))
        return pb.DeleteNotificationChannelResponse()

    # -- rules -----------------------------------------------------------------------------------------
    @rpc.unary
    def CreateNotificationRule(
        self, request: pb.CreateNotificationRuleRequest, context: grpc.ServicerContext
    ) -> pb.CreateNotificationRuleResponse:
        rule = self._service.create_rule(_rule_input(request))
        return pb.CreateNotificationRuleResponse(rule=rule_to_wire(rule))

    @rpc.unary
    def GetNotificationRule(
        self, request: pb.GetNotificationRuleRequest, context: grpc.ServicerContext
    ) -> pb.GetNotificationRuleResponse:
        return pb.GetNotificationRuleResponse(
            rule=rule_to_wire(self._service.get_rule(_required_id(request)))
        )

    @rpc.unary
    def ListNotificationRules(
        self, request: pb.ListNotificationRulesRequest, context: grpc.ServicerContext
    ) -> pb.ListNotificationRulesResponse:
        order = _order(request.order_by, _RULE_ORDER)
        filter = RuleFilter(
            include_disabled=request.include_disabled,
            include_deleted=request.include_deleted,
            feature_ids=wire.filter_values(request.features, "features"),
            channel_ids=wire.filter_values(request.channels, "channels"),
            order_by=order,
            descending=wire.descending_from_wire(request.order),
        )
        page, cursor = self._service.list_rules(filter, request.page_size, _cursor(request.page_token, order))
        return pb.ListNotificationRulesResponse(
            rules=[rule_to_wire(r) for r in page],
            next_page_token=_token(cursor, order),
            total_size=self._service.count_rules(filter),
        )

    @rpc.unary
    def UpdateNotificationRule(
        self, request: pb.UpdateNotificationRuleRequest, context: grpc.ServicerContext
    ) -> pb.UpdateNotificationRuleResponse:
        rule = self._service.update_rule(_required_id(request), _rule_input(request))
        return pb.UpdateNotificationRuleResponse(rule=rule_to_wire(rule))

    @rpc.unary
    def DeleteNotificationRule(
        self, request: pb.DeleteNotificationRuleRequest, context: grpc.ServicerContext
    ) -> pb.DeleteNotificationRuleResponse:
        self._service.delete_rule(_required_id(request))
        return pb.DeleteNotificationRuleResponse()

    @rpc.unary
    def TestNotificationRule(
        self, request: pb.TestNotificationRuleRequest, context: grpc.ServicerContext
    ) -> pb.TestNotificationRuleResponse:
        event = self._service.test_rule(_required_id(request))
        return pb.TestNotificationRuleResponse(event=self._event(event))

    # -- events ----------------------------------------------------------------------------------------
    def _event(self, event: Event, rules: dict[str, Rule | None] | None = None) -> pb.NotificationEvent:
        rules = {} if rules is None else rules
        if event.rule_id not in rules:
            try:
                rules[event.rule_id] = self._service.get_rule(event.rule_id)
            except errors.NotFound:
                rules[event.rule_id] = None
        return event_to_wire(event, rules[event.rule_id])

    @rpc.unary
    def GetNotificationEvent(
        self, request: pb.GetNotificationEventRequest, context: grpc.ServicerContext
    ) -> pb.GetNotificationEventResponse:
        return pb.GetNotificationEventResponse(
            event=self._event(self._service.get_event(_required_id(request)))
        )

    @rpc.unary
    def ListNotificationEvents(
        self, request: pb.ListNotificationEventsRequest, context: grpc.ServicerContext
    ) -> pb.ListNotificationEventsResponse:
        order = _order(request.order_by, _EVENT_ORDER)
        filter = EventFilter(
            from_time=wire.opt_ts(request, "from_time"),
            to_time=wire.opt_ts(request, "to_time"),
            features=wire.filter_values(request.features, "features"),
            subjects=wire.filter_values(request.subjects, "subjects"),
            rule_ids=wire.filter_values(request.rules, "rules"),
            channel_ids=wire.filter_values(request.channels, "channels"),
            order_by=order,
            descending=wire.descending_from_wire(request.order),
        )
        page, cursor = self._service.list_events(
            filter, request.page_size, _cursor(request.page_token, order)
        )
        rules: dict[str, Rule | None] = {}
        return pb.ListNotificationEventsResponse(
            events=[self._event(e, rules) for e in page],
            next_page_token=_token(cursor, order),
            total_size=self._service.count_events(filter),
        )
