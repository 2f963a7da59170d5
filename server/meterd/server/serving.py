"""Serving meterd's services on ``grpc.aio``: an open, idle stream costs no thread.

The servicers' unary bodies stay plain synchronous functions: each call runs on a worker thread of one
bounded pool (the event loop's default executor), with a ``SyncContext`` that offers the parts of
``grpc.ServicerContext`` they use. A servicer method written as ``async def`` (``StreamEvents``) runs on the
event loop itself and awaits its blocking work. Around every call this layer

- parses the request itself, after the interceptors (authentication) ran: the handlers are registered with
  no deserializer, so an unauthenticated garbage body is UNAUTHENTICATED and an authenticated one is
  INVALID_ARGUMENT, never INTERNAL;
- makes a ``cancellation.Cancellation`` current for the body: cancelled when the caller cancels or goes
  away, expired when its deadline passes;
- caps the number of open streams, producers' and watchers' alike (RESOURCE_EXHAUSTED beyond
  ``max_streams``);
- holds every request's bytes in one budget for the whole server (``max_inflight_bytes``): a unary call
  waits for its share before its body runs, a request stream reads its next message only once the budget
  has room, so flow control pushes back on producers when the server holds too much, however many streams
  there are. A stream's message is held until its servicer says it is done with it (``StreamRequests``).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import Executor
from typing import Any

import grpc
import grpc.aio

from meterd.server import cancellation, errors, rpc

log = logging.getLogger("meterd.serving")

# Streamed request messages up to this size are parsed on the event loop; larger ones on a worker thread.
PARSE_ON_LOOP_MAX_BYTES = 64 * 1024
# The room a request stream waits for in the byte budget before reading its first message (before later ones:
# the size of its previous message; see Serving._parsed).
FIRST_MESSAGE_BYTES = 64 * 1024
# Request bytes the server holds at once, over every call and stream (see ByteBudget). 128 MiB: peak RSS with
# 10 bulk producers (bench/idle.py, 20 MB messages) 877 and 900 MiB against 973 and 958 at 256 MiB, in the same
# time (19.4 and 29.2 s against 17.9 and 29.8; alternating runs, load average 1.4-6.7); 64 MiB saved no more.
# Twice the largest default message (64 MiB); a larger request is let through alone.
DEFAULT_MAX_INFLIGHT_BYTES = 128 * 1024 * 1024
# A request this large, released, asks for the freed heap to be handed back (ByteBudget.on_large_release).
LARGE_RELEASE_BYTES = 1024 * 1024
_END = object()


class ByteBudget:
    """Request bytes held at once, server-wide: ``acquire`` waits (first come, first served) until they fit
    under ``limit``. One request larger than the whole budget is let through alone. Event loop only."""

    def __init__(self, limit: int, on_large_release: Callable[[], None] | None = None) -> None:
        self.limit = limit
        self.used = 0
        # Called when a request of LARGE_RELEASE_BYTES or more is given back (MeterdServer: hand the freed heap
        # back to the operating system).
        self.on_large_release = on_large_release
        self.peak = 0  # the most ever held (tests, metrics)
        self._waiting: deque[tuple[int, asyncio.Future[None]]] = deque()

    async def acquire(self, size: int) -> int:
        """Takes ``size`` bytes (capped at the limit); returns what to ``release`` later."""
        size = min(size, self.limit)
        if not self._waiting and self.used + size <= self.limit:
            self.used += size
            self.peak = max(self.peak, self.used)
            return size
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((size, waiter))
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():  # granted while being cancelled: give it back
                self.release(size)
            else:
                self._waiting.remove((size, waiter))
                self._grant()
            raise
        return size

    async def wait_for_room(self, size: int) -> None:
        """Waits, in turn with every acquirer, until ``size`` bytes fit; holds nothing after (a stream about to
        read its next message). Not a release of request bytes: no heap is handed back for it."""
        held = await self.acquire(size)  # not `self.used -= await ...`: that reads `used` before the wait
        self.used -= held
        self._grant()

    def release(self, size: int) -> None:
        self.used -= size
        self._grant()
        if size >= LARGE_RELEASE_BYTES and self.on_large_release is not None:
            self.on_large_release()

    def _grant(self) -> None:
        while self._waiting:
            size, waiter = self._waiting[0]
            if self.used and self.used + size > self.limit:
                return
            self._waiting.popleft()
            if not waiter.cancelled():
                self.used += size
                self.peak = max(self.peak, self.used)
                waiter.set_result(None)


class StreamRequests:
    """The parsed messages of a request stream (an async iterator), each holding its bytes in the server's
    budget until ``done()`` is called for it (in order) or the stream ends: a servicer that keeps messages in
    flight (StreamEvents: until their batch is committed) says when it no longer needs each one."""

    def __init__(self, messages: AsyncIterator[Any], held: deque[int], budget: ByteBudget) -> None:
        self._messages = messages
        self._held = held
        self._budget = budget

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._messages

    def done(self) -> None:
        """The oldest message not yet done is no longer needed: its bytes go back to the budget."""
        if self._held:
            self._budget.release(self._held.popleft())

    def release_all(self) -> None:
        while self._held:
            self._budget.release(self._held.popleft())


class _Recorder:
    """Stands in for a server in a generated ``add_*Servicer_to_server`` function, to collect its handlers."""

    def __init__(self) -> None:
        self.handlers: dict[str, dict[str, grpc.RpcMethodHandler]] = {}

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        pass

    def add_registered_method_handlers(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler]
    ) -> None:
        self.handlers[service] = dict(handlers)


def method_handlers(
    add: Callable[[Any, Any], None], servicer: Any
) -> tuple[str, dict[str, grpc.RpcMethodHandler]]:
    """The full service name and the method handlers that the generated ``add`` function would register."""
    recorder = _Recorder()
    add(servicer, recorder)
    ((service, handlers),) = recorder.handlers.items()
    return service, handlers


class SyncContext:
    """What meterd's synchronous servicer bodies use of ``grpc.ServicerContext``, for a body running on a
    worker thread under ``grpc.aio`` (whose own sync context has no ``abort_with_status``, ``code`` or
    ``is_active``). Aborting records the status and raises, as grpc's sync server does; the serving layer
    sends the status when the body has unwound."""

    def __init__(self, context: grpc.aio.ServicerContext, token: cancellation.Cancellation) -> None:
        self._context = context
        self._token = token
        self._code: grpc.StatusCode | None = None
        self._details = ""
        self._trailing: tuple[tuple[str, str | bytes], ...] = ()

    def abort(
        self,
        code: grpc.StatusCode,
        details: str = "",
        trailing_metadata: Sequence[tuple[str, str | bytes]] = (),
    ) -> None:
        if code == grpc.StatusCode.OK:
            raise ValueError("abort() needs a status other than OK")
        self._code, self._details, self._trailing = code, details, tuple(trailing_metadata or ())
        # The same signal as grpc's sync server (a bare Exception once the code is set): rpc._is_abort knows it.
        raise Exception()

    def abort_with_status(self, status: grpc.Status) -> None:
        self.abort(status.code, status.details, status.trailing_metadata)

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def details(self) -> str:
        return self._details

    def set_code(self, code: grpc.StatusCode) -> None:
        self._code = code

    def set_details(self, details: str) -> None:
        self._details = details

    def set_trailing_metadata(self, metadata: Sequence[tuple[str, str | bytes]]) -> None:
        self._trailing = tuple(metadata)

    def trailing_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        return self._trailing

    def invocation_metadata(self) -> Any:
        return self._context.invocation_metadata()

    def peer(self) -> str:
        return self._context.peer()

    def time_remaining(self) -> float | None:
        return self._token.time_remaining()

    def is_active(self) -> bool:
        return not (self._token.cancelled or self._token.expired)

    def cancellation(self) -> cancellation.Cancellation:
        """The call's cancellation token (also ``cancellation.current()`` inside the body)."""
        return self._token

    def add_callback(self, callback: Callable[[], None]) -> bool:
        def done(_context: Any) -> None:
            callback()

        self._context.add_done_callback(done)  # type: ignore[arg-type]  # grpc-stubs 1.53 predates it (a plain callable)
        return True


class _Call:
    """One call's sync context and the contextvars its body runs in; runs pieces of the body on the pool."""

    def __init__(self, serving: Serving, context: grpc.aio.ServicerContext, method: str) -> None:
        self.serving = serving
        self.context = context
        self.method = method
        self.token = cancellation.Cancellation.after(context.time_remaining())
        self.sync = SyncContext(context, self.token)
        self.vars = contextvars.copy_context()  # holds what interceptors set (the portal access)
        self.vars.run(cancellation.bind, self.token)

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on a worker thread in the call's context; statuses the body chose are sent here."""
        try:
            return await self.serving.loop.run_in_executor(self.serving.executor, self.vars.run, fn, *args)
        except asyncio.CancelledError:
            self.token.cancel()  # the caller cancelled or its deadline passed: tell the body to stop
            raise
        except Exception as exc:
            await self.fail(exc)
            raise  # unreachable: fail() aborts

    async def fail(self, exc: BaseException) -> None:
        code = self.sync.code()
        if code is not None and code != grpc.StatusCode.OK:
            await self.context.abort(code, self.sync.details(), self.sync.trailing_metadata())
        if isinstance(exc, errors.MeterdError):
            await abort_with(self.context, exc)
        log.error("internal error", exc_info=exc, extra={"method": self.method})
        await self.context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}")

    async def finish(self) -> None:
        """After a body returned normally: a code it set (set_code without abort) and trailing metadata."""
        code = self.sync.code()
        if code is not None and code != grpc.StatusCode.OK:
            await self.context.abort(code, self.sync.details(), self.sync.trailing_metadata())
        if self.sync.trailing_metadata():
            self.context.set_trailing_metadata(self.sync.trailing_metadata())


async def abort_with(context: grpc.aio.ServicerContext, exc: errors.MeterdError) -> None:
    """Ends an aio call with the status of a domain error (raises, as ``context.abort`` does)."""
    status = rpc.grpc_status_of(exc)
    await context.abort(status.code, status.details, status.trailing_metadata)


def _serialized_or(serialize: Callable[[Any], bytes] | None) -> Callable[[Any], bytes] | None:
    """A stream's serializer that passes through bytes (replies a servicer serialized on a worker thread, so
    that a large one does not hold the event loop)."""
    if serialize is None:
        return None

    def serialized(reply: Any) -> bytes:
        return reply if isinstance(reply, bytes) else serialize(reply)

    return serialized


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


class Serving:
    """Turns generated method handlers into ``grpc.aio`` handlers that run as described in the module doc."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        executor: Executor,
        max_streams: int,
        max_inflight_bytes: int = DEFAULT_MAX_INFLIGHT_BYTES,
        on_large_release: Callable[[], None] | None = None,
    ) -> None:
        self.loop = loop
        self.executor = executor
        self.max_streams = max_streams
        self.open_streams = 0  # streams being served (producers' and watches); touched on the event loop only
        self.budget = ByteBudget(max_inflight_bytes, on_large_release)
        # Set when the server starts shutting down: request streams stop reading, acknowledge what they have
        # read, then end UNAVAILABLE (so a producer's idle stream does not hold the shutdown for its grace).
        self.stopping = asyncio.Event()

    def begin_shutdown(self) -> None:
        """On the event loop: ends every request stream once what it has read is acknowledged."""
        self.stopping.set()

    def adapt(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler]
    ) -> dict[str, grpc.RpcMethodHandler]:
        return {name: self._adapt(f"/{service}/{name}", handler) for name, handler in handlers.items()}

    def _adapt(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        deserialize, serialize = handler.request_deserializer, handler.response_serializer
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary_unary(method, handler.unary_unary, deserialize, serialize)
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._unary_stream(method, handler.unary_stream, deserialize), response_serializer=serialize
            )
        behavior = handler.stream_stream or handler.stream_unary
        if not (inspect.iscoroutinefunction(behavior) or inspect.isasyncgenfunction(behavior)):
            raise TypeError(f"{method}: a request-streaming servicer method must be async (holds no thread)")
        if handler.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(
                self._stream_stream(method, handler.stream_stream, deserialize),
                response_serializer=_serialized_or(serialize),
            )
        return grpc.stream_unary_rpc_method_handler(
            self._stream_unary(method, behavior, deserialize), response_serializer=serialize
        )

    def _unary_unary(
        self, method: str, behavior: Callable[..., Any], deserialize: Any, serialize: Any
    ) -> Any:
        if inspect.iscoroutinefunction(behavior):

            async def run_async(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
                call = _Call(self, context, method)
                request = await call.run(rpc.parse_request, deserialize, raw)
                cancellation.bind(call.token)  # this call's own task: the binding ends with it
                reply = await behavior(request, context)
                return serialize(reply) if serialize is not None else reply

            return run_async

        def body(raw: bytes, sync: SyncContext) -> Any:
            try:
                request = rpc.parse_request(deserialize, raw)
            except errors.InvalidArgument as exc:
                sync.abort_with_status(rpc.grpc_status_of(exc))
            reply = behavior(request, sync)
            return serialize(reply) if serialize is not None else reply  # serialised off the event loop

        async def run(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
            call = _Call(self, context, method)
            held = await self.budget.acquire(len(raw))
            try:
                reply = await call.run(body, raw, call.sync)
            finally:
                self.budget.release(held)
            await call.finish()
            return reply

        return run

    def _unary_stream(self, method: str, behavior: Callable[..., Any], deserialize: Any) -> Any:
        async def run(raw: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            await self._admit_stream(context)  # a watch is a stream too: counted in max_streams
            try:
                call = _Call(self, context, method)
                held = await self.budget.acquire(len(raw))
                try:
                    request = await call.run(rpc.parse_request, deserialize, raw)
                finally:
                    self.budget.release(held)
                del raw
                if inspect.isasyncgenfunction(behavior):
                    cancellation.bind(call.token)
                    async for reply in behavior(request, context):
                        yield reply
                    return
                replies: Iterator[Any] = await call.run(lambda: iter(behavior(request, call.sync)))
                while (reply := await call.run(next, replies, _END)) is not _END:
                    yield reply
                await call.finish()
            finally:
                self.release_stream()

        return run

    def acquire_stream(self) -> None:
        """Counts one more open stream (an ingest stream, a watch, or a watch over the HTTP API), on the event
        loop; ResourceExhausted when ``max_streams`` are open. ``release_stream`` when it ends."""
        if self.open_streams >= self.max_streams:
            raise errors.ResourceExhausted(
                f"the server holds its maximum of {self.max_streams} open streams (setting max_streams); "
                "retry later"
            )
        self.open_streams += 1

    def release_stream(self) -> None:
        self.open_streams -= 1

    async def _admit_stream(self, context: grpc.aio.ServicerContext) -> None:
        try:
            self.acquire_stream()
        except errors.ResourceExhausted as exc:
            await abort_with(context, exc)

    def _parsed(self, requests: AsyncIterator[bytes], deserialize: Any, cut: list[bool]) -> StreamRequests:
        """The stream's messages, parsed, each holding its bytes in the budget (see StreamRequests); ends early
        (``cut[0]`` set) once the server is shutting down."""
        held: deque[int] = deque()
        budget = self.budget

        async def messages() -> AsyncIterator[Any]:
            iterator = requests.__aiter__()
            stopping = asyncio.ensure_future(self.stopping.wait())
            receive: asyncio.Future[bytes] | None = None
            # A stream reads its next message only once the budget has room for one the size of its last (it
            # waits its turn with every other acquirer, holding nothing: an idle stream must not sit on budget),
            # then counts the message it received before parsing it. So while the budget is full no stream reads,
            # and gRPC's flow control leaves the next messages with their producers. Reading first and waiting
            # after, as before, had each of ten bulk producers hold one received 20 MB message the budget did not
            # count, and its decoded predecessor (bench/idle.py's bulk part).
            expected = FIRST_MESSAGE_BYTES
            try:
                while True:
                    await budget.wait_for_room(expected)
                    receive = asyncio.ensure_future(iterator.__anext__())
                    receive.add_done_callback(_retrieve)  # a read cut short by the call's end fails unseen
                    await asyncio.wait((receive, stopping), return_when=asyncio.FIRST_COMPLETED)
                    if not receive.done():
                        receive.cancel()
                        cut[0] = True
                        return
                    try:
                        raw = receive.result()
                    except StopAsyncIteration:
                        return
                    # Counted before it is parsed; if others took the room meanwhile, it waits here.
                    held.append(await budget.acquire(len(raw)))
                    expected = len(raw)
                    if len(raw) <= PARSE_ON_LOOP_MAX_BYTES:
                        message = rpc.parse_request(deserialize, raw)
                    else:
                        message = await self.loop.run_in_executor(
                            self.executor, rpc.parse_request, deserialize, raw
                        )
                    del raw
                    yield message
                    # Not kept alive by this frame while the next message is awaited: a decoded 20 MB batch
                    # is larger than its bytes, and the servicer drops it as soon as it is validated.
                    del message
            finally:
                stopping.cancel()
                if receive is not None and not receive.done():
                    receive.cancel()

        return StreamRequests(messages(), held, self.budget)

    async def _end_if_cut(self, context: grpc.aio.ServicerContext, cut: list[bool]) -> None:
        if cut[0]:
            await abort_with(
                context,
                errors.Unavailable(
                    "meterd is shutting down: every batch acknowledged on this stream is stored; reconnect and "
                    "send the rest"
                ),
            )

    def _stream_stream(self, method: str, behavior: Callable[..., Any], deserialize: Any) -> Any:
        raw_requests = getattr(behavior, rpc.PARSES_ITS_REQUESTS, False)

        async def run(
            requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            await self._admit_stream(context)
            cut = [False]
            parsed = self._parsed(requests, None if raw_requests else deserialize, cut)
            try:
                cancellation.bind(cancellation.Cancellation.after(context.time_remaining()))
                async for reply in behavior(parsed, context):
                    yield reply
            finally:
                parsed.release_all()
                self.release_stream()
            await self._end_if_cut(context, cut)

        return run

    def _stream_unary(self, method: str, behavior: Callable[..., Any], deserialize: Any) -> Any:
        async def run(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> Any:
            await self._admit_stream(context)
            cut = [False]
            parsed = self._parsed(requests, deserialize, cut)
            try:
                cancellation.bind(cancellation.Cancellation.after(context.time_remaining()))
                reply = await behavior(parsed, context)
            finally:
                parsed.release_all()
                self.release_stream()
            await self._end_if_cut(context, cut)
            return reply

        return run
