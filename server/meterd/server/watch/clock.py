"""Noticing that the server's clock jumped, so that sleeping watches look at their timers again.

A watch sleeps on the monotonic clock until its next timer, whose instant is on the server's clock (a period
boundary, a grant's expiry, a future-dated event's minute). If that clock steps forward (a test's clock moved
by hand, the system clock set by an operator or NTP), the watch would oversleep. A clock that can say when it
steps offers ``subscribe(callback)`` (and ``unsubscribe``), as the tests' clocks do; for any other, one thread
compares it with the monotonic clock once a second: the cost of noticing is one wake-up a second for the whole
server, not one per watch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

CHECK_SECONDS = 1.0
# A forward step smaller than this is not worth waking every watch for (NTP slews by far less per second).
MIN_STEP_SECONDS = 0.01


class ClockWatch:
    """Calls ``on_step`` (from another thread) whenever ``clock`` jumps forward."""

    def __init__(self, clock: Callable[[], datetime], on_step: Callable[[], None]) -> None:
        self._clock = clock
        self._on_step = on_step
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        subscribe = getattr(clock, "subscribe", None)
        if callable(subscribe):
            subscribe(on_step)
        else:
            self._thread = threading.Thread(target=self._run, name="meterd-watch-clock", daemon=True)
            self._thread.start()

    def _offset(self) -> float:
        return self._clock().timestamp() - time.monotonic()

    def _run(self) -> None:
        offset = self._offset()
        while not self._stop.wait(CHECK_SECONDS):
            now = self._offset()
            if now - offset > MIN_STEP_SECONDS:
                self._on_step()
            offset = now

    def close(self) -> None:
        unsubscribe = getattr(self._clock, "unsubscribe", None)
        if self._thread is None and callable(unsubscribe):
            unsubscribe(self._on_step)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
