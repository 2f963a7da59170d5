"""Creating, reading, listing and deleting entitlements, and the value of boolean and static ones.

Knows its store only through the protocol below; features through the feature service.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from meterd.server import ids
from meterd.server.credit.engine import History
from meterd.server.credit.windows import HistoryWindow
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
# Called after a change to an entitlement is committed: ("created" | "deleted" | "reset", the entitlement).
ChangeListener = Callable[[str, Entitlement], None]

CREDIT_NOT_WIRED = "metered entitlements need the credit engine, which is not wired"


class Credit(Protocol):
    """The credit engine's side of metered entitlements (meterd.server.credit.service.CreditService)."""

    def value(self, entitlement: Entitlement, at: datetime | None = None) -> EntitlementValue: ...

    def history(
        self,
        entitlement: Entitlement,
        from_time: datetime | None,
        to_time: datetime | None,
        window: HistoryWindow | None,
        window_time_zone: str = "",
    ) -> History | None: ...

    def reset(
        self,
        entitlement: Entitlement,
        effective_at: datetime | None = None,
        retain_anchor: bool = False,
        preserve_overage: bool | None = None,
    ) -> Entitlement: ...


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

    def __init__(
        self, store: EntitlementStore, features: FeatureService, clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._features = features
        self._clock = clock
        self._credit: Credit | None = None
        self._listeners: list[ChangeListener] = []

    def add_change_listener(self, listener: ChangeListener) -> None:
        """Registers a function told of every committed create, delete and reset (watchers)."""
        self._listeners.append(listener)

    def _changed(self, kind: str, entitlement: Entitlement) -> None:
        for listener in self._listeners:
            listener(kind, entitlement)

    def attach_credit(self, credit: Credit) -> None:
        """Metered values, history and resets go to the credit engine (wired after the grants domain)."""
        self._credit = credit

    def _credit_engine(self) -> Credit:
        if self._credit is None:
            raise FailedPrecondition(CREDIT_NOT_WIRED)
        return self._credit

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
                id=ids.new_id(),
                entitlement_id=entitlement.id,
                subject_key=entitlement.subject_key,
                feature_key=entitlement.feature_key,
                amount=m.issue_after_reset,
                priority=m.issue_after_reset_priority,
                effective_at=m.measure_usage_from,
                now=now,
            )
        stored = self._store.insert(entitlement, grant)
        self._changed("created", stored)
        return stored

    def get(self, subject_key: str, id_or_feature_key: str) -> Entitlement:
        """The subject's non-deleted entitlement by id or feature key; NotFound otherwise."""
        validate_subject_key(subject_key)
        if not id_or_feature_key:
            raise InvalidArgument.of("entitlement", "is required (an entitlement id or a feature key)")
        found = self._store.find(subject_key, id_or_feature_key)
        if found is None:
            raise NotFound(
                f"entitlement: entitlement {id_or_feature_key!r} of subject {subject_key!r} not found"
            )
        return found

    def delete(self, subject_key: str, id_or_feature_key: str) -> None:
        """Soft-deletes the entitlement: gone from lookups and lists; the feature gets a free slot."""
        entitlement = self.get(subject_key, id_or_feature_key)
        self._store.delete(entitlement.id, self._clock())
        self._changed("deleted", entitlement)

    def value(self, subject_key: str, id_or_feature_key: str, at: datetime | None = None) -> EntitlementValue:
        """Boolean and static: access (and the config). Metered: balance, usage, overage and access at ``at``
        (default now, rounded up to the minute); InvalidArgument (``time``) before the entitlement existed."""
        entitlement = self.get(subject_key, id_or_feature_key)
        if entitlement.type is EntitlementType.METERED:
            return self._credit_engine().value(entitlement, at)
        return static_value(entitlement)

    def history(
        self,
        subject_key: str,
        id_or_feature_key: str,
        from_time: datetime | None,
        to_time: datetime | None,
        window: HistoryWindow | None,
        window_time_zone: str = "",
    ) -> History | None:
        """Windowed usage and burn-down of a metered entitlement (see CreditService.history).

        FailedPrecondition for a boolean or static entitlement; None for an empty default range.
        """
        entitlement = self.get(subject_key, id_or_feature_key)
        return self._credit_engine().history(entitlement, from_time, to_time, window, window_time_zone)

    def reset(
        self,
        subject_key: str,
        id_or_feature_key: str,
        effective_at: datetime | None = None,
        retain_anchor: bool = False,
        preserve_overage: bool | None = None,
    ) -> Entitlement:
        """Resets a metered entitlement's usage; returns it updated (see CreditService.reset)."""
        entitlement = self.get(subject_key, id_or_feature_key)
        updated = self._credit_engine().reset(entitlement, effective_at, retain_anchor, preserve_overage)
        self._changed("reset", updated)
        return updated

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
