"""``om.grants``: grants of every entitlement, and voiding. Creating a grant and listing one entitlement's
grants live on ``om.subjects`` (see ``_subject_entitlements``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from meterd.client._convert import optional_str, page_size, str_list, to_timestamp
from meterd.client._errors import invalid_argument
from meterd.client._ordering import grant_order_by, sort_order
from meterd.client._results import Result
from meterd.client._transport import AsyncTransport, Transport
from meterd.v1 import grants_pb2


def _list_request(
    limit: int | None, page_token: str | None, subject: str | Iterable[str] | None,
    feature: str | Iterable[str] | None, include_voided: bool, order_by: str | None = None, order: str | None = None,
) -> grants_pb2.ListGrantsRequest:
    return grants_pb2.ListGrantsRequest(
        page_size=page_size(limit), page_token=optional_str(page_token, what="page_token"), subject_key=str_list(subject, what="subject"),
        feature=str_list(feature, what="feature"), include_voided=include_voided, order_by=grant_order_by(order_by),
        order=sort_order(order),
    )


def _void_request(grant_id: str, at: datetime | str | None = None) -> grants_pb2.VoidGrantRequest:
    if not isinstance(grant_id, str) or not grant_id:
        raise invalid_argument("grant_id", f"expected a non-empty string, got {grant_id!r}")
    request = grants_pb2.VoidGrantRequest(grant_id=grant_id)
    if at is not None:
        request.at.CopyFrom(to_timestamp(at, what="at"))
    return request


class Grants:
    """Grants of every entitlement (``om.grants``)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def list(
        self, *, subject: str | Iterable[str] | None = None, feature: str | Iterable[str] | None = None,
        include_voided: bool = False, order_by: str | None = None, order: str | None = None,
        limit: int | None = None, page_token: str | None = None, timeout: float | None = None,
    ) -> list[Result[grants_pb2.Grant]]:
        """Grants (one page of ``limit``, default 100), optionally only of some subjects or features (ids or
        keys); voided ones only with ``include_voided``.

        ``order_by`` is ``"effectiveAt"`` (default), ``"createdAt"``, ``"updatedAt"`` or ``"expiresAt"``;
        ``order`` ``"ASC"`` (default) or ``"DESC"``. ``list_page`` also gives ``next_page_token`` and
        ``total_size``. Each recurring grant carries ``next_recurrence`` (its next refill after now).
        """
        return list(self.list_page(subject=subject, feature=feature, include_voided=include_voided,
                                   order_by=order_by, order=order, limit=limit, page_token=page_token,
                                   timeout=timeout).grants)

    def list_page(
        self, *, subject: str | Iterable[str] | None = None, feature: str | Iterable[str] | None = None,
        include_voided: bool = False, order_by: str | None = None, order: str | None = None,
        limit: int | None = None, page_token: str | None = None, timeout: float | None = None,
    ) -> Result[grants_pb2.ListGrantsResponse]:
        """One page of ``list``, with ``next_page_token`` (empty on the last page) and ``total_size``."""
        request = _list_request(limit, page_token, subject, feature, include_voided, order_by, order)
        return self._t.call("GrantService", "ListGrants", request, timeout=timeout, idempotent=True)  # type: ignore[no-any-return]

    def void(
        self, grant_id: str, at: datetime | str | None = None, *, timeout: float | None = None
    ) -> Result[grants_pb2.Grant]:
        """Voids a grant from ``at`` (default now; truncated to the minute): its remaining balance is gone from
        then on, while usage before ``at`` still burnt it.

        Returns the voided grant. Raises InvalidArgumentError (``at`` in the future or before the grant's
        effective time), NotFoundError, or FailedPreconditionError if it is already voided.
        """
        return self._t.call("GrantService", "VoidGrant", _void_request(grant_id, at), lambda r: r.grant,  # type: ignore[no-any-return]
                            timeout=timeout)


class AsyncGrants:
    """``om.grants`` for AsyncOpenMeter: the same methods, awaitable."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def list(
        self, *, subject: str | Iterable[str] | None = None, feature: str | Iterable[str] | None = None,
        include_voided: bool = False, order_by: str | None = None, order: str | None = None,
        limit: int | None = None, page_token: str | None = None, timeout: float | None = None,
    ) -> list[Result[grants_pb2.Grant]]:
        """See ``Grants.list``."""
        page = await self.list_page(subject=subject, feature=feature, include_voided=include_voided,
                                    order_by=order_by, order=order, limit=limit, page_token=page_token,
                                    timeout=timeout)
        return list(page.grants)

    async def list_page(
        self, *, subject: str | Iterable[str] | None = None, feature: str | Iterable[str] | None = None,
        include_voided: bool = False, order_by: str | None = None, order: str | None = None,
        limit: int | None = None, page_token: str | None = None, timeout: float | None = None,
    ) -> Result[grants_pb2.ListGrantsResponse]:
        """See ``Grants.list_page``."""
        request = _list_request(limit, page_token, subject, feature, include_voided, order_by, order)
        return await self._t.call("GrantService", "ListGrants", request, timeout=timeout, idempotent=True)  # type: ignore[no-any-return]

    async def void(
        self, grant_id: str, at: datetime | str | None = None, *, timeout: float | None = None
    ) -> Result[grants_pb2.Grant]:
        """See ``Grants.void``."""
        return await self._t.call("GrantService", "VoidGrant", _void_request(grant_id, at), lambda r: r.grant,  # type: ignore[no-any-return]
                                  timeout=timeout)
