"""How much of the server's time watchers may spend computing values while ingest is backlogged.

Computing a value reads the database and runs the credit engine (about a millisecond in Python); a watch
that follows thousands of busy entitlements could compute all the time and, sharing the interpreter with
ingest, slow it down. So while the writer has work queued, watchers together get at most ``share`` of the
time (a token bucket); their pending updates wait, coalescing further (latency grows instead of ingest
slowing). When the writer is idle they compute freely. Pure code: the busy signal and the clock are given.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

DEFAULT_SHARE = 0.03
_BURST_SECONDS = 0.05  # compute time the bucket holds: what may run at once when it is full


class ComputeBudget:
    def __init__(
        self,
        share: float = DEFAULT_SHARE,
        busy: Callable[[], bool] = lambda: False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.share = share
        self._busy = busy
        self._clock = clock
        self._capacity = _BURST_SECONDS
        self._tokens = self._capacity
        self._at = clock()
        self._cost = 0.001  # running estimate of one value's compute time (seconds)
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._at) * self.share)
        self._at = now

    def allowance(self) -> int | None:
        """How many values a watch may compute now: None when unlimited (the writer is idle), else >= 0."""
        if not self._busy():
            return None
        with self._lock:
            self._refill()
            if self._tokens <= 0:
                return 0
            return max(1, int(self._tokens / self._cost))

    def spend(self, seconds: float, values: int = 1) -> None:
        """Records compute time (whether or not the writer was busy: a debt is paid before the next turn)."""
        with self._lock:
            self._refill()
            self._tokens = max(-self._capacity, self._tokens - seconds)
            if values:
                self._cost = 0.8 * self._cost + 0.2 * (seconds / values)

    def wait_seconds(self) -> float:
        """How long until some compute is allowed again (0 if it is)."""
        with self._lock:
            self._refill()
            return 0.0 if self._tokens > 0 else -self._tokens / self.share + 0.001
