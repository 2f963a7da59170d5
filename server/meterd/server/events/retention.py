"""Keeping raw events for a while only (``storage.raw_event_retention_days``): events whose event time is
older than the window are removed from the raw events, at start and then hourly, in chunks (on SQLite each
chunk is one job of the writer, between ingest commits).

What stays exact, and why: meter queries and entitlement values read only the pre-aggregates, which are
kept; the dedupe keys of removed events are kept, so an event sent again is still a duplicate. What a
removal gives up: ListEvents no longer lists those events, and a meter that is created later, or redefined,
or deleted and created again, is backfilled from the events still stored, so it counts nothing older than
the window."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from meterd.server.timeutil import to_us

log = logging.getLogger(__name__)
# Events removed per chunk: a SQLite writer job of about this many deletions stays short next to ingest's.
CHUNK = 5000
INTERVAL_SECONDS = 3600.0


class RetiringStore(Protocol):
    def retire(self, before_us: int, limit: int) -> int:
        """Removes up to ``limit`` raw events with an event time before ``before_us``; returns how many."""
        ...


class RawEventRetention:
    """Removes raw events older than ``days`` (``run`` once; ``start``/``stop`` a thread running it hourly)."""

    def __init__(self, store: RetiringStore, clock: Callable[[], datetime], days: int) -> None:
        if days <= 0:
            raise ValueError("days must be positive")
        self._store = store
        self._clock = clock
        self._window = timedelta(days=days)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def horizon(self) -> datetime:
        """Raw events with an event time before this are removed."""
        return self._clock() - self._window

    def run(self) -> int:
        """Removes every raw event older than the window now, chunk by chunk; returns how many."""
        before = to_us(self.horizon())
        removed = 0
        while not self._stopping.is_set():
            n = self._store.retire(before, CHUNK)
            removed += n
            if n < CHUNK:
                break
        if removed:
            log.info("raw events removed", extra={"events": removed, "before": self.horizon().isoformat()})
        return removed

    def start(self) -> None:
        def loop() -> None:
            while not self._stopping.is_set():
                try:
                    self.run()
                except Exception:  # the database may be down for a while: the next round tries again
                    log.exception("removing old raw events failed")
                self._stopping.wait(INTERVAL_SECONDS)

        self._thread = threading.Thread(target=loop, name="meterd-retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
