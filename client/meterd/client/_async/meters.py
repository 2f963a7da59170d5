"""``om.meters``: create, list, get, delete and query meters, and list a meter's subjects."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from meterd.client._enums import WindowSize
from meterd.client._meters import (
    FilterValues,
    as_query_response,
    list_request,
    meter_to_wire,
    portal_query_request,
    query_request,
)
from meterd.client._options import accept_sdk_names
from meterd.client._results import Result, results
from meterd.client._transport import AsyncTransport
from meterd.v1 import meters_pb2


@accept_sdk_names
class AsyncMeters:
    """Meters (``om.meters``)."""

    def __init__(self, transport: AsyncTransport, *, portal: bool = False) -> None:
        self._t = transport
        self._portal = portal

    async def create(
        self, meter: Mapping[str, Any], *, timeout: float | None = None
    ) -> Result[meters_pb2.Meter]:
        """Creates a meter from ``{"slug", "eventType", "aggregation", "valueProperty", "groupBy", "description",
        "windowSize"}`` (``windowSize``: the smallest query window, MINUTE by default).

        Existing events of the type are aggregated into it. Returns the meter. Raises AlreadyExistsError
        for a taken slug, InvalidArgumentError naming ``meter.<field>`` for a bad definition.
        """
        request = meters_pb2.CreateMeterRequest(meter=meter_to_wire(meter))
        response = await self._t.call(self._t.meters.CreateMeter, request, timeout=timeout)
        return Result(response.meter)

    async def get(self, meter: str, *, timeout: float | None = None) -> Result[meters_pb2.Meter]:
        """The meter with this id or slug. Raises NotFoundError."""
        request = meters_pb2.GetMeterRequest(meter=meter)
        response = await self._t.call(self._t.meters.GetMeter, request, timeout=timeout, idempotent=True)
        return Result(response.meter)

    async def list(
        self, *, limit: int | None = None, page_token: str | None = None, timeout: float | None = None
    ) -> builtins.list[Result[meters_pb2.Meter]]:
        """Meters ordered by slug (one page of ``limit``, default 100). Use ``list_page`` to page."""
        page = await self.list_page(limit=limit, page_token=page_token, timeout=timeout)
        return results(page.proto.meters)

    async def list_page(
        self, *, limit: int | None = None, page_token: str | None = None, timeout: float | None = None
    ) -> Result[meters_pb2.ListMetersResponse]:
        """One page of ``list``, with ``next_page_token`` (empty on the last page)."""
        request = list_request(limit, page_token)
        return Result(
            await self._t.call(self._t.meters.ListMeters, request, timeout=timeout, idempotent=True)
        )

    async def delete(self, meter: str, *, timeout: float | None = None) -> None:
        """Deletes a meter by id or slug (its events stay). Raises NotFoundError."""
        await self._t.call(
            self._t.meters.DeleteMeter, meters_pb2.DeleteMeterRequest(meter=meter), timeout=timeout
        )

    async def query(
        self,
        meter: str,
        *,
        subject: str | Iterable[str] | None = None,
        group_by: str | Iterable[str] | None = None,
        filter_group_by: Mapping[str, FilterValues] | None = None,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        window_size: WindowSize | str | None = None,
        window_time_zone: str | None = None,
        timeout: float | None = None,
    ) -> Result[meters_pb2.QueryMeterResponse]:
        """Queries a meter. Returns the response: ``rows`` (value, window_start, window_end, subject,
        group_by), and the range and window size used.

        ``from_``/``to`` must be whole minutes; ``window_size`` MINUTE/HOUR/DAY (None: one row per group);
        ``window_time_zone`` an IANA name. ``filter_group_by`` maps a group key to a value, or to a list of
        values (a row matches any of them). With a portal token, the token's own subject is queried.
        Raises NotFoundError, InvalidArgumentError naming the bad field (``window_size`` finer than the
        meter's own window size).
        """
        request = query_request(
            meter,
            subject=subject,
            group_by=group_by,
            filter_group_by=filter_group_by,
            from_=from_,
            to=to,
            window_size=window_size,
            window_time_zone=window_time_zone,
        )
        if self._portal:
            portal = await self._t.call(
                self._t.portal.QueryPortalMeter,
                portal_query_request(request),
                timeout=timeout,
                idempotent=True,
            )
            return Result(as_query_response(portal))
        return Result(
            await self._t.call(self._t.meters.QueryMeter, request, timeout=timeout, idempotent=True)
        )

    async def subjects(self, meter: str, *, timeout: float | None = None) -> builtins.list[str]:
        """The subjects with events for the meter, sorted."""
        request = meters_pb2.ListMeterSubjectsRequest(meter=meter)
        response = await self._t.call(
            self._t.meters.ListMeterSubjects, request, timeout=timeout, idempotent=True
        )
        return list(response.subjects)
