"""Creating, reading, listing and archiving features. Knows the store only through the protocol below."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from meterd.server import ids
from meterd.server.errors import FailedPrecondition, NotFound
from meterd.server.features.model import (
    Feature,
    FeatureFilter,
    MeterInfo,
    NewFeature,
    check_meter,
    page_limit,
    validate_new_feature,
)

Cursor = tuple[int, str]


class FeatureStore(Protocol):
    def insert(
        self, feature: Feature, check_meter: Callable[[MeterInfo | None], None] | None = None
    ) -> Feature:
        """Stores a new feature; AlreadyExists if an active feature has its key. ``check_meter`` gets the
        feature's meter (None if there is none) as read inside the storing transaction, and raises to refuse."""
        ...

    def get(self, id_or_key: str) -> Feature | None:
        """By id (archived or not), else the active feature with that key."""
        ...

    def archived_with_key(self, key: str) -> bool:
        """Whether some archived feature has this key."""
        ...

    def archive(self, feature_id: str, at: datetime) -> Feature:
        """Archives an active feature; NotFound if it is unknown or already archived."""
        ...

    def list(
        self, filter: FeatureFilter, limit: int, after: Cursor | None
    ) -> tuple[list[Feature], Cursor | None]: ...

    def count(self, filter: FeatureFilter) -> int:
        """How many features match the filter, over every page."""
        ...


class FeatureService:
    """Features (SPEC § Features). ``meters`` is looked up at call time: the meters domain may be wired later."""

    def __init__(self, store: FeatureStore, clock: Callable[[], datetime]) -> None:
        """(A feature's meter is read by the store, inside the transaction that stores the feature.)"""
        self._store = store
        self._clock = clock

    def create(self, new: NewFeature) -> Feature:
        """Validates and stores a feature. Raises InvalidArgument (``feature.*``), NotFound for an unknown
        meter, AlreadyExists if an active feature has the key. The meter is checked inside the transaction
        that stores the feature (``FeatureStore.insert``), so a meter deleted at the same moment either
        refuses the feature or is refused itself."""
        validate_new_feature(new)

        def check(meter: MeterInfo | None) -> None:
            if meter is None:
                raise NotFound(f"feature.meter_slug: meter {new.meter_slug} not found")
            check_meter(new, meter)

        now = self._clock()
        return self._store.insert(
            Feature(
                id=ids.new_id(),
                key=new.key,
                name=new.name,
                meter_slug=new.meter_slug or None,
                meter_group_by_filters=dict(sorted(new.meter_group_by_filters.items())),
                metadata=dict(new.metadata),
                created_at=now,
                updated_at=now,
            ),
            check if new.meter_slug else None,
        )

    def get(self, id_or_key: str, field: str = "feature") -> Feature:
        """A feature by id (even archived) or by the key of an active one; NotFound otherwise."""
        found = self._store.get(id_or_key) if id_or_key else None
        if found is None:
            raise NotFound(f"{field}: feature {id_or_key!r} not found")
        return found

    def get_for_entitlement(self, id_or_key: str, field: str) -> Feature:
        """The feature a new entitlement may point at: NotFound if unknown, FailedPrecondition if archived
        (by id, or a key that only an archived feature has)."""
        found = self._store.get(id_or_key) if id_or_key else None
        if found is None:
            if self._store.archived_with_key(id_or_key):
                raise FailedPrecondition(
                    f"{field}: feature {id_or_key!r} is archived; it gets no new entitlements"
                )
            raise NotFound(f"{field}: feature {id_or_key!r} not found")
        if found.archived:
            raise FailedPrecondition(
                f"{field}: feature {found.key!r} is archived; it gets no new entitlements"
            )
        return found

    def delete(self, id_or_key: str) -> Feature:
        """Archives a feature (NotFound if unknown or already archived); its key becomes free."""
        feature = self.get(id_or_key)
        if feature.archived:
            raise NotFound(f"feature: feature {id_or_key!r} is already archived")
        return self._store.archive(feature.id, self._clock())

    def list(
        self, filter: FeatureFilter, page_size: int, after: Cursor | None
    ) -> tuple[list[Feature], Cursor | None]:
        """One page of features in creation order, and the cursor of the next page (None on the last)."""
        return self._store.list(filter, page_limit(page_size), after)

    def count(self, filter: FeatureFilter) -> int:
        """How many features match the filter, over every page (``total_size``)."""
        return self._store.count(filter)
