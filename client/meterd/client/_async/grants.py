"""``om.grants``: grants of every entitlement, and voiding. Creating a grant and listing one entitlement's
grants live on ``om.subjects`` (see ``subject_entitlements``)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime

from meterd.client._grants import list_request, void_request
from meterd.client._options import accept_sdk_names
from meterd.client._results import Result, results
from meterd.client._transport import AsyncTransport
from meterd.v1 import grants_pb2


@accept_sdk_names
class AsyncGrants:
    """Grants of every entitlement (``om.grants``)."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def list(
        self,
        *,
        subject: str | Iterable[str] | None = None,
        feature: str | Iterable[str] | None = None,
        include_voided: bool = False,
        order_by: str | None = None,
        order: str | None = None,
        limit: int | None = None,
        page_token: str | None = None,
        timeout: float | None = None,
    ) -> builtins.list[Result[grants_pb2.Grant]]:
        """Grants (one page of ``limit``, default 100), optionally only of some subjects or features (ids or
        keys); voided ones only with ``include_voided``.

        ``order_by`` is ``"effectiveAt"`` (default), ``"createdAt"``, ``"updatedAt"`` or ``"expiresAt"``;
        ``order`` ``"ASC"`` (default) or ``"DESC"``. ``list_page`` also gives ``next_page_token`` and
        ``total_size``. Each recurring grant carries ``next_recurrence`` (its next refill after now).
        """
        page = await self.list_page(
            subject=subject,
            feature=feature,
            include_voided=include_voided,
            order_by=order_by,
            order=order,
            limit=limit,
            page_token=page_token,
            timeout=timeout,
        )
        return results(page.proto.grants)

    async def list_page(
        self,
        *,
        subject: str | Iterable[str] | None = None,
        feature: str | Iterable[str] | None = None,
        include_voided: bool = False,
        order_by: str | None = None,
        order: str | None = None,
        limit: int | None = None,
        page_token: str | None = None,
        timeout: float | None = None,
    ) -> Result[grants_pb2.ListGrantsResponse]:
        """One page of ``list``, with ``next_page_token`` (empty on the last page) and ``total_size``."""
        request = list_request(limit, page_token, subject, feature, include_voided, order_by, order)
        return Result(
            await self._t.call(self._t.grants.ListGrants, request, timeout=timeout, idempotent=True)
        )

    async def void(
        self, grant_id: str, at: datetime | str | None = None, *, timeout: float | None = None
    ) -> Result[grants_pb2.Grant]:
        """Voids a grant from ``at`` (default now; truncated to the minute): its remaining balance is gone from
        then on, while usage before ``at`` still burnt it.

        Returns the voided grant. Raises InvalidArgumentError (``at`` in the future or before the grant's
        effective time), NotFoundError, or FailedPreconditionError if it is already voided.
        """
        response = await self._t.call(self._t.grants.VoidGrant, void_request(grant_id, at), timeout=timeout)
        return Result(response.grant)
