"""``om.entitlements``: entitlements of every subject. Subject-scoped calls (create, get, value, grants)
live on ``om.subjects`` (see ``_subject_entitlements``)."""

from __future__ import annotations

from collections.abc import Iterable

from meterd.client._convert import optional_str, page_size, str_list
from meterd.client._ordering import entitlement_order_by, entitlement_types, sort_order
from meterd.client._results import Result
from meterd.client._transport import AsyncTransport, Transport
from meterd.v1 import entitlements_pb2


def _list_request(
    limit: int | None, page_token: str | None, subject: str | Iterable[str] | None,
    feature: str | Iterable[str] | None, include_deleted: bool, type: str | Iterable[str] | None = None,
    order_by: str | None = None, order: str | None = None,
) -> entitlements_pb2.ListEntitlementsRequest:
    return entitlements_pb2.ListEntitlementsRequest(
        page_size=page_size(limit), page_token=optional_str(page_token, what="page_token"), subject_key=str_list(subject, what="subject"),
        feature=str_list(feature, what="feature"), include_deleted=include_deleted, type=entitlement_types(type),
        order_by=entitlement_order_by(order_by), order=sort_order(order),
    )


class Entitlements:
    """Entitlements of every subject (``om.entitlements``)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def list(
        self, *, subject: str | Iterable[str] | None = None, feature: str | Iterable[str] | None = None,
        type: str | Iterable[str] | None = None, include_deleted: bool = False, order_by: str | None = None,
        order: str | None = None, limit: int | None = None, page_token: str | None = None,
        timeout: float | None = None,
    ) -> list[Result[entitlements_pb2.Entitlement]]:
        """Entitlements (one page of ``limit``, default 100), optionally only of some subjects, features (ids or
        keys) or types (``"metered"``, ``"static"``, ``"boolean"``); deleted ones only with ``include_deleted``.

        ``order_by`` is ``"createdAt"`` (default) or ``"updatedAt"``, ``order`` ``"ASC"`` (default) or
        ``"DESC"``. ``list_page`` also gives ``next_page_token`` and ``total_size`` (matches over every page).
        Raises InvalidArgumentError; InvalidArgumentError before sending for unknown names.
        """
        return list(self.list_page(subject=subject, feature=feature, type=type, include_deleted=include_deleted,
                                   order_by=order_by, order=order, limit=limit, page_token=page_token,
                                   timeout=timeout).entitlements)

    def list_page(
        self, *, subject: str | Iterable[str] | None = None, feature: str | Iterable[str] | None = None,
        type: str | Iterable[str] | None = None, include_deleted: bool = False, order_by: str | None = None,
        order: str | None = None, limit: int | None = None, page_token: str | None = None,
        timeout: float | None = None,
    ) -> Result[entitlements_pb2.ListEntitlementsResponse]:
        """One page of ``list``, with ``next_page_token`` (empty on the last page) and ``total_size``."""
        request = _list_request(limit, page_token, subject, feature, include_deleted, type, order_by, order)
        return self._t.call("EntitlementService", "ListEntitlements", request, timeout=timeout, idempotent=True)  # type: ignore[no-any-return]


class AsyncEntitlements:
    """``om.entitlements`` for AsyncOpenMeter: the same methods, awaitable."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def list(
        self, *, subject: str | Iterable[str] | None = None, feature: str | Iterable[str] | None = None,
        type: str | Iterable[str] | None = None, include_deleted: bool = False, order_by: str | None = None,
        order: str | None = None, limit: int | None = None, page_token: str | None = None,
        timeout: float | None = None,
    ) -> list[Result[entitlements_pb2.Entitlement]]:
        """See ``Entitlements.list``."""
        page = await self.list_page(subject=subject, feature=feature, type=type, include_deleted=include_deleted,
                                    order_by=order_by, order=order, limit=limit, page_token=page_token,
                                    timeout=timeout)
        return list(page.entitlements)

    async def list_page(
        self, *, subject: str | Iterable[str] | None = None, feature: str | Iterable[str] | None = None,
        type: str | Iterable[str] | None = None, include_deleted: bool = False, order_by: str | None = None,
        order: str | None = None, limit: int | None = None, page_token: str | None = None,
        timeout: float | None = None,
    ) -> Result[entitlements_pb2.ListEntitlementsResponse]:
        """See ``Entitlements.list_page``."""
        request = _list_request(limit, page_token, subject, feature, include_deleted, type, order_by, order)
        return await self._t.call("EntitlementService", "ListEntitlements", request, timeout=timeout,  # type: ignore[no-any-return]
                                  idempotent=True)
