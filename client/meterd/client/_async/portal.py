"""``om.portal``: consumer portal tokens (create, list, invalidate) and the portal meter query that a
client built with ``portal_token=`` uses."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from meterd.client._enums import WindowSize
from meterd.client._options import accept_sdk_names
from meterd.client._portal import create_request, invalidate_request, list_request, query_request
from meterd.client._results import Result, results
from meterd.client._transport import AsyncTransport
from meterd.v1 import portal_pb2


@accept_sdk_names
class AsyncPortal:
    """Consumer portal tokens (``om.portal``)."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def create_token(
        self,
        token: Mapping[str, Any] | None = None,
        *,
        subject: str | None = None,
        allowed_meter_slugs: str | Iterable[str] | None = None,
        expires_at: datetime | str | None = None,
        timeout: float | None = None,
    ) -> Result[portal_pb2.PortalToken]:
        """Issues a token that lets ``subject`` query its own meters:
        ``om.portal.create_token(subject="customer-1", allowed_meter_slugs=["api_calls"])`` (or one SDK-shaped
        dict: ``{"subject": ..., "allowedMeterSlugs": [...], "expiresAt": ...}``).

        ``allowed_meter_slugs`` empty or omitted: every meter. ``expires_at`` defaults to the server's TTL
        (one hour unless configured). Returns the PortalToken with its signed text in ``token``. Raises
        InvalidArgumentError before sending for bad arguments, InvalidArgumentError for an empty subject,
        malformed or duplicate slugs, or an expiry that is not in the future.
        """
        request = create_request(token, subject, allowed_meter_slugs, expires_at)
        response = await self._t.call(self._t.portal.CreatePortalToken, request, timeout=timeout)
        return Result(response.token)

    async def list_tokens(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        subject: str | None = None,
        include_invalid: bool = False,
        timeout: float | None = None,
    ) -> builtins.list[Result[portal_pb2.PortalToken]]:
        """Lists issued tokens, newest first, without their signed text (``limit`` default 100, at most 1000).

        Only usable tokens unless ``include_invalid``; ``subject`` filters to one subject. Each token reports
        ``expired`` and ``invalidated``. Use ``list_tokens_page`` to page.
        """
        page = await self.list_tokens_page(
            limit=limit,
            page_token=page_token,
            subject=subject,
            include_invalid=include_invalid,
            timeout=timeout,
        )
        return results(page.proto.tokens)

    async def list_tokens_page(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        subject: str | None = None,
        include_invalid: bool = False,
        timeout: float | None = None,
    ) -> Result[portal_pb2.ListPortalTokensResponse]:
        """One page of ``list_tokens``, with ``next_page_token`` (empty on the last page)."""
        request = list_request(limit, page_token, subject, include_invalid)
        return Result(
            await self._t.call(self._t.portal.ListPortalTokens, request, timeout=timeout, idempotent=True)
        )

    async def invalidate_tokens(
        self, subject: str | None = None, id: str | None = None, *, timeout: float | None = None
    ) -> int:
        """Invalidates every token (no arguments), one subject's tokens, or one token by ``id``.

        Returns how many tokens were invalidated by this call. Raises NotFoundError for an unknown ``id``
        (or one that is not ``subject``'s when both are given). Invalidation is permanent and idempotent.
        """
        request = invalidate_request(subject, id)
        response = await self._t.call(
            self._t.portal.InvalidatePortalTokens, request, timeout=timeout, idempotent=True
        )
        return response.invalidated_count

    async def query_meter(
        self,
        meter: str,
        *,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        window_size: WindowSize | str | None = None,
        window_time_zone: str | None = None,
        group_by: str | Iterable[str] | None = None,
        filter_group_by: Mapping[str, str | Iterable[str]] | None = None,
        timeout: float | None = None,
    ) -> Result[portal_pb2.QueryPortalMeterResponse]:
        """Queries a meter with the client's portal token (``OpenMeter(target, portal_token=...)``): the
        server forces the token's subject, so rows only ever cover that subject.

        Same arguments as ``meters.query`` except ``subject``. Returns from_time, to_time, window_size and
        rows (MeterQueryRow). Raises UnauthenticatedError for a missing, expired, invalidated or forged token,
        PermissionDeniedError for a meter outside the token's allowed slugs, and the meter query's errors
        (InvalidArgumentError, NotFoundError) otherwise.
        """
        request = query_request(
            meter,
            from_=from_,
            to=to,
            window_size=window_size,
            window_time_zone=window_time_zone,
            group_by=group_by,
            filter_group_by=filter_group_by,
        )
        return Result(
            await self._t.call(self._t.portal.QueryPortalMeter, request, timeout=timeout, idempotent=True)
        )
