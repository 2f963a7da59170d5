"""Requests of ``om.subjects`` (create or update customers in batches, list, get and delete them), built and
checked before sending; the namespace itself is ``_async/subjects.py`` and its blocking twin."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from meterd.client._convert import normalize, optional_str, page_size, to_str_map, to_timestamp
from meterd.client._errors import invalid_argument
from meterd.v1 import subjects_pb2

SubjectLike = Mapping[str, Any] | subjects_pb2.Subject
_SUBJECT_KEYS = (
    "key",
    "display_name",
    "metadata",
    "current_period_start",
    "current_period_end",
    "stripe_customer_id",
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


def upsert_request(subjects: SubjectLike | Iterable[SubjectLike]) -> subjects_pb2.UpsertSubjectsRequest:
    if isinstance(subjects, Mapping | subjects_pb2.Subject):
        return subjects_pb2.UpsertSubjectsRequest(subjects=[subject_to_wire(subjects)])
    if isinstance(subjects, str | bytes):
        raise invalid_argument("subjects", "expected a dict or a list of dicts, got a string")
    return subjects_pb2.UpsertSubjectsRequest(
        subjects=[subject_to_wire(s, i) for i, s in enumerate(subjects)]
    )


def subject_key(key: str) -> str:
    if not isinstance(key, str):
        raise invalid_argument("key", f"expected a string, got {type(key).__name__}")
    return key


def list_request(limit: int | None, page_token: str | None) -> subjects_pb2.ListSubjectsRequest:
    return subjects_pb2.ListSubjectsRequest(
        page_size=page_size(limit), page_token=optional_str(page_token, what="page_token")
    )
