"""Creating, listing and voiding grants. Knows its store and the entitlements it grants on only through the
protocols below: entitlements sit above grants (an entitlement's issue-after-reset grant is a grant)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from meterd.server import ids
from meterd.server.credit.engine import EntitlementSpec, period_start_at
from meterd.server.errors import FailedPrecondition, InvalidArgument
from meterd.server.features.model import page_limit
from meterd.server.grants.model import Grant, GrantFilter, NewGrant, build_grant, validate_new_grant
from meterd.server.periods import as_utc, truncate_to_minute

Cursor = tuple[int, int, str]
# Called after a grant change is committed: ("created" | "voided", the grant).
ChangeListener = Callable[[str, Grant], None]


class GrantedEntitlement(Protocol):
    """What a grant needs of the entitlement it is given on (meterd.server.entitlements.model.Entitlement)."""

    @property
    def id(self) -> str: ...

    @property
    def subject_key(self) -> str: ...

    @property
    def feature_key(self) -> str: ...

    @property
    def type(self) -> str:
        """BOOLEAN, STATIC or METERED: only metered entitlements take grants."""
        ...

    def engine_spec(self) -> EntitlementSpec: ...


class Entitlements(Protocol):
    """Finds the entitlement a grant names (meterd.server.entitlements.service.EntitlementService)."""

    def get(self, subject_key: str, id_or_feature_key: str) -> GrantedEntitlement:
        """The subject's entitlement by id or feature key; NotFound otherwise."""
        ...


class GrantStore(Protocol):
    def insert(self, grant: Grant) -> Grant: ...

    def void(
        self, grant_id: str, at: datetime, now: datetime | None = None, *, not_before_effective: bool = False
    ) -> Grant:
        """Voids from ``at`` (updated at ``now``). NotFound for an unknown grant, FailedPrecondition for a
        voided one; with ``not_before_effective``, InvalidArgument (``at``) before its effective time."""
        ...

    def list_for_entitlement(
        self, entitlement_id: str, filter: GrantFilter, limit: int, after: Cursor | None
    ) -> tuple[list[Grant], Cursor | None]: ...

    def list(
        self, filter: GrantFilter, limit: int, after: Cursor | None
    ) -> tuple[list[Grant], Cursor | None]: ...

    def count(self, filter: GrantFilter, entitlement_id: str | None = None) -> int:
        """How many grants match the filter (of one entitlement, or of every non-deleted one)."""
        ...


class GrantService:
    """Grants on metered entitlements (SPEC § Grants)."""

    def __init__(self, store: GrantStore, entitlements: Entitlements, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._entitlements = entitlements
        self._clock = clock
        self._listeners: list[ChangeListener] = []

    def add_change_listener(self, listener: ChangeListener) -> None:
        """Registers a function told of every committed grant creation and void (watchers)."""
        self._listeners.append(listener)

    def _changed(self, kind: str, grant: Grant) -> None:
        for listener in self._listeners:
            listener(kind, grant)

    def create(self, subject_key: str, id_or_feature_key: str, new: NewGrant) -> Grant:
        """Adds a grant to a subject's metered entitlement (by id or feature key).

        Raises NotFound (entitlement), FailedPrecondition (not metered), InvalidArgument (bad fields, or an
        effective time before the current usage period's start: the last reset or period boundary).
        """
        entitlement = self._entitlements.get(subject_key, id_or_feature_key)
        if entitlement.type != "METERED":
            raise FailedPrecondition(
                f"entitlement: grants need a metered entitlement; {entitlement.id} is {entitlement.type.lower()}"
            )
        validate_new_grant(new)
        now = self._clock()
        assert new.effective_at is not None
        period_start = period_start_at(entitlement.engine_spec(), now)
        if truncate_to_minute(new.effective_at) < period_start:
            raise InvalidArgument.of(
                "grant.effective_at",
                f"is before the current usage period, which starts at {period_start.isoformat()}",
            )
        grant = build_grant(
            new,
            id=ids.new_id(),
            entitlement_id=entitlement.id,
            subject_key=entitlement.subject_key,
            feature_key=entitlement.feature_key,
            now=now,
        )
        stored = self._store.insert(grant)
        self._changed("created", stored)
        return stored

    def list_for_entitlement(
        self,
        subject_key: str,
        id_or_feature_key: str,
        filter: GrantFilter,
        page_size: int,
        after: Cursor | None,
    ) -> tuple[list[Grant], Cursor | None, int]:
        """One page of an entitlement's grants in the filter's order (default effective_at ascending), the
        cursor of the next page, and how many match in all. The filter's subjects and features are ignored."""
        limit = page_limit(page_size)
        entitlement = self._entitlements.get(subject_key, id_or_feature_key)
        filter = replace(filter, subjects=(), features=())
        page, cursor = self._store.list_for_entitlement(entitlement.id, filter, limit, after)
        return page, cursor, self._store.count(filter, entitlement.id)

    def void(self, grant_id: str, at: datetime | None = None) -> Grant:
        """Voids a grant from ``at`` (default now; truncated to the minute): its remaining balance is gone from
        then on, usage before it still burns it. Voiding now a grant that is not yet effective means it never
        becomes active; an explicit ``at`` must not be before the grant's effective time.

        Raises InvalidArgument (``grant_id`` missing; ``at`` in the future or before the grant's effective
        time), NotFound, FailedPrecondition (already voided).
        """
        if not grant_id:
            raise InvalidArgument.of("grant_id", "is required")
        now = self._clock()
        if at is None:
            voided = self._store.void(grant_id, truncate_to_minute(now), now)
        elif as_utc(at) > now:
            raise InvalidArgument.of("at", f"cannot void at {as_utc(at).isoformat()}, in the future")
        else:
            voided = self._store.void(grant_id, truncate_to_minute(at), now, not_before_effective=True)
        self._changed("voided", voided)
        return voided

    def list(
        self, filter: GrantFilter, page_size: int, after: Cursor | None
    ) -> tuple[list[Grant], Cursor | None, int]:
        """One page of grants of every non-deleted entitlement in the filter's order (default effective_at
        ascending), the cursor of the next page, and how many match in all."""
        page, cursor = self._store.list(filter, page_limit(page_size), after)
        return page, cursor, self._store.count(filter)

    def now(self) -> datetime:
        return self._clock()
