"""Subject management: validated batch upserts that merge with stored rows, paging by key, get, delete.
Knows the store only through the small protocol below."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from meterd.server.errors import InvalidArgument, NotFound, ResourceExhausted
from meterd.server.ids import new_id
from meterd.server.subjects.model import (
    MAX_BATCH_SUBJECTS,
    Subject,
    SubjectUpsert,
    check_period,
    merge,
    validate_upserts,
)

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

# Builds the row to store for the i-th key from the stored one (None when new); runs in the write transaction.
BuildSubject = Callable[[int, Subject | None], Subject]


class SubjectStore(Protocol):
    def upsert(self, keys: Sequence[str], build: BuildSubject) -> list[Subject]: ...

    def get(self, key: str) -> Subject | None: ...

    def list(self, limit: int, after_key: str | None) -> tuple[list[Subject], str | None]: ...

    def delete(self, key: str) -> bool: ...


class SubjectService:
    """Creates, replaces, reads and deletes subjects. Events never depend on a subject existing."""

    def __init__(self, store: SubjectStore, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    def upsert(self, upserts: Sequence[SubjectUpsert]) -> list[Subject]:
        """Creates unknown keys and updates known ones (fields left UNSET keep their stored value).

        All or nothing; returns the stored subjects in request order. Raises InvalidArgument naming
        ``subjects[i].field`` (empty, long or duplicate keys, bad metadata, an empty billing period),
        ResourceExhausted for a batch over MAX_BATCH_SUBJECTS.
        """
        if not upserts:
            raise InvalidArgument.of("subjects", "at least one subject is required")
        if len(upserts) > MAX_BATCH_SUBJECTS:
            raise ResourceExhausted(
                f"subjects: a batch holds at most {MAX_BATCH_SUBJECTS} subjects, got {len(upserts)}"
            )
        validate_upserts(list(upserts)).raise_if_any()
        now = self._clock()

        def build(index: int, existing: Subject | None) -> Subject:
            subject = merge(existing, upserts[index], new_id(), now)
            check_period(subject, index).raise_if_any()
            return subject

        return self._store.upsert([u.key for u in upserts], build)

    def get(self, key: str) -> Subject:
        """The subject with this key; NotFound if there is none."""
        _check_key(key)
        subject = self._store.get(key)
        if subject is None:
            raise NotFound(f"subject not found: {key}")
        return subject

    def list(self, page_size: int, after_key: str | None) -> tuple[list[Subject], str | None]:
        """One page of subjects ordered by key, and the key to continue after (None on the last page)."""
        if page_size < 0:
            raise InvalidArgument.of("page_size", "must not be negative")
        if page_size > MAX_PAGE_SIZE:
            raise InvalidArgument.of("page_size", f"must be at most {MAX_PAGE_SIZE}")
        return self._store.list(page_size or DEFAULT_PAGE_SIZE, after_key)

    def delete(self, key: str) -> None:
        """Deletes the subject; its events and usage stay. NotFound if there is none."""
        _check_key(key)
        if not self._store.delete(key):
            raise NotFound(f"subject not found: {key}")


def _check_key(key: str) -> None:
    if not key:
        raise InvalidArgument.of("key", "is required")
