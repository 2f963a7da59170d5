"""EventService over gRPC: wire <-> domain for ingest (unary and streamed) and listing."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import Future
from typing import Any

import grpc
import grpc.aio
from google.protobuf import timestamp_pb2

from meterd.server import errors, rpc, wire
from meterd.server.events.model import EventFilter, Outcome, StoredEvent
from meterd.server.events.service import BatchResult, EventService
from meterd.v1 import events_pb2, events_pb2_grpc

log = logging.getLogger("meterd.events")

# Batches a stream may have validated and queued for commit before the server stops reading more from it;
# beyond this, gRPC flow control pushes back on the client. (Across streams, the server's byte budget does:
# see serving.ByteBudget.)
MAX_IN_FLIGHT_BATCHES = 8
# Acknowledgements of batches up to this many events are built on the event loop; larger ones (a result per
# event, each rejected one with its reasons) on a worker thread, already serialized: four producers sending
# rejected 10,000-event batches held the loop for most of every second when acks were built on it.
ACK_ON_LOOP_MAX_EVENTS = 32
# Streamed batches validated (and large acks built) at once, over all streams: the rest wait their turn on the
# event loop, holding no worker, so a unary call never queues on the worker pool behind producers' batches.
# Four hostile producers (8 batches in flight each) held all 32 workers: GetEntitlementValue's p50 went from
# 2 ms to 491 ms at p50 (bench/idle.py, load average 4); two lanes: 113 ms; one lane: 20 ms (the lanes' work
# holds the GIL, so a second lane adds little ingest throughput and takes the loop's turns).
INGEST_LANES = 1

_OUTCOMES = {
    Outcome.ACCEPTED: events_pb2.EVENT_OUTCOME_ACCEPTED,
    Outcome.DUPLICATE: events_pb2.EVENT_OUTCOME_DUPLICATE,
    Outcome.REJECTED: events_pb2.EVENT_OUTCOME_REJECTED,
}


def events_from_wire(events: Iterable[events_pb2.Event]) -> list[tuple[events_pb2.Event, int | str | None]]:
    """Wire events for validation: each message (it has the CloudEvent attributes validation reads, so no
    copy is made on this hot path) with its time in microseconds, None when absent, or the problem with a
    time that is no Timestamp (nanos outside 0..999,999,999)."""
    out: list[tuple[events_pb2.Event, int | str | None]] = []
    for e in events:
        if e.HasField("time"):
            ts = e.time
            nanos = ts.nanos
            if 0 <= nanos < 1_000_000_000:
                out.append((e, ts.seconds * 1_000_000 + nanos // 1000))
            else:
                out.append((e, f"nanos must be between 0 and 999999999, got {nanos}"))
        else:
            out.append((e, None))
    return out


def _add_results(target: Any, batch: BatchResult) -> None:
    """Appends one wire result per event to a response's ``results``. Built in place with ``add``:
    constructing messages and then assigning them would copy each one again (this runs per event)."""
    add = target.add
    for r in batch.results:
        result = add(index=r.index, id=r.id, outcome=_OUTCOMES[r.outcome])
        if r.violations:
            for v in r.violations:
                result.violations.add(field=v.field, description=v.description)
        if r.warnings:
            for slug, message in r.warnings:
                result.warnings.add(meter_slug=slug, message=message)


def _ack(sequence: int, batch: BatchResult) -> events_pb2.StreamEventsResponse:
    response = events_pb2.StreamEventsResponse(
        sequence=sequence,
        accepted_count=batch.count(Outcome.ACCEPTED),
        duplicate_count=batch.count(Outcome.DUPLICATE),
        rejected_count=batch.count(Outcome.REJECTED),
    )
    _add_results(response.results, batch)
    return response


def _ack_bytes(sequence: int, batch: BatchResult) -> bytes:
    return _ack(sequence, batch).SerializeToString()


def stored_to_wire(s: StoredEvent) -> events_pb2.IngestedEvent:
    e = s.event
    # The time goes out from its integer microseconds, not through a datetime: a row stored by older code may
    # lie outside what a datetime holds (year 10000), and ListEvents still serves it as stored.
    return events_pb2.IngestedEvent(
        event=events_pb2.Event(
            id=e.id,
            source=e.source,
            specversion=e.specversion,
            type=e.type,
            subject=e.subject,
            time=timestamp_pb2.Timestamp(seconds=e.time_us // 1_000_000, nanos=e.time_us % 1_000_000 * 1000),
            datacontenttype=e.datacontenttype,
            dataschema=e.dataschema,
            data=e.data or "",
        ),
        ingested_at=wire.dt_to_ts(s.ingested_at),
        validation_errors=[
            events_pb2.EventValidationError(meter_slug=slug, message=message)
            for slug, message in s.validation_errors
        ],
    )


async def _end_stream(context: grpc.aio.ServicerContext, exc: BaseException, doing: str) -> None:
    """Ends a stream with the status of what went wrong (raises, as ``context.abort`` does)."""
    if isinstance(exc, errors.MeterdError):
        status = rpc.grpc_status_of(exc)
        await context.abort(status.code, status.details, status.trailing_metadata)
    if isinstance(exc, grpc.aio.AbortError | asyncio.CancelledError):
        raise exc
    log.error("stream failed while %s", doing, exc_info=exc)
    await context.abort(
        grpc.StatusCode.INTERNAL,
        f"internal error while {doing}: {type(exc).__name__}; "
        "resend the unacknowledged batches (ingest is deduplicated)",
    )


class EventServicer(events_pb2_grpc.EventServiceServicer):
    def __init__(self, service: EventService) -> None:
        self._service = service
        self._lanes = asyncio.Semaphore(INGEST_LANES)  # bound to the server's loop on first use

    @rpc.unary
    def IngestEvents(
        self, request: events_pb2.IngestEventsRequest, context: grpc.ServicerContext
    ) -> events_pb2.IngestEventsResponse:
        batch = self._service.ingest(events_from_wire(request.events))
        response = events_pb2.IngestEventsResponse(
            accepted_count=batch.count(Outcome.ACCEPTED), duplicate_count=batch.count(Outcome.DUPLICATE)
        )
        _add_results(response.results, batch)
        return response

    @rpc.parses_its_requests
    async def StreamEvents(  # type: ignore[override]  # bytes in (parsed in the lane), large acks out as bytes
        self,
        request_iterator: AsyncIterator[bytes],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[events_pb2.StreamEventsResponse | bytes]:
        """Runs on the event loop and holds no thread while idle. A reader task validates each batch on the
        worker pool and hands it to the writer, so several batches can be committing while acks go out in
        order. The stream never ends with OK while a batch it read is unacknowledged: a batch that cannot be
        stored ends the stream with a status naming the cause (earlier batches stay acknowledged)."""
        loop = asyncio.get_running_loop()
        pending: asyncio.Queue[tuple[int, int, Future[BatchResult]] | BaseException | None] = asyncio.Queue(
            maxsize=MAX_IN_FLIGHT_BATCHES
        )
        # The server's byte budget holds each message until its batch is committed (or refused), in the order
        # read; not until its ack is sent, so a producer that stops reading acks holds no budget.
        done = getattr(request_iterator, "done", None)
        unsettled: deque[Future[BatchResult]] = deque()

        def settle() -> None:  # on the loop, after any of the stream's batches resolved
            while unsettled and unsettled[0].done():
                unsettled.popleft()
                if done is not None:
                    done()

        def submit(raw: bytes) -> tuple[int, int, Future[BatchResult]]:
            # Parsed here, in the lane, so that one decoded batch exists at a time and it is dropped as soon as
            # it is validated; an undecodable message is INVALID_ARGUMENT (parse_request names the message).
            request = rpc.parse_request(events_pb2.StreamEventsRequest.FromString, raw)
            return (
                request.sequence,
                len(request.events),
                self._service.submit_batch(events_from_wire(request.events)),
            )

        async def read() -> None:
            try:
                async for raw in request_iterator:
                    async with self._lanes:
                        sequence, count, future = await loop.run_in_executor(
                            None, submit, raw
                        )  # a bad batch ends the stream
                    del raw
                    unsettled.append(future)
                    future.add_done_callback(lambda _f: loop.call_soon_threadsafe(settle))
                    await pending.put((sequence, count, future))
                await pending.put(None)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # a bad batch, an undecodable message, or the client went away
                await pending.put(exc)

        reader = asyncio.create_task(read())
        try:
            while True:
                item = await pending.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    await _end_stream(context, item, "reading the stream")
                    return
                sequence, count, future = item
                try:
                    batch = await asyncio.wrap_future(future)
                except Exception as exc:
                    await _end_stream(context, exc, f"storing batch {sequence}")
                    return
                if count <= ACK_ON_LOOP_MAX_EVENTS:
                    yield _ack(sequence, batch)
                else:  # serialized bytes: the serving layer sends them as they are
                    async with self._lanes:
                        ack = await loop.run_in_executor(None, _ack_bytes, sequence, batch)
                    yield ack
        finally:
            reader.cancel()

    @rpc.unary
    def ListEvents(
        self, request: events_pb2.ListEventsRequest, context: grpc.ServicerContext
    ) -> events_pb2.ListEventsResponse:
        cursor = rpc.decode_cursor(request.page_token, int, int)
        filter = EventFilter(
            time_from=wire.opt_ts(request, "from_time"),
            time_to=wire.opt_ts(request, "to_time"),
            ingested_from=wire.opt_ts(request, "ingested_from_time"),
            ingested_to=wire.opt_ts(request, "ingested_to_time"),
            subjects=wire.filter_values(request.subject, "subject"),
            type=request.type or None,
            id=request.id or None,
            has_error=request.has_error if request.HasField("has_error") else None,
        )
        page, next_cursor = self._service.list(filter, request.page_size, cursor)
        return events_pb2.ListEventsResponse(
            events=[stored_to_wire(s) for s in page],
            next_page_token=rpc.encode_cursor(next_cursor),
        )
