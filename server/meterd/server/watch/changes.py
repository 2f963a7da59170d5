"""What changed, and where in the sequence of changes: the feed's input, and its log of positions.

A change source (the local stores' hooks today; PostgreSQL's LISTEN/NOTIFY later) only says "something
changed for subject S and event type T" or "for entitlement E"; the feed works out which watched
entitlements that touches. Positions number changes in the order they were published (after commit).
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from meterd.server.errors import InvalidArgument
from meterd.server.timeutil import utcnow

# How much the log remembers for resuming watchers: changes, each weighing one per subject it names.
DEFAULT_LOG_CAPACITY = 1_000_000


class Reason(StrEnum):
    """Why a watched value is sent (wire: EntitlementChangeReason)."""

    SNAPSHOT = "SNAPSHOT"
    USAGE = "USAGE"
    GRANT_CREATED = "GRANT_CREATED"
    GRANT_VOIDED = "GRANT_VOIDED"
    RESET = "RESET"
    TIME = "TIME"
    ENTITLEMENT_CREATED = "ENTITLEMENT_CREATED"
    ENTITLEMENT_OVERRIDDEN = "ENTITLEMENT_OVERRIDDEN"
    ENTITLEMENT_DELETED = "ENTITLEMENT_DELETED"
    METER_UPDATED = "METER_UPDATED"
    METER_DELETED = "METER_DELETED"


@dataclass(frozen=True, slots=True)
class Change:
    """One committed change.

    USAGE names an event type and the subjects that got new events of it (every entitlement whose feature's
    meter reads that type, for one of those subjects, may have changed); ``future`` lists (subject, minute)
    of events stamped after their ingestion (they count only once their minute starts). One USAGE change
    covers a whole commit's events of a type: the ingest path stays a few set operations per batch. Every
    other reason names the entitlement, its subject and feature key (so that a watch of a subject or a
    feature can pick up a new entitlement). A USAGE change with ``all_subjects`` affects every subject.
    """

    reason: Reason
    subject_key: str = ""
    event_type: str = ""
    entitlement_id: str = ""
    feature_key: str = ""
    subjects: frozenset[str] = frozenset()
    future: tuple[tuple[str, datetime], ...] = ()
    # USAGE of ``event_type`` for every subject (a coarse change, when the subjects were too many to name).
    all_subjects: bool = False
    # USAGE: no event of this change is stamped before this instant (microseconds), except those of the
    # subjects in ``late`` (each with its earliest event's instant). 0: unknown (as early as can be).
    # A watch continuing values from a state at instant c (see service.py) drops that state when usage
    # before c changed.
    earliest_us: int = 0
    late: tuple[tuple[str, int], ...] = ()
    # METER_UPDATED / METER_DELETED: the meter's slug (every entitlement whose feature uses it).
    meter_slug: str = ""


class ChangeSource(Protocol):
    """Where changes come from: calls ``sink`` with committed changes, in commit order."""

    def subscribe(self, sink: Callable[[Sequence[Change]], None]) -> None: ...


# A position token: ``<epoch>.<n>``, ``s`` before ``n`` inside an incomplete snapshot, and ``.<watch id>.<message
# number>`` after it on a watch with thresholds (see service.py). ASCII only, bounded: anything else is refused
# as malformed (a digit class that admits "²", or 5,000 digits that int() refuses, would fail later as UNKNOWN).
_TOKEN = re.compile(
    r"(?P<epoch>[0-9A-Za-z]{1,32})\.(?P<partial>s?)(?P<n>[0-9]{1,18})"
    r"(?:\.(?P<watch>[0-9A-Za-z]{1,32})\.(?P<seq>[0-9]{1,18}))?",
    re.ASCII,
)


@dataclass(frozen=True, slots=True)
class Token:
    """A parsed position token. ``position`` is None when no resume can continue from it: another server run's,
    or one sent inside a snapshot that was not complete yet (its values were not all sent)."""

    position: int | None
    watch_id: str = ""
    seq: int | None = None


class ChangeLog:
    """Positions for published changes, and the last ``capacity`` of them for resuming watchers.

    A position token is ``<epoch>.<n>``: the epoch is this log's (one per server run), so a token from an
    earlier run is recognised as too old rather than misread. Each remembered change keeps the time (the
    server's clock) it was published at, which a resume needs: time passed since, and what it changed
    (a period boundary, a grant's expiry, a future-dated event's minute) is in no change.
    """

    def __init__(
        self,
        capacity: int = DEFAULT_LOG_CAPACITY,
        epoch: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.epoch = epoch or secrets.token_hex(6)
        self._capacity = capacity
        self._clock = clock
        self._started = clock()
        self._weight = 0  # sum of the remembered changes' weights (memory is bounded by it)
        self._ring: deque[tuple[int, Change, datetime]] = deque()
        self._last = 0
        self._last_at = self._started
        # No resume can start before this position: changes went unlogged just before it (nobody was watching).
        # A gap takes a position of its own, so that a snapshot taken after it is resumable.
        self._gap = 0
        self._gap_at = self._started
        self._lock = threading.Lock()

    @property
    def position(self) -> int:
        """The position of the last change published (0 before any)."""
        return self._last

    def append(self, changes: Sequence[Change]) -> list[tuple[int, Change]]:
        """Numbers the changes (in order) and remembers them."""
        at = self._clock()
        with self._lock:
            numbered = []
            for change in changes:
                self._last += 1
                numbered.append((self._last, change))
                self._weight += _weight(change)
            self._ring.extend((n, c, at) for n, c in numbered)
            if numbered:
                self._last_at = at
            while self._weight > self._capacity and self._ring:
                self._weight -= _weight(self._ring.popleft()[1])
            return numbered

    def mark_gap(self) -> None:
        """Some changes were not logged (no watch could resume across them): resuming from a position
        before now gives None. The gap takes the next position (resuming from it, or later, is gapless)."""
        with self._lock:
            if self._gap == self._last and self._last:
                return  # nothing logged since the last gap: still the same gap (the ingest path's common case)
            at = self._clock()
            self._last += 1
            self._last_at = self._gap_at = at
            self._gap = self._last
            self._ring.clear()  # nothing before the gap can be resumed across (the ring stays contiguous)
            self._weight = 0

    def since(self, position: int) -> list[Change] | None:
        """The changes after ``position``, or None when some of them are no longer remembered."""
        with self._lock:
            if position > self._last or position < self._gap:
                return None
            if position == self._last:
                return []
            if not self._ring or self._ring[0][0] > position + 1:
                return None
            first = self._ring[0][0]
            return [c for _, c, _ in list(self._ring)[position + 1 - first :]]

    def published_at(self, position: int) -> datetime | None:
        """When (the server's clock) the change at ``position`` was published: the earliest instant a value sent
        at that position can be from. None when it is no longer remembered."""
        with self._lock:
            if position == self._last:
                return self._last_at
            if position == self._gap:
                return self._gap_at
            if not self._ring or not self._ring[0][0] <= position <= self._last:
                return None
            return self._ring[position - self._ring[0][0]][2]

    def remembered(self) -> tuple[int, int]:
        """(changes, weight) remembered now (for tests: the log's memory stays bounded)."""
        with self._lock:
            return len(self._ring), self._weight

    def token(self, position: int, *, partial: bool = False) -> str:
        """The token of ``position``; ``partial`` for a message inside a snapshot that is not complete yet
        (resuming from it starts with a snapshot: the rest of the values were never sent)."""
        return f"{self.epoch}.{'s' if partial else ''}{position}"

    def read(self, token: str, field: str = "resume_position") -> Token:
        """The parsed token; InvalidArgument naming ``field`` if it is not one this server sends."""
        m = _TOKEN.fullmatch(token)
        if m is None:
            raise InvalidArgument.of(field, "is not a position sent by WatchEntitlementValues")
        seq = m["seq"]
        position = None if m["epoch"] != self.epoch or m["partial"] else int(m["n"])
        return Token(position, m["watch"] or "", None if seq is None else int(seq))

    def parse(self, token: str, field: str = "resume_position") -> int | None:
        """The position in a token of this log; None for a token no resume can continue from (another run's,
        or sent inside an incomplete snapshot). InvalidArgument if malformed."""
        return self.read(token, field).position


def _weight(change: Change) -> int:
    return max(1, len(change.subjects))
