"""MeterService over gRPC: wire <-> domain."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import grpc
from google.protobuf import timestamp_pb2

from meterd.server import errors, rpc, wire
from meterd.server.meters.aggregate import QueryRow
from meterd.server.meters.model import Aggregation
from meterd.server.meters.service import Meter, MeterQuery, MeterService, QueryResult, definition_from_fields
from meterd.server.meters.windows import WindowSize
from meterd.server.timeutil import to_us
from meterd.v1 import common_pb2, meters_pb2, meters_pb2_grpc

_AGGREGATIONS = {a: meters_pb2.Aggregation.Value(f"AGGREGATION_{a.value}") for a in Aggregation}
_AGGREGATION_NAMES = {v: k for k, v in _AGGREGATIONS.items()}
_WINDOWS = {
    common_pb2.WINDOW_SIZE_MINUTE: WindowSize.MINUTE,
    common_pb2.WINDOW_SIZE_HOUR: WindowSize.HOUR,
    common_pb2.WINDOW_SIZE_DAY: WindowSize.DAY,
}
_WINDOW_VALUES = {v: k for k, v in _WINDOWS.items()}


def meter_to_wire(m: Meter) -> meters_pb2.Meter:
    d = m.definition
    return meters_pb2.Meter(
        id=m.id, slug=d.slug, description=d.description, event_type=d.event_type,
        aggregation=_AGGREGATIONS[d.aggregation], value_property=d.value_property or "", group_by=dict(d.group_by),
        created_at=wire.dt_to_ts(m.created_at), updated_at=wire.dt_to_ts(m.updated_at),
        window_size=_WINDOW_VALUES[d.window_size],
    )


def _timestamp(t: datetime, cache: dict[datetime, timestamp_pb2.Timestamp]) -> timestamp_pb2.Timestamp:
    # Rows share window edges; protobuf's FromDatetime is slow enough to matter over thousands of rows.
    ts = cache.get(t)
    if ts is None:
        us = to_us(t)
        ts = cache[t] = timestamp_pb2.Timestamp(seconds=us // 1_000_000, nanos=us % 1_000_000 * 1000)
    return ts


def rows_to_wire(rows: list[QueryRow], target: Any) -> None:
    """Appends the rows to a response's repeated ``rows`` (built in place)."""
    cache: dict[datetime, timestamp_pb2.Timestamp] = {}
    for row in rows:
        wire = target.add(value=float(row.value), group_by={k: v for k, v in row.group_by.items() if v is not None})
        wire.window_start.CopyFrom(_timestamp(row.window_start, cache))
        wire.window_end.CopyFrom(_timestamp(row.window_end, cache))
        if row.subject is not None:
            wire.subject = row.subject


def window_from_wire(value: int, field: str = "window_size") -> WindowSize | None:
    if value == common_pb2.WINDOW_SIZE_UNSPECIFIED:
        return None
    size = _WINDOWS.get(value)  # type: ignore[call-overload]
    if size is None:
        raise errors.InvalidArgument.of(field, "must be MINUTE, HOUR or DAY for meter queries")
    return size


def query_from_wire(request: meters_pb2.QueryMeterRequest) -> MeterQuery:
    return MeterQuery(
        meter=request.meter,
        from_time=wire.opt_ts(request, "from_time"),
        to_time=wire.opt_ts(request, "to_time"),
        window_size=window_from_wire(request.window_size),
        window_time_zone=request.window_time_zone,
        subjects=wire.filter_values(request.subject, "subject"),
        group_by=tuple(dict.fromkeys(request.group_by)),
        filter_group_by=filters_from_wire(request.filter_group_by, request.filter_group_by_values),
    )


def filters_from_wire(
    single: Mapping[str, str], several: Mapping[str, meters_pb2.GroupByValues]
) -> dict[str, tuple[str, ...]]:
    """Group key -> allowed values, from ``filter_group_by`` (one value) and ``filter_group_by_values``
    (any of several). INVALID_ARGUMENT for a key in both, or an empty list of values."""
    filters = {key: (value,) for key, value in single.items()}
    for key, values in several.items():
        if key in filters:
            raise errors.InvalidArgument.of(
                f"filter_group_by_values.{key}", "is also in filter_group_by; give each key once"
            )
        if not values.values:
            raise errors.InvalidArgument.of(f"filter_group_by_values.{key}", "needs at least one value")
        filters[key] = tuple(dict.fromkeys(wire.filter_values(values.values, f"filter_group_by_values.{key}")))
    return filters


def result_to_wire(result: QueryResult) -> meters_pb2.QueryMeterResponse:
    response = meters_pb2.QueryMeterResponse(
        to_time=wire.dt_to_ts(result.to_time),
        window_size=_WINDOW_VALUES[result.window_size] if result.window_size else common_pb2.WINDOW_SIZE_UNSPECIFIED,
    )
    rows_to_wire(result.rows, response.rows)
    if result.from_time is not None:
        response.from_time.CopyFrom(wire.dt_to_ts(result.from_time))
    return response


class MeterServicer(meters_pb2_grpc.MeterServiceServicer):
    def __init__(self, service: MeterService) -> None:
        self._service = service

    @rpc.unary
    def CreateMeter(self, request: meters_pb2.CreateMeterRequest, context: grpc.ServicerContext) -> meters_pb2.CreateMeterResponse:
        m = request.meter
        aggregation = _AGGREGATION_NAMES.get(m.aggregation)
        definition = definition_from_fields(
            slug=m.slug, event_type=m.event_type, aggregation=aggregation, value_property=m.value_property,
            group_by=dict(m.group_by), description=m.description,
            window_size=window_from_wire(m.window_size, "meter.window_size"),
        )
        return meters_pb2.CreateMeterResponse(meter=meter_to_wire(self._service.create(definition)))

    @rpc.unary
    def GetMeter(self, request: meters_pb2.GetMeterRequest, context: grpc.ServicerContext) -> meters_pb2.GetMeterResponse:
        return meters_pb2.GetMeterResponse(meter=meter_to_wire(self._service.get(request.meter)))

    @rpc.unary
    def ListMeters(self, request: meters_pb2.ListMetersRequest, context: grpc.ServicerContext) -> meters_pb2.ListMetersResponse:
        after = rpc.decode_page_token(request.page_token)
        if after is not None and not isinstance(after, str):
            raise errors.InvalidArgument.of("page_token", "is not a valid page token")
        meters, next_slug = self._service.list(request.page_size, after)
        return meters_pb2.ListMetersResponse(
            meters=[meter_to_wire(m) for m in meters],
            next_page_token=rpc.encode_page_token(next_slug) if next_slug else "",
        )

    @rpc.unary
    def DeleteMeter(self, request: meters_pb2.DeleteMeterRequest, context: grpc.ServicerContext) -> meters_pb2.DeleteMeterResponse:
        self._service.delete(request.meter)
        return meters_pb2.DeleteMeterResponse()

    @rpc.unary
    def QueryMeter(self, request: meters_pb2.QueryMeterRequest, context: grpc.ServicerContext) -> meters_pb2.QueryMeterResponse:
        return result_to_wire(self._service.query(query_from_wire(request), rpc.deadline_check(context)))

    @rpc.unary
    def ListMeterSubjects(
        self, request: meters_pb2.ListMeterSubjectsRequest, context: grpc.ServicerContext
    ) -> meters_pb2.ListMeterSubjectsResponse:
        return meters_pb2.ListMeterSubjectsResponse(subjects=self._service.subjects(request.meter))
