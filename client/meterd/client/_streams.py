"""Streaming calls with the same methods over grpc and grpc.aio, typed by the stub's multicallable: the
watch's server stream and the ingest's bidirectional stream. Errors arrive as ``MeterdError``; after
``cancel()`` the responses simply end, so a reader need not tell a cancellation it asked for from a
failure. The transports open them (``Transport.server_stream``, ``Transport.bidi_stream``).
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Generic, TypeVar

import grpc
import grpc.aio

from meterd.client._errors import MeterdError, from_rpc_error

Request = TypeVar("Request")
Response = TypeVar("Response")
Metadata = tuple[tuple[str, str], ...]
# Turns a failed call into the client's exception (the transport's, which names a failed connection's cause).
Describe = Callable[[Any], MeterdError]


class ServerStream(Generic[Response]):
    """A call's responses as an iterator; ``cancel()`` may come from another thread."""

    def __init__(self, call: grpc.CallIterator[Response], describe: Describe = from_rpc_error) -> None:
        self._call = call
        self._describe = describe
        # grpc-stubs leaves RpcContext.cancel untyped; held as what it is, a callable.
        self._cancel_call: Callable[[], object] = call.cancel
        self._cancelled = False

    def __iter__(self) -> Iterator[Response]:
        try:
            yield from self._call
        except grpc.RpcError as error:
            if not self._cancelled:
                raise self._describe(error) from None

    def cancel(self) -> None:
        """Cancels the call; the iteration ends."""
        self._cancelled = True
        self._cancel_call()


class BidiStream(ServerStream[Response], Generic[Request, Response]):
    """A bidirectional call: ``write`` requests (queued for grpc's sending thread), iterate the responses."""

    def __init__(
        self,
        rpc: grpc.StreamStreamMultiCallable[Request, Response],
        metadata: Metadata,
        describe: Describe = from_rpc_error,
    ) -> None:
        self._requests: queue.SimpleQueue[Request | None] = queue.SimpleQueue()
        super().__init__(rpc(self._request_iterator(), metadata=metadata), describe)

    def _request_iterator(self) -> Iterator[Request]:
        while (request := self._requests.get()) is not None:
            yield request

    def write(self, request: Request) -> None:
        self._requests.put(request)

    def done_writing(self) -> None:
        """Ends the requests; the server answers what it has and ends the call."""
        self._requests.put(None)

    def cancel(self) -> None:
        super().cancel()
        self._requests.put(None)


class AsyncServerStream(Generic[Response]):
    """``ServerStream`` over grpc.aio: ``async for`` over the responses."""

    def __init__(
        self,
        call: grpc.aio.UnaryStreamCall[Any, Response] | grpc.aio.StreamStreamCall[Any, Response],
        describe: Describe = from_rpc_error,
    ) -> None:
        self._call = call
        self._describe = describe
        self._cancelled = False

    async def __aiter__(self) -> AsyncIterator[Response]:
        try:
            async for response in self._call:
                yield response
        except asyncio.CancelledError:
            # grpc.aio ends a call cancelled by its caller this way; a cancellation of the task goes on.
            if not self._cancelled:
                raise
        except grpc.RpcError as error:
            if not self._cancelled:
                raise self._describe(error) from None

    def cancel(self) -> None:
        """Cancels the call; the iteration ends."""
        self._cancelled = True
        self._call.cancel()


class AsyncBidiStream(AsyncServerStream[Response], Generic[Request, Response]):
    """``BidiStream`` over grpc.aio: ``await write(request)`` waits for flow control."""

    def __init__(
        self,
        rpc: grpc.aio.StreamStreamMultiCallable[Request, Response],
        metadata: Metadata,
        describe: Describe = from_rpc_error,
    ) -> None:
        self._writer = rpc(None, metadata=metadata)
        super().__init__(self._writer, describe)

    async def write(self, request: Request) -> None:
        try:
            await self._writer.write(request)
        except grpc.RpcError as error:
            raise self._describe(error) from None

    async def done_writing(self) -> None:
        """Ends the requests; the server answers what it has and ends the call."""
        await self._writer.done_writing()
