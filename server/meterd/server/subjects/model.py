"""Subjects (SPEC § Subjects): the customers usage belongs to, and the rules of an upsert."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from meterd.server.errors import ViolationCollector

MAX_KEY_LENGTH = 256
MAX_TEXT_LENGTH = 1024  # display name, Stripe customer id, metadata keys and values
MAX_METADATA_ENTRIES = 256
MAX_BATCH_SUBJECTS = 1000


class _Unset:
    """The marker of a field an upsert does not mention: the stored value is kept."""

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


@dataclass(frozen=True, slots=True)
class Subject:
    """A stored subject."""

    id: str
    key: str
    display_name: str | None
    metadata: Mapping[str, str]
    current_period_start: datetime | None
    current_period_end: datetime | None
    stripe_customer_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SubjectUpsert:
    """One subject of an upsert. Fields left UNSET keep their stored value (or are empty on create);
    None clears a field."""

    key: str
    display_name: str | None = UNSET
    metadata: Mapping[str, str] | None = UNSET
    current_period_start: datetime | None = UNSET
    current_period_end: datetime | None = UNSET
    stripe_customer_id: str | None = UNSET


def validate_upserts(upserts: list[SubjectUpsert]) -> ViolationCollector:
    """Checks a batch (fields named ``subjects[i].field``); the caller raises the collected violations."""
    errors = ViolationCollector()
    seen: dict[str, int] = {}
    for i, s in enumerate(upserts):
        at = f"subjects[{i}]."
        if not s.key:
            errors.add(at + "key", "is required")
        elif len(s.key) > MAX_KEY_LENGTH:
            errors.add(at + "key", f"at most {MAX_KEY_LENGTH} characters (got {len(s.key)})")
        elif s.key in seen:
            errors.add(at + "key", f"duplicate key {s.key!r} (also subjects[{seen[s.key]}])")
        else:
            seen[s.key] = i
        for name in ("display_name", "stripe_customer_id"):
            value = getattr(s, name)
            if isinstance(value, str) and len(value) > MAX_TEXT_LENGTH:
                errors.add(at + name, f"at most {MAX_TEXT_LENGTH} characters (got {len(value)})")
        if isinstance(s.metadata, Mapping):
            if len(s.metadata) > MAX_METADATA_ENTRIES:
                errors.add(at + "metadata", f"at most {MAX_METADATA_ENTRIES} entries (got {len(s.metadata)})")
            for k, v in s.metadata.items():
                if not isinstance(k, str) or not isinstance(v, str):
                    errors.add(at + f"metadata[{k!r}]", "keys and values must be strings")
                elif not k:
                    errors.add(at + "metadata", "keys must not be empty")
                elif len(k) > MAX_TEXT_LENGTH or len(v) > MAX_TEXT_LENGTH:
                    errors.add(
                        at + f"metadata[{k!r}]", f"keys and values are at most {MAX_TEXT_LENGTH} characters"
                    )
        start, end = s.current_period_start, s.current_period_end
        if isinstance(start, datetime) and isinstance(end, datetime) and start >= end:
            errors.add(at + "current_period_end", "must be after current_period_start")
    return errors


def merge(existing: Subject | None, upsert: SubjectUpsert, new_id: str, now: datetime) -> Subject:
    """The subject after applying ``upsert`` to ``existing`` (None: a new subject with id ``new_id``)."""

    def pick(name: str) -> Any:
        value = getattr(upsert, name)
        if value is UNSET:
            return getattr(existing, name) if existing is not None else None
        return value

    metadata = pick("metadata")
    return Subject(
        id=existing.id if existing is not None else new_id,
        key=upsert.key,
        display_name=pick("display_name"),
        metadata=dict(metadata or {}),
        current_period_start=pick("current_period_start"),
        current_period_end=pick("current_period_end"),
        stripe_customer_id=pick("stripe_customer_id"),
        created_at=existing.created_at if existing is not None else now,
        updated_at=now,
    )


def check_period(subject: Subject, index: int) -> ViolationCollector:
    """The merged subject's billing period must not be empty (one side may come from the stored row)."""
    errors = ViolationCollector()
    start, end = subject.current_period_start, subject.current_period_end
    if start is not None and end is not None and start >= end:
        errors.add(f"subjects[{index}].current_period_end", "must be after current_period_start")
    return errors
