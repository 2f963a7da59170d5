"""Process-wide settings of the Python runtime and the C allocator for ``meterd serve`` (a long-running server
with many threads and large short-lived batches). They are applied by ``serve`` only: a test or a program that
embeds ``MeterdServer`` keeps its own process settings.

Measured with bench/idle.py (5,000 idle watches, four producers streaming rejected 10,000-event batches, one
client timing unary calls; 2 shared cores, load average 7-9):

- Full garbage collections: the server tracks about 950,000 objects (270,000 from start-up, 600,000 for the
  watches, the rest in flight), and every rejected batch leaves some 50,000 objects that outlive two young
  collections, so CPython's rule (a full collection once a quarter of the old generation is new) ran one about
  every 1.5 s, each 0.5-1.8 s with the GIL held: 45% of the server's time, and the unary p99 (1.6-2.0 s).
  ``gc.freeze()`` after start-up takes the start-up objects out of every collection, and a full collection
  waits for 1,000 middle-generation ones (about a minute of that load) instead of 10: no full collection
  in most 60 s windows, p99 0.3 s, and ingest acks 2.2/s -> 4.7/s. Cyclic garbage that survives two young
  collections waits that long to be freed; what dies by reference counting (nearly everything) is freed at
  once as before.
- The GIL switch interval: a thread that wants the GIL waits up to this long for a CPU-bound one (validating a
  batch) to give it up, and a unary call needs the GIL on the event loop and on a worker several times.
  1 ms instead of 5 ms: p50 34 -> 16 ms, p99 0.3 -> 0.16 s under the same load.
- Memory (10 bulk producers, 20 MB messages): glibc keeps freed pages in its heaps and gives each allocating
  thread an arena of its own; handing freed pages back after large requests (``Trimmer``) took the peak from
  about 1,360 to 1,180 MB, and two arenas (``MALLOC_ARENAS``) about 60 MB more.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import sys
import threading
import time

log = logging.getLogger("meterd.runtime")

SWITCH_INTERVAL_SECONDS = 0.001
# Young, middle and full collection thresholds (CPython's defaults: 700, 10, 10); see the module doc.
GC_THRESHOLDS = (700, 10, 1000)
# Freed memory is handed back to the operating system (malloc_trim) at most this often, and only after a large
# request was released (Serving): glibc keeps the freed pages of its heaps otherwise.
TRIM_INTERVAL_SECONDS = 1.0
# glibc's mallopt parameter and the arenas meterd allows: glibc's default (8 per core) lets each thread that
# allocates a batch keep its freed pages in an arena of its own. Two arenas: peak RSS with 10 bulk producers
# 1,065 and 1,048 MB -> 1,019 and 967 MB (bench/idle.py's bulk part, alternating runs, load average 3-5).
M_ARENA_MAX = -8
MALLOC_ARENAS = 2


def tune() -> None:
    """Before the server starts (before its threads allocate): the GIL switch interval, the collector's
    thresholds and glibc's arena count."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    gc.set_threshold(*GC_THRESHOLDS)
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)


def freeze_startup() -> None:
    """Once the server is up: what start-up allocated (modules, descriptors, configuration) lives as long as the
    process, so the collector stops scanning it."""
    gc.collect()
    gc.freeze()


class Trimmer:
    """Gives the heap's free pages back to the operating system (glibc's ``malloc_trim``), at most once per
    ``TRIM_INTERVAL_SECONDS``: ``request()`` is cheap and may be called on the event loop; the trim runs on a
    thread of its own when due. No-op where the C library has no ``malloc_trim``."""

    def __init__(self, interval: float = TRIM_INTERVAL_SECONDS) -> None:
        self.interval = interval
        self._trim = _malloc_trim()
        self._due = threading.Event()
        self._last = 0.0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def request(self) -> None:
        if self._trim is None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="meterd-trim", daemon=True)
                self._thread.start()
        self._due.set()

    def _run(self) -> None:
        assert self._trim is not None
        while True:
            self._due.wait()  # sleeps until a large request was released: an idle server never wakes it
            wait = self._last + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)  # throttles the trims, not a wait for a condition
            self._due.clear()
            self._trim(0)
            self._last = time.monotonic()


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def _malloc_trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    libc = _libc()
    try:
        trim = libc.malloc_trim if libc is not None else None
    except AttributeError:  # not glibc (musl, macOS)
        return None
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim
