"""``om.events``: ingest one event or many, list them, or stream them with acknowledgements."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

import grpc
import grpc.aio

from meterd.client._convert import normalize, optional_str, page_size, str_list, to_json_text, to_timestamp
from meterd.client._errors import (
    FieldViolation,
    IngestRejectedError,
    MeterdError,
    from_rpc_error,
    invalid_argument,
)
from meterd.client._results import Result
from meterd.client._transport import AsyncTransport, Transport
from meterd.v1 import events_pb2

EventLike = Mapping[str, Any] | events_pb2.Event
_EVENT_KEYS = ("specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "data")

DEFAULT_BATCH_SIZE = 1000
DEFAULT_MAX_IN_FLIGHT = 8


def event_to_wire(event: EventLike, index: int | None = None) -> events_pb2.Event:
    """A wire Event from an SDK-shaped dict; ``specversion`` defaults to "1.0"."""
    if isinstance(event, events_pb2.Event):
        return event
    what = "event" if index is None else f"events[{index}]"
    e = normalize(event, what=what, allowed=_EVENT_KEYS, required=("id", "source", "type", "subject"))
    for key in ("specversion", "id", "source", "type", "subject", "datacontenttype", "dataschema"):
        if key in e and e[key] is not None and not isinstance(e[key], str):
            raise invalid_argument(f"{what}.{key}", f"expected a string, got {type(e[key]).__name__}")
    message = events_pb2.Event(
        specversion=e.get("specversion") or "1.0",
        id=e["id"],
        source=e["source"],
        type=e["type"],
        subject=e["subject"],
        datacontenttype=e.get("datacontenttype") or "",
        dataschema=e.get("dataschema") or "",
    )
    if e.get("time") is not None:
        message.time.CopyFrom(to_timestamp(e["time"], what=f"{what}.time"))
    if e.get("data") is not None:
        message.data = to_json_text(e["data"], what=f"{what}.data")
    return message


def _ingest_request(events: EventLike | Iterable[EventLike]) -> events_pb2.IngestEventsRequest:
    if isinstance(events, Mapping | events_pb2.Event):
        return events_pb2.IngestEventsRequest(events=[event_to_wire(events)])
    return events_pb2.IngestEventsRequest(events=[event_to_wire(e, i) for i, e in enumerate(events)])


def _list_request(
    limit: int | None, page_token: str | None, from_: datetime | str | None, to: datetime | str | None,
    ingested_from: datetime | str | None, ingested_to: datetime | str | None, subject: str | Iterable[str] | None,
    type: str | None, id: str | None, has_error: bool | None,
) -> events_pb2.ListEventsRequest:
    request = events_pb2.ListEventsRequest(
        page_size=page_size(limit), page_token=optional_str(page_token, what="page_token"),
        subject=str_list(subject, what="subject"), type=optional_str(type, what="type"), id=optional_str(id, what="id"),
    )
    for field, value in (("from_time", from_), ("to_time", to), ("ingested_from_time", ingested_from),
                         ("ingested_to_time", ingested_to)):
        if value is not None:
            getattr(request, field).CopyFrom(to_timestamp(value, what=field))
    if has_error is not None:
        request.has_error = has_error
    return request


class Events:
    """Event ingestion and listing (``om.events``)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def ingest(
        self, events: EventLike | Iterable[EventLike], *, timeout: float | None = None
    ) -> Result[events_pb2.IngestEventsResponse]:
        """Ingests one event (a dict) or a list of them, all or nothing.

        Returns the per-event outcomes (accepted or duplicate) once every event is durably stored; an accepted
        event that a meter could not read (a value that is not a number, say: stored all the same, and skipped
        by that meter) has ``warnings``, one (``meter_slug``, ``message``) per such meter, or the single
        warning "no meter reads event type T" (``meter_slug`` empty). Raises InvalidArgumentError naming ``events[i].field`` if any event is invalid (nothing is stored),
        ResourceExhaustedError for a batch over the limit. Retried on UNAVAILABLE: dedupe makes it safe.
        """
        request = _ingest_request(events)
        return self._t.call("EventService", "IngestEvents", request, timeout=timeout, idempotent=True)  # type: ignore[no-any-return]

    def list(
        self, *, limit: int | None = None, page_token: str | None = None, from_: datetime | str | None = None,
        to: datetime | str | None = None, ingested_from: datetime | str | None = None,
        ingested_to: datetime | str | None = None, subject: str | Iterable[str] | None = None,
        type: str | None = None, id: str | None = None, has_error: bool | None = None,
        timeout: float | None = None,
    ) -> list[Result[events_pb2.IngestedEvent]]:
        """Lists stored events, newest event time first (``limit`` default 100, at most 1000).

        Each item has ``event``, ``ingested_at`` and ``validation_errors`` (per meter that could not read it;
        while no meter reads the event's type, the one error "no meter reads event type T"). Use ``list_page``
        to page.
        """
        page = self.list_page(
            limit=limit, page_token=page_token, from_=from_, to=to, ingested_from=ingested_from,
            ingested_to=ingested_to, subject=subject, type=type, id=id, has_error=has_error, timeout=timeout,
        )
        return list(page.events)

    def list_page(
        self, *, limit: int | None = None, page_token: str | None = None, from_: datetime | str | None = None,
        to: datetime | str | None = None, ingested_from: datetime | str | None = None,
        ingested_to: datetime | str | None = None, subject: str | Iterable[str] | None = None,
        type: str | None = None, id: str | None = None, has_error: bool | None = None,
        timeout: float | None = None,
    ) -> Result[events_pb2.ListEventsResponse]:
        """One page of ``list``, with ``next_page_token`` (empty on the last page)."""
        request = _list_request(limit, page_token, from_, to, ingested_from, ingested_to, subject, type, id, has_error)
        return self._t.call("EventService", "ListEvents", request, timeout=timeout, idempotent=True)  # type: ignore[no-any-return]

    def stream(
        self, *, batch_size: int = DEFAULT_BATCH_SIZE, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        raise_on_rejected: bool = True,
    ) -> EventStream:
        """Opens a streaming ingest: ``with om.events.stream() as s: s.send(event)``.

        Events are sent in batches of ``batch_size``; up to ``max_in_flight`` batches await their
        acknowledgement at once (``send`` blocks beyond that). ``flush()`` and leaving the block wait for
        every acknowledgement and raise IngestRejectedError if any event was rejected.
        """
        return EventStream(self._t, batch_size=batch_size, max_in_flight=max_in_flight,
                           raise_on_rejected=raise_on_rejected)


# A stream keeps this many examples of warnings (per meter) for its summary; the counts are complete.
WARNING_EXAMPLES = 3


class _StreamTally:
    """Outcomes of a stream so far, and the rejections not yet reported by a flush.

    ``warned`` counts accepted events that some meter could not read (stored all the same, skipped by that
    meter); ``warnings`` maps each meter slug ("" for events whose type no meter reads) to how many events it
    skipped and up to ``WARNING_EXAMPLES`` (event id, why) examples."""

    def __init__(self) -> None:
        self.accepted = 0
        self.duplicates = 0
        self.rejected = 0
        self.warned = 0
        self.warnings: dict[str, tuple[int, list[tuple[str, str]]]] = {}
        self.unreported: dict[str, list[FieldViolation]] = {}
        self.rejected_events: list[tuple[events_pb2.Event, list[FieldViolation]]] = []

    def record(self, ack: events_pb2.StreamEventsResponse, batch: list[events_pb2.Event]) -> None:
        self.accepted += ack.accepted_count
        self.duplicates += ack.duplicate_count
        self.rejected += ack.rejected_count
        for result in ack.results:
            if result.warnings:
                self.warned += 1
                for warning in result.warnings:
                    count, examples = self.warnings.get(warning.meter_slug, (0, []))
                    if len(examples) < WARNING_EXAMPLES:
                        examples.append((result.id, warning.message))
                    self.warnings[warning.meter_slug] = (count + 1, examples)
            if result.outcome == events_pb2.EVENT_OUTCOME_REJECTED:
                violations = [FieldViolation(v.field, v.description) for v in result.violations]
                self.unreported[result.id or f"#{result.index}"] = violations
                self.rejected_events.append((batch[result.index], violations))

    def take_rejection(self) -> IngestRejectedError | None:
        if not self.unreported:
            return None
        error = IngestRejectedError(self.unreported, self.accepted, self.duplicates)
        self.unreported = {}
        return error


class EventStream:
    """A streaming ingest session; see ``Events.stream``. Not thread-safe: send from one thread."""

    def __init__(self, transport: Transport, *, batch_size: int, max_in_flight: int, raise_on_rejected: bool) -> None:
        if batch_size < 1 or max_in_flight < 1:
            raise invalid_argument("batch_size", "batch_size and max_in_flight must be at least 1")
        self._t = transport
        self._batch_size = batch_size
        self._slots = threading.Semaphore(max_in_flight)
        self._raise_on_rejected = raise_on_rejected
        self._buffer: list[events_pb2.Event] = []
        self._requests: queue.Queue[events_pb2.StreamEventsRequest | None] = queue.Queue()
        self._pending: dict[int, list[events_pb2.Event]] = {}
        self._lock = threading.Condition()
        self._sequence = 0
        self._error: MeterdError | None = None
        self._call: Any = None
        self._reader: threading.Thread | None = None
        self.tally = _StreamTally()

    # -- lifecycle -----------------------------------------------------------------------------------
    def __enter__(self) -> EventStream:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.close()

    def open(self) -> None:
        """Starts the call (``with`` does this)."""
        if self._call is not None:
            return
        stub = self._t.stub("EventService")
        self._call = stub.StreamEvents(self._request_iterator(), metadata=self._t.metadata)
        self._reader = threading.Thread(target=self._read_acks, name="meterd-stream-acks", daemon=True)
        self._reader.start()

    def _request_iterator(self) -> Iterator[events_pb2.StreamEventsRequest]:
        while True:
            request = self._requests.get()
            if request is None:
                return
            yield request

    def _read_acks(self) -> None:
        try:
            for ack in self._call:
                with self._lock:
                    batch = self._pending.pop(ack.sequence, [])
                    self.tally.record(ack, batch)
                    self._lock.notify_all()
                self._slots.release()
        except grpc.RpcError as error:
            with self._lock:
                if error.code() != grpc.StatusCode.CANCELLED or self._error is None:
                    self._error = from_rpc_error(error, self._t.target, self._t.tls, self._t.client_cert)
                self._lock.notify_all()
        finally:
            with self._lock:
                if self._pending and self._error is None:
                    self._error = MeterdError("stream ended before every batch was acknowledged")
                self._lock.notify_all()
            # Unblock a sender waiting for a slot; it will see the error.
            for _ in range(len(self._pending) + 1):
                self._slots.release()

    # -- sending ---------------------------------------------------------------------------------------
    def send(self, event: EventLike) -> None:
        """Adds one event; a full batch is sent (blocking while ``max_in_flight`` batches await acks). If the
        stream has failed, raises its error; the event is then in ``unacknowledged`` with the others."""
        self._buffer.append(event_to_wire(event))
        self._raise_error()
        if len(self._buffer) >= self._batch_size:
            self._send_batch()

    def send_many(self, events: Iterable[EventLike]) -> None:
        """``send`` for each event."""
        for event in events:
            self.send(event)

    def _send_batch(self) -> None:
        if not self._buffer:
            return
        if self._call is None:
            self.open()
        self._slots.acquire()
        self._raise_error()  # the stream failed: the batch stays in the buffer (``unacknowledged``)
        batch, self._buffer = self._buffer, []
        with self._lock:
            self._sequence += 1
            self._pending[self._sequence] = batch
        self._requests.put(events_pb2.StreamEventsRequest(sequence=self._sequence, events=batch))

    def flush(self, timeout: float | None = None) -> None:
        """Sends the partial batch and waits for every acknowledgement.

        Raises IngestRejectedError for events rejected since the last flush (the others are stored),
        or the call's error if the stream failed.
        """
        self._send_batch()
        with self._lock:
            if not self._lock.wait_for(lambda: not self._pending or self._error is not None, timeout):
                raise TimeoutError(f"{len(self._pending)} batch(es) still unacknowledged")
        self._raise_error()
        if self._raise_on_rejected:
            rejection = self.tally.take_rejection()
            if rejection is not None:
                raise rejection

    def close(self) -> None:
        """Flushes, then ends the stream."""
        try:
            self.flush()
        finally:
            self._requests.put(None)
            if self._reader is not None:
                self._reader.join()

    def abort(self) -> None:
        """Cancels the stream; unacknowledged batches may or may not be stored (resending is safe)."""
        if self._call is not None:
            self._call.cancel()
        self._requests.put(None)
        if self._reader is not None:
            self._reader.join()

    @property
    def unacknowledged(self) -> list[events_pb2.Event]:
        """Events sent but not yet acknowledged, plus the unsent partial batch: what to resend after a failure."""
        with self._lock:
            pending = [e for seq in sorted(self._pending) for e in self._pending[seq]]
        return pending + list(self._buffer)

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error


class AsyncEvents:
    """``om.events`` for AsyncOpenMeter: the same methods, awaitable."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def ingest(
        self, events: EventLike | Iterable[EventLike], *, timeout: float | None = None
    ) -> Result[events_pb2.IngestEventsResponse]:
        """See ``Events.ingest``."""
        request = _ingest_request(events)
        return await self._t.call("EventService", "IngestEvents", request, timeout=timeout, idempotent=True)  # type: ignore[no-any-return]

    async def list(
        self, *, limit: int | None = None, page_token: str | None = None, from_: datetime | str | None = None,
        to: datetime | str | None = None, ingested_from: datetime | str | None = None,
        ingested_to: datetime | str | None = None, subject: str | Iterable[str] | None = None,
        type: str | None = None, id: str | None = None, has_error: bool | None = None,
        timeout: float | None = None,
    ) -> list[Result[events_pb2.IngestedEvent]]:
        """See ``Events.list``."""
        page = await self.list_page(
            limit=limit, page_token=page_token, from_=from_, to=to, ingested_from=ingested_from,
            ingested_to=ingested_to, subject=subject, type=type, id=id, has_error=has_error, timeout=timeout,
        )
        return list(page.events)

    async def list_page(
        self, *, limit: int | None = None, page_token: str | None = None, from_: datetime | str | None = None,
        to: datetime | str | None = None, ingested_from: datetime | str | None = None,
        ingested_to: datetime | str | None = None, subject: str | Iterable[str] | None = None,
        type: str | None = None, id: str | None = None, has_error: bool | None = None,
        timeout: float | None = None,
    ) -> Result[events_pb2.ListEventsResponse]:
        """See ``Events.list_page``."""
        request = _list_request(limit, page_token, from_, to, ingested_from, ingested_to, subject, type, id, has_error)
        return await self._t.call("EventService", "ListEvents", request, timeout=timeout, idempotent=True)  # type: ignore[no-any-return]

    def stream(
        self, *, batch_size: int = DEFAULT_BATCH_SIZE, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        raise_on_rejected: bool = True,
    ) -> AsyncEventStream:
        """``async with om.events.stream() as s: await s.send(event)``; see ``Events.stream``."""
        return AsyncEventStream(self._t, batch_size=batch_size, max_in_flight=max_in_flight,
                                raise_on_rejected=raise_on_rejected)


class AsyncEventStream:
    """A streaming ingest session over grpc.aio; see ``Events.stream``."""

    def __init__(self, transport: AsyncTransport, *, batch_size: int, max_in_flight: int, raise_on_rejected: bool) -> None:
        if batch_size < 1 or max_in_flight < 1:
            raise invalid_argument("batch_size", "batch_size and max_in_flight must be at least 1")
        self._t = transport
        self._batch_size = batch_size
        self._slots = asyncio.Semaphore(max_in_flight)
        self._raise_on_rejected = raise_on_rejected
        self._buffer: list[events_pb2.Event] = []
        self._pending: dict[int, list[events_pb2.Event]] = {}
        self._changed = asyncio.Condition()
        self._sequence = 0
        self._error: MeterdError | None = None
        self._call: Any = None
        self._reader: asyncio.Task[None] | None = None
        self.tally = _StreamTally()

    async def __aenter__(self) -> AsyncEventStream:
        await self.open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is not None:
            await self.abort()
        else:
            await self.close()

    async def open(self) -> None:
        """Starts the call (``async with`` does this)."""
        if self._call is None:
            self._call = self._t.stub("EventService").StreamEvents(metadata=self._t.metadata)
            self._reader = asyncio.create_task(self._read_acks())

    async def _read_acks(self) -> None:
        try:
            async for ack in self._call:
                async with self._changed:
                    self.tally.record(ack, self._pending.pop(ack.sequence, []))
                    self._changed.notify_all()
                self._slots.release()
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:
                self._error = from_rpc_error(error, self._t.target, self._t.tls, self._t.client_cert)
        finally:
            if self._pending and self._error is None:
                self._error = MeterdError("stream ended before every batch was acknowledged")
            async with self._changed:
                self._changed.notify_all()
            for _ in range(len(self._pending) + 1):
                self._slots.release()

    async def send(self, event: EventLike) -> None:
        """See ``EventStream.send``."""
        self._buffer.append(event_to_wire(event))
        self._raise_error()
        if len(self._buffer) >= self._batch_size:
            await self._send_batch()

    async def _send_batch(self) -> None:
        if not self._buffer:
            return
        await self.open()
        await self._slots.acquire()
        self._raise_error()  # the stream failed: the batch stays in the buffer (``unacknowledged``)
        batch, self._buffer = self._buffer, []
        self._sequence += 1
        self._pending[self._sequence] = batch
        await self._call.write(events_pb2.StreamEventsRequest(sequence=self._sequence, events=batch))

    async def flush(self) -> None:
        """See ``EventStream.flush``."""
        await self._send_batch()
        async with self._changed:
            await self._changed.wait_for(lambda: not self._pending or self._error is not None)
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
                await self._reader

    async def abort(self) -> None:
        """Cancels the stream."""
        if self._call is not None:
            self._call.cancel()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error
