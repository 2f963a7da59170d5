"""``om.events``: ingest one event or many, list them, or stream them with acknowledgements."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from types import TracebackType

import grpc

from meterd.client._concurrency import AsyncCondition, AsyncSemaphore, AsyncWorker
from meterd.client._errors import MeterdError, invalid_argument
from meterd.client._events import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_IN_FLIGHT,
    EventLike,
    StreamTally,
    event_to_wire,
    ingest_request,
    list_request,
)
from meterd.client._options import accept_sdk_names
from meterd.client._results import Result, results
from meterd.client._streams import AsyncBidiStream
from meterd.client._transport import AsyncTransport
from meterd.v1 import events_pb2

IngestStream = AsyncBidiStream[events_pb2.StreamEventsRequest, events_pb2.StreamEventsResponse]


@accept_sdk_names
class AsyncEvents:
    """Event ingestion and listing (``om.events``)."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def ingest(
        self, events: EventLike | Iterable[EventLike], *, timeout: float | None = None
    ) -> Result[events_pb2.IngestEventsResponse]:
        """Ingests one event (a dict) or a list of them, all or nothing.

        Returns the per-event outcomes (accepted or duplicate) once every event is durably stored; an accepted
        event that a meter could not read (a value that is not a number, say: stored all the same, and skipped
        by that meter) has ``warnings``, one (``meter_slug``, ``message``) per such meter, or the single
        warning "no meter reads event type T" (``meter_slug`` empty).
        Raises InvalidArgumentError naming ``events[i].field`` if any event is invalid (nothing is stored),
        ResourceExhaustedError for a batch over the limit. Retried on UNAVAILABLE: dedupe makes it safe.
        """
        request = ingest_request(events)
        return Result(
            await self._t.call(self._t.events.IngestEvents, request, timeout=timeout, idempotent=True)
        )

    async def list(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        ingested_from: datetime | str | None = None,
        ingested_to: datetime | str | None = None,
        subject: str | Iterable[str] | None = None,
        type: str | None = None,
        id: str | None = None,
        has_error: bool | None = None,
        timeout: float | None = None,
    ) -> builtins.list[Result[events_pb2.IngestedEvent]]:
        """Lists stored events, newest event time first (``limit`` default 100, at most 1000).

        Each item has ``event``, ``ingested_at`` and ``validation_errors`` (per meter that could not read it;
        while no meter reads the event's type, the one error "no meter reads event type T"). Use ``list_page``
        to page.
        """
        page = await self.list_page(
            limit=limit,
            page_token=page_token,
            from_=from_,
            to=to,
            ingested_from=ingested_from,
            ingested_to=ingested_to,
            subject=subject,
            type=type,
            id=id,
            has_error=has_error,
            timeout=timeout,
        )
        return results(page.proto.events)

    async def list_page(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        ingested_from: datetime | str | None = None,
        ingested_to: datetime | str | None = None,
        subject: str | Iterable[str] | None = None,
        type: str | None = None,
        id: str | None = None,
        has_error: bool | None = None,
        timeout: float | None = None,
    ) -> Result[events_pb2.ListEventsResponse]:
        """One page of ``list``, with ``next_page_token`` (empty on the last page)."""
        request = list_request(
            limit, page_token, from_, to, ingested_from, ingested_to, subject, type, id, has_error
        )
        return Result(
            await self._t.call(self._t.events.ListEvents, request, timeout=timeout, idempotent=True)
        )

    def stream(
        self,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        raise_on_rejected: bool = True,
    ) -> AsyncEventStream:
        """Opens a streaming ingest: ``async with om.events.stream() as s: await s.send(event)``.

        Events are sent in batches of ``batch_size``; up to ``max_in_flight`` batches wait for their
        acknowledgement at once (``send`` waits beyond that). ``flush()`` and leaving the block wait for
        every acknowledgement and raise IngestRejectedError if any event was rejected.
        """
        return AsyncEventStream(
            self._t, batch_size=batch_size, max_in_flight=max_in_flight, raise_on_rejected=raise_on_rejected
        )


class AsyncEventStream:
    """A streaming ingest session; see ``events.stream``. Send from one thread (or task) at a time; its
    acknowledgements are read beside the sender, in a thread (blocking client) or a task (asyncio)."""

    def __init__(
        self, transport: AsyncTransport, *, batch_size: int, max_in_flight: int, raise_on_rejected: bool
    ) -> None:
        if batch_size < 1 or max_in_flight < 1:
            raise invalid_argument("batch_size", "batch_size and max_in_flight must be at least 1")
        self._t = transport
        self._batch_size = batch_size
        self._slots = AsyncSemaphore(max_in_flight)
        self._raise_on_rejected = raise_on_rejected
        self._buffer: list[events_pb2.Event] = []
        # The sender and the reader of acknowledgements share _pending, _error and the tally: under _changed.
        self._changed = AsyncCondition()
        self._pending: dict[int, list[events_pb2.Event]] = {}
        self._sequence = 0
        self._error: MeterdError | None = None
        self._call: IngestStream | None = None
        self._reader: AsyncWorker | None = None
        self.tally = StreamTally()

    # -- lifecycle -----------------------------------------------------------------------------------
    async def __aenter__(self) -> AsyncEventStream:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            await self.abort()
        else:
            await self.close()

    async def open(self) -> None:
        """Starts the call (``async with`` does this, and so does the first batch sent)."""
        self._open()

    def _open(self) -> IngestStream:
        if self._call is None:
            call = self._call = self._t.bidi_stream(self._t.events.StreamEvents)
            self._reader = AsyncWorker(lambda: self._read_acks(call), name="meterd-stream-acks")
        return self._call

    async def _read_acks(self, call: IngestStream) -> None:
        try:
            async for ack in call:
                with self._changed.guard():
                    self.tally.record(ack, self._pending.pop(ack.sequence, []))
                    self._changed.notify_all()
                self._slots.release()
        except MeterdError as error:
            with self._changed.guard():
                self._error = error
        finally:
            with self._changed.guard():
                if self._pending and self._error is None:
                    self._error = MeterdError("stream ended before every batch was acknowledged")
                self._changed.notify_all()
            # Unblock a sender waiting for a slot; it will see the error.
            for _ in range(len(self._pending) + 1):
                self._slots.release()

    # -- sending ---------------------------------------------------------------------------------------
    async def send(self, event: EventLike) -> None:
        """Adds one event; a full batch is sent (waiting while ``max_in_flight`` batches are unacknowledged).
        If the stream has failed, raises its error; the event is then in ``unacknowledged`` with the others."""
        self._buffer.append(event_to_wire(event))
        self._raise_error()
        if len(self._buffer) >= self._batch_size:
            await self._send_batch()

    async def send_many(self, events: Iterable[EventLike]) -> None:
        """``send`` for each event."""
        for event in events:
            await self.send(event)

    async def _send_batch(self) -> None:
        if not self._buffer:
            return
        call = self._open()
        await self._slots.acquire()
        self._raise_error()  # the stream failed: the batch stays in the buffer (``unacknowledged``)
        batch, self._buffer = self._buffer, []
        with self._changed.guard():
            self._sequence += 1
            self._pending[self._sequence] = batch
        await call.write(events_pb2.StreamEventsRequest(sequence=self._sequence, events=batch))

    async def flush(self, timeout: float | None = None) -> None:
        """Sends the partial batch and waits for every acknowledgement (at most ``timeout`` seconds, then
        TimeoutError).

        Raises IngestRejectedError for events rejected since the last flush (the others are stored),
        or the call's error if the stream failed.
        """
        await self._send_batch()
        if not await self._changed.wait_for(lambda: not self._pending or self._error is not None, timeout):
            raise TimeoutError(f"{len(self._pending)} batch(es) still unacknowledged")
        self._raise_error()
        if self._raise_on_rejected:
            rejection = self.tally.take_rejection()
            if rejection is not None:
                raise rejection

    async def close(self) -> None:
        """Flushes, then ends the stream."""
        try:
            await self.flush()
        finally:
            if self._call is not None:
                await self._call.done_writing()
            if self._reader is not None:
                await self._reader.join()

    async def abort(self) -> None:
        """Cancels the stream; unacknowledged batches may or may not be stored (resending is safe)."""
        with self._changed.guard():
            if self._error is None:
                self._error = MeterdError("the stream was aborted", code=grpc.StatusCode.CANCELLED)
        if self._call is not None:
            self._call.cancel()
        if self._reader is not None:
            await self._reader.join()

    @property
    def unacknowledged(self) -> builtins.list[events_pb2.Event]:
        """Events sent but not yet acknowledged, plus the unsent partial batch: what to resend after a failure."""
        with self._changed.guard():
            pending = [e for sequence in sorted(self._pending) for e in self._pending[sequence]]
        return pending + list(self._buffer)

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error
