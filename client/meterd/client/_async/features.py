"""``om.features``: create, list, get and archive features."""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from meterd.client._features import FeatureLike, feature_ref, feature_to_wire, list_request
from meterd.client._options import accept_sdk_names
from meterd.client._results import Result, results
from meterd.client._transport import AsyncTransport
from meterd.v1 import features_pb2


@accept_sdk_names
class AsyncFeatures:
    """Features (``om.features``): what a product sells, optionally measured by a meter."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def create(
        self, feature: FeatureLike, *, timeout: float | None = None
    ) -> Result[features_pb2.Feature]:
        """Creates a feature from ``{"key", "name", "meterSlug"?, "meterGroupByFilters"?, "metadata"?}``.

        Returns the feature. Raises AlreadyExistsError if an active feature has the key, NotFoundError for an
        unknown meter, InvalidArgumentError naming ``feature.<field>`` (bad key, a meter that is not SUM or
        COUNT, a filter on a key the meter does not group by).
        """
        request = features_pb2.CreateFeatureRequest(feature=feature_to_wire(feature))
        response = await self._t.call(self._t.features.CreateFeature, request, timeout=timeout)
        return Result(response.feature)

    async def get(self, id_or_key: str, *, timeout: float | None = None) -> Result[features_pb2.Feature]:
        """The feature with this id (archived or not) or the active one with this key. Raises NotFoundError."""
        request = features_pb2.GetFeatureRequest(feature=feature_ref(id_or_key, "id_or_key"))
        response = await self._t.call(self._t.features.GetFeature, request, timeout=timeout, idempotent=True)
        return Result(response.feature)

    async def list(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        meter_slug: str | Iterable[str] | None = None,
        include_archived: bool = False,
        timeout: float | None = None,
    ) -> builtins.list[Result[features_pb2.Feature]]:
        """Features in creation order (one page of ``limit``, default 100), optionally only those of some
        meters; archived ones only with ``include_archived``. Use ``list_page`` to page."""
        page = await self.list_page(
            limit=limit,
            page_token=page_token,
            meter_slug=meter_slug,
            include_archived=include_archived,
            timeout=timeout,
        )
        return results(page.proto.features)

    async def list_page(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        meter_slug: str | Iterable[str] | None = None,
        include_archived: bool = False,
        timeout: float | None = None,
    ) -> Result[features_pb2.ListFeaturesResponse]:
        """One page of ``list``, with ``next_page_token`` (empty on the last page) and ``total_size``."""
        request = list_request(limit, page_token, meter_slug, include_archived)
        return Result(
            await self._t.call(self._t.features.ListFeatures, request, timeout=timeout, idempotent=True)
        )

    async def delete(self, id_or_key: str, *, timeout: float | None = None) -> None:
        """Archives a feature: it gets no new entitlements, its key can be reused, existing entitlements keep
        pointing at it. Raises NotFoundError if it is unknown or already archived."""
        request = features_pb2.DeleteFeatureRequest(feature=feature_ref(id_or_key, "id_or_key"))
        await self._t.call(self._t.features.DeleteFeature, request, timeout=timeout)
