"""Wires notifications: the store, the service and its servicer; once every domain is wired (it needs the
watch and the credit engine), the evaluator (crossings into events) and the dispatcher (events to channels),
each on a thread of its own, stopped at shutdown before the watch."""

from __future__ import annotations

from typing import Any

from meterd.server.app import AppContext
from meterd.server.notifications.delivery import Dispatcher
from meterd.server.notifications.evaluator import NOTIFY_SHARE, Evaluator
from meterd.server.notifications.service import NotificationService
from meterd.server.notifications.servicer import NotificationServicer
from meterd.server.watch.budget import ComputeBudget
from meterd.server.watch.wiring import BACKLOG_BATCHES


def wire(ctx: AppContext) -> None:
    if ctx.db.backend == "postgres":
        from meterd.server.store.postgres.notifications import PgNotificationStore

        store: Any = PgNotificationStore(ctx.db)
    else:
        from meterd.server.store.sqlite.notifications import SqliteNotificationStore

        store = SqliteNotificationStore(ctx.db)
    allow_private = ctx.config.notifications_allow_private_targets
    service = NotificationService(store, ctx.services["features"], ctx.clock, allow_private)
    ctx.services["notifications"] = service
    ctx.add_servicer("NotificationService", NotificationServicer(service))

    def attach() -> None:
        from meterd.server.webhooks import WebhookSender

        observer = None
        if ctx.metrics is not None:
            observer = ctx.metrics.notifications(store.queue, ctx.clock)
        dispatcher = Dispatcher(
            store,
            lambda: WebhookSender(allow_private),
            ctx.clock,
            allow_private=allow_private,
            attempt_timeout=ctx.config.notifications_attempt_timeout_seconds,
            observer=observer,
        )
        events = ctx.services["event_store"]
        evaluator = Evaluator(
            service,
            ctx.services["watch"],
            ctx.services["features"],
            ctx.services["subjects"],
            ctx.services["credit"],
            ctx.clock,
            # Busy as the watch's budget counts it: ingest backlogged, not just one batch in progress.
            budget=ComputeBudget(NOTIFY_SHARE, busy=lambda: events.batches_in_flight() >= BACKLOG_BATCHES),
        )
        if observer is not None:
            evaluator.on_events = observer.created
        service.add_events_listener(dispatcher.wake)
        service.add_rules_listener(evaluator.rules_changed)
        ctx.services["notification_dispatcher"] = dispatcher
        ctx.services["notification_evaluator"] = evaluator
        dispatcher.start()
        evaluator.start()

        def stop() -> None:
            evaluator.close()
            dispatcher.close()

        ctx.on_stop.insert(0, stop)  # before the watch ends its sessions

    ctx.on_start.append(attach)  # after the watch's (wired before this domain)
