"""The waiting that the written-once client code does, in two forms with the same methods: asyncio's for
``_async/`` (names with an ``Async`` prefix) and threading's for the blocking twin that scripts/unasync.py
writes into ``_sync/`` (the prefix dropped, ``await`` removed). Code in ``_async/`` waits only through
these, so that dropping ``await`` leaves correct blocking code.

In the blocking form a stream's acknowledgements are read by a thread while the caller sends; in the
asyncio form by a task on the caller's event loop. ``Condition.guard()`` is where that difference shows:
a lock for state the two threads share, nothing on one event loop (no other task runs between awaits).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any

AsyncSemaphore = asyncio.Semaphore
Semaphore = threading.Semaphore


class AsyncSignal:
    """A flag that wakes whoever waits for it (``asyncio.Event``, with a timeout on ``wait``)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self, timeout: float | None = None) -> bool:
        """Waits until the flag is set (True) or ``timeout`` seconds pass (False)."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        return True


class Signal:
    """``AsyncSignal`` across threads (``threading.Event``)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Waits until the flag is set (True) or ``timeout`` seconds pass (False)."""
        return self._event.wait(timeout)


class AsyncCondition:
    """Waiting until a predicate over shared state holds: whoever changes the state calls ``notify_all()``
    inside ``guard()``. On one event loop the guard is empty."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def guard(self) -> contextlib.AbstractContextManager[object]:
        return contextlib.nullcontext()

    def notify_all(self) -> None:
        # Waiters hold the event that was current when they started waiting: set it, and start a new one.
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> bool:
        """Waits until ``predicate()`` is true (True) or ``timeout`` seconds pass (False)."""

        async def until() -> None:
            while not predicate():
                await self._changed.wait()

        try:
            await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            return False
        return True


class Condition:
    """``AsyncCondition`` across threads: ``guard()`` holds the lock of a ``threading.Condition``."""

    def __init__(self) -> None:
        self._condition = threading.Condition()

    def guard(self) -> contextlib.AbstractContextManager[object]:
        return self._condition

    def notify_all(self) -> None:
        self._condition.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> bool:
        """Waits until ``predicate()`` is true (True) or ``timeout`` seconds pass (False)."""
        with self._condition:
            return self._condition.wait_for(predicate, timeout)


class AsyncWorker:
    """``target()`` running beside the caller, as a task of the running event loop."""

    def __init__(self, target: Callable[[], Coroutine[Any, Any, None]], *, name: str) -> None:
        self._task = asyncio.get_running_loop().create_task(target(), name=name)

    async def join(self) -> None:
        """Waits until ``target`` has ended. What it raised stays with it, as a thread's would."""
        await asyncio.gather(self._task, return_exceptions=True)


class Worker:
    """``target()`` running beside the caller, in a daemon thread."""

    def __init__(self, target: Callable[[], None], *, name: str) -> None:
        self._thread = threading.Thread(target=target, name=name, daemon=True)
        self._thread.start()

    def join(self) -> None:
        """Waits until ``target`` has ended."""
        self._thread.join()
