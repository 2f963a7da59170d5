"""Creating, reading, listing and deleting entitlements, and the value of boolean and static ones.

Knows its store only through the protocol below; features through the feature service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
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
from meterd.server.errors import DeadlineCheck, InvalidArgument, NotFound, no_deadline
from meterd.server.features.model import page_limit
from meterd.server.features.service import FeatureService
from meterd.server.grants.model import Grant, issue_after_reset_grant
from meterd.server.periods import Interval

Cursor = tuple[int, str]
# Called after a change to an entitlement is committed: ("created" | "deleted" | "reset", the entitlement).
ChangeListener = Callable[[str, Entitlement], None]


class Credit(Protocol):
    """The credit engine's side of metered entitlements (meterd.server.balances.service.CreditService)."""

    def value(
        self, entitlement: Entitlement, at: datetime | None = None, check: DeadlineCheck = no_deadline
    ) -> EntitlementValue: ...

    def history(
        self,
        entitlement: Entitlement,
        from_time: datetime | None,
        to_time: datetime | None,
        window: HistoryWindow | None,
        window_time_zone: str = "",
        check: DeadlineCheck = no_deadline,
    ) -> History | None: ...

    def reset(
        self,
        entitlement: Entitlement,
        effective_at: datetime | None = None,
        retain_anchor: bool = False,
        preserve_overage: bool | None = None,
        interval: Interval | None = None,
        anchor: datetime | None = None,
    ) -> Entitlement: ...


class EntitlementStore(Protocol):
    def insert(self, e: Entitlement, grant: Grant | None = None) -> Entitlement:
        """Stores the entitlement and its issue-after-reset grant atomically; AlreadyExists on a conflict."""
        ...

    def replace(self, old_id: str, e: Entitlement, grant: Grant | None, at: datetime) -> Entitlement:
        """Deletes ``old_id`` at ``at`` and stores ``e`` (and its grant) atomically: both or neither.

        NotFound if the old one is no longer active; otherwise the errors of ``insert``.
        """
        ...

    def find(self, subject_key: str, id_or_feature_key: str) -> Entitlement | None:
        """The subject's non-deleted entitlement by id, else by feature key."""
        ...

    def get_by_id(self, entitlement_id: str) -> Entitlement | None:
        """By id, deleted or not, whatever its subject."""
        ...

    def delete(self, entitlement_id: str, at: datetime) -> None: ...

    def list(
        self, filter: EntitlementFilter, limit: int, after: Cursor | None
    ) -> tuple[list[Entitlement], Cursor | None]:
        """One page in the filter's order and the cursor (sort key, id) of its last row if more follow."""
        ...

    def count(self, filter: EntitlementFilter) -> int:
        """How many entitlements match the filter, over every page."""
        ...


class EntitlementService:
    """Entitlements (SPEC § Entitlements). Subjects need not exist: events may name subjects never upserted."""

    def __init__(
        self, store: EntitlementStore, features: FeatureService, credit: Credit, clock: Callable[[], datetime]
    ) -> None:
        """``credit``: values, history and resets of metered entitlements (the balance service, which sits
        above this domain and is handed in)."""
        self._store = store
        self._features = features
        self._credit = credit
        self._clock = clock
        self._listeners: list[ChangeListener] = []

    def add_change_listener(self, listener: ChangeListener) -> None:
        """Registers a function told of every committed create, delete and reset (watchers)."""
        self._listeners.append(listener)

    def _changed(self, kind: str, entitlement: Entitlement) -> None:
        for listener in self._listeners:
            listener(kind, entitlement)

    def now(self) -> datetime:
        return self._clock()

    def create(self, new: NewEntitlement) -> Entitlement:
        """Validates and stores an entitlement; a metered one with ``issue_after_reset`` gets its grant.

        Raises InvalidArgument (bad fields), NotFound (unknown feature), FailedPrecondition (archived feature,
        or a metered entitlement on a feature without a meter), AlreadyExists (the subject has one for the
        feature).
        """
        entitlement, grant = self._build(new)
        stored = self._store.insert(entitlement, grant)
        self._changed("created", stored)
        return stored

    def override(self, subject_key: str, id_or_feature_key: str, new: NewEntitlement) -> Entitlement:
        """Replaces the subject's entitlement (by id or feature key) with ``new``, atomically (OpenMeter's
        override): the old one is deleted and the new one created, or nothing changes.

        ``new`` may leave its feature out (the old one's is used); if it names one, it must be the old one's.
        Raises NotFound (old entitlement), InvalidArgument (bad fields, or another feature named
        ``entitlement.feature_key``/``feature_id``), and the errors of ``create``.
        """
        old = self.get(subject_key, id_or_feature_key)
        if new.subject_key and new.subject_key != subject_key:
            raise InvalidArgument.of("subject_key", f"must be the entitlement's subject {subject_key!r}")
        feature_ref, field = new.feature
        if not feature_ref:
            new = replace(new, feature_id=old.feature_id)
        elif feature_ref not in (old.feature_id, old.feature_key):
            raise InvalidArgument.of(
                field,
                f"{feature_ref!r} is not the overridden entitlement's feature ({old.feature_key})",
            )
        new = replace(new, subject_key=subject_key)
        entitlement, grant = self._build(new)
        stored = self._store.replace(old.id, entitlement, grant, entitlement.created_at)
        self._changed("overridden", old)  # gone
        self._changed("overridden", stored)  # in its place
        return stored

    def _build(self, new: NewEntitlement) -> tuple[Entitlement, Grant | None]:
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
        return entitlement, grant

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

    def get_by_id(self, entitlement_id: str) -> Entitlement:
        """A non-deleted entitlement of any subject by its id (OpenMeter's ``GET /entitlements/{id}``, and
        GetEntitlement without a subject); NotFound otherwise."""
        if not entitlement_id:
            raise InvalidArgument.of("entitlement", "is required (an entitlement id)")
        found = self._store.get_by_id(entitlement_id)
        if found is None or found.deleted:
            raise NotFound(f"entitlement: entitlement {entitlement_id!r} not found")
        return found

    def delete(self, subject_key: str, id_or_feature_key: str) -> None:
        """Soft-deletes the entitlement: gone from lookups and lists; the feature gets a free slot."""
        entitlement = self.get(subject_key, id_or_feature_key)
        self._store.delete(entitlement.id, self._clock())
        self._changed("deleted", entitlement)

    def value(
        self,
        subject_key: str,
        id_or_feature_key: str,
        at: datetime | None = None,
        check: DeadlineCheck = no_deadline,
    ) -> EntitlementValue:
        """Boolean and static: access (and the config). Metered: balance, usage, overage and access at ``at``
        (default now, rounded up to the minute); InvalidArgument (``time``) before the entitlement existed.
        ``check`` stops a long replay when the caller is gone."""
        return self.value_of(self.get(subject_key, id_or_feature_key), at, check)

    def value_of(
        self, entitlement: Entitlement, at: datetime | None = None, check: DeadlineCheck = no_deadline
    ) -> EntitlementValue:
        """``value`` of an entitlement already looked up (``get``)."""
        if entitlement.type is EntitlementType.METERED:
            return self._credit.value(entitlement, at, check)
        return static_value(entitlement)

    def history(
        self,
        subject_key: str,
        id_or_feature_key: str,
        from_time: datetime | None,
        to_time: datetime | None,
        window: HistoryWindow | None,
        window_time_zone: str = "",
        check: DeadlineCheck = no_deadline,
    ) -> History | None:
        """Windowed usage and burn-down of a metered entitlement (see CreditService.history).

        FailedPrecondition for a boolean or static entitlement; None for an empty default range.
        """
        entitlement = self.get(subject_key, id_or_feature_key)
        return self._credit.history(entitlement, from_time, to_time, window, window_time_zone, check)

    def reset(
        self,
        subject_key: str,
        id_or_feature_key: str,
        effective_at: datetime | None = None,
        retain_anchor: bool = False,
        preserve_overage: bool | None = None,
        interval: Interval | None = None,
        anchor: datetime | None = None,
    ) -> Entitlement:
        """Resets a metered entitlement's usage, optionally changing its usage period from the reset on;
        returns it updated (see CreditService.reset)."""
        entitlement = self.get(subject_key, id_or_feature_key)
        updated = self._credit.reset(
            entitlement, effective_at, retain_anchor, preserve_overage, interval, anchor
        )
        self._changed("reset", updated)
        return updated

    def list_for_subject(
        self, subject_key: str, filter: EntitlementFilter, page_size: int, after: Cursor | None
    ) -> tuple[list[Entitlement], Cursor | None, int]:
        """One page of one subject's entitlements (``filter``'s subjects are replaced by this one), the cursor
        of the next page, and how many match in all."""
        validate_subject_key(subject_key)
        return self.list(replace(filter, subjects=(subject_key,)), page_size, after)

    def list(
        self, filter: EntitlementFilter, page_size: int, after: Cursor | None
    ) -> tuple[list[Entitlement], Cursor | None, int]:
        """One page in the filter's order (default creation time ascending), the cursor of the next (None on
        the last), and how many match in all."""
        page, cursor = self._store.list(filter, page_limit(page_size), after)
        return page, cursor, self._store.count(filter)
