"""``om.meters``: create, list, get, delete and query meters, and list a meter's subjects."""

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
    to_enum,
    to_str_map,
    to_timestamp,
)
from meterd.client._enums import Aggregation, WindowSize
from meterd.client._errors import invalid_argument
from meterd.client._results import Result
from meterd.client._transport import AsyncTransport, Transport
from meterd.v1 import common_pb2, meters_pb2, portal_pb2

_METER_KEYS = ("slug", "description", "event_type", "aggregation", "value_property", "group_by", "window_size")
# A filter_group_by value: one value, or several (a row matches any of them).
FilterValues = str | Iterable[str]
_QUERY_WINDOW_SIZES = (WindowSize.MINUTE, WindowSize.HOUR, WindowSize.DAY)


def query_window_size(value: WindowSize | str, what: str = "window_size") -> common_pb2.WindowSize.ValueType:
    """The wire window size of a meter or its query: MINUTE, HOUR or DAY (MONTH is for entitlement history)."""
    size = to_enum(value, WindowSize, what=what)
    if size not in _QUERY_WINDOW_SIZES:
        raise invalid_argument(f"{what}", f"{size.name} is not one of MINUTE, HOUR, DAY for a meter")
    return size.wire


def meter_to_wire(meter: Mapping[str, Any] | meters_pb2.Meter) -> meters_pb2.Meter:
    """A wire Meter from the SDK's shape: slug, eventType, aggregation, valueProperty, groupBy, description,
    windowSize (MINUTE, HOUR or DAY: the smallest window a query may ask for; default MINUTE)."""
    if isinstance(meter, meters_pb2.Meter):
        return meter
    m = normalize(meter, what="meter", allowed=_METER_KEYS, required=("slug", "event_type", "aggregation"))
    for key in ("slug", "description", "event_type", "value_property"):
        if m.get(key) is not None and not isinstance(m[key], str):
            raise invalid_argument(f"meter.{key}", f"expected a string, got {type(m[key]).__name__}")
    return meters_pb2.Meter(
        slug=m["slug"], description=m.get("description") or "", event_type=m["event_type"],
        aggregation=to_enum(m["aggregation"], Aggregation, what="meter.aggregation").wire,
        value_property=m.get("value_property") or "", group_by=to_str_map(m.get("group_by"), what="meter.group_by"),
        window_size=(query_window_size(m["window_size"], "meter.window_size") if m.get("window_size") is not None
                     else common_pb2.WINDOW_SIZE_UNSPECIFIED),
    )


def _set_filters(request: Any, filter_group_by: Mapping[str, FilterValues] | None) -> None:
    """One value per key goes to ``filter_group_by``, several to ``filter_group_by_values``."""
    if filter_group_by is None:
        return
    if not isinstance(filter_group_by, Mapping):
        raise invalid_argument("filter_group_by", f"expected a mapping, got {type(filter_group_by).__name__}")
    for key, value in filter_group_by.items():
        if not isinstance(key, str):
            raise invalid_argument("filter_group_by", f"keys must be strings, got {type(key).__name__}")
        if isinstance(value, str):
            request.filter_group_by[key] = value
        elif isinstance(value, Iterable):
            request.filter_group_by_values[key].values.extend(str_list(value, what=f"filter_group_by.{key}"))
        else:
            raise invalid_argument(f"filter_group_by.{key}", f"expected a string or a list of strings, got {type(value).__name__}")


def query_request(
    meter: str, *, subject: str | Iterable[str] | None, group_by: str | Iterable[str] | None,
    filter_group_by: Mapping[str, FilterValues] | None, from_: datetime | str | None, to: datetime | str | None,
    window_size: WindowSize | str | None, window_time_zone: str | None,
) -> meters_pb2.QueryMeterRequest:
    """The QueryMeterRequest for ``meters.query``'s arguments (checked before sending)."""
    if not isinstance(meter, str):
        raise invalid_argument("meter", f"expected a meter id or slug, got {type(meter).__name__}")
    request = meters_pb2.QueryMeterRequest(
        meter=meter, subject=str_list(subject, what="subject"), group_by=str_list(group_by, what="group_by"),
        window_time_zone=optional_str(window_time_zone, what="window_time_zone"),
    )
    _set_filters(request, filter_group_by)
    if window_size is not None:
        request.window_size = query_window_size(window_size)
    if from_ is not None:
        request.from_time.CopyFrom(to_timestamp(from_, what="from_"))
    if to is not None:
        request.to_time.CopyFrom(to_timestamp(to, what="to"))
    return request


def portal_query_request(request: meters_pb2.QueryMeterRequest) -> portal_pb2.QueryPortalMeterRequest:
    """The same query for a portal token (its subject is the token's; a subject filter is not allowed)."""
    if request.subject:
        raise invalid_argument("subject", "a portal token queries its own subject only; leave subject out")
    portal = portal_pb2.QueryPortalMeterRequest(
        meter=request.meter, window_size=request.window_size, window_time_zone=request.window_time_zone,
        group_by=list(request.group_by), filter_group_by=dict(request.filter_group_by),
    )
    for key, values in request.filter_group_by_values.items():
        portal.filter_group_by_values[key].values.extend(values.values)
    if request.HasField("from_time"):
        portal.from_time.CopyFrom(request.from_time)
    if request.HasField("to_time"):
        portal.to_time.CopyFrom(request.to_time)
    return portal


def as_query_response(
    portal: Result[portal_pb2.QueryPortalMeterResponse],
) -> Result[meters_pb2.QueryMeterResponse]:
    """The portal query's answer as a meter query's (the two messages share their fields and numbers)."""
    return Result(meters_pb2.QueryMeterResponse.FromString(portal.proto.SerializeToString()))


class Meters:
    """Meters (``om.meters``)."""

    def __init__(self, transport: Transport, *, portal: bool = False) -> None:
        self._t = transport
        self._portal = portal

    def create(self, meter: Mapping[str, Any], *, timeout: float | None = None) -> Result[meters_pb2.Meter]:
        """Creates a meter from ``{"slug", "eventType", "aggregation", "valueProperty", "groupBy", "description",
        "windowSize"}`` (``windowSize``: the smallest query window, MINUTE by default).

        Existing events of the type are aggregated into it. Returns the meter. Raises AlreadyExistsError
        for a taken slug, InvalidArgumentError naming ``meter.<field>`` for a bad definition.
        """
        request = meters_pb2.CreateMeterRequest(meter=meter_to_wire(meter))
        return self._t.call("MeterService", "CreateMeter", request, lambda r: r.meter, timeout=timeout)  # type: ignore[no-any-return]

    def get(self, meter: str, *, timeout: float | None = None) -> Result[meters_pb2.Meter]:
        """The meter with this id or slug. Raises NotFoundError."""
        return self._t.call("MeterService", "GetMeter", meters_pb2.GetMeterRequest(meter=meter),  # type: ignore[no-any-return]
                            lambda r: r.meter, timeout=timeout, idempotent=True)

    def list(self, *, limit: int | None = None, page_token: str | None = None,
             timeout: float | None = None) -> list[Result[meters_pb2.Meter]]:
        """Meters ordered by slug (one page of ``limit``, default 100). Use ``list_page`` to page."""
        return list(self.list_page(limit=limit, page_token=page_token, timeout=timeout).meters)

    def list_page(self, *, limit: int | None = None, page_token: str | None = None,
                  timeout: float | None = None) -> Result[meters_pb2.ListMetersResponse]:
        """One page of ``list``, with ``next_page_token`` (empty on the last page)."""
        request = meters_pb2.ListMetersRequest(page_size=page_size(limit),
                                                page_token=optional_str(page_token, what="page_token"))
        return self._t.call("MeterService", "ListMeters", request, timeout=timeout, idempotent=True)  # type: ignore[no-any-return]

    def delete(self, meter: str, *, timeout: float | None = None) -> None:
        """Deletes a meter by id or slug (its events stay). Raises NotFoundError."""
        self._t.call("MeterService", "DeleteMeter", meters_pb2.DeleteMeterRequest(meter=meter), timeout=timeout)

    def query(
        self, meter: str, *, subject: str | Iterable[str] | None = None, group_by: str | Iterable[str] | None = None,
        filter_group_by: Mapping[str, FilterValues] | None = None, from_: datetime | str | None = None,
        to: datetime | str | None = None, window_size: WindowSize | str | None = None,
        window_time_zone: str | None = None, timeout: float | None = None,
    ) -> Result[meters_pb2.QueryMeterResponse]:
        """Queries a meter. Returns the response: ``rows`` (value, window_start, window_end, subject,
        group_by), and the range and window size used.

        ``from_``/``to`` must be whole minutes; ``window_size`` MINUTE/HOUR/DAY (None: one row per group);
        ``window_time_zone`` an IANA name. ``filter_group_by`` maps a group key to a value, or to a list of
        values (a row matches any of them). With a portal token, the token's own subject is queried.
        Raises NotFoundError, InvalidArgumentError naming the bad field (``window_size`` finer than the
        meter's own window size).
        """
        request = query_request(meter, subject=subject, group_by=group_by, filter_group_by=filter_group_by,
                                from_=from_, to=to, window_size=window_size, window_time_zone=window_time_zone)
        if self._portal:
            return self._t.call("PortalService", "QueryPortalMeter", portal_query_request(request),  # type: ignore[no-any-return]
                                as_query_response, timeout=timeout, idempotent=True)
        return self._t.call("MeterService", "QueryMeter", request, timeout=timeout, idempotent=True)  # type: ignore[no-any-return]

    def subjects(self, meter: str, *, timeout: float | None = None) -> builtins.list[str]:
        """The subjects with events for the meter, sorted."""
        return self._t.call("MeterService", "ListMeterSubjects", meters_pb2.ListMeterSubjectsRequest(meter=meter),  # type: ignore[no-any-return]
                            lambda r: list(r.subjects), timeout=timeout, idempotent=True)


class AsyncMeters:
    """``om.meters`` for AsyncOpenMeter: the same methods, awaitable."""

    def __init__(self, transport: AsyncTransport, *, portal: bool = False) -> None:
        self._t = transport
        self._portal = portal

    async def create(self, meter: Mapping[str, Any], *, timeout: float | None = None) -> Result[meters_pb2.Meter]:
        """See ``Meters.create``."""
        request = meters_pb2.CreateMeterRequest(meter=meter_to_wire(meter))
        return await self._t.call("MeterService", "CreateMeter", request, lambda r: r.meter, timeout=timeout)  # type: ignore[no-any-return]

    async def get(self, meter: str, *, timeout: float | None = None) -> Result[meters_pb2.Meter]:
        """See ``Meters.get``."""
        return await self._t.call("MeterService", "GetMeter", meters_pb2.GetMeterRequest(meter=meter),  # type: ignore[no-any-return]
                                  lambda r: r.meter, timeout=timeout, idempotent=True)

    async def list(self, *, limit: int | None = None, page_token: str | None = None,
                   timeout: float | None = None) -> list[Result[meters_pb2.Meter]]:
        """See ``Meters.list``."""
        page = await self.list_page(limit=limit, page_token=page_token, timeout=timeout)
        return list(page.meters)

    async def list_page(self, *, limit: int | None = None, page_token: str | None = None,
                        timeout: float | None = None) -> Result[meters_pb2.ListMetersResponse]:
        """See ``Meters.list_page``."""
        request = meters_pb2.ListMetersRequest(page_size=page_size(limit),
                                                page_token=optional_str(page_token, what="page_token"))
        return await self._t.call("MeterService", "ListMeters", request, timeout=timeout, idempotent=True)  # type: ignore[no-any-return]

    async def delete(self, meter: str, *, timeout: float | None = None) -> None:
        """See ``Meters.delete``."""
        await self._t.call("MeterService", "DeleteMeter", meters_pb2.DeleteMeterRequest(meter=meter), timeout=timeout)

    async def query(
        self, meter: str, *, subject: str | Iterable[str] | None = None, group_by: str | Iterable[str] | None = None,
        filter_group_by: Mapping[str, FilterValues] | None = None, from_: datetime | str | None = None,
        to: datetime | str | None = None, window_size: WindowSize | str | None = None,
        window_time_zone: str | None = None, timeout: float | None = None,
    ) -> Result[meters_pb2.QueryMeterResponse]:
        """See ``Meters.query``."""
        request = query_request(meter, subject=subject, group_by=group_by, filter_group_by=filter_group_by,
                                from_=from_, to=to, window_size=window_size, window_time_zone=window_time_zone)
        if self._portal:
            return await self._t.call("PortalService", "QueryPortalMeter", portal_query_request(request),  # type: ignore[no-any-return]
                                      as_query_response, timeout=timeout, idempotent=True)
        return await self._t.call("MeterService", "QueryMeter", request, timeout=timeout, idempotent=True)  # type: ignore[no-any-return]

    async def subjects(self, meter: str, *, timeout: float | None = None) -> builtins.list[str]:
        """See ``Meters.subjects``."""
        return await self._t.call("MeterService", "ListMeterSubjects",  # type: ignore[no-any-return]
                                  meters_pb2.ListMeterSubjectsRequest(meter=meter),
                                  lambda r: list(r.subjects), timeout=timeout, idempotent=True)
