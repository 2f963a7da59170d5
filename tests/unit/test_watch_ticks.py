"""The shared wake-up ticks of idle watches (meterd.server.watch.ticks): a long wait ends on the first tick of
the 100 ms grid at or after its instant, never before it; many waits due in the same tick share one timer."""

from __future__ import annotations

import asyncio

from meterd.server.watch.ticks import COALESCE_FROM, TICK_SECONDS, sleep_until_woken, ticks


def test_a_wait_ends_on_the_first_tick_at_or_after_its_instant() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        grid = ticks()
        for seconds in (COALESCE_FROM, 1.234, 5.0, 29.99):
            before = loop.time()
            tick = grid.add(asyncio.Event(), seconds)
            after = loop.time()
            assert before + seconds <= tick * TICK_SECONDS + 1e-9  # never early
            assert tick * TICK_SECONDS < after + seconds + TICK_SECONDS  # at most one tick late

    asyncio.run(main())


def test_waits_due_in_the_same_tick_share_one_timer_and_none_ends_early() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        grid = ticks()
        started = loop.time()
        waits = [COALESCE_FROM + (i % 5) * 0.01 for i in range(200)]  # due within 50 ms of each other
        events = [asyncio.Event() for _ in waits]
        sleepers = [
            asyncio.ensure_future(sleep_until_woken(e, s)) for e, s in zip(events, waits, strict=True)
        ]
        await asyncio.sleep(0)  # every sleeper has registered
        assert 1 <= len(grid._due) <= 2  # one timer per tick, not one per wait
        assert sum(len(due) for due in grid._due.values()) == 200
        events[0].set()  # woken early (a change): it leaves its tick
        await sleepers[0]
        assert sum(len(due) for due in grid._due.values()) == 199
        ended = []
        for sleeper, s in zip(sleepers[1:], waits[1:], strict=True):
            await sleeper
            ended.append((loop.time(), started + s))
        assert all(at >= due for at, due in ended)  # none before its instant
        assert not grid._due  # every tick fired and was forgotten

    asyncio.run(main())


def test_a_short_wait_keeps_its_own_timer() -> None:
    """The coalescing interval of a change (100 ms by default) is not rounded to a tick."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        grid = ticks()
        woken = asyncio.Event()
        started = loop.time()
        await sleep_until_woken(woken, 0.05)
        assert loop.time() >= started + 0.05 and not grid._due

    asyncio.run(main())
