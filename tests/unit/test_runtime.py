"""meterd serve's process settings (server/meterd/server/runtime.py): the heap trimmer wakes only when a large
request was released, and trims then; the collector and GIL settings that ``tune`` applies."""

from __future__ import annotations

import gc
import sys
import threading

from meterd.server import runtime


def test_the_trimmer_starts_nothing_until_asked_and_trims_when_asked() -> None:
    trimmer = runtime.Trimmer(interval=0.0)
    trimmed = threading.Event()
    calls: list[int] = []

    def trim(pad: int) -> int:
        calls.append(pad)
        trimmed.set()
        return 1

    trimmer._trim = trim
    assert trimmer._thread is None  # an idle server has no trimming thread at all
    trimmer.request()
    assert trimmed.wait(30), "no trim after a request"
    assert calls[0] == 0


def test_tune_sets_the_switch_interval_and_the_thresholds() -> None:
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    try:
        runtime.tune()
        assert sys.getswitchinterval() == runtime.SWITCH_INTERVAL_SECONDS
        assert gc.get_threshold() == runtime.GC_THRESHOLDS
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*thresholds)
