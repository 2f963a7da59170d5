"""Wire conversions shared by every servicer: timestamps, decimals, repeated filters, sort order and period
intervals. Knows no domain (a domain's own conversions live in its servicer). A servicer imports its own domain
(and domains below it), this module and ``rpc`` (statuses, the call decorator and page tokens)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from google.protobuf import timestamp_pb2

from meterd.server import errors, limits
from meterd.server.periods import Interval
from meterd.v1 import common_pb2

# -- timestamps --------------------------------------------------------------------------------------------
# google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z.
TIMESTAMP_MIN_SECONDS = -62_135_596_800
TIMESTAMP_MAX_SECONDS = 253_402_300_799


def ts_to_dt(ts: timestamp_pb2.Timestamp, field: str = "time") -> datetime:
    """A protobuf Timestamp as an aware UTC datetime (microsecond precision).

    Raises InvalidArgument on ``field`` when it is no valid Timestamp (seconds outside 0001..9999, nanos
    outside 0..999,999,999)."""
    if not 0 <= ts.nanos <= 999_999_999:
        raise errors.InvalidArgument.of(field, f"nanos must be between 0 and 999999999, got {ts.nanos}")
    if not TIMESTAMP_MIN_SECONDS <= ts.seconds <= TIMESTAMP_MAX_SECONDS:
        raise errors.InvalidArgument.of(
            field,
            f"seconds {ts.seconds} is outside the Timestamp range 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z",
        )
    return ts.ToDatetime(tzinfo=UTC)


def opt_ts(message: Any, field: str, path: str | None = None) -> datetime | None:
    """The datetime of an optional Timestamp field, or None when it is not set; see ``ts_to_dt`` (errors name
    ``path``, default ``field``)."""
    return ts_to_dt(getattr(message, field), path or field) if message.HasField(field) else None


def dt_to_ts(dt: datetime) -> timestamp_pb2.Timestamp:
    """An aware datetime as a protobuf Timestamp."""
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(dt)
    return ts


# -- filters and order -------------------------------------------------------------------------------------
# The bound on repeated filters is shared with the HTTP API (meterd.server.limits).
MAX_FILTER_VALUES = limits.MAX_FILTER_VALUES
filter_values = limits.filter_values


def descending_from_wire(order: int) -> bool:
    """True for SORT_ORDER_DESC; ASC and UNSPECIFIED ascend; INVALID_ARGUMENT (``order``) otherwise."""
    if order not in common_pb2.SortOrder.values():
        raise errors.InvalidArgument.of("order", f"unknown order {order}")
    return order == common_pb2.SORT_ORDER_DESC


# -- numbers -----------------------------------------------------------------------------------------------
def decimal_from_wire(value: float) -> Decimal:
    """A wire double as the Decimal of its shortest text (0.1 stays exactly 0.1)."""
    return Decimal(repr(value))


# -- period intervals (entitlement usage periods, grant recurrence) ----------------------------------------
_INTERVALS = {
    common_pb2.PERIOD_INTERVAL_DAY: Interval.DAY,
    common_pb2.PERIOD_INTERVAL_WEEK: Interval.WEEK,
    common_pb2.PERIOD_INTERVAL_MONTH: Interval.MONTH,
    common_pb2.PERIOD_INTERVAL_YEAR: Interval.YEAR,
}
_INTERVALS_TO_WIRE = {v: k for k, v in _INTERVALS.items()}


def interval_from_wire(value: int, field: str) -> Interval | None:
    """None for UNSPECIFIED; INVALID_ARGUMENT on ``field`` for a number this server does not know."""
    if value == common_pb2.PERIOD_INTERVAL_UNSPECIFIED:
        return None
    interval = _INTERVALS.get(common_pb2.PeriodInterval.ValueType(value))
    if interval is None:
        raise errors.InvalidArgument.of(field, f"unknown interval {value}")
    return interval


def interval_to_wire(interval: Interval) -> common_pb2.PeriodInterval.ValueType:
    """The wire PeriodInterval of a domain interval."""
    return _INTERVALS_TO_WIRE[interval]
