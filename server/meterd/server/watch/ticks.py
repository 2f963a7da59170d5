"""Shared wake-up ticks for the watch streams of one event loop.

An idle watch sleeps until something wakes it or its next instant (mostly its heartbeat) comes. With one
timer per watch, 5,000 watches keep 5,000 timer handles in the loop's heap and make and cancel one per
wait. A long wait here ends instead on the first tick of a shared 100 ms grid at or after its instant: one
timer per tick wakes every watch due in it, and a watch woken earlier (a change) just leaves its tick's set.
A wait shorter than COALESCE_FROM seconds (the coalescing interval of a change, a compute budget's refill)
keeps a timer of its own: rounding it would delay changes, not heartbeats.
"""

from __future__ import annotations

import asyncio
import math
import weakref

TICK_SECONDS = 0.1  # a coalesced wait ends at most this much after its instant (the documented slack)
COALESCE_FROM = 1.0  # waits at least this long (seconds) end on the shared tick

_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Ticks] = weakref.WeakKeyDictionary()


class Ticks:
    """The tick grid of one event loop; used only on that loop's thread (it keeps no reference to the loop:
    the registry below holds loops weakly)."""

    def __init__(self) -> None:
        self._due: dict[int, set[asyncio.Event]] = {}  # tick number -> events to set at it

    def _fire(self, tick: int) -> None:
        for event in self._due.pop(tick, ()):
            event.set()

    def add(self, event: asyncio.Event, seconds: float) -> int:
        """Sets ``event`` on the first tick at or after ``seconds`` from now; returns that tick (for
        ``discard``)."""
        loop = asyncio.get_running_loop()
        tick = math.ceil((loop.time() + seconds) / TICK_SECONDS)
        due = self._due.get(tick)
        if due is None:
            due = self._due[tick] = set()
            loop.call_at(tick * TICK_SECONDS, self._fire, tick)
        due.add(event)
        return tick

    def discard(self, event: asyncio.Event, tick: int) -> None:
        due = self._due.get(tick)
        if due is not None:
            due.discard(event)  # the tick's timer still fires (and finds nothing) if it was the last


def ticks() -> Ticks:
    """The running loop's tick grid."""
    loop = asyncio.get_running_loop()
    t = _by_loop.get(loop)
    if t is None:
        t = _by_loop[loop] = Ticks()
    return t


async def sleep_until_woken(woken: asyncio.Event, seconds: float) -> None:
    """Waits until ``woken`` is set or ``seconds`` pass (a wait of COALESCE_FROM or more ends on the shared
    tick after them, at most TICK_SECONDS late); no task per wait, one timer per tick for every long wait."""
    if woken.is_set():
        return
    if seconds < COALESCE_FROM:
        handle = asyncio.get_running_loop().call_later(seconds, woken.set)
        try:
            await woken.wait()
        finally:
            handle.cancel()
        return
    grid = ticks()
    tick = grid.add(woken, seconds)
    try:
        await woken.wait()
    finally:
        grid.discard(woken, tick)
