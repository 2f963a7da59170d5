"""``om.grants``: grants of every entitlement, and voiding. Creating a grant and listing one entitlement's
grants live on ``om.subjects`` (see ``_subject_entitlements``)."""

from __future__ import annotations

from collections.abc import Iterable

from meterd.client._convert import optional_str, page_size, str_list
from meterd.client._errors import invalid_argument
from meterd.client._results import Result
from meterd.client._transport import AsyncTransport, Transport
from meterd.v1 import grants_pb2


def _list_request(
    limit: int | None, page_token: str | None, subject: str | Iterable[str] | None,
    feature: str | Iterable[str] | None, include_voided: bool,
) -> grants_pb2.ListGrantsRequest:
    return grants_pb2.ListGrantsRequest(
        page_size=page_size(limit), page_token=optional_str(page_token, what="page_token"), subject_key=str_list(subject, what="subject"),
        feature=str_list(feature, what="feature"), include_voided=include_voided,
    )


def _void_request(grant_id: str) -> grants_pb2.VoidGrantRequest:
    if not isinstance(grant_id, str) or not grant_id:
        raise invalid_argument("grant_id", f"expected a non-empty string, got {grant_id!r}")
    return grants_pb2.VoidGrantRequest(grant_id=grant_id)


class Grants:
    """Grants of every entitlement (``om.grants``)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def list(
        self, *, subject: str | Iterable[str] | None = None, feature: str | Iterable[str] | None = None,
        include_voided: bool = False, limit: int | None = None, page_token: str | None = None,
        timeout: float | None = None,
    ) -> list[Result[grants_pb2.Grant]]:
        """Grants ordered by effective time (one page of ``limit``, default 100), optionally only of some
        subjects or features (ids or keys); voided ones only with ``include_voided``."""
        return list(self.list_page(subject=subject, feature=feature, include_voided=include_voided, limit=limit,
                                   page_token=page_token, timeout=timeout).grants)

    def list_page(
        self, *, subject: str | Iterable[str] | None = None, feature: str | Iterable[str] | None = None,
        include_voided: bool = False, limit: int | None = None, page_token: str | None = None,
        timeout: float | None = None,
    ) -> Result[grants_pb2.ListGrantsResponse]:
        """One page of ``list``, with ``next_page_token`` (empty on the last page)."""
        request = _list_request(limit, page_token, subject, feature, include_voided)
        return self._t.call("GrantService", "ListGrants", request, timeout=timeout, idempotent=True)  # type: ignore[no-any-return]

    def void(self, grant_id: str, *, timeout: float | None = None) -> Result[grants_pb2.Grant]:
        """Voids a grant from now (to the minute): its remaining balance is gone from then on.

        Returns the voided grant. Raises NotFoundError, or FailedPreconditionError if it is already voided.
        """
        return self._t.call("GrantService", "VoidGrant", _void_request(grant_id), lambda r: r.grant,  # type: ignore[no-any-return]
                            timeout=timeout)


class AsyncGrants:
    """``om.grants`` for AsyncOpenMeter: the same methods, awaitable."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def list(
        self, *, subject: str | Iterable[str] | None = None, feature: str | Iterable[str] | None = None,
        include_voided: bool = False, limit: int | None = None, page_token: str | None = None,
        timeout: float | None = None,
    ) -> list[Result[grants_pb2.Grant]]:
        """See ``Grants.list``."""
        page = await self.list_page(subject=subject, feature=feature, include_voided=include_voided, limit=limit,
                                    page_token=page_token, timeout=timeout)
        return list(page.grants)

    async def list_page(
        self, *, subject: str | Iterable[str] | None = None, feature: str | Iterable[str] | None = None,
        include_voided: bool = False, limit: int | None = None, page_token: str | None = None,
        timeout: float | None = None,
    ) -> Result[grants_pb2.ListGrantsResponse]:
        """See ``Grants.list_page``."""
        request = _list_request(limit, page_token, subject, feature, include_voided)
        return await self._t.call("GrantService", "ListGrants", request, timeout=timeout, idempotent=True)  # type: ignore[no-any-return]

    async def void(self, grant_id: str, *, timeout: float | None = None) -> Result[grants_pb2.Grant]:
        """See ``Grants.void``."""
        return await self._t.call("GrantService", "VoidGrant", _void_request(grant_id), lambda r: r.grant,  # type: ignore[no-any-return]
                                  timeout=timeout)
