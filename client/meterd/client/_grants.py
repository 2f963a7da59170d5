"""Requests of ``om.grants`` (grants of every entitlement, and voiding), built and checked before sending; the
namespace itself is ``_async/grants.py`` and its blocking twin. Creating a grant and listing one
entitlement's grants live on ``om.subjects`` (see ``_subject_entitlements``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from meterd.client._convert import optional_str, page_size, str_list, to_timestamp
from meterd.client._errors import invalid_argument
from meterd.client._ordering import grant_order_by, sort_order
from meterd.v1 import grants_pb2


def list_request(
    limit: int | None,
    page_token: str | None,
    subject: str | Iterable[str] | None,
    feature: str | Iterable[str] | None,
    include_voided: bool,
    order_by: str | None = None,
    order: str | None = None,
) -> grants_pb2.ListGrantsRequest:
    return grants_pb2.ListGrantsRequest(
        page_size=page_size(limit),
        page_token=optional_str(page_token, what="page_token"),
        subject_key=str_list(subject, what="subject"),
        feature=str_list(feature, what="feature"),
        include_voided=include_voided,
        order_by=grant_order_by(order_by),
        order=sort_order(order),
    )


def void_request(grant_id: str, at: datetime | str | None = None) -> grants_pb2.VoidGrantRequest:
    if not isinstance(grant_id, str) or not grant_id:
        raise invalid_argument("grant_id", f"expected a non-empty string, got {grant_id!r}")
    request = grants_pb2.VoidGrantRequest(grant_id=grant_id)
    if at is not None:
        request.at.CopyFrom(to_timestamp(at, what="at"))
    return request
