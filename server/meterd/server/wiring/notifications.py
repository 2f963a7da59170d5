"""Notifications: the service over the notification store, the evaluator (crossings of the active rules'
thresholds into events, through an internal watch session) and the dispatcher (events to channels over
``webhooks``), each of the last two on a thread of its own. Closed before watching at shutdown
(``Notifying.close``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from meterd.server.balances.service import CreditService
from meterd.server.config import Config
from meterd.server.features.service import FeatureService
from meterd.server.metrics import Metrics
from meterd.server.notifications.delivery import Dispatcher
from meterd.server.notifications.evaluator import NOTIFY_SHARE, Evaluator
from meterd.server.notifications.service import NotificationService
from meterd.server.store.stores import Stores
from meterd.server.subjects.service import SubjectService
from meterd.server.watch.budget import ComputeBudget
from meterd.server.webhooks import WebhookSender
from meterd.server.wiring.watch import BACKLOG_BATCHES, Watching


@dataclass(frozen=True)
class Notifying:
    service: NotificationService
    evaluator: Evaluator
    dispatcher: Dispatcher

    def close(self) -> None:
        """Stops evaluating, then delivering (attempts in flight get a short grace; their leases expire)."""
        self.evaluator.close()
        self.dispatcher.close()


def build(
    config: Config,
    stores: Stores,
    features: FeatureService,
    subjects: SubjectService,
    credit: CreditService,
    watching: Watching,
    clock: Callable[[], datetime],
    metrics: Metrics | None = None,
) -> Notifying:
    allow_private = config.notifications_allow_private_targets
    store = stores.notifications
    service = NotificationService(store, features, clock, allow_private)
    observer = metrics.notifications(store.queue, clock) if metrics is not None else None
    dispatcher = Dispatcher(
        store,
        lambda: WebhookSender(allow_private),
        clock,
        allow_private=allow_private,
        attempt_timeout=config.notifications_attempt_timeout_seconds,
        observer=observer,
    )
    events = stores.events
    evaluator = Evaluator(
        service,
        watching.service,
        features,
        subjects,
        credit,
        clock,
        # Busy as the watch's budget counts it: ingest backlogged, not just one batch in progress.
        budget=ComputeBudget(NOTIFY_SHARE, busy=lambda: events.batches_in_flight() >= BACKLOG_BATCHES),
    )
    if observer is not None:
        evaluator.on_events = observer.created
    service.add_events_listener(dispatcher.wake)
    service.add_rules_listener(evaluator.rules_changed)
    dispatcher.start()
    evaluator.start()
    return Notifying(service, evaluator, dispatcher)
