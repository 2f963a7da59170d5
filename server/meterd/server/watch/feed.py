"""The change feed: which watched entitlements a change affects, per-entitlement coalescing, timers, and the
resume position of each watch. Pure code: no gRPC, no SQL; the clock and the wake-up are passed in.

Threads: ``ChangeFeed.publish`` runs on the feed's dispatcher (one thread, in commit order); each watch is
read by the one call that serves it. Lock order: the feed's lock, then a watch's.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from meterd.server.watch.changes import Change, ChangeLog, Reason

# An event stamped in a future minute counts once that minute has started; wake a little after.
EVENT_SLACK = timedelta(milliseconds=5)
# Timers a watch keeps, per entitlement it may follow, before it forgets them and sends a snapshot.
MAX_TIMERS_PER_ENTITLEMENT = 8
# After the last watch ends, changes are still logged this long (seconds), so that it can resume.
RESUME_GRACE = 300.0

_BITS = {reason: 1 << i for i, reason in enumerate(Reason)}
_USAGE_BIT = _BITS[Reason.USAGE]
_NO_USAGE = 1 << 62  # a pending entry's earliest instant when no USAGE change marked it
# Entitlement-level reasons: they name the entitlement, and may add it to or remove it from a selection.
_LIFECYCLE = frozenset(
    {Reason.ENTITLEMENT_CREATED, Reason.ENTITLEMENT_OVERRIDDEN, Reason.ENTITLEMENT_DELETED}
)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which entitlements a watch follows: of these subjects and/or of these feature keys (both: both must
    match; empty means "any" for that side, but not both empty)."""

    subjects: frozenset[str]
    features: frozenset[str]

    def matches(self, subject_key: str, feature_key: str) -> bool:
        return (not self.subjects or subject_key in self.subjects) and (
            not self.features or feature_key in self.features
        )


@dataclass(frozen=True, slots=True)
class Watched:
    """A watched entitlement: what a change must name to affect it. ``event_type`` is its feature's meter's
    (empty for boolean and static ones, which usage never changes)."""

    entitlement_id: str
    subject_key: str
    feature_key: str
    event_type: str = ""
    meter_slug: str = ""  # its feature's meter (empty for boolean and static ones)


@dataclass(slots=True)
class Due:
    """What a watch must send now: entitlements to recompute (with why), or a whole snapshot."""

    position: int
    updates: dict[str, set[Reason]]
    behind: bool = False
    # Per entitlement with USAGE among its reasons: no event of those changes is stamped before this instant
    # (microseconds; 0: unknown).
    earliest: dict[str, int] = field(default_factory=dict)
    # Monotonic seconds: every change offered before this instant is in these updates or was taken before
    # (what stays pending was first offered at or after it). -inf: a replayed change is still pending.
    covered: float = float("-inf")


class Watch:
    """One watcher's state: the entitlements it follows, what changed and not yet sent, its timers.

    Memory is bounded by the selection: at most one pending entry per entitlement (a burst is coalesced
    into it) and at most ``max_pending`` entries in all; beyond that the watch forgets the details and is
    ``behind`` (its next message is a snapshot of current values).
    """

    def __init__(
        self,
        selection: Selection,
        interval: float,
        *,
        max_pending: int,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.selection = selection
        self.interval = interval
        self.max_pending = max_pending
        self._wake = wake
        self._lock = threading.Lock()
        self._tracked: dict[str, Watched] = {}
        self._by_usage: dict[str, dict[str, set[str]]] = {}  # event type -> subject -> entitlement ids
        self._by_meter: dict[str, set[str]] = {}  # meter slug -> entitlement ids
        # entitlement id -> [monotonic time first marked, position first marked, reason bits, earliest event
        # instant of the USAGE changes that marked it (us), cover]; insertion order is first-marked order, so
        # the front is always the first due. ``cover`` is the earliest instant (monotonic) of the changes that
        # marked it: when it was committed, or -inf for a change replayed on resume.
        self._pending: dict[str, list[Any]] = {}
        # (cover, entitlement id) of pending entries, a heap with stale items dropped lazily: the smallest
        # cover of what is pending (what a message may claim to be current as of) without a scan.
        self._covers: list[tuple[float, str]] = []
        self._timers: list[tuple[float, str]] = []  # (wall-clock timestamp, entitlement id), a heap
        self._timer_set: set[tuple[float, str]] = set()
        self._newest_timer: tuple[float, str] | None = None
        self._ready = False
        self._early: list[tuple[int, Change, float, float]] = []
        self.behind = False
        self.closed = False

    def rebind(self, wake: Callable[[], None]) -> None:
        """Wakes ``wake`` from now on."""
        with self._lock:
            self._wake = wake

    # -- what is watched -------------------------------------------------------------------------------
    def track(self, watched: Iterable[Watched]) -> None:
        """Follows these entitlements (again, if already followed)."""
        with self._lock:
            for w in watched:
                self._untrack(w.entitlement_id)
                self._tracked[w.entitlement_id] = w
                if w.event_type:
                    by_subject = self._by_usage.setdefault(w.event_type, {})
                    by_subject.setdefault(w.subject_key, set()).add(w.entitlement_id)
                if w.meter_slug:
                    self._by_meter.setdefault(w.meter_slug, set()).add(w.entitlement_id)

    def untrack(self, entitlement_id: str) -> None:
        with self._lock:
            self._untrack(entitlement_id)

    def _untrack(self, entitlement_id: str) -> None:
        old = self._tracked.pop(entitlement_id, None)
        if old is not None and old.meter_slug:
            ids = self._by_meter.get(old.meter_slug)
            if ids is not None:
                ids.discard(entitlement_id)
                if not ids:
                    del self._by_meter[old.meter_slug]
        if old is not None and old.event_type:
            by_subject = self._by_usage.get(old.event_type, {})
            ids = by_subject.get(old.subject_key)
            if ids is not None:
                ids.discard(entitlement_id)
                if not ids:
                    del by_subject[old.subject_key]

    def tracked(self) -> dict[str, Watched]:
        with self._lock:
            return dict(self._tracked)

    def ready(self, now: float) -> None:
        """The initial entitlements are tracked: changes offered meanwhile are applied now."""
        with self._lock:
            self._ready = True
            early, self._early = self._early, []
            for position, change, at, cover in early:
                self._apply(position, change, at, cover)
        self._wake()

    # -- input -----------------------------------------------------------------------------------------
    def offer(self, position: int, change: Change, now: float, cover: float | None = None) -> None:
        """A published change (``now``: monotonic seconds, when it was committed; ``cover``: the instant it
        stands for in the coverage a message claims, ``now`` unless given: -inf for a change replayed on
        resume); marks the entitlements it affects. Wakes the reader only when its next due time moved earlier
        (nothing was pending, or it fell behind): it knows when the entries already pending fall due."""
        if cover is None:
            cover = now
        with self._lock:
            if not self._ready:
                if len(self._early) >= self.max_pending:
                    self._overflow()
                else:
                    self._early.append((position, change, now, cover))
                return
            idle, was_behind = not self._pending, self.behind
            timers = len(self._timers)
            self._apply(position, change, now, cover)
            wake = (
                (idle and bool(self._pending))
                or (self.behind and not was_behind)
                or (len(self._timers) > timers and self._timers[0] == self._newest_timer)
            )
        if wake:
            self._wake()

    def _apply(self, position: int, change: Change, now: float, cover: float) -> bool:
        if self.behind:
            return False
        if change.reason is Reason.USAGE:
            by_subject = self._by_usage.get(change.event_type)
            if not by_subject:
                return False
            selected = self.selection.subjects
            if change.all_subjects:
                subjects = selected or set(by_subject)
            else:
                subjects = change.subjects & selected if selected else change.subjects  # iterates the smaller
            marked = False
            pending = self._pending
            covers = self._covers
            late = dict(change.late) if change.late else None
            earliest = change.earliest_us
            for subject in subjects:  # the hot loop of a watched ingest: _mark inlined
                ids = by_subject.get(subject)
                if ids:
                    marked = True
                    e = earliest if late is None else late.get(subject, earliest)
                    for eid in ids:
                        entry = pending.get(eid)
                        if entry is not None:
                            entry[2] |= _USAGE_BIT
                            if e < entry[3]:
                                entry[3] = e
                            if cover < entry[4]:
                                entry[4] = cover
                                heapq.heappush(covers, (cover, eid))
                        elif len(pending) >= self.max_pending:
                            self._overflow()
                            return True
                        else:
                            pending[eid] = [now, position, _USAGE_BIT, e, cover]
                            heapq.heappush(covers, (cover, eid))
            for subject, minute in change.future:
                for eid in by_subject.get(subject, ()):
                    self._add_timer((minute + EVENT_SLACK).timestamp(), eid)
            return marked
        if change.meter_slug:  # a meter redefined or deleted: every entitlement on it
            on_meter = list(self._by_meter.get(change.meter_slug, ()))
            for eid in on_meter:
                self._mark(eid, position, change.reason, now, cover)
            return bool(on_meter)
        eid = change.entitlement_id
        if eid in self._tracked or (
            change.reason in _LIFECYCLE and self.selection.matches(change.subject_key, change.feature_key)
        ):
            self._mark(eid, position, change.reason, now, cover)
            return True
        return False

    def _mark(self, eid: str, position: int, reason: Reason, now: float, cover: float) -> None:
        entry = self._pending.get(eid)
        if entry is not None:
            entry[2] |= _BITS[reason]
            if cover < entry[4]:
                entry[4] = cover
                heapq.heappush(self._covers, (cover, eid))
            return
        if len(self._pending) >= self.max_pending:
            self._overflow()
            return
        self._pending[eid] = [now, position, _BITS[reason], _NO_USAGE, cover]
        heapq.heappush(self._covers, (cover, eid))

    def fall_behind(self) -> None:
        """Forgets what is pending: the next message is a snapshot of current values."""
        with self._lock:
            self._overflow()
        self._wake()

    def _overflow(self) -> None:
        self.behind = True
        self._pending.clear()
        self._covers.clear()
        self._early.clear()
        self._timers.clear()
        self._timer_set.clear()

    def schedule(self, entitlement_id: str, at: float) -> None:
        """Recompute the entitlement at wall-clock timestamp ``at`` (timers at the same instant are one)."""
        with self._lock:
            self._add_timer(at, entitlement_id)

    def _add_timer(self, at: float, entitlement_id: str) -> None:
        key = (at, entitlement_id)
        if key in self._timer_set:
            return
        if len(self._timer_set) >= MAX_TIMERS_PER_ENTITLEMENT * self.max_pending:
            self._overflow()  # the snapshot that follows schedules each entitlement's next instant afresh
            return
        self._timer_set.add(key)
        heapq.heappush(self._timers, key)
        self._newest_timer = key

    # -- output ----------------------------------------------------------------------------------------
    def take(self, position: int, now: float, wall: float, limit: int | None = None) -> Due:
        """What is due at monotonic ``now`` and wall-clock ``wall``. ``position``: the feed's position, read
        before this call (every change up to it has been offered). The returned position is the one a
        resume may continue from: every change up to it is in these updates or was sent before. At most
        ``limit`` updates (None: all that are due); the rest stay pending, first in line."""
        with self._lock:
            while self._timers and self._timers[0][0] <= wall:
                key = heapq.heappop(self._timers)
                self._timer_set.discard(key)
                eid = key[1]
                if eid in self._tracked:
                    # Due at once; it stands for the instant the timer was set for (wall-clock: mapped).
                    self._mark(eid, position, Reason.TIME, now - self.interval, now - (wall - key[0]))
            if self.behind:
                self.behind = False
                self._pending.clear()
                self._covers.clear()
                return Due(position, {}, behind=True)
            updates: dict[str, set[Reason]] = {}
            earliest: dict[str, int] = {}
            for eid, (
                first,
                _,
                bits,
                early,
                _,
            ) in self._pending.items():  # oldest first: stop at the first not due
                if first + self.interval > now or (limit is not None and len(updates) >= limit):
                    break
                updates[eid] = _reasons(bits)
                if early != _NO_USAGE:
                    earliest[eid] = early
            for eid in updates:
                del self._pending[eid]
            if self._pending:
                position = min(position, next(iter(self._pending.values()))[1] - 1)
            return Due(position, updates, earliest=earliest, covered=self._covered(now))

    def _covered(self, now: float) -> float:
        """The smallest cover of the pending entries (``now`` when none is pending). Lock held."""
        pending, covers = self._pending, self._covers
        if not pending:
            covers.clear()
            return now
        while covers:
            cover, eid = covers[0]
            entry = pending.get(eid)
            if entry is not None and entry[4] == cover:
                return min(now, cover)
            heapq.heappop(covers)
        return now  # unreachable: every pending entry has its cover in the heap

    def quiet(self, now: float, wall: float, position: int) -> tuple[float, int] | None:
        """When nothing is due (no pending entry due, no timer due, not behind): ``Due.covered`` and the
        position a heartbeat may carry (``position``: the feed's, as for ``take``); None when something is due
        (the caller polls). Cheap: a heartbeat needs no database."""
        with self._lock:
            if self.behind or (self._timers and self._timers[0][0] <= wall):
                return None
            if self._pending:
                first = next(iter(self._pending.values()))
                if first[0] + self.interval <= now:
                    return None
                position = min(position, first[1] - 1)
            return self._covered(now), position

    def bound(self, position: int) -> int:
        """The position a message may carry now (``position``: the feed's): before the first change still
        pending, which the watcher has not been sent."""
        with self._lock:
            if self._pending:
                return min(position, next(iter(self._pending.values()))[1] - 1)
            return position

    def coverage(self, now: float, wall: float) -> float:
        """``Due.covered`` now, with timers due and not yet taken counted as pending (at their instant)."""
        with self._lock:
            covered = self._covered(now)
            if self._timers and self._timers[0][0] <= wall:
                covered = min(covered, now - (wall - self._timers[0][0]))
            return covered

    def watched(self, entitlement_id: str) -> Watched | None:
        """What the watch follows of the entitlement (None: not followed)."""
        with self._lock:
            return self._tracked.get(entitlement_id)

    def next_due(self, now: float, wall: float) -> float | None:
        """Seconds until something is due (None: nothing pending, no timer)."""
        with self._lock:
            if self.behind:
                return 0.0
            waits = []
            if self._pending:
                first = next(iter(self._pending.values()))[0]
                waits.append(max(0.0, first + self.interval - now))
            if self._timers:
                waits.append(max(0.0, self._timers[0][0] - wall))
            return min(waits) if waits else None

    def pending_count(self) -> int:
        """Entitlements marked and not yet sent (for tests: the memory a slow reader holds)."""
        with self._lock:
            return len(self._pending) + len(self._early)

    def oldest_pending(self) -> float | None:
        """The monotonic time the longest-waiting pending entitlement was marked (None: nothing pending)."""
        with self._lock:
            return next(iter(self._pending.values()))[0] if self._pending else None


_REASON_SETS: dict[int, frozenset[Reason]] = {}


def _reasons(bits: int) -> set[Reason]:
    known = _REASON_SETS.get(bits)
    if known is None:
        known = _REASON_SETS[bits] = frozenset(r for r, bit in _BITS.items() if bits & bit)
    return set(known)


class ChangeFeed:
    """Numbers published changes (ChangeLog) and hands each to the watches it may concern."""

    def __init__(
        self, log: ChangeLog, clock: Callable[[], float], resume_grace: float = RESUME_GRACE
    ) -> None:
        self.log = log
        self._clock = clock  # monotonic seconds
        self._resume_grace = resume_grace
        self._last_unregistered = float("-inf")
        self._lock = threading.Lock()
        self._by_subject: dict[str, set[Watch]] = {}
        self._any_subject: set[Watch] = set()
        # The instant (monotonic) before which every committed change has been published here: its change
        # source's (see sources.py); by default publishing is taken to be immediate.
        self.horizon: Callable[[], float] = clock

    @property
    def watch_count(self) -> int:
        with self._lock:
            return len(self._any_subject) + len({w for ws in self._by_subject.values() for w in ws})

    def active(self) -> bool:
        """Whether changes must be logged: somebody watches, or stopped less than ``resume_grace`` ago (and
        may resume). When not, sources skip the work and call ``log.mark_gap()`` instead."""
        return (
            bool(self._any_subject)
            or bool(self._by_subject)
            or (self._clock() - self._last_unregistered < self._resume_grace)
        )

    def register(self, watch: Watch, resume_from: int | None = None) -> tuple[int, list[Change] | None]:
        """Starts offering changes to ``watch``. Returns the current position and, when ``resume_from`` is
        given, the changes after it (None when they are no longer remembered), atomically with registering."""
        with self._lock:
            if watch.selection.subjects:
                for s in watch.selection.subjects:
                    self._by_subject.setdefault(s, set()).add(watch)
            else:
                self._any_subject.add(watch)
            position = self.log.position
            missed = None if resume_from is None else self.log.since(resume_from)
            return position, missed

    def unregister(self, watch: Watch) -> None:
        with self._lock:
            self._last_unregistered = self._clock()
            self._any_subject.discard(watch)
            for s in watch.selection.subjects:
                ws = self._by_subject.get(s)
                if ws is not None:
                    ws.discard(watch)
                    if not ws:
                        del self._by_subject[s]

    def position(self) -> int:
        """The last position whose change has been offered to every watch."""
        with self._lock:
            return self.log.position

    def publish(self, changes: Sequence[Change], at: float | None = None) -> None:
        """Numbers the changes and offers each to the watches of its subject (and the all-subject ones).
        ``at``: when (monotonic) they were committed, if known (else now)."""
        if not changes:
            return
        now = self._clock() if at is None else at
        targets: set[Watch]
        with self._lock:
            by_subject = self._by_subject
            for position, change in self.log.append(changes):
                if change.all_subjects or change.meter_slug:
                    targets = {w for ws in by_subject.values() for w in ws}
                elif change.subjects:
                    targets = set()
                    small, large = sorted((change.subjects, by_subject.keys()), key=len)
                    for s in small:
                        if s in large:
                            targets.update(by_subject[s])
                else:
                    targets = set(by_subject.get(change.subject_key, ()))
                for watch in targets:
                    watch.offer(position, change, now)
                for watch in self._any_subject:
                    watch.offer(position, change, now)

    def lost(self) -> None:
        """Changes may have been missed (a remote source lost its connection): no resume can cross this
        point, and every watch sends a snapshot of current values next."""
        with self._lock:
            self.log.mark_gap()
            watches = set(self._any_subject).union(*self._by_subject.values())
        for watch in watches:
            watch.fall_behind()


def replay(watch: Watch, changes: Sequence[Change], position: int, now: float) -> None:
    """Offers changes a resuming watch missed (numbered up to ``position``) as if they were new: due at
    ``now``, and covering nothing until sent (the watcher has not seen them)."""
    first = position - len(changes) + 1
    for i, change in enumerate(changes):
        watch.offer(first + i, change, now, float("-inf"))
