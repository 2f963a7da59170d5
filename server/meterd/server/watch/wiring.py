"""Wires watching: the change feed, its local change source (hooks in the event store and the entitlement
and grant services, run after commit), the watch service, and WatchEntitlementValues on the entitlement
servicer; on PostgreSQL also the remote change source (LISTEN/NOTIFY between replicas). Attached once every
domain is wired (it needs the credit engine); ended first at shutdown."""

from __future__ import annotations

import time
from collections.abc import Sequence

from meterd.server.app import AppContext
from meterd.server.entitlements.model import Entitlement
from meterd.server.errors import MeterdError
from meterd.server.watch.budget import ComputeBudget
from meterd.server.watch.changes import Change, ChangeLog
from meterd.server.watch.clock import ClockWatch
from meterd.server.watch.feed import ChangeFeed
from meterd.server.watch.remote import RemoteChangeSource
from meterd.server.watch.service import WatchService
from meterd.server.watch.sources import LocalChangeSource

# Ingest batches waiting for their commit from which watchers yield to ingest (see watch/budget.py).
BACKLOG_BATCHES = 4


def wire(ctx: AppContext) -> None:
    def attach() -> None:
        feed = ChangeFeed(ChangeLog(clock=ctx.clock), time.monotonic)
        remote: RemoteChangeSource | None = None
        if ctx.db.backend == "postgres":
            # Replicas share the database: every committed change is published to the others (whether or
            # not anybody watches here), and theirs feed this feed.
            from meterd.server.store.postgres.notify import PgNotifyChannel

            remote = RemoteChangeSource(PgNotifyChannel(ctx.db), feed.active, feed.log.mark_gap, feed.lost)
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
        ctx.services["event_store"].add_commit_listener(source.on_ingest)
        ctx.services["entitlements"].add_change_listener(source.on_entitlement)
        ctx.services["grants"].add_change_listener(source.on_grant)
        features, meters = ctx.services["feature_store"], ctx.services["meters"]
        meters.add_change_listener(source.on_meter)

        def meter_of(e: Entitlement) -> tuple[str, str]:
            """(meter slug, its event type) of the entitlement's feature; event type "" if it is gone."""
            feature = features.get(e.feature_id)
            if feature is None or not feature.meter_slug:
                return "", ""
            try:
                return feature.meter_slug, str(meters.get(feature.meter_slug).event_type)
            except MeterdError:
                return feature.meter_slug, ""

        service = WatchService(
            feed,
            ctx.services["entitlements"],
            ctx.services["entitlement_store"],
            ctx.services["credit"],
            ctx.services["grant_store"],
            meter_of,
            ctx.clock,
            # Busy: ingest is backlogged (several batches waiting for their commit), not just one in progress.
            budget=ComputeBudget(busy=lambda: ctx.services["event_store"].batches_in_flight() >= BACKLOG_BATCHES),
            events=ctx.services["event_store"],
        )
        clock_watch = ClockWatch(ctx.clock, service.clock_stepped)
        ctx.services["watch"] = service
        ctx.services["watch_source"] = source
        ctx.services["watch_remote"] = remote
        ctx.servicers["EntitlementService"].attach_watch(service)

        def stop() -> None:
            clock_watch.close()
            service.close()
            if remote is not None:
                remote.close()
            source.close()

        ctx.on_stop.append(stop)

    ctx.on_start.append(attach)
