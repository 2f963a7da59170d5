"""``om.entitlements.watch(...)``: the messages of ``WatchEntitlementValues``, resuming by itself after a
disconnect. Requests and reconnecting are in ``meterd.client._watch``."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import grpc

from meterd.client._concurrency import AsyncSignal
from meterd.client._errors import MeterdError
from meterd.client._results import Result
from meterd.client._streams import AsyncServerStream
from meterd.client._transport import AsyncTransport
from meterd.client._watch import Reconnector
from meterd.v1 import entitlements_pb2

WatchMessage = Result[entitlements_pb2.WatchEntitlementValuesResponse]


class AsyncEntitlementWatch:
    """The messages of ``WatchEntitlementValues`` (results of ``WatchEntitlementValuesResponse``: Python values,
    ``.proto`` the wire message), as an iterator: ``async for message in om.entitlements.watch(...)``.

    With ``reconnect`` (the default), a dropped stream (or a server that shut down) is reopened with the last
    message's position: the server then continues without a gap (``resumed``) or, if that position is too
    old, starts with a snapshot (``snapshot`` = RESUME_TOO_OLD). ``position`` is the last position seen.
    ``close()`` (or leaving the ``async with`` block) ends the iteration (the blocking watch's, from any
    thread).
    """

    def __init__(
        self,
        transport: AsyncTransport,
        request: entitlements_pb2.WatchEntitlementValuesRequest,
        *,
        reconnect: bool = True,
        timeout: float | None = None,
    ) -> None:
        self._t = transport
        self._state = Reconnector(request, reconnect)
        self._timeout = timeout
        self._call: AsyncServerStream[entitlements_pb2.WatchEntitlementValuesResponse] | None = None
        # The blocking watch's close() may come from another thread (nothing waits while holding it).
        self._lock = threading.Lock()
        self._wakeup = AsyncSignal()

    @property
    def position(self) -> str:
        """The position of the last message (where a reconnect resumes)."""
        return self._state.position

    @property
    def streams(self) -> int:
        """How many streams the watch has opened (1 until its first reconnect): a reader that keeps state
        across messages sees where a stream ended (a snapshot it began will not be finished)."""
        return self._state.streams

    async def __aiter__(self) -> AsyncIterator[WatchMessage]:
        while not self._state.closed:
            with self._lock:
                if self._state.closed:
                    return
                call = self._call = self._t.server_stream(
                    self._t.entitlements.WatchEntitlementValues,
                    self._state.next_request(),
                    timeout=self._timeout,
                )
            code: grpc.StatusCode | None = None
            try:
                async for raw in call:
                    message = Result(raw)
                    self._state.seen(message)
                    yield message
            except MeterdError as error:
                if self._state.closed:
                    return
                code = error.code
                if not self._state.can_retry(code):
                    raise
            if not self._state.can_retry(code):
                return
            await self._wakeup.wait(self._state.delay())

    def close(self) -> None:
        """Cancels the stream; the iteration ends."""
        with self._lock:
            self._state.closed = True
            if self._call is not None:
                self._call.cancel()
        self._wakeup.set()

    async def __aenter__(self) -> AsyncEntitlementWatch:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
