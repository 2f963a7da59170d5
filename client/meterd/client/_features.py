"""``om.features``: create, list, get and archive features."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from meterd.client._convert import normalize, optional_str, page_size, str_list, to_str_map
from meterd.client._errors import invalid_argument
from meterd.client._results import Result
from meterd.client._transport import AsyncTransport, Transport
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
        key=f["key"], name=f["name"], meter_slug=f.get("meter_slug") or "",
        meter_group_by_filters=to_str_map(f.get("meter_group_by_filters"), what="feature.meter_group_by_filters"),
        metadata=to_str_map(f.get("metadata"), what="feature.metadata"),
    )


def _list_request(
    limit: int | None, page_token: str | None, meter_slug: str | Iterable[str] | None, include_archived: bool
) -> features_pb2.ListFeaturesRequest:
    return features_pb2.ListFeaturesRequest(
        page_size=page_size(limit), page_token=optional_str(page_token, what="page_token"), meter_slug=str_list(meter_slug, what="meter_slug"),
        include_archived=include_archived,
    )


def _key(value: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise invalid_argument(f"{what}", f"expected a non-empty string, got {value!r}")
    return value


class Features:
    """Features (``om.features``): what a product sells, optionally measured by a meter."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, feature: FeatureLike, *, timeout: float | None = None) -> Result[features_pb2.Feature]:
        """Creates a feature from ``{"key", "name", "meterSlug"?, "meterGroupByFilters"?, "metadata"?}``.

        Returns the feature. Raises AlreadyExistsError if an active feature has the key, NotFoundError for an
        unknown meter, InvalidArgumentError naming ``feature.<field>`` (bad key, a meter that is not SUM or
        COUNT, a filter on a key the meter does not group by).
        """
        request = features_pb2.CreateFeatureRequest(feature=feature_to_wire(feature))
        return self._t.call("FeatureService", "CreateFeature", request, lambda r: r.feature, timeout=timeout)  # type: ignore[no-any-return]

    def get(self, id_or_key: str, *, timeout: float | None = None) -> Result[features_pb2.Feature]:
        """The feature with this id (archived or not) or the active one with this key. Raises NotFoundError."""
        request = features_pb2.GetFeatureRequest(feature=_key(id_or_key, "id_or_key"))
        return self._t.call("FeatureService", "GetFeature", request, lambda r: r.feature,  # type: ignore[no-any-return]
                            timeout=timeout, idempotent=True)

    def list(
        self, *, limit: int | None = None, page_token: str | None = None,
        meter_slug: str | Iterable[str] | None = None, include_archived: bool = False, timeout: float | None = None,
    ) -> list[Result[features_pb2.Feature]]:
        """Features in creation order (one page of ``limit``, default 100), optionally only those of some
        meters; archived ones only with ``include_archived``. Use ``list_page`` to page."""
        return list(self.list_page(limit=limit, page_token=page_token, meter_slug=meter_slug,
                                   include_archived=include_archived, timeout=timeout).features)

    def list_page(
        self, *, limit: int | None = None, page_token: str | None = None,
        meter_slug: str | Iterable[str] | None = None, include_archived: bool = False, timeout: float | None = None,
    ) -> Result[features_pb2.ListFeaturesResponse]:
        """One page of ``list``, with ``next_page_token`` (empty on the last page) and ``total_size``."""
        request = _list_request(limit, page_token, meter_slug, include_archived)
        return self._t.call("FeatureService", "ListFeatures", request, timeout=timeout, idempotent=True)  # type: ignore[no-any-return]

    def delete(self, id_or_key: str, *, timeout: float | None = None) -> None:
        """Archives a feature: it gets no new entitlements, its key can be reused, existing entitlements keep
        pointing at it. Raises NotFoundError if it is unknown or already archived."""
        request = features_pb2.DeleteFeatureRequest(feature=_key(id_or_key, "id_or_key"))
        self._t.call("FeatureService", "DeleteFeature", request, timeout=timeout)


class AsyncFeatures:
    """``om.features`` for AsyncOpenMeter: the same methods, awaitable."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def create(self, feature: FeatureLike, *, timeout: float | None = None) -> Result[features_pb2.Feature]:
        """See ``Features.create``."""
        request = features_pb2.CreateFeatureRequest(feature=feature_to_wire(feature))
        return await self._t.call("FeatureService", "CreateFeature", request, lambda r: r.feature, timeout=timeout)  # type: ignore[no-any-return]

    async def get(self, id_or_key: str, *, timeout: float | None = None) -> Result[features_pb2.Feature]:
        """See ``Features.get``."""
        request = features_pb2.GetFeatureRequest(feature=_key(id_or_key, "id_or_key"))
        return await self._t.call("FeatureService", "GetFeature", request, lambda r: r.feature,  # type: ignore[no-any-return]
                                  timeout=timeout, idempotent=True)

    async def list(
        self, *, limit: int | None = None, page_token: str | None = None,
        meter_slug: str | Iterable[str] | None = None, include_archived: bool = False, timeout: float | None = None,
    ) -> list[Result[features_pb2.Feature]]:
        """See ``Features.list``."""
        page = await self.list_page(limit=limit, page_token=page_token, meter_slug=meter_slug,
                                    include_archived=include_archived, timeout=timeout)
        return list(page.features)

    async def list_page(
        self, *, limit: int | None = None, page_token: str | None = None,
        meter_slug: str | Iterable[str] | None = None, include_archived: bool = False, timeout: float | None = None,
    ) -> Result[features_pb2.ListFeaturesResponse]:
        """See ``Features.list_page``."""
        request = _list_request(limit, page_token, meter_slug, include_archived)
        return await self._t.call("FeatureService", "ListFeatures", request, timeout=timeout, idempotent=True)  # type: ignore[no-any-return]

    async def delete(self, id_or_key: str, *, timeout: float | None = None) -> None:
        """See ``Features.delete``."""
        request = features_pb2.DeleteFeatureRequest(feature=_key(id_or_key, "id_or_key"))
        await self._t.call("FeatureService", "DeleteFeature", request, timeout=timeout)
