"""Watch sessions: the initial values of a selection, then the values of whatever changed, coalesced, with
threshold crossings, resumable by position. Reads through the same services a value call uses, so every
value sent is what GetEntitlementValue would answer at that moment.

A session is sans-I/O with respect to gRPC: ``start()`` and ``poll()`` return messages (they block on the
database, so an asyncio caller runs them in an executor), ``quick()`` answers without the database when
nothing is due (the heartbeat of an idle watch, on the caller's own thread), ``wait_seconds()`` says how long
nothing can be due, and ``wake`` (given at open) is called from other threads when something may be. An idle
session costs nothing between its heartbeats: no timer runs for it but the next instant something is due.

How current a stream is: each message may carry ``as_of`` (the server's system clock): every change committed
on this server before it is reflected in the values the stream has sent, that message's included. It is
left out while the stream cannot say so (a snapshot before its last message; a resume whose missed changes
are still to come). The entitlement cache answers from memory only within its bound of it.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
import time
import weakref
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
from meterd.server.errors import InvalidArgument, MeterdError, ResourceExhausted, Unavailable
from meterd.server.grants.model import Grant
from meterd.server.timeutil import from_us, to_us
from meterd.server.watch.budget import ComputeBudget
from meterd.server.watch.changes import Change, Reason, Token
from meterd.server.watch.feed import EVENT_SLACK, ChangeFeed, Due, Selection, Watch, Watched, replay
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
# An idle watch gets a message (its position) at least this often unless it asks for its own interval; the
# server's setting server.watch_heartbeat_seconds (see config.py for why 30 s: a raw watch's heartbeat is only
# liveness, and a client cache asks for a third of its max_staleness).
HEARTBEAT_SECONDS = 30.0
MIN_HEARTBEAT, MAX_HEARTBEAT = 0.1, 600.0
_LIST_PAGE = 1000
# Selection keys per entitlement listing: each key is a statement parameter, and a database takes a bounded
# number of them (PostgreSQL's driver 65,535; SQLite 32,766), so a larger selection is listed in chunks.
LIST_KEYS_PER_QUERY = 1000
# Events stamped after a value's instant (a producer's clock ahead) count from their minute on: a watch sets a
# timer for the first such minute of each entitlement, read from the stored events (so a watch opened later,
# a resume, a restart or another replica learns it too, not only the ingest's own change). One read per event
# type looks FUTURE_SCAN_DAYS ahead (at most FUTURE_SCAN_ROWS events); an entitlement with nothing in that
# range is looked at again when the range ends (once a day).
FUTURE_SCAN_DAYS = 2
FUTURE_SCAN_ROWS = 10_000
_DAY_US = 86_400_000_000
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
    unavailable: str = (
        ""  # why ``value`` is None although the entitlement exists (e.g. its meter was deleted)
    )
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
    # Seconds since the epoch (the server's system clock): every change committed on this server before it is
    # reflected in the values the stream has sent, this message's included. None: the stream cannot say so
    # yet (inside a snapshot; missed changes of a resume still to come).
    as_of: float | None = None


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
        return cls(
            basis,
            next_engine_instant(basis.spec, basis.grants, at),
            to_us(at),
            sum((g.amount for g in basis.grants if g.is_active_at(at)), Decimal(0)),
        )


class Grants(Protocol):
    def for_entitlement(self, entitlement_id: str, *, include_voided: bool = True) -> list[Grant]: ...


class StoredEvents(Protocol):
    def first_event_times(
        self, event_type: str, start_us: int, end_us: int, limit: int
    ) -> tuple[dict[str, int], int]:
        """Per subject, the earliest time (us) of its events of ``event_type`` in ``[start_us, end_us)``, read from
        at most ``limit`` events in time order; and the instant up to which that is complete (``end_us``, or
        the last event read when the limit cut the read short)."""
        ...


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
        events: StoredEvents | None = None,
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
        self.events = events
        self._sessions: set[WatchSession] = set()
        # Every session alive (streams', detached and internal ones), to wake when the clock steps.
        self._alive: weakref.WeakSet[WatchSession] = weakref.WeakSet()
        self._alive_lock = threading.Lock()  # its own: sessions are made while ``_lock`` is held
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
        token = self.feed.log.read(request.resume_position) if request.resume_position else None
        resume_from = None if token is None else token.position
        with self._lock:
            if self._closed:
                raise Unavailable(
                    "meterd is shutting down; reconnect (a watch resumes from its last position)"
                )
            if request.thresholds and token is not None and resume_from is not None:
                detached = self._adoptable(request, token)
                if detached is not None:
                    self._detached.pop(detached.id, None)
            else:
                detached = None
        if detached is not None and token is not None and resume_from is not None and token.seq is not None:
            if detached.adopt(request, wake, resume_from, token.seq):
                return detached
            detached.close()
        if request.thresholds:
            resume_from = None  # crossings since cannot be replayed: too old
        with self._lock:
            if self._closed:
                raise Unavailable(
                    "meterd is shutting down; reconnect (a watch resumes from its last position)"
                )
            session = WatchSession(self, request, wake, resume_from, bool(request.resume_position))
            self._sessions.add(session)
        return session

    def open_internal(
        self,
        selection: Selection,
        wake: Callable[[], None],
        *,
        interval: float = DEFAULT_INTERVAL,
        budget: ComputeBudget | None = None,
    ) -> WatchSession:
        """A session for a consumer inside the server (notification rules): any selection (both sides empty:
        every entitlement), no thresholds, no resume, no heartbeat, its own compute ``budget`` if given; not
        counted among the streams' sessions (``sessions()``). Its owner drives it like a stream does (start,
        then poll) and closes it."""
        with self._lock:
            if self._closed:
                raise Unavailable("meterd is shutting down")
        request = WatchRequest(
            tuple(sorted(selection.subjects)),
            tuple(sorted(selection.features)),
            interval=interval,
            heartbeat=MAX_HEARTBEAT,
        )
        return WatchSession(self, request, wake, None, False, budget)

    def _adoptable(self, request: WatchRequest, token: Token) -> WatchSession | None:
        if not token.watch_id or token.seq is None:
            return None
        session = self._detached.get(token.watch_id)
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

    def _born(self, session: WatchSession) -> None:
        with self._alive_lock:
            self._alive.add(session)

    def clock_stepped(self) -> None:
        """The server's clock jumped (a test's clock moved by hand, or the system clock stepped): every session
        computes when its next timer is due again (it sleeps on the monotonic clock meanwhile)."""
        with self._alive_lock:
            sessions = list(self._alive)
        for session in sessions:
            session.wake()

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
        """The selected entitlements (ResourceExhausted beyond ``max_watched``). No statement names more than
        LIST_KEYS_PER_QUERY keys: the side with fewer keys is listed in chunks of that many; the other side
        is a filter too when it fits in one, else it is applied here. Both sides empty (an internal session):
        every entitlement."""
        subjects, features = sorted(selection.subjects), sorted(selection.features)
        by_subject = bool(subjects) and (not features or len(subjects) <= len(features))
        chunked, other = (subjects, features) if by_subject else (features, subjects)
        other_filter = tuple(other) if len(other) <= LIST_KEYS_PER_QUERY else ()
        out: dict[str, Entitlement] = {}
        for i in range(0, max(1, len(chunked)), LIST_KEYS_PER_QUERY):
            chunk = tuple(chunked[i : i + LIST_KEYS_PER_QUERY])
            filter = (
                EntitlementFilter(subjects=chunk, features=other_filter)
                if by_subject
                else EntitlementFilter(subjects=other_filter, features=chunk)
            )
            after = None
            while True:
                page, after, _ = self._entitlements.list(filter, _LIST_PAGE, after)
                out.update((e.id, e) for e in page if selection.matches(e.subject_key, e.feature_key))
                if len(out) > self.max_watched:
                    raise ResourceExhausted(
                        f"subject_keys/feature_keys: the selection has more than {self.max_watched} entitlements"
                    )
                if after is None:
                    break
        return sorted(out.values(), key=lambda e: (e.created_at, e.id))

    def watched(self, e: Entitlement) -> Watched:
        slug = event_type = ""
        if e.type is EntitlementType.METERED:
            try:
                slug, event_type = self._meter_of(e)
            except MeterdError:
                slug = event_type = ""
        return Watched(e.id, e.subject_key, e.feature_key, event_type, slug)

    def compute(
        self,
        e: Entitlement,
        grants: list[engine.Grant] | None = None,
        *,
        schedule: bool = True,
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
        self,
        service: WatchService,
        request: WatchRequest,
        wake: Callable[[], None],
        resume_from: int | None,
        resume_asked: bool,
        budget: ComputeBudget | None = None,
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
        self._started = False  # start() has sent its first messages: quick() may answer
        self._resumed = False  # continues a previous stream: the watcher may know entitlements not listed now
        self.wakeups = 0  # times its driver woke up (tests: an idle watch sleeps until something is due)
        service._born(self)

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    def wake(self) -> None:
        """Wakes whoever drives the session (it computes what is due, and when next)."""
        self._wake()

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
        # When the resume position was current: what time changed since (no change in the log says) is
        # recomputed. Read with the changes, before they can be forgotten.
        since = None if self._resume_from is None else self._feed.log.published_at(self._resume_from)
        selected = self._service.list_selected(self.selection)
        self._entitlements = {e.id: e for e in selected}
        self.watch.track(self._service.watched(e) for e in selected)
        now = time.monotonic()
        if self._resume_asked and missed is not None and since is not None:
            # Continue without a gap: recompute what the missed changes touched, and what time changed since
            # the position (a boundary, a grant's start or end, a future-dated event's minute), only that.
            replay(self.watch, missed, position, now - self.watch.interval)
            self.watch.ready(now)
            self._resumed = True
            for e in selected:
                self._sent[e.id] = None  # unknown to us: the next value computed for it is sent
                self._prepare_resumed(e, since)
            self._schedule_usage(list(self._entitlements), since)
            # Its position is before the replayed changes (not yet sent): a cut right after it resumes them.
            token = self._feed.log.token(self.watch.bound(position))
            yield self._sent_message(Message(token, resumed=True, as_of=self._current()))
            self._started = True
            return
        self.watch.ready(now)
        cause = "RESUME_TOO_OLD" if self._resume_asked else "INITIAL"
        yield from self._snapshot(selected, position, cause)
        self._started = True

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
            self._started = True
            return
        replay(self.watch, missed, position, time.monotonic() - self.watch.interval)
        for eid, at in self._time_sent.items():  # changed by time alone (no logged change): computed again
            if at >= since:
                self.watch.schedule(eid, 0.0)
        self._resumed = True
        for e in selected:
            self._sent[e.id] = None  # unknown to the watcher: the next value computed for it is sent
        replayed = [dataclasses.replace(c, replayed=True) for seq, c in self._crossing_log if seq > after_seq]
        token = self._feed.log.token(self.watch.bound(position))  # before the replayed changes, not yet sent
        yield self._sent_message(Message(token, resumed=True, as_of=self._current()))
        if replayed:
            yield self._sent_message(Message(token, crossings=replayed, as_of=self._current()))
        self._started = True

    def _prepare_resumed(self, e: Entitlement, since: datetime) -> None:
        """Resuming a watch without thresholds (one with thresholds resumes by adopting its detached session,
        see WatchService.open): the timers of the entitlement, from ``since`` (when the resume position was
        current) on, so that an instant passed meanwhile is due at once."""
        if e.type is not EntitlementType.METERED:
            return
        grants = self._grants[e.id] = self._service.engine_grants(e.id)
        self._schedule(e.id, wake_time(e.engine_spec(), grants, min(since, self._service._clock())))

    def _snapshot(self, selected: Sequence[Entitlement], position: int, cause: str) -> Iterator[Message]:
        """Every selected value, in messages of SNAPSHOT_CHUNK. Only the last one carries a position a resume
        may continue from (and ``as_of``): resuming inside a snapshot would skip the values not yet sent."""
        self._resumed = False  # the snapshot replaces whatever the watcher knew
        token = self._feed.log.token(position)
        partial = self._feed.log.token(position, partial=True)
        self._sent.clear()
        chunk: list[Update] = []
        if not selected:
            yield self._sent_message(
                Message(token, snapshot=cause, snapshot_complete=True, as_of=self._current())
            )
            return
        self._grants.clear()
        self._continuations.clear()
        self._schedule_usage([e.id for e in selected], self._service._clock())
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
            chunk.append(
                Update(
                    e.id,
                    e.subject_key,
                    e.feature_key,
                    c.value,
                    frozenset({Reason.SNAPSHOT}),
                    c.at,
                    unavailable=c.unavailable,
                    type=e.type,
                )
            )
            last = i == len(selected) - 1
            if last:
                yield self._sent_message(
                    Message(token, chunk, snapshot=cause, snapshot_complete=True, as_of=self._current())
                )
            elif len(chunk) >= SNAPSHOT_CHUNK:
                yield self._sent_message(Message(partial, chunk, snapshot=cause))
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
        horizon = self._feed.horizon()  # before the take: a change committed before it has been offered
        now = time.monotonic()
        # One reading of the server's clock, before any value is computed: the rescan below looks for
        # future-dated events from it. Read again after the values, a clock that moved meanwhile (a step, or
        # just time passing) would put an event's minute between the instant a value counted up to and the
        # start of the rescan, and no timer would ever wake the watch for it.
        wall = self._service._clock()
        due = self.watch.take(position, now, wall.timestamp(), limit)
        if due.behind:
            selected = self._service.list_selected(self.selection)
            self._entitlements = {e.id: e for e in selected}
            self.watch.track(self._service.watched(e) for e in selected)
            return list(self._snapshot(selected, due.position, "READER_BEHIND"))
        as_of = _as_of(min(due.covered, horizon))
        updates: list[Update] = []
        crossings: list[Crossing] = []
        rescan: list[str] = []
        slow = self._continue(due, updates, crossings, rescan)
        for eid, reasons in slow.items():
            update, crossed = self._recompute(eid, reasons, rescan)
            if update is not None:
                updates.append(update)
            crossings.extend(crossed)
        self._schedule_usage(rescan, wall)
        if due.updates:
            budget.spend(time.perf_counter() - started, len(due.updates))
        if self._thresholds.thresholds:
            for u in updates:
                if Reason.TIME in u.reasons:
                    self._time_sent[u.entitlement_id] = due.position
        token = self._feed.log.token(due.position)
        messages = []
        if updates:
            messages.append(self._sent_message(Message(token, updates, as_of=as_of)))
        if crossings:
            messages.append(self._sent_message(Message(token, crossings=crossings, as_of=as_of)))
        if not messages and time.monotonic() - self._last_send >= self._heartbeat:
            messages.append(self._sent_message(Message(token, as_of=as_of)))
        return messages

    def quick(self) -> list[Message] | None:
        """What is due, answered without the database on the caller's own thread (a stream's event loop):
        None when something is due (call ``poll``), else the heartbeat if it is due ([] if not)."""
        self.wakeups += 1
        if not self._started or self.ended:
            return None
        horizon = self._feed.horizon()
        now = time.monotonic()
        quiet = self.watch.quiet(now, self._service._clock().timestamp(), self._feed.position())
        if quiet is None:
            return None
        if now - self._last_send < self._heartbeat:
            return []
        covered, position = quiet
        return [
            self._sent_message(Message(self._feed.log.token(position), as_of=_as_of(min(covered, horizon))))
        ]

    def _current(self) -> float | None:
        """``as_of`` for a message sent now, outside ``poll`` (a snapshot's last message, a resume's first)."""
        horizon = self._feed.horizon()
        now = time.monotonic()
        return _as_of(min(self.watch.coverage(now, self._service._clock().timestamp()), horizon))

    def _schedule_usage(self, eids: Sequence[str], since: datetime) -> None:
        """Timers for the minute in which each entitlement's usage next changes by itself: the first minute
        after ``since``'s value instant with an event already stored (stamped ahead of its ingestion), read
        from the store (one read per event type); with none within FUTURE_SCAN_DAYS, the end of that range
        (looked at again then)."""
        events = self._service.events
        if events is None or not eids:
            return
        start_us = to_us(engine.value_instant(since))
        end_us = start_us - start_us % _DAY_US + FUTURE_SCAN_DAYS * _DAY_US  # fixed within a day: one timer
        by_type: dict[str, list[Watched]] = {}
        for eid in eids:
            w = self.watch.watched(eid)
            if w is not None and w.event_type:
                by_type.setdefault(w.event_type, []).append(w)
        for event_type, ws in by_type.items():
            firsts, until = events.first_event_times(event_type, start_us, end_us, FUTURE_SCAN_ROWS)
            for w in ws:
                first = firsts.get(w.subject_key)
                at_us = until if first is None else first
                at_us -= at_us % 60_000_000
                self.watch.schedule(w.entitlement_id, at_us / 1e6 + EVENT_SLACK.total_seconds())

    def _continue(
        self, due: Due, updates: list[Update], crossings: list[Crossing], rescan: list[str]
    ) -> dict[str, set[Reason]]:
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
            value = EntitlementValue(
                has_access=balance > 0 or b.spec.is_soft_limit,
                balance=balance,
                usage=state.usage,
                overage=state.overage,
            )
            self.continued += 1
            if reasons != {Reason.USAGE}:  # a timer fired (a future-dated event's minute): schedule the next
                self._schedule(eid, wake_time(b.spec, b.grants, now))
                rescan.append(eid)
            e = self._entitlements[eid]
            if thresholds:
                reading = Reading(balance, state.usage, cont.granted, state.period_start)
                crossings.extend(
                    Crossing(
                        eid,
                        e.subject_key,
                        e.feature_key,
                        i,
                        self._thresholds.thresholds[i],
                        value,
                        reading.period_start,
                    )
                    for i in self._thresholds.observe(eid, reading)
                )
            if eid in self._sent and self._sent[eid] == value:
                continue
            self._sent[eid] = value
            updates.append(
                Update(eid, e.subject_key, e.feature_key, value, frozenset(reasons), now, type=e.type)
            )
        return rest

    def _recompute(
        self, eid: str, reasons: set[Reason], rescan: list[str]
    ) -> tuple[Update | None, list[Crossing]]:
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
            if eid not in self._sent and not self._resumed:
                return None, []
            # Sent before, or (resumed) maybe known to the watcher from its previous stream: an entitlement
            # deleted while it was away is not among those listed at the resume, but the watcher has it.
            self._sent.pop(eid, None)
            subject = e.subject_key if e else (known.subject_key if known else "")
            feature = e.feature_key if e else (known.feature_key if known else "")
            kind = e.type if e else (known.type if known else None)
            return Update(
                eid,
                subject,
                feature,
                None,
                frozenset(reasons),
                self._service._clock(),
                deleted=True,
                type=kind,
            ), []
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
        if e.type is EntitlementType.METERED:  # a coarse or late change may hide future-dated events
            rescan.append(eid)
        crossed = self._thresholds.observe(eid, reading) if thresholds else []
        crossings = [
            Crossing(
                eid,
                e.subject_key,
                e.feature_key,
                i,
                self._thresholds.thresholds[i],
                value,
                reading.period_start,
            )
            for i in crossed
            if value is not None and reading is not None
        ]
        if eid in self._sent and self._sent[eid] == value and not reasons & _METER:
            return None, crossings
        self._sent[eid] = value
        return Update(
            eid,
            e.subject_key,
            e.feature_key,
            value,
            frozenset(reasons),
            at,
            unavailable=c.unavailable,
            type=e.type,
        ), crossings

    def wait_seconds(self, cap: float | None = None) -> float:
        """How long to sleep unless woken: until something is due (a pending change, a timer, the heartbeat),
        at most ``cap`` if given. Nothing else wakes an idle session: a change offered to it, a step of the
        clock (WatchService.clock_stepped) and shutdown call its ``wake``."""
        if self.ended:
            return 0.0
        now = time.monotonic()
        due = self.watch.next_due(now, self._service._clock().timestamp())
        heartbeat = max(0.0, self._last_send + self._heartbeat - now)
        if due is None:
            wait = heartbeat
        else:
            if due == 0 and self._throttled:  # due, but the budget held it back: wait for it to refill
                due = max(THROTTLED_WAIT, self.budget.wait_seconds())
            wait = min(due, heartbeat)
        return wait if cap is None else min(cap, wait)


def _as_of(covered: float) -> float | None:
    """The system-clock instant (seconds since the epoch) of ``covered`` (monotonic), or None for -inf."""
    if covered == float("-inf"):
        return None
    return time.time() - max(0.0, time.monotonic() - covered)


def usage_changes(batches: Sequence[tuple[Sequence[Any], Sequence[bool], int]]) -> list[Change]:
    """USAGE changes for newly stored events: one per event type, with its subjects, the first (subject, minute)
    of each subject's events stamped after their ingestion (later minutes are read from the store when that
    one has come: see WatchSession._schedule_usage), and how early the events are stamped (``earliest_us``, and per
    subject those stamped more than LATE_CUTOFF_US before their ingestion). ``batches``: (events, stored
    flags, ingested microseconds); an event has ``type``, ``subject`` and ``time_us``. On the ingest path of a
    watched server: set comprehensions and min(), no per-event Python statements in the common case (one
    event type, events on time)."""
    subjects: dict[str, set[str]] = {}
    future: dict[str, dict[str, int]] = {}  # event type -> subject -> its earliest future minute
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
                    minute = e.time_us - e.time_us % 60_000_000
                    firsts = future.setdefault(e.type, {})
                    if minute < firsts.get(e.subject, minute + 1):
                        firsts[e.subject] = minute
    changes = []
    for t, subs in subjects.items():
        minutes = sorted(future.get(t, {}).items())
        changes.append(
            Change(
                Reason.USAGE,
                event_type=t,
                subjects=frozenset(subs),
                future=tuple((s, from_us(m)) for s, m in minutes),
                earliest_us=earliest[t],
                late=tuple(sorted(late.get(t, {}).items())),
            )
        )
    return changes
