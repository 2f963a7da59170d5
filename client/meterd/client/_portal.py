"""Requests of ``om.portal`` (consumer portal tokens: create, list, invalidate; the portal meter query that a
client built with ``portal_token=`` uses), built and checked before sending; the namespace itself is
``_async/portal.py`` and its blocking twin."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from meterd.client._convert import normalize, optional_str, page_size, str_list, to_timestamp
from meterd.client._enums import WindowSize
from meterd.client._errors import invalid_argument
from meterd.client._meters import portal_query_request
from meterd.client._meters import query_request as meter_query_request
from meterd.v1 import portal_pb2

_TOKEN_KEYS = ("subject", "allowed_meter_slugs", "expires_at")


def create_request(
    token: Mapping[str, Any] | None,
    subject: str | None,
    allowed_meter_slugs: str | Iterable[str] | None,
    expires_at: datetime | str | None,
) -> portal_pb2.CreatePortalTokenRequest:
    if token is not None:
        if subject is not None or allowed_meter_slugs is not None or expires_at is not None:
            raise invalid_argument("token", "give the token as a dict or as keyword arguments, not both")
        t = normalize(token, what="token", allowed=_TOKEN_KEYS, required=("subject",))
        subject, allowed_meter_slugs, expires_at = (
            t["subject"],
            t.get("allowed_meter_slugs"),
            t.get("expires_at"),
        )
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


def list_request(
    limit: int | None, page_token: str | None, subject: str | None, include_invalid: bool
) -> portal_pb2.ListPortalTokensRequest:
    if subject is not None and not isinstance(subject, str):
        raise invalid_argument("subject", f"expected a string, got {type(subject).__name__}")
    return portal_pb2.ListPortalTokensRequest(
        page_size=page_size(limit),
        page_token=optional_str(page_token, what="page_token"),
        subject=subject or "",
        include_invalid=include_invalid,
    )


def invalidate_request(subject: str | None, id: str | None) -> portal_pb2.InvalidatePortalTokensRequest:
    for name, value in (("subject", subject), ("id", id)):
        if value is not None and not isinstance(value, str):
            raise invalid_argument(f"{name}", f"expected a string, got {type(value).__name__}")
    return portal_pb2.InvalidatePortalTokensRequest(subject=subject or "", id=id or "")


def query_request(
    meter: str,
    *,
    from_: datetime | str | None = None,
    to: datetime | str | None = None,
    window_size: WindowSize | str | None = None,
    window_time_zone: str | None = None,
    group_by: str | Iterable[str] | None = None,
    filter_group_by: Mapping[str, str | Iterable[str]] | None = None,
) -> portal_pb2.QueryPortalMeterRequest:
    """The QueryPortalMeter request for ``Portal.query_meter``'s arguments: the meter query's own checks
    and conversion, without a subject (the token's is used)."""
    return portal_query_request(
        meter_query_request(
            meter,
            subject=None,
            group_by=group_by,
            filter_group_by=filter_group_by,
            from_=from_,
            to=to,
            window_size=window_size,
            window_time_zone=window_time_zone,
        )
    )
