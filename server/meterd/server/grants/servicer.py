"""GrantService over gRPC: wire <-> domain."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import grpc

from meterd.server import errors, rpc, wire
from meterd.server.grants.model import Grant, GrantFilter, GrantOrderBy, NewGrant, next_recurrence
from meterd.server.grants.service import GrantService
from meterd.server.periods import ExpirationDuration
from meterd.v1 import grants_pb2, grants_pb2_grpc

_DURATIONS = {
    grants_pb2.EXPIRATION_DURATION_HOUR: ExpirationDuration.HOUR,
    grants_pb2.EXPIRATION_DURATION_DAY: ExpirationDuration.DAY,
    grants_pb2.EXPIRATION_DURATION_WEEK: ExpirationDuration.WEEK,
    grants_pb2.EXPIRATION_DURATION_MONTH: ExpirationDuration.MONTH,
    grants_pb2.EXPIRATION_DURATION_YEAR: ExpirationDuration.YEAR,
}
_DURATIONS_TO_WIRE = {v: k for k, v in _DURATIONS.items()}


def new_grant_from_wire(g: grants_pb2.Grant) -> NewGrant:
    duration = g.expiration.duration
    if duration != grants_pb2.EXPIRATION_DURATION_UNSPECIFIED and duration not in _DURATIONS:
        raise errors.InvalidArgument.of("grant.expiration.duration", f"unknown duration {duration}")
    has_recurrence = g.HasField("recurrence")
    return NewGrant(
        amount=wire.decimal_from_wire(g.amount),
        effective_at=wire.opt_ts(g, "effective_at", "grant.effective_at"),
        expiration_duration=_DURATIONS.get(duration),
        expiration_count=g.expiration.count,
        priority=g.priority if g.HasField("priority") else None,
        max_rollover_amount=wire.decimal_from_wire(g.max_rollover_amount),
        min_rollover_amount=wire.decimal_from_wire(g.min_rollover_amount),
        recurrence_interval=(
            wire.interval_from_wire(g.recurrence.interval, "grant.recurrence.interval")
            if has_recurrence
            else None
        ),
        recurrence_anchor=wire.opt_ts(g.recurrence, "anchor", "grant.recurrence.anchor")
        if has_recurrence
        else None,
        has_recurrence=has_recurrence,
        metadata=dict(g.metadata),
    )


def _amount(value: Decimal) -> float:
    return float(value)


def grant_to_wire(g: Grant, now: datetime) -> grants_pb2.Grant:
    """The wire grant; ``next_recurrence`` is the next refill after ``now``."""
    message = grants_pb2.Grant(
        id=g.id,
        entitlement_id=g.entitlement_id,
        subject_key=g.subject_key,
        feature_key=g.feature_key,
        amount=_amount(g.amount),
        priority=g.priority,
        effective_at=wire.dt_to_ts(g.effective_at),
        expiration=grants_pb2.ExpirationPeriod(
            duration=_DURATIONS_TO_WIRE[g.expiration.duration], count=g.expiration.count
        ),
        expires_at=wire.dt_to_ts(g.expires_at),
        max_rollover_amount=_amount(g.max_rollover_amount),
        min_rollover_amount=_amount(g.min_rollover_amount),
        metadata=dict(g.metadata),
        created_at=wire.dt_to_ts(g.created_at),
        updated_at=wire.dt_to_ts(g.updated_at),
    )
    if g.recurrence is not None:
        message.recurrence.interval = wire.interval_to_wire(g.recurrence.interval)
        message.recurrence.anchor.CopyFrom(wire.dt_to_ts(g.recurrence.anchor))
    if g.voided_at is not None:
        message.voided_at.CopyFrom(wire.dt_to_ts(g.voided_at))
    upcoming = next_recurrence(g, now)
    if upcoming is not None:
        message.next_recurrence.CopyFrom(wire.dt_to_ts(upcoming))
    return message


_ORDER_BY = {
    grants_pb2.GRANT_ORDER_BY_UNSPECIFIED: GrantOrderBy.EFFECTIVE_AT,
    grants_pb2.GRANT_ORDER_BY_EFFECTIVE_AT: GrantOrderBy.EFFECTIVE_AT,
    grants_pb2.GRANT_ORDER_BY_CREATED_AT: GrantOrderBy.CREATED_AT,
    grants_pb2.GRANT_ORDER_BY_UPDATED_AT: GrantOrderBy.UPDATED_AT,
    grants_pb2.GRANT_ORDER_BY_EXPIRES_AT: GrantOrderBy.EXPIRES_AT,
}


def grant_filter_from_wire(
    request: grants_pb2.ListGrantsRequest | grants_pb2.ListEntitlementGrantsRequest,
    subjects: tuple[str, ...] = (),
    features: tuple[str, ...] = (),
) -> GrantFilter:
    order_by = _ORDER_BY.get(request.order_by)
    if order_by is None:
        raise errors.InvalidArgument.of(
            "order_by",
            f"invalid order by {request.order_by}: EFFECTIVE_AT, CREATED_AT, UPDATED_AT or EXPIRES_AT",
        )
    return GrantFilter(
        subjects=subjects,
        features=features,
        include_voided=request.include_voided,
        order_by=order_by,
        descending=wire.descending_from_wire(request.order),
    )


class GrantServicer(grants_pb2_grpc.GrantServiceServicer):
    def __init__(self, service: GrantService) -> None:
        self._service = service

    @rpc.unary
    def CreateGrant(
        self, request: grants_pb2.CreateGrantRequest, context: grpc.ServicerContext
    ) -> grants_pb2.CreateGrantResponse:
        grant = self._service.create(
            request.subject_key, request.entitlement, new_grant_from_wire(request.grant)
        )
        return grants_pb2.CreateGrantResponse(grant=grant_to_wire(grant, self._service.now()))

    @rpc.unary
    def ListEntitlementGrants(
        self, request: grants_pb2.ListEntitlementGrantsRequest, context: grpc.ServicerContext
    ) -> grants_pb2.ListEntitlementGrantsResponse:
        page, cursor, total = self._service.list_for_entitlement(
            request.subject_key,
            request.entitlement,
            grant_filter_from_wire(request),
            request.page_size,
            rpc.decode_cursor(request.page_token, int, int, str),
        )
        now = self._service.now()
        return grants_pb2.ListEntitlementGrantsResponse(
            grants=[grant_to_wire(g, now) for g in page],
            next_page_token=rpc.encode_cursor(cursor),
            total_size=total,
        )

    @rpc.unary
    def ListGrants(
        self, request: grants_pb2.ListGrantsRequest, context: grpc.ServicerContext
    ) -> grants_pb2.ListGrantsResponse:
        filter = grant_filter_from_wire(
            request,
            wire.filter_values(request.subject_key, "subject_key"),
            wire.filter_values(request.feature, "feature"),
        )
        page, cursor, total = self._service.list(
            filter, request.page_size, rpc.decode_cursor(request.page_token, int, int, str)
        )
        now = self._service.now()
        return grants_pb2.ListGrantsResponse(
            grants=[grant_to_wire(g, now) for g in page],
            next_page_token=rpc.encode_cursor(cursor),
            total_size=total,
        )

    @rpc.unary
    def VoidGrant(
        self, request: grants_pb2.VoidGrantRequest, context: grpc.ServicerContext
    ) -> grants_pb2.VoidGrantResponse:
        voided = self._service.void(request.grant_id, wire.opt_ts(request, "at"))
        return grants_pb2.VoidGrantResponse(grant=grant_to_wire(voided, self._service.now()))
