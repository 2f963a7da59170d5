"""``om.portal``: consumer portal tokens (create, list, invalidate) and the portal meter query that a
client built with ``portal_token=`` uses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from meterd.client._convert import normalize, optional_str, page_size, str_list, to_timestamp
from meterd.client._enums import WindowSize
from meterd.client._errors import invalid_argument
from meterd.client._meters import portal_query_request
from meterd.client._meters import query_request as meter_query_request
from meterd.client._results import Result
from meterd.client._transport import AsyncTransport, Transport
from meterd.v1 import portal_pb2

_TOKEN_KEYS = ("subject", "allowed_meter_slugs", "expires_at")


def _create_request(
    token: Mapping[str, Any] | None, subject: str | None, allowed_meter_slugs: str | Iterable[str] | None,
    expires_at: datetime | str | None,
) -> portal_pb2.CreatePortalTokenRequest:
    if token is not None:
        if subject is not None or allowed_meter_slugs is not None or expires_at is not None:
            raise invalid_argument("token", "give the token as a dict or as keyword arguments, not both")
        t = normalize(token, what="token", allowed=_TOKEN_KEYS, required=("subject",))
        subject, allowed_meter_slugs, expires_at = t["subject"], t.get("allowed_meter_slugs"), t.get("expires_at")
    if subject is None:
        raise invalid_argument("subject", "is required")
    if not isinstance(subject, str):
        raise invalid_argument("subject", f"expected a string, got {type(subject).__name__}")
    request = portal_pb2.CreatePortalTokenRequest(
        subject=subject, allowed_meter_slugs=str_list(allowed_meter_slugs, what="allowed_meter_slugs")
    )
    if expires_at is not None:
        request.expires_at.CopyFrom(to_timestamp(expires_at, what="expires_at"))
    return request


def _list_request(
    limit: int | None, page_token: str | None, subject: str | None, include_invalid: bool
) -> portal_pb2.ListPortalTokensRequest:
    if subject is not None and not isinstance(subject, str):
        raise invalid_argument("subject", f"expected a string, got {type(subject).__name__}")
    return portal_pb2.ListPortalTokensRequest(
        page_size=page_size(limit), page_token=optional_str(page_token, what="page_token"), subject=subject or "", include_invalid=include_invalid
    )


def _invalidate_request(subject: str | None, id: str | None) -> portal_pb2.InvalidatePortalTokensRequest:
    for name, value in (("subject", subject), ("id", id)):
        if value is not None and not isinstance(value, str):
            raise invalid_argument(f"{name}", f"expected a string, got {type(value).__name__}")
    return portal_pb2.InvalidatePortalTokensRequest(subject=subject or "", id=id or "")


def query_request(
    meter: str, *, from_: datetime | str | None = None, to: datetime | str | None = None,
    window_size: WindowSize | str | None = None, window_time_zone: str | None = None,
    group_by: str | Iterable[str] | None = None, filter_group_by: Mapping[str, str | Iterable[str]] | None = None,
) -> portal_pb2.QueryPortalMeterRequest:
    """The QueryPortalMeter request for ``Portal.query_meter``'s arguments: the meter query's own checks
    and conversion, without a subject (the token's is used)."""
    return portal_query_request(
        meter_query_request(meter, subject=None, group_by=group_by, filter_group_by=filter_group_by, from_=from_,
                            to=to, window_size=window_size, window_time_zone=window_time_zone)
    )


class Portal:
    """Consumer portal tokens (``om.portal``)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create_token(
        self, token: Mapping[str, Any] | None = None, *, subject: str | None = None,
        allowed_meter_slugs: str | Iterable[str] | None = None, expires_at: datetime | str | None = None,
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
        request = _create_request(token, subject, allowed_meter_slugs, expires_at)
        return self._t.call(  # type: ignore[no-any-return]
            "PortalService", "CreatePortalToken", request, take=lambda r: r.token, timeout=timeout
        )

    def list_tokens(
        self, *, limit: int | None = None, page_token: str | None = None, subject: str | None = None,
        include_invalid: bool = False, timeout: float | None = None,
    ) -> list[Result[portal_pb2.PortalToken]]:
        """Lists issued tokens, newest first, without their signed text (``limit`` default 100, at most 1000).

        Only usable tokens unless ``include_invalid``; ``subject`` filters to one subject. Each token reports
        ``expired`` and ``invalidated``. Use ``list_tokens_page`` to page.
        """
        return self.list_tokens_page(  # type: ignore[no-any-return]
            limit=limit, page_token=page_token, subject=subject, include_invalid=include_invalid, timeout=timeout
        ).tokens

    def list_tokens_page(
        self, *, limit: int | None = None, page_token: str | None = None, subject: str | None = None,
        include_invalid: bool = False, timeout: float | None = None,
    ) -> Result[portal_pb2.ListPortalTokensResponse]:
        """One page of ``list_tokens``, with ``next_page_token`` (empty on the last page)."""
        request = _list_request(limit, page_token, subject, include_invalid)
        return self._t.call(  # type: ignore[no-any-return]
            "PortalService", "ListPortalTokens", request, timeout=timeout, idempotent=True
        )

    def invalidate_tokens(
        self, subject: str | None = None, id: str | None = None, *, timeout: float | None = None
    ) -> int:
        """Invalidates every token (no arguments), one subject's tokens, or one token by ``id``.

        Returns how many tokens were invalidated by this call. Raises NotFoundError for an unknown ``id``
        (or one that is not ``subject``'s when both are given). Invalidation is permanent and idempotent.
        """
        return self._t.call(  # type: ignore[no-any-return]
            "PortalService", "InvalidatePortalTokens", _invalidate_request(subject, id),
            take=lambda r: r.invalidated_count, timeout=timeout, idempotent=True,
        )

    def query_meter(
        self, meter: str, *, from_: datetime | str | None = None, to: datetime | str | None = None,
        window_size: WindowSize | str | None = None, window_time_zone: str | None = None,
        group_by: str | Iterable[str] | None = None, filter_group_by: Mapping[str, str | Iterable[str]] | None = None,
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
            meter, from_=from_, to=to, window_size=window_size, window_time_zone=window_time_zone,
            group_by=group_by, filter_group_by=filter_group_by,
        )
        return self._t.call(  # type: ignore[no-any-return]
            "PortalService", "QueryPortalMeter", request, timeout=timeout, idempotent=True
        )


class AsyncPortal:
    """``om.portal`` for AsyncOpenMeter: the same methods, awaitable."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def create_token(
        self, token: Mapping[str, Any] | None = None, *, subject: str | None = None,
        allowed_meter_slugs: str | Iterable[str] | None = None, expires_at: datetime | str | None = None,
        timeout: float | None = None,
    ) -> Result[portal_pb2.PortalToken]:
        """See ``Portal.create_token``."""
        request = _create_request(token, subject, allowed_meter_slugs, expires_at)
        return await self._t.call(  # type: ignore[no-any-return]
            "PortalService", "CreatePortalToken", request, take=lambda r: r.token, timeout=timeout
        )

    async def list_tokens(
        self, *, limit: int | None = None, page_token: str | None = None, subject: str | None = None,
        include_invalid: bool = False, timeout: float | None = None,
    ) -> list[Result[portal_pb2.PortalToken]]:
        """See ``Portal.list_tokens``."""
        page = await self.list_tokens_page(
            limit=limit, page_token=page_token, subject=subject, include_invalid=include_invalid, timeout=timeout
        )
        return list(page.tokens)

    async def list_tokens_page(
        self, *, limit: int | None = None, page_token: str | None = None, subject: str | None = None,
        include_invalid: bool = False, timeout: float | None = None,
    ) -> Result[portal_pb2.ListPortalTokensResponse]:
        """See ``Portal.list_tokens_page``."""
        request = _list_request(limit, page_token, subject, include_invalid)
        return await self._t.call(  # type: ignore[no-any-return]
            "PortalService", "ListPortalTokens", request, timeout=timeout, idempotent=True
        )

    async def invalidate_tokens(
        self, subject: str | None = None, id: str | None = None, *, timeout: float | None = None
    ) -> int:
        """See ``Portal.invalidate_tokens``."""
        return await self._t.call(  # type: ignore[no-any-return]
            "PortalService", "InvalidatePortalTokens", _invalidate_request(subject, id),
            take=lambda r: r.invalidated_count, timeout=timeout, idempotent=True,
        )

    async def query_meter(
        self, meter: str, *, from_: datetime | str | None = None, to: datetime | str | None = None,
        window_size: WindowSize | str | None = None, window_time_zone: str | None = None,
        group_by: str | Iterable[str] | None = None, filter_group_by: Mapping[str, str | Iterable[str]] | None = None,
        timeout: float | None = None,
    ) -> Result[portal_pb2.QueryPortalMeterResponse]:
        """See ``Portal.query_meter``."""
        request = query_request(
            meter, from_=from_, to=to, window_size=window_size, window_time_zone=window_time_zone,
            group_by=group_by, filter_group_by=filter_group_by,
        )
        return await self._t.call(  # type: ignore[no-any-return]
            "PortalService", "QueryPortalMeter", request, timeout=timeout, idempotent=True
        )
