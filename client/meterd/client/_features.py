"""Requests of ``om.features`` (create, list, get and archive features), built and checked before sending;
the namespace itself is ``_async/features.py`` and its blocking twin."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from meterd.client._convert import normalize, optional_str, page_size, str_list, to_str_map
from meterd.client._errors import invalid_argument
from meterd.v1 import features_pb2

FeatureLike = Mapping[str, Any] | features_pb2.Feature
_FEATURE_KEYS = ("key", "name", "meter_slug", "meter_group_by_filters", "metadata")


def feature_to_wire(feature: FeatureLike) -> features_pb2.Feature:
    """A wire Feature from ``{"key", "name", "meterSlug"?, "meterGroupByFilters"?, "metadata"?}``."""
    if isinstance(feature, features_pb2.Feature):
        return feature
    f = normalize(feature, what="feature", allowed=_FEATURE_KEYS, required=("key", "name"))
    for key in ("key", "name", "meter_slug"):
        if f.get(key) is not None and not isinstance(f[key], str):
            raise invalid_argument(f"feature.{key}", f"expected a string, got {type(f[key]).__name__}")
    return features_pb2.Feature(
        key=f["key"],
        name=f["name"],
        meter_slug=f.get("meter_slug") or "",
        meter_group_by_filters=to_str_map(
            f.get("meter_group_by_filters"), what="feature.meter_group_by_filters"
        ),
        metadata=to_str_map(f.get("metadata"), what="feature.metadata"),
    )


def list_request(
    limit: int | None, page_token: str | None, meter_slug: str | Iterable[str] | None, include_archived: bool
) -> features_pb2.ListFeaturesRequest:
    return features_pb2.ListFeaturesRequest(
        page_size=page_size(limit),
        page_token=optional_str(page_token, what="page_token"),
        meter_slug=str_list(meter_slug, what="meter_slug"),
        include_archived=include_archived,
    )


def feature_ref(value: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise invalid_argument(f"{what}", f"expected a non-empty string, got {value!r}")
    return value
