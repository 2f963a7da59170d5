"""``om.subjects``: create or update customers in batches, list, get and delete them.

The subject-scoped entitlement methods (``create_entitlement`` ...) come from the mixin in
``subject_entitlements``.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from meterd.client._options import accept_sdk_names
from meterd.client._results import Result, results
from meterd.client._subjects import SubjectLike, list_request, subject_key, upsert_request
from meterd.client._transport import AsyncTransport
from meterd.v1 import subjects_pb2

from .subject_entitlements import AsyncSubjectEntitlementsMixin


@accept_sdk_names
class AsyncSubjects(AsyncSubjectEntitlementsMixin):
    """Subject management and subject-scoped entitlements (``om.subjects``)."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def upsert(
        self, subjects: SubjectLike | Iterable[SubjectLike], *, timeout: float | None = None
    ) -> builtins.list[Result[subjects_pb2.Subject]]:
        """Creates or updates subjects by key: ``om.subjects.upsert([{"key": "c1", "displayName": "ACME"}])``.

        Keys: ``key`` (required), ``display_name``, ``metadata`` (str -> str), ``current_period_start``,
        ``current_period_end``, ``stripe_customer_id``; fields not given keep their stored values.
        Returns the stored subjects in request order. Raises InvalidArgumentError before sending for unknown
        keys or wrong types, InvalidArgumentError naming ``subjects[i].field`` for empty, over-long or
        duplicate keys. All or nothing; retried on UNAVAILABLE (an upsert is idempotent).
        """
        request = upsert_request(subjects)
        response = await self._t.call(
            self._t.subjects.UpsertSubjects, request, timeout=timeout, idempotent=True
        )
        return results(response.subjects)

    async def list(
        self, *, limit: int | None = None, page_token: str | None = None, timeout: float | None = None
    ) -> builtins.list[Result[subjects_pb2.Subject]]:
        """Lists subjects ordered by key (``limit`` default 100, at most 1000). Use ``list_page`` to page."""
        page = await self.list_page(limit=limit, page_token=page_token, timeout=timeout)
        return results(page.proto.subjects)

    async def list_page(
        self, *, limit: int | None = None, page_token: str | None = None, timeout: float | None = None
    ) -> Result[subjects_pb2.ListSubjectsResponse]:
        """One page of ``list``, with ``next_page_token`` (empty on the last page)."""
        request = list_request(limit, page_token)
        return Result(
            await self._t.call(self._t.subjects.ListSubjects, request, timeout=timeout, idempotent=True)
        )

    async def get(self, key: str, *, timeout: float | None = None) -> Result[subjects_pb2.Subject]:
        """The subject with this key. Raises NotFoundError if there is none."""
        request = subjects_pb2.GetSubjectRequest(key=subject_key(key))
        response = await self._t.call(self._t.subjects.GetSubject, request, timeout=timeout, idempotent=True)
        return Result(response.subject)

    async def delete(self, key: str, *, timeout: float | None = None) -> None:
        """Deletes the subject; its events and usage stay. Raises NotFoundError if there is none."""
        request = subjects_pb2.DeleteSubjectRequest(key=subject_key(key))
        await self._t.call(self._t.subjects.DeleteSubject, request, timeout=timeout)
