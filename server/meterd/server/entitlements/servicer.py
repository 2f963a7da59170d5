"""EntitlementService over gRPC: wire <-> domain. Metered values, history and resets are the balance service's
(meterd.server.balances.service), reached through the entitlement service; WatchEntitlementValues is the watch
domain's (meterd.server.watch.servicer), handed in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from decimal import Decimal

import grpc
import grpc.aio

from meterd.server import errors, rpc, wire
from meterd.server.credit.engine import History, Segment, WindowRow
from meterd.server.credit.windows import HistoryWindow
from meterd.server.entitlements.model import (
    Entitlement,
    EntitlementFilter,
    EntitlementOrderBy,
    EntitlementType,
    EntitlementValue,
    MeasureUsageFrom,
    MeteredRequest,
    NewEntitlement,
)
from meterd.server.entitlements.service import EntitlementService
from meterd.v1 import common_pb2, entitlements_pb2, entitlements_pb2_grpc

_HISTORY_WINDOWS = {
    common_pb2.WINDOW_SIZE_HOUR: HistoryWindow.HOUR,
    common_pb2.WINDOW_SIZE_DAY: HistoryWindow.DAY,
    common_pb2.WINDOW_SIZE_MONTH: HistoryWindow.MONTH,
}


def history_window_from_wire(value: int) -> HistoryWindow | None:
    """None for UNSPECIFIED (the service says it is required); INVALID_ARGUMENT for MINUTE or unknown numbers."""
    if value == common_pb2.WINDOW_SIZE_UNSPECIFIED:
        return None
    window = _HISTORY_WINDOWS.get(common_pb2.WindowSize.ValueType(value))
    if window is None:
        known = value in common_pb2.WindowSize.values()
        name = common_pb2.WindowSize.Name(common_pb2.WindowSize.ValueType(value)) if known else str(value)
        raise errors.InvalidArgument.of("window_size", f"{name} is not a history window: HOUR, DAY or MONTH")
    return window


def value_to_wire(v: EntitlementValue) -> entitlements_pb2.EntitlementValue:
    """The wire EntitlementValue (GetEntitlementValue and the watch stream): amounts as doubles, a missing
    config as ""."""
    return entitlements_pb2.EntitlementValue(
        has_access=v.has_access,
        balance=float(v.balance),
        usage=float(v.usage),
        overage=float(v.overage),
        config=v.config or "",
    )


def _amounts(values: Mapping[str, Decimal]) -> dict[str, float]:
    return {gid: float(amount) for gid, amount in values.items()}


def window_row_to_wire(row: WindowRow) -> entitlements_pb2.WindowedHistoryRow:
    return entitlements_pb2.WindowedHistoryRow(
        from_time=wire.dt_to_ts(row.start),
        to_time=wire.dt_to_ts(row.end),
        usage=float(row.usage),
        balance_at_start=float(row.balance_at_start),
    )


def segment_to_wire(s: Segment) -> entitlements_pb2.BurndownSegment:
    return entitlements_pb2.BurndownSegment(
        from_time=wire.dt_to_ts(s.start),
        to_time=wire.dt_to_ts(s.end),
        usage=float(s.usage),
        overage=float(s.overage),
        balance_at_start=float(s.balance_at_start),
        balance_at_end=float(s.balance_at_end),
        grant_balances_at_start=_amounts(s.grant_balances_at_start),
        grant_balances_at_end=_amounts(s.grant_balances_at_end),
        grant_usage=_amounts(s.grant_usages),
        overage_at_start=float(s.overage_at_start),
    )


def history_to_wire(h: History | None) -> entitlements_pb2.GetEntitlementHistoryResponse:
    if h is None:
        return entitlements_pb2.GetEntitlementHistoryResponse()
    return entitlements_pb2.GetEntitlementHistoryResponse(
        windowed_history=[window_row_to_wire(r) for r in h.windows],
        burndown_history=[segment_to_wire(s) for s in h.segments],
    )


_TYPES = {
    entitlements_pb2.ENTITLEMENT_TYPE_BOOLEAN: EntitlementType.BOOLEAN,
    entitlements_pb2.ENTITLEMENT_TYPE_STATIC: EntitlementType.STATIC,
    entitlements_pb2.ENTITLEMENT_TYPE_METERED: EntitlementType.METERED,
}
_ORDER_BY = {
    entitlements_pb2.ENTITLEMENT_ORDER_BY_UNSPECIFIED: EntitlementOrderBy.CREATED_AT,
    entitlements_pb2.ENTITLEMENT_ORDER_BY_CREATED_AT: EntitlementOrderBy.CREATED_AT,
    entitlements_pb2.ENTITLEMENT_ORDER_BY_UPDATED_AT: EntitlementOrderBy.UPDATED_AT,
}


def entitlement_filter_from_wire(
    request: entitlements_pb2.ListEntitlementsRequest | entitlements_pb2.ListSubjectEntitlementsRequest,
    subjects: tuple[str, ...],
) -> EntitlementFilter:
    types = []
    for i, value in enumerate(request.type):
        kind = _TYPES.get(value)
        if kind is None:
            raise errors.InvalidArgument.of(
                f"type[{i}]", f"invalid entitlement type {value}: BOOLEAN, STATIC or METERED"
            )
        types.append(kind)
    order_by = _ORDER_BY.get(request.order_by)
    if order_by is None:
        raise errors.InvalidArgument.of(
            "order_by", f"invalid order by {request.order_by}: CREATED_AT or UPDATED_AT"
        )
    return EntitlementFilter(
        subjects=subjects,
        features=wire.filter_values(request.feature, "feature"),
        include_deleted=request.include_deleted,
        types=tuple(types),
        order_by=order_by,
        descending=wire.descending_from_wire(request.order),
    )


_PRESETS = {
    entitlements_pb2.MEASURE_USAGE_FROM_PRESET_UNSPECIFIED: None,
    entitlements_pb2.MEASURE_USAGE_FROM_PRESET_NOW: MeasureUsageFrom.NOW,
    entitlements_pb2.MEASURE_USAGE_FROM_PRESET_CURRENT_PERIOD_START: MeasureUsageFrom.CURRENT_PERIOD_START,
}


def _preset_from_wire(value: int) -> MeasureUsageFrom | None:
    if value not in _PRESETS:
        raise errors.InvalidArgument.of(
            "entitlement.metered.measure_usage_from_preset",
            f"unknown preset {value}: NOW or CURRENT_PERIOD_START",
        )
    return _PRESETS[value]  # type: ignore[index]


def new_entitlement_from_wire(request: entitlements_pb2.CreateEntitlementRequest) -> NewEntitlement:
    e = request.entitlement
    kind = e.WhichOneof("type")
    metered = None
    config = None
    if kind == "metered":
        m = e.metered
        metered = MeteredRequest(
            interval=wire.interval_from_wire(
                m.usage_period.interval, "entitlement.metered.usage_period.interval"
            ),
            anchor=wire.opt_ts(m.usage_period, "anchor", "entitlement.metered.usage_period.anchor")
            if m.HasField("usage_period")
            else None,
            measure_usage_from=wire.opt_ts(m, "measure_usage_from", "entitlement.metered.measure_usage_from"),
            measure_usage_from_preset=_preset_from_wire(m.measure_usage_from_preset),
            issue_after_reset=wire.decimal_from_wire(m.issue_after_reset)
            if m.HasField("issue_after_reset")
            else None,
            issue_after_reset_priority=(
                m.issue_after_reset_priority if m.HasField("issue_after_reset_priority") else None
            ),
            is_soft_limit=m.is_soft_limit,
            preserve_overage_at_reset=m.preserve_overage_at_reset,
        )
    elif kind == "static":
        config = e.static.config
    return NewEntitlement(
        subject_key=request.subject_key or e.subject_key,
        type=EntitlementType(kind.upper()) if kind else None,
        feature_id=e.feature_id,
        feature_key=e.feature_key,
        metadata=dict(e.metadata),
        config=config,
        metered=metered,
    )


def _renamed(exc: errors.InvalidArgument, old: str, new: str) -> errors.InvalidArgument:
    """The same violations with the ``old`` field prefix named ``new`` (the request's own field name)."""
    violations = [
        errors.FieldViolation(
            new + v.field[len(old) :] if v.field.startswith(old) else v.field, v.description
        )
        for v in exc.violations
    ]
    return errors.InvalidArgument.many(violations) if violations else exc


def entitlement_to_wire(e: Entitlement, now: datetime) -> entitlements_pb2.Entitlement:
    """The wire entitlement; a metered one's current_usage_period is the one containing ``now``."""
    message = entitlements_pb2.Entitlement(
        id=e.id,
        subject_key=e.subject_key,
        feature_id=e.feature_id,
        feature_key=e.feature_key,
        metadata=dict(e.metadata),
        created_at=wire.dt_to_ts(e.created_at),
        updated_at=wire.dt_to_ts(e.updated_at),
    )
    if e.deleted_at is not None:
        message.deleted_at.CopyFrom(wire.dt_to_ts(e.deleted_at))
    if e.type is EntitlementType.BOOLEAN:
        message.boolean.SetInParent()
    elif e.type is EntitlementType.STATIC:
        message.static.config = e.config or ""
    else:
        m = e.metered
        assert m is not None
        metered = message.metered
        in_effect = e.usage_period_in_effect(now)
        assert in_effect is not None
        metered.usage_period.interval = wire.interval_to_wire(in_effect.interval)
        metered.usage_period.anchor.CopyFrom(wire.dt_to_ts(in_effect.anchor))
        metered.measure_usage_from.CopyFrom(wire.dt_to_ts(m.measure_usage_from))
        if m.issue_after_reset is not None:
            metered.issue_after_reset = float(m.issue_after_reset)
        metered.issue_after_reset_priority = m.issue_after_reset_priority
        metered.is_soft_limit = m.is_soft_limit
        metered.preserve_overage_at_reset = m.preserve_overage_at_reset
        period = e.current_usage_period(now)
        if period is not None:
            metered.current_usage_period.from_time.CopyFrom(wire.dt_to_ts(period.start))
            metered.current_usage_period.to_time.CopyFrom(wire.dt_to_ts(period.end))
        last_reset = e.reported_last_reset
        if last_reset is not None:
            metered.last_reset.CopyFrom(wire.dt_to_ts(last_reset))
    return message


# Serves one WatchEntitlementValues stream: the watch domain's (meterd.server.watch.servicer), which sits
# above this one and is handed in by the composition root.
WatchHandler = Callable[
    [entitlements_pb2.WatchEntitlementValuesRequest, grpc.aio.ServicerContext],
    AsyncIterator[entitlements_pb2.WatchEntitlementValuesResponse],
]


class EntitlementServicer(entitlements_pb2_grpc.EntitlementServiceServicer):
    def __init__(
        self, service: EntitlementService, clock: Callable[[], datetime], watch: WatchHandler
    ) -> None:
        self._service = service
        self._clock = clock
        self._watch = watch

    @rpc.unary
    def CreateEntitlement(
        self, request: entitlements_pb2.CreateEntitlementRequest, context: grpc.ServicerContext
    ) -> entitlements_pb2.CreateEntitlementResponse:
        created = self._service.create(new_entitlement_from_wire(request))
        return entitlements_pb2.CreateEntitlementResponse(
            entitlement=entitlement_to_wire(created, self._clock())
        )

    @rpc.unary
    def OverrideEntitlement(
        self, request: entitlements_pb2.OverrideEntitlementRequest, context: grpc.ServicerContext
    ) -> entitlements_pb2.OverrideEntitlementResponse:
        try:
            new = new_entitlement_from_wire(
                entitlements_pb2.CreateEntitlementRequest(
                    subject_key=request.subject_key, entitlement=request.override
                )
            )
            created = self._service.override(request.subject_key, request.entitlement, new)
        except errors.InvalidArgument as exc:
            raise _renamed(exc, "entitlement.", "override.") from exc
        return entitlements_pb2.OverrideEntitlementResponse(
            entitlement=entitlement_to_wire(created, self._clock())
        )

    @rpc.unary
    def GetEntitlement(
        self, request: entitlements_pb2.GetEntitlementRequest, context: grpc.ServicerContext
    ) -> entitlements_pb2.GetEntitlementResponse:
        if request.subject_key:
            found = self._service.get(request.subject_key, request.entitlement)
        else:
            found = self._service.get_by_id(request.entitlement)
        return entitlements_pb2.GetEntitlementResponse(entitlement=entitlement_to_wire(found, self._clock()))

    @rpc.unary
    def ListEntitlements(
        self, request: entitlements_pb2.ListEntitlementsRequest, context: grpc.ServicerContext
    ) -> entitlements_pb2.ListEntitlementsResponse:
        filter = entitlement_filter_from_wire(request, wire.filter_values(request.subject_key, "subject_key"))
        page, cursor, total = self._service.list(
            filter, request.page_size, rpc.decode_cursor(request.page_token, int, str)
        )
        now = self._clock()
        return entitlements_pb2.ListEntitlementsResponse(
            entitlements=[entitlement_to_wire(e, now) for e in page],
            next_page_token=rpc.encode_cursor(cursor),
            total_size=total,
        )

    @rpc.unary
    def ListSubjectEntitlements(
        self, request: entitlements_pb2.ListSubjectEntitlementsRequest, context: grpc.ServicerContext
    ) -> entitlements_pb2.ListSubjectEntitlementsResponse:
        filter = entitlement_filter_from_wire(request, ())
        page, cursor, total = self._service.list_for_subject(
            request.subject_key, filter, request.page_size, rpc.decode_cursor(request.page_token, int, str)
        )
        now = self._clock()
        return entitlements_pb2.ListSubjectEntitlementsResponse(
            entitlements=[entitlement_to_wire(e, now) for e in page],
            next_page_token=rpc.encode_cursor(cursor),
            total_size=total,
        )

    @rpc.unary
    def DeleteEntitlement(
        self, request: entitlements_pb2.DeleteEntitlementRequest, context: grpc.ServicerContext
    ) -> entitlements_pb2.DeleteEntitlementResponse:
        self._service.delete(request.subject_key, request.entitlement)
        return entitlements_pb2.DeleteEntitlementResponse()

    @rpc.unary
    def GetEntitlementValue(
        self, request: entitlements_pb2.GetEntitlementValueRequest, context: grpc.ServicerContext
    ) -> entitlements_pb2.GetEntitlementValueResponse:
        value = self._service.value(
            request.subject_key,
            request.entitlement,
            wire.opt_ts(request, "time"),
            rpc.deadline_check(context),
        )
        return entitlements_pb2.GetEntitlementValueResponse(value=value_to_wire(value))

    @rpc.unary
    def GetEntitlementHistory(
        self, request: entitlements_pb2.GetEntitlementHistoryRequest, context: grpc.ServicerContext
    ) -> entitlements_pb2.GetEntitlementHistoryResponse:
        window = history_window_from_wire(request.window_size)
        history = self._service.history(
            request.subject_key,
            request.entitlement,
            wire.opt_ts(request, "from_time"),
            wire.opt_ts(request, "to_time"),
            window,
            request.window_time_zone,
            rpc.deadline_check(context),
        )
        return history_to_wire(history)

    @rpc.unary
    def ResetEntitlementUsage(
        self, request: entitlements_pb2.ResetEntitlementUsageRequest, context: grpc.ServicerContext
    ) -> entitlements_pb2.ResetEntitlementUsageResponse:
        updated = self._service.reset(
            request.subject_key,
            request.entitlement,
            wire.opt_ts(request, "effective_at"),
            request.retain_anchor,
            request.preserve_overage if request.HasField("preserve_overage") else None,
            wire.interval_from_wire(request.usage_period.interval, "usage_period.interval"),
            wire.opt_ts(request.usage_period, "anchor", "usage_period.anchor")
            if request.HasField("usage_period")
            else None,
        )
        return entitlements_pb2.ResetEntitlementUsageResponse(
            entitlement=entitlement_to_wire(updated, self._clock())
        )

    async def WatchEntitlementValues(
        self, request: entitlements_pb2.WatchEntitlementValuesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[entitlements_pb2.WatchEntitlementValuesResponse]:
        """Runs on the event loop (an idle watch holds no thread); see meterd.server.watch.servicer."""
        async for message in self._watch(request, context):
            yield message
