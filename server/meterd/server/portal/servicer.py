"""PortalService over gRPC: token management (admin calls) and the portal meter query (portal tokens only).

QueryPortalMeter forces the token's subject and delegates to the MeterService servicer's QueryMeter (handed in
by the composition root), so that the meter query has exactly one implementation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import grpc

from meterd.server import errors, rpc, wire
from meterd.server.portal.auth import current_portal_access
from meterd.server.portal.model import PortalToken
from meterd.server.portal.service import PortalService
from meterd.v1 import meters_pb2, portal_pb2, portal_pb2_grpc


def token_to_wire(token: PortalToken, now: datetime, text: str = "") -> portal_pb2.PortalToken:
    return portal_pb2.PortalToken(
        id=token.id,
        subject=token.subject,
        allowed_meter_slugs=list(token.allowed_meter_slugs),
        expires_at=wire.dt_to_ts(token.expires_at),
        created_at=wire.dt_to_ts(token.created_at),
        token=text,
        expired=token.expired(now),
        invalidated=token.invalidated_at is not None,
    )


def meter_query_of(request: portal_pb2.QueryPortalMeterRequest, subject: str) -> meters_pb2.QueryMeterRequest:
    """The MeterService query a portal query stands for: the same fields, the subject forced."""
    query = meters_pb2.QueryMeterRequest(
        meter=request.meter,
        window_size=request.window_size,
        window_time_zone=request.window_time_zone,
        subject=[subject],
        group_by=list(request.group_by),
        filter_group_by=dict(request.filter_group_by),
    )
    for key, values in request.filter_group_by_values.items():
        query.filter_group_by_values[key].values.extend(values.values)
    for name in ("from_time", "to_time"):
        if request.HasField(name):
            getattr(query, name).CopyFrom(getattr(request, name))
    return query


class MeterQuery(Protocol):
    """The meter query the portal delegates to (the MeterService servicer)."""

    def QueryMeter(
        self, request: meters_pb2.QueryMeterRequest, context: grpc.ServicerContext
    ) -> meters_pb2.QueryMeterResponse: ...


class PortalServicer(portal_pb2_grpc.PortalServiceServicer):
    def __init__(self, service: PortalService, meters: MeterQuery) -> None:
        self._service = service
        self.meters = meters  # the MeterService servicer (a test may stand in for it)

    @rpc.unary
    def CreatePortalToken(
        self, request: portal_pb2.CreatePortalTokenRequest, context: grpc.ServicerContext
    ) -> portal_pb2.CreatePortalTokenResponse:
        issued = self._service.create_token(
            request.subject,
            list(request.allowed_meter_slugs),
            wire.opt_ts(request, "expires_at", "expires_at"),
        )
        return portal_pb2.CreatePortalTokenResponse(
            token=token_to_wire(issued.token, issued.token.created_at, issued.text)
        )

    @rpc.unary
    def ListPortalTokens(
        self, request: portal_pb2.ListPortalTokensRequest, context: grpc.ServicerContext
    ) -> portal_pb2.ListPortalTokensResponse:
        cursor = rpc.decode_cursor(request.page_token, int, str)
        page, next_cursor, now = self._service.list_tokens(
            request.subject, request.include_invalid, request.page_size, cursor
        )
        return portal_pb2.ListPortalTokensResponse(
            tokens=[token_to_wire(t, now) for t in page],
            next_page_token=rpc.encode_cursor(next_cursor),
        )

    @rpc.unary
    def InvalidatePortalTokens(
        self, request: portal_pb2.InvalidatePortalTokensRequest, context: grpc.ServicerContext
    ) -> portal_pb2.InvalidatePortalTokensResponse:
        count = self._service.invalidate(request.subject or None, request.id or None)
        return portal_pb2.InvalidatePortalTokensResponse(invalidated_count=count)

    @rpc.unary
    def QueryPortalMeter(
        self, request: portal_pb2.QueryPortalMeterRequest, context: grpc.ServicerContext
    ) -> portal_pb2.QueryPortalMeterResponse:
        access = current_portal_access()
        if access is None:  # the auth interceptor sets it for every QueryPortalMeter call it lets through
            raise errors.Unauthenticated("QueryPortalMeter needs a portal token")
        access.check_meter(request.meter)
        reply: meters_pb2.QueryMeterResponse = self.meters.QueryMeter(
            meter_query_of(request, access.subject), context
        )
        response = portal_pb2.QueryPortalMeterResponse(window_size=reply.window_size, rows=list(reply.rows))
        for name in ("from_time", "to_time"):
            if reply.HasField(name):
                getattr(response, name).CopyFrom(getattr(reply, name))
        return response
