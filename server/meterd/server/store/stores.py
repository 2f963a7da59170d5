"""The stores of one database, typed by what the services need of them (``Stores``), and the protocols of
the few store capabilities the composition root uses beyond the domains' own store protocols.

Each backend has one ``open_stores(db) -> Stores`` (``store/sqlite/stores.py``, ``store/postgres/stores.py``):
it builds every store over the database and connects the stores among themselves (the snapshot
invalidation rules run inside the writes of events, grants and resets), so the backend is chosen once, by
``open_stores`` for the URL's backend (``meterd.server.wiring``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from meterd.server.balances.service import EntitlementStore as CreditEntitlementStore
from meterd.server.balances.service import GrantStore as CreditGrantStore
from meterd.server.balances.service import SnapshotStore
from meterd.server.entitlements.service import EntitlementStore as DomainEntitlementStore
from meterd.server.events.model import ValidEvent
from meterd.server.events.retention import RetiringStore
from meterd.server.events.service import EventStore as DomainEventStore
from meterd.server.features.service import FeatureStore
from meterd.server.grants.service import GrantStore as DomainGrantStore
from meterd.server.meters.service import MeterStore, WindowedMeterStore
from meterd.server.notifications.service import NotificationStore
from meterd.server.portal.service import PortalTokenStore
from meterd.server.subjects.service import SubjectStore
from meterd.server.watch.remote import Channel
from meterd.server.watch.service import EntitlementReader

# Called right after a commit that stored events: per batch, its events, whether each was stored (False: a
# duplicate) and its ingestion time (microseconds). Must be quick (watchers enqueue).
CommitListener = Callable[[list[tuple[Sequence[ValidEvent], list[bool], int]]], None]


class EventStore(DomainEventStore, RetiringStore, Protocol):
    """The event store, with what watching needs (commit notifications and the ingest backlog) and what
    raw event retention needs."""

    def add_commit_listener(self, listener: CommitListener) -> None: ...

    def batches_in_flight(self) -> int:
        """Batches submitted and not yet committed."""
        ...

    def first_event_times(
        self, event_type: str, start_us: int, end_us: int, limit: int
    ) -> tuple[dict[str, int], int]:
        """Per subject, the earliest time of its events of ``event_type`` in a span (future-dated minutes
        for watches; see store/sql/events.py)."""
        ...


class PortalStore(PortalTokenStore, Protocol):
    def secret(self, generate: Callable[[], str]) -> str:
        """The signing secret kept in the database, generated and stored on first use."""
        ...


class EntitlementStore(DomainEntitlementStore, CreditEntitlementStore, EntitlementReader, Protocol):
    """Entitlements as the entitlement service, the credit service and watching read them."""


class GrantStore(DomainGrantStore, CreditGrantStore, Protocol):
    """Grants as the grant service and the credit service read them."""


@dataclass(frozen=True)
class Stores:
    """Every store of one database."""

    events: EventStore
    meters: MeterStore
    subjects: SubjectStore
    portal: PortalStore
    features: FeatureStore
    entitlements: EntitlementStore
    grants: GrantStore
    snapshots: SnapshotStore
    notifications: NotificationStore
    # The meter store again where it groups rows into query windows itself (both backends do); None where
    # the meter service merges fetched rows into windows. A declared capability, never probed.
    meter_windows: WindowedMeterStore | None
    # The key that signs this database's page tokens (server_settings, made by a migration).
    page_token_key: bytes
    # The broadcast channel between replicas sharing the database (PostgreSQL's LISTEN/NOTIFY); None where
    # one process owns the database (SQLite).
    replicas: Channel | None = None
