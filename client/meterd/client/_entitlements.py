"""Requests of ``om.entitlements`` (entitlements of every subject), built and checked before sending; the
namespace itself is ``_async/entitlements.py`` and its blocking twin."""

from __future__ import annotations

from collections.abc import Iterable

from meterd.client._convert import optional_str, page_size, str_list
from meterd.client._ordering import entitlement_order_by, entitlement_types, sort_order
from meterd.v1 import entitlements_pb2


def list_request(
    limit: int | None,
    page_token: str | None,
    subject: str | Iterable[str] | None,
    feature: str | Iterable[str] | None,
    include_deleted: bool,
    type: str | Iterable[str] | None = None,
    order_by: str | None = None,
    order: str | None = None,
) -> entitlements_pb2.ListEntitlementsRequest:
    return entitlements_pb2.ListEntitlementsRequest(
        page_size=page_size(limit),
        page_token=optional_str(page_token, what="page_token"),
        subject_key=str_list(subject, what="subject"),
        feature=str_list(feature, what="feature"),
        include_deleted=include_deleted,
        type=entitlement_types(type),
        order_by=entitlement_order_by(order_by),
        order=sort_order(order),
    )
