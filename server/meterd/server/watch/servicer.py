"""WatchEntitlementValues over gRPC: wire <-> domain for the watch stream, and the loop that serves one."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

from google.protobuf import timestamp_pb2

from meterd.server import rpc, wire
from meterd.server.entitlements.servicer import value_to_wire
from meterd.server.errors import InvalidArgument, MeterdError, ResourceExhausted
from meterd.server.watch.changes import Reason
from meterd.server.watch.service import (
    MAX_SELECTION_KEYS,
    Crossing,
    Message,
    Update,
    WatchRequest,
    WatchService,
    WatchSession,
)
from meterd.server.watch.thresholds import MAX_THRESHOLDS, Threshold, ThresholdKind
from meterd.server.watch.ticks import sleep_until_woken
from meterd.v1 import entitlements_pb2

log = logging.getLogger("meterd.watch")
_detached_tasks: set[asyncio.Task[None]] = set()

_REASONS = {
    Reason.SNAPSHOT: entitlements_pb2.ENTITLEMENT_CHANGE_REASON_SNAPSHOT,
    Reason.USAGE: entitlements_pb2.ENTITLEMENT_CHANGE_REASON_USAGE,
    Reason.GRANT_CREATED: entitlements_pb2.ENTITLEMENT_CHANGE_REASON_GRANT_CREATED,
    Reason.GRANT_VOIDED: entitlements_pb2.ENTITLEMENT_CHANGE_REASON_GRANT_VOIDED,
    Reason.RESET: entitlements_pb2.ENTITLEMENT_CHANGE_REASON_RESET,
    Reason.TIME: entitlements_pb2.ENTITLEMENT_CHANGE_REASON_TIME,
    Reason.ENTITLEMENT_CREATED: entitlements_pb2.ENTITLEMENT_CHANGE_REASON_ENTITLEMENT_CREATED,
    Reason.ENTITLEMENT_OVERRIDDEN: entitlements_pb2.ENTITLEMENT_CHANGE_REASON_ENTITLEMENT_OVERRIDDEN,
    Reason.ENTITLEMENT_DELETED: entitlements_pb2.ENTITLEMENT_CHANGE_REASON_ENTITLEMENT_DELETED,
    Reason.METER_UPDATED: entitlements_pb2.ENTITLEMENT_CHANGE_REASON_METER_UPDATED,
    Reason.METER_DELETED: entitlements_pb2.ENTITLEMENT_CHANGE_REASON_METER_DELETED,
}
_SNAPSHOTS = {
    "": entitlements_pb2.WATCH_SNAPSHOT_CAUSE_UNSPECIFIED,
    "INITIAL": entitlements_pb2.WATCH_SNAPSHOT_CAUSE_INITIAL,
    "RESUME_TOO_OLD": entitlements_pb2.WATCH_SNAPSHOT_CAUSE_RESUME_TOO_OLD,
    "READER_BEHIND": entitlements_pb2.WATCH_SNAPSHOT_CAUSE_READER_BEHIND,
}
_KINDS = {
    "balance_below": ThresholdKind.BALANCE_BELOW,
    "balance_below_percent": ThresholdKind.BALANCE_BELOW_PERCENT,
    "usage_above": ThresholdKind.USAGE_ABOVE,
}
_KIND_FIELDS = {v: k for k, v in _KINDS.items()}


def threshold_from_wire(t: entitlements_pb2.EntitlementThreshold, field: str) -> Threshold:
    kind = t.WhichOneof("kind")
    if kind is None:
        raise InvalidArgument.of(field, "set balance_below, balance_below_percent or usage_above")
    return Threshold(_KINDS[kind], Decimal(repr(getattr(t, kind))))


def threshold_to_wire(t: Threshold) -> entitlements_pb2.EntitlementThreshold:
    return entitlements_pb2.EntitlementThreshold(**{_KIND_FIELDS[t.kind]: float(t.amount)})


def request_from_wire(request: entitlements_pb2.WatchEntitlementValuesRequest) -> WatchRequest:
    """The domain request. Counts are checked before anything is converted: a request of millions of
    thresholds or keys is refused at the cost of reading its lengths."""
    if len(request.thresholds) > MAX_THRESHOLDS:
        raise InvalidArgument.of("thresholds", f"at most {MAX_THRESHOLDS}, got {len(request.thresholds)}")
    for name in ("subject_keys", "feature_keys"):
        count = len(getattr(request, name))
        if count > MAX_SELECTION_KEYS:
            raise ResourceExhausted(f"{name}: at most {MAX_SELECTION_KEYS} keys, got {count}")
    interval = None
    if request.HasField("coalesce_interval"):
        d = request.coalesce_interval
        if d.seconds < 0 or d.nanos < 0:
            raise InvalidArgument.of("coalesce_interval", "must not be negative")
        interval = d.seconds + d.nanos / 1e9
    heartbeat = None
    if request.HasField("heartbeat_interval"):
        d = request.heartbeat_interval
        heartbeat = d.seconds + d.nanos / 1e9
    return WatchRequest(
        subjects=tuple(request.subject_keys),
        features=tuple(request.feature_keys),
        thresholds=tuple(
            threshold_from_wire(t, f"thresholds[{i}]") for i, t in enumerate(request.thresholds)
        ),
        resume_position=request.resume_position,
        interval=interval,
        heartbeat=heartbeat,
    )


def _update_to_wire(u: Update) -> entitlements_pb2.EntitlementValueUpdate:
    out = entitlements_pb2.EntitlementValueUpdate(
        entitlement_id=u.entitlement_id,
        subject_key=u.subject_key,
        feature_key=u.feature_key,
        reasons=sorted(_REASONS[r] for r in u.reasons),
        computed_at=wire.dt_to_ts(u.computed_at),
        deleted=u.deleted,
        unavailable=u.unavailable,
    )
    if u.value is not None:
        out.value.CopyFrom(value_to_wire(u.value))
    return out


def _crossing_to_wire(c: Crossing) -> entitlements_pb2.ThresholdCrossing:
    return entitlements_pb2.ThresholdCrossing(
        entitlement_id=c.entitlement_id,
        subject_key=c.subject_key,
        feature_key=c.feature_key,
        threshold_index=c.threshold_index,
        threshold=threshold_to_wire(c.threshold),
        value=value_to_wire(c.value),
        period_start=wire.dt_to_ts(c.period_start),
        replayed=c.replayed,
    )


def _timestamp(at: float) -> timestamp_pb2.Timestamp:
    seconds = int(at // 1)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=int((at - seconds) * 1e9))


def message_to_wire(m: Message) -> entitlements_pb2.WatchEntitlementValuesResponse:
    if not (m.updates or m.crossings or m.snapshot or m.resumed):  # a heartbeat: the common message
        if m.as_of is None:
            return entitlements_pb2.WatchEntitlementValuesResponse(position=m.position)
        return entitlements_pb2.WatchEntitlementValuesResponse(
            position=m.position, current_as_of=_timestamp(m.as_of)
        )
    out = entitlements_pb2.WatchEntitlementValuesResponse(
        position=m.position,
        updates=[_update_to_wire(u) for u in m.updates],
        crossings=[_crossing_to_wire(c) for c in m.crossings],
        snapshot=_SNAPSHOTS[m.snapshot],
        snapshot_complete=m.snapshot_complete,
        resumed=m.resumed,
    )
    if m.as_of is not None:
        out.current_as_of.CopyFrom(_timestamp(m.as_of))
    return out


async def serve_watch_async(
    service: WatchService, request: entitlements_pb2.WatchEntitlementValuesRequest, context: Any
) -> AsyncIterator[entitlements_pb2.WatchEntitlementValuesResponse]:
    """Serves one watch on the event loop (grpc.aio): it holds no thread while idle, and sleeps until a change,
    a timer or its heartbeat is due. The blocking work (the request's conversion, the database reads behind
    each value, the messages' conversion) runs on the loop's default executor, the server's bounded worker
    pool; a heartbeat (nothing due) is answered on the loop. Ends when the caller cancels (the task is
    cancelled), its deadline passes, or the server shuts down."""
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()

    def wake() -> None:  # from the feed's dispatcher or a shutdown, on other threads
        loop.call_soon_threadsafe(woken.set)

    session = None
    try:
        domain_request = await loop.run_in_executor(None, request_from_wire, request)
        session = await loop.run_in_executor(None, service.open, domain_request, wake)
        first = session.start()
        while (out := await loop.run_in_executor(None, _next_to_wire, first)) is not None:
            yield out
        while not session.ended:
            woken.clear()
            quick = session.quick()
            if quick is None:
                messages = await loop.run_in_executor(None, _poll_to_wire, service, session)
            else:
                messages = [message_to_wire(m) for m in quick]
            for out in messages:
                yield out
            await sleep_until_woken(woken, session.wait_seconds())
    except MeterdError as exc:
        status = rpc.grpc_status_of(exc)
        await context.abort(status.code, status.details, status.trailing_metadata)
    finally:
        if session is not None:
            release_session(service, session)


def release_session(service: WatchService, session: WatchSession) -> None:
    """On the event loop, once a session's stream ended (gRPC's, or the HTTP API's Server-Sent Events): a
    session with thresholds keeps running detached (so that a resume replays its crossings), any other
    is closed."""
    if service.detach(session):
        task = asyncio.get_running_loop().create_task(_drive_detached(service, session))
        _detached_tasks.add(task)  # a reference, so the task is not collected while it runs
        task.add_done_callback(_detached_tasks.discard)
    else:
        session.close()


def _next_to_wire(
    messages: Iterator[Message],
) -> entitlements_pb2.WatchEntitlementValuesResponse | None:
    m = next(messages, None)
    return None if m is None else message_to_wire(m)


def _poll_to_wire(
    service: WatchService, session: WatchSession
) -> list[entitlements_pb2.WatchEntitlementValuesResponse]:
    """The session's due messages on the wire; their conversion counts in the watchers' compute budget too."""
    messages = session.poll()
    if not messages:
        return []
    started = time.perf_counter()
    out = [message_to_wire(m) for m in messages]
    service.budget.spend(time.perf_counter() - started, 0)
    return out


async def _drive_detached(service: WatchService, session: WatchSession) -> None:
    """Keeps a session whose stream ended computing (its messages go nowhere; its crossings are remembered)
    until a resume adopts it, the server shuts down, or ``service.detached_seconds`` pass."""
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()

    def wake() -> None:
        loop.call_soon_threadsafe(woken.set)

    session.rebind(wake)
    deadline = loop.time() + service.detached_seconds
    try:
        while not session.ended and not session.adopting and loop.time() < deadline:
            woken.clear()
            if session.quick() is None:  # something is due (its messages go nowhere; its crossings are kept)
                await loop.run_in_executor(None, session.poll)
            if session.adopting:
                break
            await sleep_until_woken(woken, max(0.0, min(session.wait_seconds(), deadline - loop.time())))
    except Exception:  # a failing poll ends the detached session like a failing stream ends an attached one
        log.exception("watch: detached session failed")
    finally:
        adopted = session.adopting and not session.ended
        session.detached_done.set()
        if not adopted:
            service.undetach(session)
            session.close()
