"""Stopping server-side work when its caller's deadline passes or the caller cancels.

The serving layer gives every call a ``Cancellation`` (``current()`` inside the call's servicer); a servicer
passes it (or just its ``check`` method, a plain callable) down to long loops in domain code, which call it
between units of work. ``check`` raises a domain error (``DeadlineExceeded`` or ``Cancelled``), so domain
code stays free of gRPC; the status it becomes is chosen in ``rpc`` like any other error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextvars import ContextVar

from meterd.server.errors import Cancelled, DeadlineExceeded


class Cancellation:
    """Whether a call's work should stop: its deadline passed, or it was cancelled.

    ``deadline`` is a ``time.monotonic()`` instant (None: no deadline). Thread-safe: the serving layer
    cancels it from the event loop while a worker thread checks it.
    """

    __slots__ = ("_cancelled", "_deadline")

    def __init__(self, deadline: float | None = None) -> None:
        self._deadline = deadline
        self._cancelled = threading.Event()

    @classmethod
    def after(cls, seconds: float | None) -> Cancellation:
        """A token whose deadline is ``seconds`` from now (None: never)."""
        return cls(None if seconds is None else time.monotonic() + seconds)

    def cancel(self) -> None:
        """Marks the call cancelled (the caller went away); later ``check`` calls raise Cancelled."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def expired(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def time_remaining(self) -> float | None:
        """Seconds until the deadline (never negative), or None without one."""
        return None if self._deadline is None else max(0.0, self._deadline - time.monotonic())

    def check(self) -> None:
        """Raises Cancelled or DeadlineExceeded when the work should stop; returns otherwise. Cheap."""
        if self._deadline is not None and time.monotonic() >= self._deadline:
            raise DeadlineExceeded("the call's deadline passed; the work stopped")
        if self._cancelled.is_set():
            raise Cancelled("the call was cancelled by the caller; the work stopped")


NEVER = Cancellation()  # the token of work no caller waits for (startup, tests)

_current: ContextVar[Cancellation] = ContextVar("meterd_cancellation", default=NEVER)


def current() -> Cancellation:
    """The token of the call being served on this thread (``NEVER`` outside a call)."""
    return _current.get()


def checker() -> Callable[[], None]:
    """``current().check``: the plain callable to hand to domain code."""
    return _current.get().check


def bind(token: Cancellation) -> None:
    """Makes ``token`` current in this context (serving layer only; each call runs in a context of its own)."""
    _current.set(token)
