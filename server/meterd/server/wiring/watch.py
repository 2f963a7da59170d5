"""Watching: the change feed, its local change source (fed after commit by the event store and the
entitlement, grant and meter services), the watch service and, where replicas share the database, the
remote change source between them. Closed first at shutdown (``Watching.close``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from meterd.server.balances.service import CreditService
from meterd.server.entitlements.model import Entitlement
from meterd.server.entitlements.service import EntitlementService
from meterd.server.errors import MeterdError
from meterd.server.features.service import FeatureStore
from meterd.server.grants.service import GrantService
from meterd.server.meters.service import MeterService
from meterd.server.store.stores import Stores
from meterd.server.watch.budget import ComputeBudget
from meterd.server.watch.changes import Change, ChangeLog
from meterd.server.watch.clock import ClockWatch
from meterd.server.watch.feed import ChangeFeed
from meterd.server.watch.remote import RemoteChangeSource
from meterd.server.watch.service import HEARTBEAT_SECONDS, WatchService
from meterd.server.watch.sources import LocalChangeSource

# Ingest batches waiting for their commit from which watchers yield to ingest (see watch/budget.py).
BACKLOG_BATCHES = 4


@dataclass(frozen=True)
class Watching:
    service: WatchService
    source: LocalChangeSource
    remote: RemoteChangeSource | None  # None where one process owns the database
    clock_watch: ClockWatch  # wakes sleeping watches when the server's clock steps

    def close(self) -> None:
        """Ends every watch, then stops listening for changes."""
        self.clock_watch.close()
        self.service.close()
        if self.remote is not None:
            self.remote.close()
        self.source.close()


def _meter_of(features: FeatureStore, meters: MeterService) -> Callable[[Entitlement], tuple[str, str]]:
    def meter_of(e: Entitlement) -> tuple[str, str]:
        """(meter slug, its event type) of the entitlement's feature; event type "" if it is gone."""
        feature = features.get(e.feature_id)
        if feature is None or not feature.meter_slug:
            return "", ""
        try:
            return feature.meter_slug, str(meters.get(feature.meter_slug).event_type)
        except MeterdError:
            return feature.meter_slug, ""

    return meter_of


def build(
    stores: Stores,
    meters: MeterService,
    entitlements: EntitlementService,
    grants: GrantService,
    credit: CreditService,
    clock: Callable[[], datetime],
    *,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
) -> Watching:
    feed = ChangeFeed(ChangeLog(clock=clock), time.monotonic)
    remote: RemoteChangeSource | None = None
    if stores.replicas is not None:
        # Replicas share the database: every committed change is published to the others (whether or not
        # anybody watches here), and theirs feed this feed.
        remote = RemoteChangeSource(stores.replicas, feed.active, feed.log.mark_gap, feed.lost)
        remote.subscribe(feed.publish)
        source = LocalChangeSource(lambda: True, lambda: None)

        def publish(changes: Sequence[Change], at: float | None = None) -> None:
            if feed.active():
                feed.publish(changes, at)
            else:
                feed.log.mark_gap()

        source.subscribe(publish)
        source.subscribe(remote.publish)
    else:
        source = LocalChangeSource(feed.active, feed.log.mark_gap)
        source.subscribe(feed.publish)
    feed.horizon = source.published_through
    stores.events.add_commit_listener(source.on_ingest)
    entitlements.add_change_listener(source.on_entitlement)
    grants.add_change_listener(source.on_grant)
    meters.add_change_listener(source.on_meter)
    events = stores.events
    service = WatchService(
        feed,
        entitlements,
        stores.entitlements,
        credit,
        stores.grants,
        _meter_of(stores.features, meters),
        clock,
        heartbeat_seconds=heartbeat_seconds,
        # Busy: ingest is backlogged (several batches waiting for their commit), not just one in progress.
        budget=ComputeBudget(busy=lambda: events.batches_in_flight() >= BACKLOG_BATCHES),
        events=events,
    )
    return Watching(service, source, remote, ClockWatch(clock, service.clock_stepped))
