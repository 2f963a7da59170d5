"""Rules drive events from the watch's engine: an internal watch session follows every entitlement the active
rules cover and gives the value of each one that changes (usage, late events, grants, voids, resets,
period boundaries, meter redefinitions: the watch's change feed and timers), exactly what GetEntitlementValue
answers at that moment. Each value is checked against the rules' thresholds (``crossings``), and the crossings
not reported yet in that usage period become events, stored with their deliveries in one transaction.

Durability. A crossing is visible in the database (the usage, grants and resets that make it) before this
evaluator sees it, so an event cannot be committed in the same transaction; instead it is re-derived:
- at start (and whenever the rules change) the session begins with the values of every covered entitlement,
  and any threshold already beyond in its current period without an event gets one (the dedupe key makes a
  second evaluation, by this or another replica, store nothing);
- every evaluator records a heartbeat with a checkpoint (every change committed before it has been
  evaluated). When an evaluator's heartbeat goes stale (it crashed, or was killed), a live one (or the next
  one to start) also evaluates the last value of every usage period that ended after that checkpoint, so a
  crossing in a period that ended while nobody was evaluating is not lost. Usage only grows within a period,
  so that last value is beyond every NUMBER threshold any earlier value of the period was; a PERCENT share can
  also fall (credit granted later in the period), and a share that was beyond only in between is the one case
  this does not re-derive.

Cost: the session computes values under the watchers' compute budget (watch/budget.py: while ingest is
backlogged, watching and notifications together get a few percent of the time), continuing a value from
usage alone where it can, as a watch does; checking a value against thousands of thresholds is a binary
search (``ThresholdIndex``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from meterd.server import ids
from meterd.server.credit import engine
from meterd.server.entitlements.model import Entitlement, EntitlementType, EntitlementValue
from meterd.server.errors import MeterdError, NotFound
from meterd.server.notifications import payload
from meterd.server.notifications.crossings import Armed, Progress, ThresholdIndex, dedupe_key
from meterd.server.notifications.model import Crossing, NewEvent, Rule
from meterd.server.notifications.service import NotificationService
from meterd.server.timeutil import from_us, to_us
from meterd.server.watch.budget import ComputeBudget
from meterd.server.watch.feed import Selection
from meterd.server.watch.service import DEFAULT_INTERVAL, Message, WatchService, WatchSession

log = logging.getLogger("meterd.notifications")

# How often rules are checked for changes made by other replicas (this replica's changes wake it at once).
RULES_POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 5.0
# An evaluator not heard from for this long is taken for dead: its window is re-derived by a live one.
STALE_SECONDS = 30.0
# The checkpoint trails the oldest change not yet evaluated by this much (changes wait in the feed's
# dispatcher queue before they are marked; under load that takes well under a second).
CHECKPOINT_MARGIN = timedelta(seconds=60)
# After a failure (the database unavailable), wait this long before starting over.
RETRY_SECONDS = 1.0
_MINUTE = timedelta(minutes=1)
# Remembered per entitlement: the fired keys of its current period (bounded by the entitlements covered).
MAX_REMEMBERED = 200_000
# While ingest is backlogged, evaluating rules gets at most this share of the time (watch/budget.py; the
# watch streams have a budget of their own): crossings wait, coalescing, rather than ingest slowing. With
# 1,000 rules armed over 2,000 entitlements, the watch's 3% (checking values not counted) gave 0.79 of the
# ingest rate without rules (load average 9-10); 1%, counting the checks, 0.96 (load average 4-5).
NOTIFY_SHARE = 0.01


class Features(Protocol):
    def get(self, id_or_key: str, field: str = "feature") -> Any: ...


class Subjects(Protocol):
    def get(self, key: str) -> Any: ...


class Credit(Protocol):
    def value(self, entitlement: Entitlement, at: datetime | None = None) -> EntitlementValue: ...


class Evaluator:
    """Turns crossings of the active rules' thresholds into stored events, on a thread of its own."""

    def __init__(
        self,
        service: NotificationService,
        watch: WatchService,
        features: Features,
        subjects: Subjects,
        credit: Credit,
        clock: Callable[[], datetime],
        replica: str | None = None,
        budget: ComputeBudget | None = None,
    ) -> None:
        self._service = service
        self._store = service.store
        self._watch = watch
        self._features = features
        self._subjects = subjects
        self._credit = credit
        self._clock = clock
        self.budget = budget or ComputeBudget(NOTIFY_SHARE)
        self.replica = replica or ids.new_id()
        self._woken = threading.Event()
        self._stop = threading.Event()
        self._rules_dirty = True
        self._version: tuple[int, ...] | None = None
        self._index = ThresholdIndex(())
        self._session: WatchSession | None = None
        self._progress: dict[str, Progress] = {}
        self._fired: dict[str, tuple[int, set[str]]] = {}
        self._feature_cache: dict[str, Any] = {}
        self._checkpoint: datetime | None = None  # set once a session's initial values are evaluated
        self._next_heartbeat = 0.0
        self._next_rules_check = 0.0
        self._settled = threading.Condition()
        self._cycles = 0
        self.events_created = 0
        self.on_events: Callable[[int], None] = lambda n: None  # metrics
        # Changes to one entitlement within this many seconds are evaluated once (the watch's coalescing).
        self.interval = DEFAULT_INTERVAL
        self._thread = threading.Thread(target=self._run, name="meterd-notify-eval", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._woken.set()

    def rules_changed(self) -> None:
        """A rule or channel changed on this replica: reload at once."""
        self._rules_dirty = True
        self._woken.set()

    def close(self) -> None:
        self._stop.set()
        self._woken.set()
        self._thread.join(timeout=10)
        self._close_session()

    def settle(self, timeout: float = 30.0) -> bool:
        """Waits until two cycles have run after this call with nothing due (tests: every change made
        before the call has been evaluated, and its events stored)."""
        end = time.monotonic() + timeout
        with self._settled:
            target = self._cycles + 2
            while self._cycles < target:
                self._woken.set()  # each cycle ends waiting: wake it for the next one
                if time.monotonic() > end:
                    return False
                self._settled.wait(0.01)
            return True

    @property
    def active(self) -> bool:
        """Whether some rule is active (a session follows its entitlements)."""
        return self._session is not None

    # -- the loop ------------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self._cycle()
            except Exception:
                log.exception("notifications: evaluating rules failed; starting over")
                self._close_session()
                self._version = None  # reload the rules, and evaluate every covered entitlement again
                wait = RETRY_SECONDS
            if self._stop.is_set():
                return
            self._woken.wait(wait)
            self._woken.clear()

    def _cycle(self) -> float:
        """One round: reload rules if they changed, evaluate what is due, heartbeat. Returns how long to wait."""
        mono = time.monotonic()
        if self._rules_dirty or mono >= self._next_rules_check:
            self._rules_dirty = False
            self._next_rules_check = mono + RULES_POLL_SECONDS
            version = self._store.rules_version()
            if version != self._version:
                self._reload(version)
        session = self._session
        idle = True
        if session is not None:
            messages = session.poll()
            started = time.perf_counter()
            self._handle(session, messages)
            self.budget.spend(time.perf_counter() - started, 0)  # checking values counts in the share too
            idle = session.watch.pending_count() == 0
        if mono >= self._next_heartbeat:
            self._next_heartbeat = mono + HEARTBEAT_SECONDS
            self._beat(session)
        with self._settled:
            if idle and not self._rules_dirty:
                self._cycles += 1
                self._settled.notify_all()
        waits = [RULES_POLL_SECONDS, max(0.0, self._next_heartbeat - time.monotonic())]
        if session is not None:
            waits.append(session.wait_seconds())
        return min(waits)

    def _reload(self, version: tuple[int, ...]) -> None:
        """The active rules changed: a new session over what they cover, starting with every value."""
        rules = self._store.active_rules()
        self._close_session()
        self._index = ThresholdIndex(rules)
        self._version = version
        self._progress.clear()
        self._fired.clear()
        if not rules:
            log.info("notifications: no active rule; nothing is evaluated")
            return
        selection = Selection(
            frozenset(), frozenset() if self._index.all_features else self._index.feature_keys
        )
        session = self._watch.open_internal(selection, self.wake, interval=self.interval, budget=self.budget)
        self._session = session
        started = time.monotonic()
        checkpoint = self._clock()
        count = 0
        for message in session.start():
            count += len(message.updates)
            self._handle(session, [message])
            if self._stop.is_set():
                return
        if self._checkpoint is None:
            self._checkpoint = checkpoint - CHECKPOINT_MARGIN
        self._next_heartbeat = 0.0  # record the new session's checkpoint (and look for stale ones) at once
        log.info(
            "notifications: rules loaded",
            extra={
                "rules": len(rules),
                "entitlements": count,
                "seconds": round(time.monotonic() - started, 3),
            },
        )

    def _close_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.end()
            session.close()

    # -- values to events ----------------------------------------------------------------------------
    def _handle(self, session: WatchSession, messages: Iterable[Message]) -> None:
        now = self._clock()
        new: list[NewEvent] = []
        for message in messages:
            for update in message.updates:
                eid = update.entitlement_id
                if update.deleted or update.value is None:
                    self._forget(eid)
                    continue
                e = session.entitlement(eid)
                if e is None or e.type is not EntitlementType.METERED or e.deleted:
                    continue
                new.extend(self._crossings(e, update.value, update.computed_at, now))
        self._store_events(new, now)

    def _crossings(
        self, e: Entitlement, value: EntitlementValue, computed_at: datetime, now: datetime
    ) -> list[NewEvent]:
        instant = engine.value_instant(computed_at)
        instant_us = to_us(instant)
        progress = self._progress.get(e.id)
        if (
            progress is None
            or progress.source is not e  # the entitlement changed (a reset, say): its periods may have
            or not progress.period_start_us <= instant_us < progress.period_end_us
        ):
            # The period's bounds, computed once per period and entitlement (about 20 us each time).
            spec = e.engine_spec()
            period_us = to_us(engine.period_start_at(spec, instant))
            end_us = to_us(engine.usage_period_at(spec, instant).containing(instant).end)
            if progress is None or progress.period_start_us != period_us:
                if len(self._progress) >= MAX_REMEMBERED:
                    self._progress.clear()
                    self._fired.clear()
                progress = self._progress[e.id] = Progress(period_us)
            progress.period_end_us, progress.source = end_us, e
        armed = self._index.crossed(e.feature_id, value, progress)
        if not armed:
            return []
        return self._events(e, value, armed, from_us(progress.period_start_us), instant, now)

    def _events(
        self,
        e: Entitlement,
        value: EntitlementValue,
        armed: list[Armed],
        period_start: datetime,
        instant: datetime,
        now: datetime,
    ) -> list[NewEvent]:
        period_us = to_us(period_start)
        known = self._fired.get(e.id)
        if known is None or known[0] != period_us:
            known = self._fired[e.id] = (period_us, self._store.fired(e.id, period_us))
        out = []
        for a in armed:
            key = dedupe_key(a.rule.id, e.id, period_us, a.threshold)
            if key in known[1]:
                continue
            known[1].add(key)
            out.append(self._event(e, value, a.rule, a, period_start, instant, now, key))
        return out

    def _event(
        self,
        e: Entitlement,
        value: EntitlementValue,
        rule: Rule,
        armed: Armed,
        period_start: datetime,
        instant: datetime,
        now: datetime,
        key: str,
    ) -> NewEvent:
        feature = self._feature_cache.get(e.feature_id)
        if feature is None:
            feature = self._feature_cache[e.feature_id] = self._features.get(e.feature_id)
        try:
            subject = self._subjects.get(e.subject_key)
        except NotFound:
            subject = None
        event_id = ids.new_id()
        body = payload.balance_threshold(event_id, now, e, feature, subject, value, armed.threshold, instant)
        annotations = {
            "event.subject.key": e.subject_key,
            "event.feature.key": e.feature_key,
            "event.feature.id": e.feature_id,
            "event.balance.dedupe.hash": key,
        }
        if subject is not None:
            annotations["event.subject.id"] = subject.id
        crossing = Crossing(
            e.id, e.feature_id, e.feature_key, e.subject_key, armed.threshold, value, period_start
        )
        return NewEvent(event_id, rule.id, now, body, annotations, crossing, key)

    def _store_events(self, new: list[NewEvent], now: datetime) -> None:
        if not new:
            return
        stored = self._store.insert_events(new, now)  # a failure starts over (see _run): nothing is lost
        if stored:
            self.events_created += len(stored)
            self.on_events(len(stored))
            self._service.events_stored()

    def _forget(self, entitlement_id: str) -> None:
        self._progress.pop(entitlement_id, None)
        self._fired.pop(entitlement_id, None)

    # -- heartbeats and recovery ---------------------------------------------------------------------
    def _beat(self, session: WatchSession | None) -> None:
        """Records this evaluator's heartbeat and checkpoint, and re-derives the window of any evaluator
        whose heartbeat went stale. Without an active rule there is nothing to record or re-derive (and
        nothing is written: a server that uses no notifications writes nothing for them)."""
        if session is None or self._checkpoint is None:
            return
        now = self._clock()
        oldest = session.watch.oldest_pending()
        waited = timedelta(seconds=time.monotonic() - oldest) if oldest is not None else timedelta()
        self._checkpoint = max(self._checkpoint, now - waited - CHECKPOINT_MARGIN)
        self._store.heartbeat(self.replica, self._checkpoint, now)
        stale = self._store.take_stale(now - timedelta(seconds=STALE_SECONDS), keep=self.replica)
        if stale:
            since = min(stale)
            log.warning(
                "notifications: an evaluator stopped without notice; re-deriving its crossings",
                extra={"since": since.isoformat()},
            )
            self._recover(session, since)

    def _recover(self, session: WatchSession, since: datetime) -> None:
        """Evaluates the last value of every covered entitlement's usage period that ended after ``since``
        (the current values are the session's: a stale evaluator's missed changes are replayed by restarting
        it, see ``_reload``)."""
        now = self._clock()
        new: list[NewEvent] = []
        for e in self._watch.list_selected(session.selection):
            if e.type is not EntitlementType.METERED or e.deleted:
                continue
            spec = e.engine_spec()
            start = engine.period_start_at(spec, engine.value_instant(now))
            last = start - _MINUTE  # the last instant a value of the previous period reads
            if (
                start <= since
                or last < spec.measure_usage_from
                or last < e.created_at.replace(second=0, microsecond=0)
            ):
                continue
            with contextlib.suppress(MeterdError):
                value = self._credit.value(e, last)
                period_start = engine.period_start_at(spec, last)
                # A rule reports no crossing of a period that ended before the rule existed.
                armed = [
                    a
                    for a in self._index.crossed(e.feature_id, value, Progress(to_us(period_start)))
                    if a.rule.created_at < start
                ]
                if armed:
                    new.extend(self._events(e, value, armed, period_start, last, now))
        self._store_events(new, now)
        # The stale evaluator's changes not yet seen here: start over with every current value.
        self._version = None
        self._rules_dirty = True
