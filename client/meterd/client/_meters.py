"""Requests of ``om.meters`` (create, list, get, delete and query meters, list a meter's subjects), built and
checked before sending; the namespace itself is ``_async/meters.py`` and its blocking twin."""

from __future__ import annotations

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
from meterd.v1 import common_pb2, meters_pb2, portal_pb2

_METER_KEYS = (
    "slug",
    "description",
    "event_type",
    "aggregation",
    "value_property",
    "group_by",
    "window_size",
)
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
        slug=m["slug"],
        description=m.get("description") or "",
        event_type=m["event_type"],
        aggregation=to_enum(m["aggregation"], Aggregation, what="meter.aggregation").wire,
        value_property=m.get("value_property") or "",
        group_by=to_str_map(m.get("group_by"), what="meter.group_by"),
        window_size=(
            query_window_size(m["window_size"], "meter.window_size")
            if m.get("window_size") is not None
            else common_pb2.WINDOW_SIZE_UNSPECIFIED
        ),
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
            raise invalid_argument(
                f"filter_group_by.{key}",
                f"expected a string or a list of strings, got {type(value).__name__}",
            )


def query_request(
    meter: str,
    *,
    subject: str | Iterable[str] | None,
    group_by: str | Iterable[str] | None,
    filter_group_by: Mapping[str, FilterValues] | None,
    from_: datetime | str | None,
    to: datetime | str | None,
    window_size: WindowSize | str | None,
    window_time_zone: str | None,
) -> meters_pb2.QueryMeterRequest:
    """The QueryMeterRequest for ``meters.query``'s arguments (checked before sending)."""
    if not isinstance(meter, str):
        raise invalid_argument("meter", f"expected a meter id or slug, got {type(meter).__name__}")
    request = meters_pb2.QueryMeterRequest(
        meter=meter,
        subject=str_list(subject, what="subject"),
        group_by=str_list(group_by, what="group_by"),
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
        meter=request.meter,
        window_size=request.window_size,
        window_time_zone=request.window_time_zone,
        group_by=list(request.group_by),
        filter_group_by=dict(request.filter_group_by),
    )
    for key, values in request.filter_group_by_values.items():
        portal.filter_group_by_values[key].values.extend(values.values)
    if request.HasField("from_time"):
        portal.from_time.CopyFrom(request.from_time)
    if request.HasField("to_time"):
        portal.to_time.CopyFrom(request.to_time)
    return portal


def as_query_response(portal: portal_pb2.QueryPortalMeterResponse) -> meters_pb2.QueryMeterResponse:
    """The portal query's answer as a meter query's (the two messages share their fields and numbers)."""
    return meters_pb2.QueryMeterResponse.FromString(portal.SerializeToString())


def list_request(limit: int | None, page_token: str | None) -> meters_pb2.ListMetersRequest:
    return meters_pb2.ListMetersRequest(
        page_size=page_size(limit), page_token=optional_str(page_token, what="page_token")
    )
