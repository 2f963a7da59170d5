"""What changed, and where in the sequence of changes: the feed's input, and its log of positions.

A change source (the local stores' hooks today; PostgreSQL's LISTEN/NOTIFY later) only says "something
changed for subject S and event type T" or "for entitlement E"; the feed works out which watched
entitlements that touches. Positions number changes in the order they were published (after commit).
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from meterd.server.errors import InvalidArgument

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


class ChangeLog:
    """Positions for published changes, and the last ``capacity`` of them for resuming watchers.

    A position token is ``<epoch>.<n>``: the epoch is this log's (one per server run), so a token from an
    earlier run is recognised as too old rather than misread.
    """

    def __init__(self, capacity: int = DEFAULT_LOG_CAPACITY, epoch: str | None = None) -> None:
        self.epoch = epoch or secrets.token_hex(6)
        self._capacity = capacity
        self._weight = 0  # sum of the remembered changes' weights (memory is bounded by it)
        self._ring: deque[tuple[int, Change]] = deque()
        self._last = 0
        self._gap = -1  # changes went unlogged after this position (nobody was watching)
        self._lock = threading.Lock()

    @property
    def position(self) -> int:
        """The position of the last change published (0 before any)."""
        return self._last

    def append(self, changes: Sequence[Change]) -> list[tuple[int, Change]]:
        """Numbers the changes (in order) and remembers them."""
        with self._lock:
            numbered = []
            for change in changes:
                self._last += 1
                numbered.append((self._last, change))
                self._weight += _weight(change)
            self._ring.extend(numbered)
            while self._weight > self._capacity and self._ring:
                self._weight -= _weight(self._ring.popleft()[1])
            return numbered

    def mark_gap(self) -> None:
        """Some changes were not logged (no watch could resume across them): resuming from a position
        before now gives None."""
        with self._lock:
            self._gap = self._last

    def since(self, position: int) -> list[Change] | None:
        """The changes after ``position``, or None when some of them are no longer remembered."""
        with self._lock:
            if position > self._last or position <= self._gap:
                return None
            if position == self._last:
                return []
            if not self._ring or self._ring[0][0] > position + 1:
                return None
            first = self._ring[0][0]
            return [c for _, c in list(self._ring)[position + 1 - first:]]

    def remembered(self) -> tuple[int, int]:
        """(changes, weight) remembered now (for tests: the log's memory stays bounded)."""
        with self._lock:
            return len(self._ring), self._weight

    def token(self, position: int) -> str:
        return f"{self.epoch}.{position}"

    def parse(self, token: str, field: str = "resume_position") -> int | None:
        """The position in a token of this log; None for a token of another run. InvalidArgument if malformed.
        A watch's messages append ``.<watch id>.<message number>`` to the position (see service.py)."""
        parts = token.split(".")
        if len(parts) not in (2, 4) or not parts[0] or not parts[1].isdigit() or (
            len(parts) == 4 and (not parts[2].isalnum() or not parts[3].isdigit())
        ):
            raise InvalidArgument.of(field, "is not a position sent by WatchEntitlementValues")
        if parts[0] != self.epoch:
            return None
        return int(parts[1])


def _weight(change: Change) -> int:
    return max(1, len(change.subjects))
