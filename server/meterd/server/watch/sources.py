"""The local change source: hooks in this process's services and event store, after their commit.

Hooks only enqueue (the event store's runs on the writer thread, right after a commit, and must not slow
it); one dispatcher thread turns what they report into Changes, in commit order, and hands them to the
subscribers (the feed). Another source (PostgreSQL's LISTEN/NOTIFY, for changes made on other replicas)
implements the same ``subscribe`` and feeds the same feed.

A subscriber is called with the changes and the instant (monotonic seconds) the earliest of them was
committed; ``published_through()`` says up to when every committed change has been handed on, so that a
watch never claims to be current past a change still on its way (see ``Message.as_of`` in service.py).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from meterd.server.entitlements.model import Entitlement
from meterd.server.grants.model import Grant
from meterd.server.watch.changes import Change, Reason
from meterd.server.watch.service import usage_changes

log = logging.getLogger("meterd.watch")

_ENTITLEMENT_REASONS = {
    "created": Reason.ENTITLEMENT_CREATED,
    "deleted": Reason.ENTITLEMENT_DELETED,
    "overridden": Reason.ENTITLEMENT_OVERRIDDEN,
    "reset": Reason.RESET,
}
_GRANT_REASONS = {"created": Reason.GRANT_CREATED, "voided": Reason.GRANT_VOIDED}
_STOP = object()


class LocalChangeSource:
    """Changes committed through this process. ``active()`` says whether anybody watches (or may resume):
    when not, the ingest hook costs one check and ``gap()`` (resuming across it gives a snapshot)."""

    def __init__(self, active: Callable[[], bool], gap: Callable[[], None]) -> None:
        self._active = active
        self._gap = gap
        self._sinks: list[Callable[[Sequence[Change], float | None], None]] = []
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # When each queued report was made (monotonic), oldest first, until it is published.
        self._unpublished: deque[float] = deque()
        self._hook_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="meterd-watch-feed", daemon=True)
        self._thread.start()

    def subscribe(self, sink: Callable[[Sequence[Change], float | None], None]) -> None:
        self._sinks.append(sink)

    def published_through(self) -> float:
        """The instant (monotonic) before which every change reported here has been published."""
        with self._hook_lock:
            return self._unpublished[0] if self._unpublished else time.monotonic()

    def _report(self, item: Any) -> None:
        with self._hook_lock:  # the times and the queue in the same order
            self._unpublished.append(time.monotonic())
            self._queue.put(item)

    # -- hooks (after commit) ----------------------------------------------------------------------------
    def on_ingest(self, batches: Sequence[tuple[Sequence[Any], Sequence[bool], int]]) -> None:
        """Events committed: (events, stored flags, ingested microseconds) per batch."""
        if self._active():
            self._report(("ingest", batches))
        else:
            self._gap()

    def on_entitlement(self, kind: str, e: Entitlement) -> None:
        self._report(
            [
                Change(
                    _ENTITLEMENT_REASONS[kind], e.subject_key, entitlement_id=e.id, feature_key=e.feature_key
                )
            ]
        )

    def on_grant(self, kind: str, g: Grant) -> None:
        self._report(
            [
                Change(
                    _GRANT_REASONS[kind],
                    g.subject_key,
                    entitlement_id=g.entitlement_id,
                    feature_key=g.feature_key,
                )
            ]
        )

    def on_meter(self, kind: str, slug: str) -> None:
        """A meter defined or deleted: every entitlement on it may have a new value (or none)."""
        reason = Reason.METER_DELETED if kind == "deleted" else Reason.METER_UPDATED
        self._report([Change(reason, meter_slug=slug)])

    def flush(self, timeout: float = 10.0) -> None:
        """Waits until everything enqueued so far has been published (tests, shutdown)."""
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=5)

    # -- dispatcher ------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            item = self._queue.get()
            items = [item]
            while True:  # take everything queued, publish it as one group
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            changes: list[Change] = []
            stop = False
            events: list[threading.Event] = []
            reports = 0
            for it in items:
                if it is _STOP:
                    stop = True
                elif isinstance(it, threading.Event):
                    events.append(it)
                elif isinstance(it, tuple):
                    reports += 1
                    changes.extend(usage_changes(it[1]))
                else:
                    reports += 1
                    changes.extend(it)
            with self._hook_lock:
                at = self._unpublished[0] if reports else None
            try:
                for sink in self._sinks:
                    sink(changes, at)
            except Exception:
                log.exception("watch: publishing changes failed")
            with self._hook_lock:
                for _ in range(reports):
                    self._unpublished.popleft()
            for ev in events:
                ev.set()
            if stop:
                return
