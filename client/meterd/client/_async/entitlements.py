"""``om.entitlements``: entitlements of every subject, and watching their values. Subject-scoped calls
(create, get, value, grants) live on ``om.subjects`` (see ``subject_entitlements``)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from meterd.client._entitlements import list_request
from meterd.client._options import accept_sdk_names
from meterd.client._results import Result, results
from meterd.client._transport import AsyncTransport
from meterd.client._watch import (
    DEFAULT_MAX_STALENESS,
    AsyncEntitlementCache,
    Threshold,
    async_fetcher,
    cache_heartbeat,
    watch_request,
)
from meterd.v1 import entitlements_pb2

from .watch import AsyncEntitlementWatch


@accept_sdk_names
class AsyncEntitlements:
    """Entitlements of every subject (``om.entitlements``)."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def list(
        self,
        *,
        subject: str | Iterable[str] | None = None,
        feature: str | Iterable[str] | None = None,
        type: str | Iterable[str] | None = None,
        include_deleted: bool = False,
        order_by: str | None = None,
        order: str | None = None,
        limit: int | None = None,
        page_token: str | None = None,
        timeout: float | None = None,
    ) -> builtins.list[Result[entitlements_pb2.Entitlement]]:
        """Entitlements (one page of ``limit``, default 100), optionally only of some subjects, features (ids or
        keys) or types (``"metered"``, ``"static"``, ``"boolean"``); deleted ones only with ``include_deleted``.

        ``order_by`` is ``"createdAt"`` (default) or ``"updatedAt"``, ``order`` ``"ASC"`` (default) or
        ``"DESC"``. ``list_page`` also gives ``next_page_token`` and ``total_size`` (matches over every page).
        Raises InvalidArgumentError; InvalidArgumentError before sending for unknown names.
        """
        page = await self.list_page(
            subject=subject,
            feature=feature,
            type=type,
            include_deleted=include_deleted,
            order_by=order_by,
            order=order,
            limit=limit,
            page_token=page_token,
            timeout=timeout,
        )
        return results(page.proto.entitlements)

    async def list_page(
        self,
        *,
        subject: str | Iterable[str] | None = None,
        feature: str | Iterable[str] | None = None,
        type: str | Iterable[str] | None = None,
        include_deleted: bool = False,
        order_by: str | None = None,
        order: str | None = None,
        limit: int | None = None,
        page_token: str | None = None,
        timeout: float | None = None,
    ) -> Result[entitlements_pb2.ListEntitlementsResponse]:
        """One page of ``list``, with ``next_page_token`` (empty on the last page) and ``total_size``."""
        request = list_request(limit, page_token, subject, feature, include_deleted, type, order_by, order)
        return Result(
            await self._t.call(
                self._t.entitlements.ListEntitlements, request, timeout=timeout, idempotent=True
            )
        )

    def watch(
        self,
        *,
        subject: str | Iterable[str] | None = None,
        feature: str | Iterable[str] | None = None,
        thresholds: Iterable[Threshold] | None = None,
        resume_position: str | None = None,
        coalesce_interval: float | None = None,
        heartbeat_interval: float | None = None,
        reconnect: bool = True,
        timeout: float | None = None,
    ) -> AsyncEntitlementWatch:
        """Watches entitlement values: ``async for message in om.entitlements.watch(subject="customer-1"): ...``.

        Selects the entitlements of ``subject`` (one key or several), of ``feature`` (keys; of every subject
        when no subject is given), or both. Each message (``WatchEntitlementValuesResponse``) has ``updates``
        (entitlement id, subject, feature key, ``value`` as GetEntitlementValue answers it, ``reasons``,
        ``deleted``), ``crossings`` of ``thresholds`` (``{"balance_below": 10}``,
        ``{"balance_below_percent": 20}``, ``{"usage_above": 100}``; each at most once per usage period) and
        a ``position``. The first messages are a snapshot of every selected entitlement (``snapshot`` set,
        ``snapshot_complete`` on the last); then a message whenever values change, each entitlement's
        changes coalesced over ``coalesce_interval`` seconds (default 0.1). An idle stream sends its position
        every ``heartbeat_interval`` seconds (default: the server's, 30 s unless configured). With
        ``reconnect`` a dropped stream is reopened from the last position by itself. Runs until ``close()`` (or ``timeout`` seconds, if given).
        Raises ValueError for an empty selection; InvalidArgumentError for bad thresholds or intervals.
        """
        request = watch_request(
            subject, feature, thresholds, resume_position, coalesce_interval, heartbeat_interval
        )
        return AsyncEntitlementWatch(self._t, request, reconnect=reconnect, timeout=timeout)

    async def cache(
        self,
        *,
        subject: str | Iterable[str] | None = None,
        feature: str | Iterable[str] | None = None,
        max_staleness: float = DEFAULT_MAX_STALENESS,
        coalesce_interval: float | None = None,
        wait: float | None = 30.0,
    ) -> AsyncEntitlementCache:
        """A local mirror of the selected entitlements' values, kept current in the background by a watch:
        ``await cache.has_access(subject, feature)`` and ``await cache.value(subject, feature)`` answer from
        memory.

        Staleness bound: an answer from memory reflects every change committed more than ``max_staleness``
        seconds earlier (default 10; on a live stream it lags by about ``coalesce_interval``, default 0.1 s).
        Whenever the mirror cannot promise that (the stream is down or behind, a snapshot is still arriving),
        answers come from a GetEntitlementValue call instead, until the watch has caught up (it reconnects by
        itself). The server is asked for a heartbeat every ``max_staleness / 3`` seconds (within its range
        of 0.1 to 600 s: ``max_staleness`` below 0.3 s is a ValueError, above 1,800 s gets 600 s). Waits up
        to ``wait`` seconds for the first values (None: do not wait); raises the watch's error if it fails
        for good (say PERMISSION_DENIED, or INVALID_ARGUMENT for the selection), as ``has_access`` and
        ``value`` do later. ``close()`` stops it.
        """
        heartbeat = cache_heartbeat(max_staleness)
        request = watch_request(subject, feature, None, None, coalesce_interval, heartbeat)
        watch = AsyncEntitlementWatch(self._t, request, reconnect=True)

        async def call(s: str, f: str) -> Result[entitlements_pb2.EntitlementValue]:
            value_request = entitlements_pb2.GetEntitlementValueRequest(subject_key=s, entitlement=f)
            response = await self._t.call(
                self._t.entitlements.GetEntitlementValue, value_request, idempotent=True
            )
            return Result(response.value)

        cache = AsyncEntitlementCache(
            watch, async_fetcher(call), request.subject_keys, request.feature_keys, max_staleness
        )
        if wait is not None:
            await cache.wait_ready(wait)
        return cache
