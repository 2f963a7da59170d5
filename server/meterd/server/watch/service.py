"""Watch sessions: the initial values of a selection, then the values of whatever changed, coalesced, with
threshold crossings, resumable by position. Reads through the same services a value call uses, so every
value sent is what GetEntitlementValue would answer at that moment.

A session is sans-I/O with respect to gRPC: ``start()`` and ``poll()`` return messages (they block on the
database, so an asyncio caller runs them in an executor), ``wait_seconds()`` says how long nothing can be
due, and ``wake`` (given at open) is called from other threads when something may be.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from meterd.server.balances.service import ValueBasis
from meterd.server.credit import engine
from meterd.server.entitlements.model import (
    Entitlement,
    EntitlementFilter,
    EntitlementType,
    EntitlementValue,
    static_value,
    validate_subject_key,
)
from meterd.server.errors import FailedPrecondition, InvalidArgument, MeterdError, ResourceExhausted
from meterd.server.grants.model import Grant
from meterd.server.timeutil import from_us, to_us
from meterd.server.watch.budget import ComputeBudget
from meterd.server.watch.changes import Change, Reason
from meterd.server.watch.feed import ChangeFeed, Due, Selection, Watch, Watched, replay
from meterd.server.watch.schedule import next_engine_instant, wake_time
from meterd.server.watch.thresholds import Reading, Threshold, ThresholdTracker, validate_thresholds

log = logging.getLogger("meterd.watch")

DEFAULT_INTERVAL = 0.1
MAX_INTERVAL = 60.0
MAX_SELECTION_KEYS = 50_000
MAX_WATCHED = 100_000  # entitlements one watch may follow
SNAPSHOT_CHUNK = 500  # updates per snapshot message
# A watch with thresholds keeps running this long after its stream ends (seconds), so that a resume replays
# the crossings meanwhile; at most MAX_DETACHED such sessions at once; each remembers its last
# MAX_CROSSING_LOG crossings (a resume from before them is too old).
DETACHED_SECONDS = 300.0
MAX_DETACHED = 100
MAX_CROSSING_LOG = 10_000
HEARTBEAT_SECONDS = 5.0  # an idle watch gets a message (its position) at least this often
MIN_HEARTBEAT, MAX_HEARTBEAT = 0.1, 600.0
_LIST_PAGE = 1000
MAX_FUTURE_MINUTES = 1000  # (subject, minute) timers one commit may set for future-dated events
MAX_PER_POLL = 100  # values computed before the budget is asked again
# Events stamped more than this before their ingestion are named per subject in a USAGE change (later ones
# only set the change's earliest instant): see Change.late.
LATE_CUTOFF_US = 120_000_000
THROTTLED_WAIT = 0.01  # seconds a watch held back by the budget waits at least before asking again
_METER = frozenset({Reason.METER_UPDATED, Reason.METER_DELETED})  # always sent, even with an unchanged value
# Reasons that change neither an entitlement nor its grants.
_DATA_ONLY = frozenset({Reason.USAGE, Reason.TIME})


@dataclass(frozen=True, slots=True)
class WatchRequest:
    subjects: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    resume_position: str = ""
    interval: float | None = None  # seconds; None: the default
    heartbeat: float | None = None  # seconds; None: the default


@dataclass(frozen=True, slots=True)
class Update:
    entitlement_id: str
    subject_key: str
    feature_key: str
    value: EntitlementValue | None
    reasons: frozenset[Reason]
    computed_at: datetime
    deleted: bool = False
    unavailable: str = ""  # why ``value`` is None although the entitlement exists (e.g. its meter was deleted)
    type: EntitlementType | None = None  # None only for a deleted entitlement the watch no longer knew


@dataclass(frozen=True, slots=True)
class Crossing:
    entitlement_id: str
    subject_key: str
    feature_key: str
    threshold_index: int
    threshold: Threshold
    value: EntitlementValue
    period_start: datetime
    replayed: bool = False  # sent again on resume (see WatchEntitlementValuesRequest.resume_position)


@dataclass(slots=True)
class Message:
    """One message of the stream (wire: WatchEntitlementValuesResponse)."""

    position: str
    updates: list[Update] = field(default_factory=list)
    crossings: list[Crossing] = field(default_factory=list)
    snapshot: str = ""  # "", "INITIAL", "RESUME_TOO_OLD", "READER_BEHIND"
    snapshot_complete: bool = False
    resumed: bool = False


class EntitlementReader(Protocol):
    def get_by_id(self, entitlement_id: str) -> Entitlement | None: ...


class Entitlements(Protocol):
    def list(
        self, filter: EntitlementFilter, page_size: int, after: Any
    ) -> tuple[list[Entitlement], Any, int]: ...


class Credit(Protocol):
    def value_basis(
        self, entitlement: Entitlement, now: datetime | None = None
    ) -> tuple[EntitlementValue, ValueBasis | None]: ...
    def usage_since(self, bases: list[ValueBasis], end: datetime) -> list[Decimal]: ...


@dataclass(frozen=True, slots=True)
class Computed:
    """A value computed in full (what GetEntitlementValue answers now), with what a watch keeps from it."""

    value: EntitlementValue | None  # None: it cannot be computed (``unavailable`` says why)
    reading: Reading | None
    wake_at: datetime | None
    at: datetime
    basis: ValueBasis | None = None
    unavailable: str = ""


@dataclass(frozen=True, slots=True)
class Continuation:
    """A basis kept to continue an entitlement's value from usage alone (see WatchSession.poll): valid for
    instants before ``next_instant`` (the next instant of the engine's timeline after the basis's state),
    while no USAGE change reports an event stamped before ``at_us`` (the state's instant)."""

    basis: ValueBasis
    next_instant: datetime | None
    at_us: int
    granted: Decimal  # credit of the grants active in the segment (for percentage thresholds)

    @classmethod
    def of(cls, basis: ValueBasis) -> Continuation:
        at = basis.state.at
        return cls(basis, next_engine_instant(basis.spec, basis.grants, at), to_us(at),
                   sum((g.amount for g in basis.grants if g.is_active_at(at)), Decimal(0)))


class Grants(Protocol):
    def for_entitlement(self, entitlement_id: str, *, include_voided: bool = True) -> list[Grant]: ...


def validate_request(request: WatchRequest) -> None:
    if not request.subjects and not request.features:
        raise InvalidArgument.of("subject_keys", "give subject_keys, feature_keys or both")
    for name, keys in (("subject_keys", request.subjects), ("feature_keys", request.features)):
        if len(keys) > MAX_SELECTION_KEYS:
            raise ResourceExhausted(f"{name}: at most {MAX_SELECTION_KEYS} keys, got {len(keys)}")
    for i, s in enumerate(request.subjects):
        validate_subject_key(s, f"subject_keys[{i}]")
    for i, f in enumerate(request.features):
        if not f:
            raise InvalidArgument.of(f"feature_keys[{i}]", "must not be empty")
    if request.interval is not None and not (0 <= request.interval <= MAX_INTERVAL):
        raise InvalidArgument.of("coalesce_interval", f"must be between 0 and {MAX_INTERVAL:g} seconds")
    if request.heartbeat is not None and not (MIN_HEARTBEAT <= request.heartbeat <= MAX_HEARTBEAT):
        raise InvalidArgument.of(
            "heartbeat_interval", f"must be between {MIN_HEARTBEAT:g} and {MAX_HEARTBEAT:g} seconds"
        )
    validate_thresholds(list(request.thresholds))


class WatchService:
    """Opens watch sessions over the feed; the feed is fed by a change source (see sources.py)."""

    def __init__(
        self,
        feed: ChangeFeed,
        entitlements: Entitlements,
        entitlement_reader: EntitlementReader,
        credit: Credit,
        grants: Grants,
        meter_of: Callable[[Entitlement], tuple[str, str]],
        clock: Callable[[], datetime],
        *,
        max_watched: int = MAX_WATCHED,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        budget: ComputeBudget | None = None,
    ) -> None:
        self.feed = feed
        self._entitlements = entitlements
        self._reader = entitlement_reader
        self._credit = credit
        self._grants = grants
        self._meter_of = meter_of
        self._clock = clock
        self.max_watched = max_watched
        self.heartbeat_seconds = heartbeat_seconds
        self.budget = budget or ComputeBudget()
        self._sessions: set[WatchSession] = set()
        self._detached: dict[str, WatchSession] = {}  # watch id -> a session whose stream ended (see detach)
        self.detached_seconds = DETACHED_SECONDS
        self._lock = threading.Lock()
        self._closed = False

    def open(self, request: WatchRequest, wake: Callable[[], None]) -> WatchSession:
        """A session for the request (validated here: InvalidArgument, ResourceExhausted).

        Resuming a watch with thresholds continues the session that served it, kept detached since its stream
        ended (see ``detach``), so that the crossings since the position are replayed; when that session is
        gone (or the position is not retained) the resume is too old (a RESUME_TOO_OLD snapshot)."""
        validate_request(request)
        resume_from: int | None = None
        if request.resume_position:
            resume_from = self.feed.log.parse(request.resume_position)
        with self._lock:
            if self._closed:
                raise FailedPrecondition("server: shutting down")
            if request.thresholds and resume_from is not None:
                detached = self._adoptable(request)
                if detached is not None:
                    self._detached.pop(detached.id, None)
            else:
                detached = None
        if detached is not None:
            parts = request.resume_position.split(".")
            if detached.adopt(request, wake, resume_from, int(parts[3])):  # type: ignore[arg-type]
                return detached
            detached.close()
        if request.thresholds:
            resume_from = None  # crossings since cannot be replayed: too old
        with self._lock:
            if self._closed:
                raise FailedPrecondition("server: shutting down")
            session = WatchSession(self, request, wake, resume_from, bool(request.resume_position))
            self._sessions.add(session)
        return session

    def open_internal(
        self, selection: Selection, wake: Callable[[], None], *, interval: float = DEFAULT_INTERVAL,
        budget: ComputeBudget | None = None,
    ) -> WatchSession:
        """A session for a consumer inside the server (notification rules): any selection (both sides empty:
        every entitlement), no thresholds, no resume, no heartbeat, its own compute ``budget`` if given; not
        counted among the streams' sessions (``sessions()``). Its owner drives it like a stream does (start,
        then poll) and closes it."""
        with self._lock:
            if self._closed:
                raise FailedPrecondition("server: shutting down")
        request = WatchRequest(tuple(sorted(selection.subjects)), tuple(sorted(selection.features)),
                               interval=interval, heartbeat=MAX_HEARTBEAT)
        return WatchSession(self, request, wake, None, False, budget)

    def _adoptable(self, request: WatchRequest) -> WatchSession | None:
        parts = request.resume_position.split(".")
        if len(parts) != 4:
            return None
        session = self._detached.get(parts[2])
        if session is None or session.ended:
            return None
        if session.selection != Selection(frozenset(request.subjects), frozenset(request.features)):
            return None
        if tuple(session.thresholds) != tuple(request.thresholds):
            return None
        return session

    def detach(self, session: WatchSession) -> bool:
        """Whether a session whose stream ended keeps running detached (its caller drives it, for at most
        ``detached_seconds``), so that a resume can replay the threshold crossings since: only sessions with
        thresholds, at most MAX_DETACHED at once, never while shutting down."""
        with self._lock:
            if self._closed or session.ended or not session.thresholds or len(self._detached) >= MAX_DETACHED:
                return False
            self._detached[session.id] = session
            return True

    def undetach(self, session: WatchSession) -> None:
        with self._lock:
            if self._detached.get(session.id) is session:
                del self._detached[session.id]

    def _forget(self, session: WatchSession) -> None:
        with self._lock:
            self._sessions.discard(session)

    @property
    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)

    def sessions(self) -> list[WatchSession]:
        with self._lock:
            return list(self._sessions)

    def close(self) -> None:
        """Ends every session (server shutdown): their streams finish cleanly."""
        with self._lock:
            self._closed = True
            sessions = list(self._sessions)
        for s in sessions:
            s.end()

    # -- values --------------------------------------------------------------------------------------
    def list_selected(self, selection: Selection) -> list[Entitlement]:
        filter = EntitlementFilter(subjects=tuple(sorted(selection.subjects)), features=tuple(sorted(selection.features)))
        out: list[Entitlement] = []
        after = None
        while True:
            page, after, _ = self._entitlements.list(filter, _LIST_PAGE, after)
            out.extend(e for e in page if selection.matches(e.subject_key, e.feature_key))
            if len(out) > self.max_watched:
                raise ResourceExhausted(
                    f"subject_keys/feature_keys: the selection has more than {self.max_watched} entitlements"
                )
            if after is None:
                return out

    def watched(self, e: Entitlement) -> Watched:
        slug = event_type = ""
        if e.type is EntitlementType.METERED:
            try:
                slug, event_type = self._meter_of(e)
            except MeterdError:
                slug = event_type = ""
        return Watched(e.id, e.subject_key, e.feature_key, event_type, slug)

    def compute(
        self, e: Entitlement, grants: list[engine.Grant] | None = None, *, schedule: bool = True,
        reading: bool = True,
    ) -> Computed:
        """The entitlement's value now, what GetEntitlementValue answers now (None if it cannot be computed),
        the threshold reading (if asked), when to recompute it by itself (if asked), and the basis to
        continue it from. ``grants``: the entitlement's grants if the caller has them (read here otherwise)."""
        now = self._clock()
        if e.type is not EntitlementType.METERED:
            return Computed(static_value(e), None, None, now)
        try:
            value, basis = self._credit.value_basis(e, now)
        except MeterdError as exc:  # e.g. the feature's meter was deleted: nothing to watch but the error
            log.warning("watch: no value", extra={"entitlement": e.id, "error": str(exc)})
            return Computed(None, None, None, now, unavailable=str(exc))
        if basis is not None:
            grants = list(basis.grants)
        if not schedule and not reading:
            return Computed(value, None, None, now, basis)
        if grants is None:
            grants = self.engine_grants(e.id)
        spec = e.engine_spec()
        out_reading = None
        if reading:
            instant = engine.value_instant(now)
            granted = sum((g.amount for g in grants if g.is_active_at(instant)), Decimal(0))
            out_reading = Reading(value.balance, value.usage, granted, engine.period_start_at(spec, instant))
        return Computed(value, out_reading, wake_time(spec, grants, now) if schedule else None, now, basis)

    def engine_grants(self, entitlement_id: str) -> list[engine.Grant]:
        return [g.to_engine() for g in self._grants.for_entitlement(entitlement_id)]


class WatchSession:
    """One stream's state. Not thread-safe: one caller drives it (start, then poll/wait in a loop)."""

    def __init__(
        self, service: WatchService, request: WatchRequest, wake: Callable[[], None], resume_from: int | None,
        resume_asked: bool, budget: ComputeBudget | None = None,
    ) -> None:
        self._service = service
        self.budget = budget or service.budget
        self._feed = service.feed
        self.selection = Selection(frozenset(request.subjects), frozenset(request.features))
        interval = DEFAULT_INTERVAL if request.interval is None else request.interval
        self._wake = wake
        self.watch = Watch(self.selection, interval, max_pending=service.max_watched, wake=wake)
        self._thresholds = ThresholdTracker(list(request.thresholds))
        self._resume_from = resume_from
        self._resume_asked = resume_asked
        self._sent: dict[str, EntitlementValue | None] = {}
        self._entitlements: dict[str, Entitlement] = {}
        self._grants: dict[str, list[engine.Grant]] = {}  # per entitlement, until a change may alter them
        # Per metered entitlement: the basis its value continues from on usage alone (see poll).
        self._continuations: dict[str, Continuation] = {}
        self.continued = 0  # values continued from a basis (the cheap path), and computed in full (tests)
        self.computed_in_full = 0
        self._last_position = ""
        self._last_send = time.monotonic()
        self._ended = threading.Event()
        self._registered = False
        self._heartbeat = service.heartbeat_seconds if request.heartbeat is None else request.heartbeat
        self._throttled = False
        self.id = secrets.token_hex(4)
        self._seq = 0  # messages with crossings sent (their number goes into the positions)
        self._crossing_log: deque[tuple[int, Crossing]] = deque()  # (message number, crossing), the latest
        self._crossings_forgotten = 0  # the number of the last message whose crossings were forgotten
        self.adopting = False  # set when a resume takes the session over from its detached driver
        self.detached_done = threading.Event()
        self._adopted: tuple[int, int] | None = None  # (feed position, message number) to resume after
        # Per entitlement, the feed position of the last update sent for time alone (a boundary passed): no
        # change in the log says so, so an adopting resume recomputes those sent after its position.
        self._time_sent: dict[str, int] = {}

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    @property
    def thresholds(self) -> list[Threshold]:
        return self._thresholds.thresholds

    def entitlement(self, entitlement_id: str) -> Entitlement | None:
        """The entitlement as the session last read it (what its latest update was computed from)."""
        return self._entitlements.get(entitlement_id)

    def rebind(self, wake: Callable[[], None]) -> None:
        """Wakes ``wake`` from now on (the session changes hands between a stream and its detached driver)."""
        self._wake = wake
        self.watch.rebind(wake)

    def adopt(self, request: WatchRequest, wake: Callable[[], None], position: int, seq: int) -> bool:
        """Takes the detached session over for a resumed stream (after its driver stopped). False when the
        position cannot be continued from (the caller starts afresh: too old)."""
        self.adopting = True
        self._wake()
        if not self.detached_done.wait(10) or self.ended or not self._registered:
            return False
        if seq > self._seq or seq < self._crossings_forgotten:
            return False
        self.rebind(wake)
        self.watch.interval = DEFAULT_INTERVAL if request.interval is None else request.interval
        self._heartbeat = self._service.heartbeat_seconds if request.heartbeat is None else request.heartbeat
        self._adopted = (position, seq)
        self.adopting = False
        self.detached_done.clear()
        return True

    def end(self) -> None:
        """Ends the session from any thread (shutdown); the driving loop sees ``ended`` and stops."""
        self._ended.set()
        self._wake()

    def close(self) -> None:
        """Unregisters (the stream is over: finished, cancelled or failed)."""
        if self._registered:
            self._feed.unregister(self.watch)
            self._registered = False
        self._service._forget(self)

    # -- driving -------------------------------------------------------------------------------------
    def start(self) -> Iterator[Message]:
        """The first messages: a snapshot of every selected entitlement, or (resuming) what changed since."""
        if self._adopted is not None:
            yield from self._restart(*self._adopted)
            return
        position, missed = self._feed.register(self.watch, self._resume_from)
        self._registered = True
        selected = self._service.list_selected(self.selection)
        self._entitlements = {e.id: e for e in selected}
        self.watch.track(self._service.watched(e) for e in selected)
        now = time.monotonic()
        if self._resume_asked and missed is not None:
            # Continue without a gap: recompute what the missed changes touched (and only that).
            replay(self.watch, missed, position, now - self.watch.interval)
            self.watch.ready(now)
            for e in selected:
                self._sent[e.id] = None  # unknown to us: the next value computed for it is sent
                self._prepare_resumed(e)
            yield self._sent_message(Message(self._feed.log.token(position), resumed=True))
            return
        self.watch.ready(now)
        cause = "RESUME_TOO_OLD" if self._resume_asked else "INITIAL"
        yield from self._snapshot(selected, position, cause)

    def _restart(self, since: int, after_seq: int) -> Iterator[Message]:
        """An adopted session's first messages: ``resumed``, the crossings sent after message ``after_seq``
        (replayed), then (polled) the values of everything changed since feed position ``since``."""
        self._adopted = None
        missed = self._feed.log.since(since)
        position = self._feed.position() if missed is None else since + len(missed)
        selected = self._service.list_selected(self.selection)
        self._entitlements = {e.id: e for e in selected}
        self.watch.track(self._service.watched(e) for e in selected)
        token = self._feed.log.token(position)
        if missed is None:  # no longer retained: values start over (crossings too: they were only the log's)
            self._thresholds = ThresholdTracker(list(self._thresholds.thresholds))
            self._crossing_log.clear()
            yield from self._snapshot(selected, position, "RESUME_TOO_OLD")
            return
        replay(self.watch, missed, position, time.monotonic() - self.watch.interval)
        for eid, at in self._time_sent.items():  # changed by time alone (no logged change): computed again
            if at >= since:
                self.watch.schedule(eid, 0.0)
        for e in selected:
            self._sent[e.id] = None  # unknown to the watcher: the next value computed for it is sent
        replayed = [dataclasses.replace(c, replayed=True) for seq, c in self._crossing_log if seq > after_seq]
        yield self._sent_message(Message(token, resumed=True))
        if replayed:
            yield self._sent_message(Message(token, crossings=replayed))

    def _prepare_resumed(self, e: Entitlement) -> None:
        """Resuming a watch without thresholds (one with thresholds resumes by adopting its detached session,
        see WatchService.open): the timers of the entitlement."""
        if e.type is not EntitlementType.METERED:
            return
        grants = self._grants[e.id] = self._service.engine_grants(e.id)
        wake_at = wake_time(e.engine_spec(), grants, self._service._clock())
        self._schedule(e.id, wake_at)

    def _snapshot(self, selected: Sequence[Entitlement], position: int, cause: str) -> Iterator[Message]:
        token = self._feed.log.token(position)
        self._sent.clear()
        chunk: list[Update] = []
        if not selected:
            yield self._sent_message(Message(token, snapshot=cause, snapshot_complete=True))
            return
        self._grants.clear()
        self._continuations.clear()
        thresholds = bool(self._thresholds.thresholds)
        for i, e in enumerate(selected):
            grants = None
            if e.type is EntitlementType.METERED:
                grants = self._grants[e.id] = self._service.engine_grants(e.id)
            c = self._service.compute(e, grants, reading=thresholds)
            self._keep(e.id, c)
            if thresholds:
                self._thresholds.observe(e.id, c.reading)
            self._sent[e.id] = c.value
            self._schedule(e.id, c.wake_at)
            chunk.append(Update(e.id, e.subject_key, e.feature_key, c.value, frozenset({Reason.SNAPSHOT}), c.at,
                                unavailable=c.unavailable, type=e.type))
            last = i == len(selected) - 1
            if len(chunk) >= SNAPSHOT_CHUNK or last:
                yield self._sent_message(Message(token, chunk, snapshot=cause, snapshot_complete=last))
                chunk = []

    def _keep(self, eid: str, c: Computed) -> None:
        self.computed_in_full += 1
        if c.basis is None:
            self._continuations.pop(eid, None)
        else:
            self._continuations[eid] = Continuation.of(c.basis)

    def _schedule(self, entitlement_id: str, at: datetime | None) -> None:
        if at is not None:
            self.watch.schedule(entitlement_id, at.timestamp())

    def _sent_message(self, m: Message) -> Message:
        if self._thresholds.thresholds:
            # A watch with thresholds numbers its messages with crossings; its positions carry its id and that
            # number, so that a resume knows which crossings the watcher has seen (see WatchService.open).
            if m.crossings:
                self._seq += 1
                log_ = self._crossing_log
                log_.extend((self._seq, c) for c in m.crossings if not c.replayed)
                while len(log_) > MAX_CROSSING_LOG:
                    self._crossings_forgotten = log_.popleft()[0]
            m.position = f"{m.position}.{self.id}.{self._seq}"
        self._last_position = m.position
        self._last_send = time.monotonic()
        return m

    def poll(self) -> list[Message]:
        """Messages due now (possibly none)."""
        started = time.perf_counter()
        position = self._feed.position()
        budget = self.budget
        limit = budget.allowance()
        self._throttled = limit == 0
        if limit == 0:
            return []
        limit = MAX_PER_POLL if limit is None else min(limit, MAX_PER_POLL)
        due = self.watch.take(position, time.monotonic(), self._service._clock().timestamp(), limit)
        if due.behind:
            selected = self._service.list_selected(self.selection)
            self._entitlements = {e.id: e for e in selected}
            self.watch.track(self._service.watched(e) for e in selected)
            return list(self._snapshot(selected, due.position, "READER_BEHIND"))
        updates: list[Update] = []
        crossings: list[Crossing] = []
        slow = self._continue(due, updates, crossings)
        for eid, reasons in slow.items():
            update, crossed = self._recompute(eid, reasons)
            if update is not None:
                updates.append(update)
            crossings.extend(crossed)
        if due.updates:
            budget.spend(time.perf_counter() - started, len(due.updates))
        if self._thresholds.thresholds:
            for u in updates:
                if Reason.TIME in u.reasons:
                    self._time_sent[u.entitlement_id] = due.position
        token = self._feed.log.token(due.position)
        messages = []
        if updates:
            messages.append(self._sent_message(Message(token, updates)))
        if crossings:
            messages.append(self._sent_message(Message(token, crossings=crossings)))
        if not messages and time.monotonic() - self._last_send >= self._heartbeat:
            messages.append(self._sent_message(Message(token)))
        return messages

    def _continue(self, due: Due, updates: list[Update], crossings: list[Crossing]) -> dict[str, set[Reason]]:
        """The cheap path: values changed by usage alone (no grant, reset, entitlement or meter change), whose
        basis is still exact (no event reported before its state's instant) and whose segment still holds
        now's instant, are continued from their basis with the usage since its state, read for all of them
        at once (one read per meter and state instant), instead of a full computation each. The value is
        what the engine gives from that state, as GetEntitlementValue's replay passes through the same
        state (same checkpoints, same segments). Returns the rest (to compute in full)."""
        now = self._service._clock()
        instant = engine.value_instant(now)
        chosen: list[tuple[str, set[Reason], Continuation]] = []
        rest: dict[str, set[Reason]] = {}
        for eid, reasons in due.updates.items():
            cont = self._continuations.get(eid)
            if (
                cont is not None
                and reasons <= _DATA_ONLY
                and eid in self._entitlements
                and (cont.next_instant is None or instant < cont.next_instant)
                and due.earliest.get(eid, cont.at_us) >= cont.at_us
                and instant >= cont.basis.state.at
            ):
                chosen.append((eid, reasons, cont))
            else:
                self._continuations.pop(eid, None)
                rest[eid] = reasons
        if not chosen:
            return rest
        try:
            usages = self._service._credit.usage_since([c.basis for _, _, c in chosen], instant)
        except MeterdError:  # e.g. a meter deleted meanwhile: compute each in full (and say why)
            for eid, reasons, _ in chosen:
                self._continuations.pop(eid, None)
                rest[eid] = reasons
            return rest
        thresholds = bool(self._thresholds.thresholds)
        for (eid, reasons, cont), usage in zip(chosen, usages, strict=True):
            b = cont.basis
            state = engine.advance_within_segment(b.grants_by_id, b.state, instant, usage)
            balance = state.balance
            value = EntitlementValue(has_access=balance > 0 or b.spec.is_soft_limit, balance=balance,
                                     usage=state.usage, overage=state.overage)
            self.continued += 1
            if reasons != {Reason.USAGE}:  # a timer fired (a future-dated event's minute): schedule the next
                self._schedule(eid, wake_time(b.spec, b.grants, now))
            e = self._entitlements[eid]
            if thresholds:
                reading = Reading(balance, state.usage, cont.granted, state.period_start)
                crossings.extend(
                    Crossing(eid, e.subject_key, e.feature_key, i, self._thresholds.thresholds[i], value,
                             reading.period_start)
                    for i in self._thresholds.observe(eid, reading)
                )
            if eid in self._sent and self._sent[eid] == value:
                continue
            self._sent[eid] = value
            updates.append(Update(eid, e.subject_key, e.feature_key, value, frozenset(reasons), now, type=e.type))
        return rest

    def _recompute(self, eid: str, reasons: set[Reason]) -> tuple[Update | None, list[Crossing]]:
        # Usage and time change neither the entitlement nor its grants: reuse what was read last time.
        refresh = bool(reasons - _DATA_ONLY)
        if refresh:
            self._grants.pop(eid, None)
        e = self._entitlements.get(eid) if not refresh else None
        if e is None:
            e = self._service._reader.get_by_id(eid)
        if e is None or e.deleted or not self.selection.matches(e.subject_key, e.feature_key):
            known = self._entitlements.pop(eid, None)
            self.watch.untrack(eid)
            self._thresholds.observe(eid, None)
            if eid not in self._sent:
                return None, []
            del self._sent[eid]
            subject = e.subject_key if e else (known.subject_key if known else "")
            feature = e.feature_key if e else (known.feature_key if known else "")
            kind = e.type if e else (known.type if known else None)
            return Update(eid, subject, feature, None, frozenset(reasons), self._service._clock(), deleted=True,
                          type=kind), []
        if refresh or eid not in self._entitlements or self._entitlements[eid] != e:
            self._entitlements[eid] = e
            self.watch.track([self._service.watched(e)])
        thresholds = bool(self._thresholds.thresholds)
        schedule = reasons != {Reason.USAGE}  # usage alone moves no instant of the engine's timeline
        grants = None
        if (thresholds or schedule) and e.type is EntitlementType.METERED:
            grants = self._grants.get(eid)
            if grants is None:
                grants = self._grants[eid] = self._service.engine_grants(eid)
        c = self._service.compute(e, grants, schedule=schedule, reading=thresholds)
        self._keep(eid, c)
        value, reading, at = c.value, c.reading, c.at
        self._schedule(eid, c.wake_at)
        crossed = self._thresholds.observe(eid, reading) if thresholds else []
        crossings = [
            Crossing(eid, e.subject_key, e.feature_key, i, self._thresholds.thresholds[i], value, reading.period_start)
            for i in crossed
            if value is not None and reading is not None
        ]
        if eid in self._sent and self._sent[eid] == value and not reasons & _METER:
            return None, crossings
        self._sent[eid] = value
        return Update(eid, e.subject_key, e.feature_key, value, frozenset(reasons), at,
                      unavailable=c.unavailable, type=e.type), crossings

    def wait_seconds(self, cap: float = 1.0) -> float:
        """How long to sleep (unless woken): until something is due, at most ``cap``."""
        if self.ended:
            return 0.0
        now = time.monotonic()
        due = self.watch.next_due(now, self._service._clock().timestamp())
        heartbeat = max(0.0, self._last_send + self._heartbeat - now)
        if due is None:
            return min(cap, heartbeat)
        if due == 0 and self._throttled:  # due, but the budget held it back: wait for it to refill
            due = max(THROTTLED_WAIT, self.budget.wait_seconds())
        return min(cap, due, heartbeat)


def usage_changes(batches: Sequence[tuple[Sequence[Any], Sequence[bool], int]]) -> list[Change]:
    """USAGE changes for newly stored events: one per event type, with its subjects, the (subject, minute) of
    events stamped after their ingestion, and how early the events are stamped (``earliest_us``, and per
    subject those stamped more than LATE_CUTOFF_US before their ingestion). ``batches``: (events, stored
    flags, ingested microseconds); an event has ``type``, ``subject`` and ``time_us``. On the ingest path of a
    watched server: set comprehensions and min(), no per-event Python statements in the common case (one
    event type, events on time)."""
    subjects: dict[str, set[str]] = {}
    future: dict[str, set[tuple[str, int]]] = {}
    earliest: dict[str, int] = {}
    late: dict[str, dict[str, int]] = {}
    for events, stored, ingested_us in batches:
        fresh = events if all(stored) else [e for e, ok in zip(events, stored, strict=True) if ok]
        if not fresh:
            continue
        types = {e.type for e in fresh}
        by_type: list[tuple[str, Sequence[Any]]]
        if len(types) == 1:
            (t,) = types
            subjects.setdefault(t, set()).update({e.subject for e in fresh})
            by_type = [(t, fresh)]
        else:
            grouped: dict[str, list[Any]] = {}
            for e in fresh:
                subjects.setdefault(e.type, set()).add(e.subject)
                grouped.setdefault(e.type, []).append(e)
            by_type = list(grouped.items())
        cutoff = ingested_us - LATE_CUTOFF_US
        for t, evs in by_type:
            lo = min(e.time_us for e in evs)
            if lo < cutoff:  # late events: name their subjects, so that only those states are dropped
                lo = cutoff
                per_subject = late.setdefault(t, {})
                for e in evs:
                    if e.time_us < cutoff and e.time_us < per_subject.get(e.subject, cutoff):
                        per_subject[e.subject] = e.time_us
            earliest[t] = min(earliest.get(t, lo), lo)
        if max(e.time_us for e in fresh) > ingested_us:
            for e in fresh:
                if e.time_us > ingested_us:
                    future.setdefault(e.type, set()).add((e.subject, e.time_us - e.time_us % 60_000_000))
    changes = []
    for t, subs in subjects.items():
        minutes = sorted(future.get(t, ()))[:MAX_FUTURE_MINUTES]
        changes.append(Change(Reason.USAGE, event_type=t, subjects=frozenset(subs),
                              future=tuple((s, from_us(m)) for s, m in minutes), earliest_us=earliest[t],
                              late=tuple(sorted(late.get(t, {}).items()))))
    return changes
