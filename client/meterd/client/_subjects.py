"""``om.subjects``: create or update customers in batches, list, get and delete them.

The subject-scoped entitlement methods (``create_entitlement`` ...) come from the mixins in
``_subject_entitlements``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from meterd.client._convert import normalize, optional_str, page_size, to_str_map, to_timestamp
from meterd.client._errors import invalid_argument
from meterd.client._results import Result
from meterd.client._subject_entitlements import AsyncSubjectEntitlementsMixin, SubjectEntitlementsMixin
from meterd.client._transport import AsyncTransport, Transport
from meterd.v1 import subjects_pb2

SubjectLike = Mapping[str, Any] | subjects_pb2.Subject
_SUBJECT_KEYS = (
    "key", "display_name", "metadata", "current_period_start", "current_period_end", "stripe_customer_id",
)


def subject_to_wire(subject: SubjectLike, index: int | None = None) -> subjects_pb2.Subject:
    """A wire Subject from an SDK-shaped dict (camelCase or snake_case keys).

    A key that is absent leaves the stored value unchanged; ``None`` for ``display_name`` or
    ``stripe_customer_id`` clears it. Metadata and period times cannot be cleared through an upsert: an
    empty or absent value keeps what is stored.
    """
    if isinstance(subject, subjects_pb2.Subject):
        return subject
    what = "subject" if index is None else f"subjects[{index}]"
    s = normalize(subject, what=what, allowed=_SUBJECT_KEYS, required=("key",))
    message = subjects_pb2.Subject()
    for name in ("key", "display_name", "stripe_customer_id"):
        if name not in s:
            continue
        value = s[name]
        if value is not None and not isinstance(value, str):
            raise invalid_argument(f"{what}.{name}", f"expected a string, got {type(value).__name__}")
        setattr(message, name, value or "")
    if s.get("metadata") is not None:
        message.metadata.update(to_str_map(s["metadata"], what=f"{what}.metadata"))
    for name in ("current_period_start", "current_period_end"):
        if s.get(name) is not None:
            getattr(message, name).CopyFrom(to_timestamp(s[name], what=f"{what}.{name}"))
    return message


def _upsert_request(subjects: SubjectLike | Iterable[SubjectLike]) -> subjects_pb2.UpsertSubjectsRequest:
    if isinstance(subjects, Mapping | subjects_pb2.Subject):
        return subjects_pb2.UpsertSubjectsRequest(subjects=[subject_to_wire(subjects)])
    if isinstance(subjects, str | bytes):
        raise invalid_argument("subjects", "expected a dict or a list of dicts, got a string")
    return subjects_pb2.UpsertSubjectsRequest(subjects=[subject_to_wire(s, i) for i, s in enumerate(subjects)])


def _key(key: str) -> str:
    if not isinstance(key, str):
        raise invalid_argument("key", f"expected a string, got {type(key).__name__}")
    return key


def _list_request(limit: int | None, page_token: str | None) -> subjects_pb2.ListSubjectsRequest:
    return subjects_pb2.ListSubjectsRequest(page_size=page_size(limit),
                                           page_token=optional_str(page_token, what="page_token"))


class Subjects(SubjectEntitlementsMixin):
    """Subject management and subject-scoped entitlements (``om.subjects``)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def upsert(
        self, subjects: SubjectLike | Iterable[SubjectLike], *, timeout: float | None = None
    ) -> list[Result[subjects_pb2.Subject]]:
        """Creates or updates subjects by key: ``om.subjects.upsert([{"key": "c1", "displayName": "ACME"}])``.

        Keys: ``key`` (required), ``display_name``, ``metadata`` (str -> str), ``current_period_start``,
        ``current_period_end``, ``stripe_customer_id``; fields not given keep their stored values.
        Returns the stored subjects in request order. Raises InvalidArgumentError before sending for unknown
        keys or wrong types, InvalidArgumentError naming ``subjects[i].field`` for empty, over-long or
        duplicate keys. All or nothing; retried on UNAVAILABLE (an upsert is idempotent).
        """
        request = _upsert_request(subjects)
        return self._t.call(  # type: ignore[no-any-return]
            "SubjectService", "UpsertSubjects", request, take=lambda r: list(r.subjects), timeout=timeout,
            idempotent=True,
        )

    def list(
        self, *, limit: int | None = None, page_token: str | None = None, timeout: float | None = None
    ) -> list[Result[subjects_pb2.Subject]]:
        """Lists subjects ordered by key (``limit`` default 100, at most 1000). Use ``list_page`` to page."""
        return self.list_page(limit=limit, page_token=page_token, timeout=timeout).subjects  # type: ignore[no-any-return]

    def list_page(
        self, *, limit: int | None = None, page_token: str | None = None, timeout: float | None = None
    ) -> Result[subjects_pb2.ListSubjectsResponse]:
        """One page of ``list``, with ``next_page_token`` (empty on the last page)."""
        return self._t.call(  # type: ignore[no-any-return]
            "SubjectService", "ListSubjects", _list_request(limit, page_token), timeout=timeout, idempotent=True
        )

    def get(self, key: str, *, timeout: float | None = None) -> Result[subjects_pb2.Subject]:
        """The subject with this key. Raises NotFoundError if there is none."""
        return self._t.call(  # type: ignore[no-any-return]
            "SubjectService", "GetSubject", subjects_pb2.GetSubjectRequest(key=_key(key)),
            take=lambda r: r.subject, timeout=timeout, idempotent=True,
        )

    def delete(self, key: str, *, timeout: float | None = None) -> None:
        """Deletes the subject; its events and usage stay. Raises NotFoundError if there is none."""
        self._t.call(
            "SubjectService", "DeleteSubject", subjects_pb2.DeleteSubjectRequest(key=_key(key)),
            take=lambda r: None, timeout=timeout,
        )


class AsyncSubjects(AsyncSubjectEntitlementsMixin):
    """``om.subjects`` for AsyncOpenMeter: the same methods, awaitable."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def upsert(
        self, subjects: SubjectLike | Iterable[SubjectLike], *, timeout: float | None = None
    ) -> list[Result[subjects_pb2.Subject]]:
        """See ``Subjects.upsert``."""
        request = _upsert_request(subjects)
        return await self._t.call(  # type: ignore[no-any-return]
            "SubjectService", "UpsertSubjects", request, take=lambda r: list(r.subjects), timeout=timeout,
            idempotent=True,
        )

    async def list(
        self, *, limit: int | None = None, page_token: str | None = None, timeout: float | None = None
    ) -> list[Result[subjects_pb2.Subject]]:
        """See ``Subjects.list``."""
        page = await self.list_page(limit=limit, page_token=page_token, timeout=timeout)
        return list(page.subjects)

    async def list_page(
        self, *, limit: int | None = None, page_token: str | None = None, timeout: float | None = None
    ) -> Result[subjects_pb2.ListSubjectsResponse]:
        """See ``Subjects.list_page``."""
        return await self._t.call(  # type: ignore[no-any-return]
            "SubjectService", "ListSubjects", _list_request(limit, page_token), timeout=timeout, idempotent=True
        )

    async def get(self, key: str, *, timeout: float | None = None) -> Result[subjects_pb2.Subject]:
        """See ``Subjects.get``."""
        return await self._t.call(  # type: ignore[no-any-return]
            "SubjectService", "GetSubject", subjects_pb2.GetSubjectRequest(key=_key(key)),
            take=lambda r: r.subject, timeout=timeout, idempotent=True,
        )

    async def delete(self, key: str, *, timeout: float | None = None) -> None:
        """See ``Subjects.delete``."""
        await self._t.call(
            "SubjectService", "DeleteSubject", subjects_pb2.DeleteSubjectRequest(key=_key(key)),
            take=lambda r: None, timeout=timeout,
        )
