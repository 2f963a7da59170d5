"""Helpers shared by the feature, entitlement and grant API tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf import timestamp_pb2

from meterd.client import OpenMeter
from meterd.v1 import meters_pb2


def create_meter(
    om: OpenMeter,
    slug: str = "tokens_total",
    aggregation: str = "SUM",
    group_by: dict[str, str] | None = None,
) -> meters_pb2.Meter:
    meter: dict[str, Any] = {
        "slug": slug,
        "eventType": "tokens",
        "aggregation": aggregation,
        "groupBy": group_by or {"model": "$.model", "region": "$.region"},
    }
    if aggregation != "COUNT":
        meter["valueProperty"] = "$.tokens"
    return om.meters.create(meter)


def dt(ts: datetime | timestamp_pb2.Timestamp) -> datetime:
    """A result's time (already a datetime), or a wire Timestamp's."""
    return ts if isinstance(ts, datetime) else ts.ToDatetime(tzinfo=UTC)
