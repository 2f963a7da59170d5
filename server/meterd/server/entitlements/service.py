"""Creating, reading, listing and deleting entitlements, and the value of boolean and static ones.

Knows its store only through the protocol below; features through the feature service.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from meterd.server import ids
from meterd.server.entitlements.model import (
    Entitlement,
    EntitlementFilter,
    EntitlementType,
    EntitlementValue,
    NewEntitlement,
    build_entitlement,
    check_feature,
    static_value,
    validate_new_entitlement,
    validate_subject_key,
)
from meterd.server.errors import FailedPrecondition, InvalidArgument, NotFound
from meterd.server.features.model import page_limit
from meterd.server.features.service import FeatureService
from meterd.server.grants.model import Grant, issue_after_reset_grant

Cursor = tuple[int, str]

METERED_VALUE_PENDING = "metered entitlement values arrive with the credit engine"


class EntitlementStore(Protocol):
    def insert(self, e: Entitlement, grant: Grant | None = None) -> Entitlement:
        """Stores the entitlement and its issue-after-reset grant atomically; AlreadyExists on a conflict."""
        ...

    def find(self, subject_key: str, id_or_feature_key: str) -> Entitlement | None:
        """The subject's non-deleted entitlement by id, else by feature key."""
        ...

    def delete(self, entitlement_id: str, at: datetime) -> None: ...

    def list(
        self, filter: EntitlementFilter, limit: int, after: Cursor | None
    ) -> tuple[list[Entitlement], Cursor | None]: ...


class EntitlementService:
    """Entitlements (SPEC § Entitlements). Subjects need not exist: events may name subjects never upserted."""

    def __init__(self, store: EntitlementStore, features: FeatureService, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._features = features
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def create(self, new: NewEntitlement) -> Entitlement:
        """Validates and stores an entitlement; a metered one with ``issue_after_reset`` gets its grant.

        Raises InvalidArgument (bad fields), NotFound (unknown feature), FailedPrecondition (archived feature,
        or a feature whose meter does not fit the type), AlreadyExists (the subject has one for the feature).
        """
        validate_new_entitlement(new)
        feature_ref, field = new.feature
        feature = self._features.get_for_entitlement(feature_ref, field)
        check_feature(new, feature)
        now = self._clock()
        entitlement = build_entitlement(new, feature, ids.new_id(), now)
        grant = None
        m = entitlement.metered
        if m is not None and m.issue_after_reset is not None:
            grant = issue_after_reset_grant(
                id=ids.new_id(), entitlement_id=entitlement.id, subject_key=entitlement.subject_key,
                feature_key=entitlement.feature_key, amount=m.issue_after_reset,
                priority=m.issue_after_reset_priority, effective_at=m.measure_usage_from, now=now,
            )
        return self._store.insert(entitlement, grant)

    def get(self, subject_key: str, id_or_feature_key: str) -> Entitlement:
        """The subject's non-deleted entitlement by id or feature key; NotFound otherwise."""
        validate_subject_key(subject_key)
        if not id_or_feature_key:
            raise InvalidArgument.of("entitlement", "is required (an entitlement id or a feature key)")
        found = self._store.find(subject_key, id_or_feature_key)
        if found is None:
            raise NotFound(f"entitlement: entitlement {id_or_feature_key!r} of subject {subject_key!r} not found")
        return found

    def delete(self, subject_key: str, id_or_feature_key: str) -> None:
        """Soft-deletes the entitlement: gone from lookups and lists; the feature gets a free slot."""
        entitlement = self.get(subject_key, id_or_feature_key)
        self._store.delete(entitlement.id, self._clock())

    def value(self, subject_key: str, id_or_feature_key: str, at: datetime | None = None) -> EntitlementValue:
        """Boolean and static: access (and the config). Metered: FailedPrecondition until the credit engine."""
        entitlement = self.get(subject_key, id_or_feature_key)
        if entitlement.type is EntitlementType.METERED:
            raise FailedPrecondition(METERED_VALUE_PENDING)
        return static_value(entitlement)

    def list_for_subject(
        self, subject_key: str, include_deleted: bool, page_size: int, after: Cursor | None
    ) -> tuple[list[Entitlement], Cursor | None]:
        """One page of one subject's entitlements in creation order."""
        validate_subject_key(subject_key)
        filter = EntitlementFilter(subjects=(subject_key,), include_deleted=include_deleted)
        return self._store.list(filter, page_limit(page_size), after)

    def list(
        self, filter: EntitlementFilter, page_size: int, after: Cursor | None
    ) -> tuple[list[Entitlement], Cursor | None]:
        """One page in creation order, and the cursor of the next (None on the last)."""
        return self._store.list(filter, page_limit(page_size), after)
