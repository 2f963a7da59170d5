"""Watching entitlement values as Server-Sent Events: ``GET /api/v1/entitlements/watch`` (the admin key, any
selection) and ``GET /api/v1/portal/entitlements/watch`` (a portal token, its own subject).

The stream is WatchEntitlementValues' (the same watch service: selection, thresholds, coalescing, snapshots,
RESUME_TOO_OLD), one SSE event per message, its ``id`` the message's position: a browser's EventSource sends
it back as ``Last-Event-ID`` when it reconnects, and the watch resumes from there. Heartbeats are named
``heartbeat`` events (advancing the resume point and ``currentAsOf`` without a ``message`` event for the
page). Like the gRPC
stream it counts towards ``server.max_streams``, holds no thread while idle (it waits on the event loop; the
values are computed on the worker pool) and ends when the server shuts down (the watch service ends every
session first). An idle stream's heartbeat is answered on the event loop, its wait ending on the shared tick
of the gRPC watches (see meterd.server.watch.ticks); its default interval is the server's
``server.watch_heartbeat_seconds``. README "Browsers" documents the routes and the event shape.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from meterd.server import errors
from meterd.server.entitlements.model import EntitlementType, EntitlementValue
from meterd.server.http.app import Access, Call, Route, Services, StreamGate, bearer, problem_of
from meterd.server.limits import filter_values
from meterd.server.portal.model import PortalAccess
from meterd.server.watch.service import Crossing, Message, Update, WatchRequest, WatchService, WatchSession
from meterd.server.watch.servicer import release_session
from meterd.server.watch.thresholds import Threshold, ThresholdKind
from meterd.server.watch.ticks import sleep_until_woken

log = logging.getLogger("meterd.http")

# A portal stream checks its token again this often (seconds; a database read), so that an invalidated
# token stops its streams within this time; it also ends when the token expires.
REVALIDATE_SECONDS = 30.0
# The reconnection delay an EventSource uses after the stream ends (milliseconds, the SSE ``retry`` field).
RETRY_MS = 2000
_THRESHOLDS = {
    "balanceBelow": ThresholdKind.BALANCE_BELOW,
    "balanceBelowPercent": ThresholdKind.BALANCE_BELOW_PERCENT,
    "usageAbove": ThresholdKind.USAGE_ABOVE,
}
_THRESHOLD_NAMES = {kind: name for name, kind in _THRESHOLDS.items()}
_PARAMETERS = {"subject", "feature", "coalesceInterval", "heartbeatInterval", "access_token", *_THRESHOLDS}
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,4})?")
_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no proxy may hold events back


def _number(text: str, field: str) -> Decimal:
    if len(text) > 40 or not _NUMBER.fullmatch(text):
        raise errors.InvalidArgument.of(field, f"must be a decimal number, got {errors.quote(text)}")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise errors.InvalidArgument.of(
            field, f"must be a decimal number, got {errors.quote(text)}"
        ) from None


def _seconds(call: Call, name: str) -> float | None:
    text = call.one(name)
    return None if text is None else float(_number(text, name))


def request_of(call: Call, access: PortalAccess | None) -> WatchRequest:
    """The watch request of the query string (the service validates it). Thresholds keep their order in the
    query: a crossing's ``thresholdIndex`` counts them in that order."""
    unknown = sorted(call.names() - _PARAMETERS)
    if unknown:
        raise errors.InvalidArgument.of(
            unknown[0], f"is not a parameter of this route (it takes {', '.join(sorted(_PARAMETERS))})"
        )
    subjects = filter_values(call.many("subject"), "subject")
    if access is not None:
        access.check_subject(list(subjects))
        subjects = (access.subject,)
    thresholds = tuple(
        Threshold(_THRESHOLDS[key], _number(value, f"{key}"))
        for key, value in call.request.query_params.multi_items()
        if key in _THRESHOLDS
    )
    return WatchRequest(
        subjects=tuple(subjects),
        features=filter_values(call.many("feature"), "feature"),
        thresholds=thresholds,
        interval=_seconds(call, "coalesceInterval"),
        heartbeat=_seconds(call, "heartbeatInterval"),
    )


# -- the event shape -------------------------------------------------------------------------------------
def _value_json(v: EntitlementValue | None, kind: EntitlementType | None) -> dict[str, Any] | None:
    """The value route's shape (``hasAccess``; metered: balance, usage, overage; static: config)."""
    if v is None:
        return None
    out: dict[str, Any] = {"hasAccess": v.has_access}
    if kind is EntitlementType.METERED or kind is None:
        out.update(balance=float(v.balance), usage=float(v.usage), overage=float(v.overage))
    if v.config is not None:
        out["config"] = v.config
    return out


def _update_json(u: Update) -> dict[str, Any]:
    return {
        "entitlementId": u.entitlement_id,
        "subjectKey": u.subject_key,
        "featureKey": u.feature_key,
        "type": u.type.lower() if u.type else None,
        "value": _value_json(u.value, u.type),
        "reasons": sorted(r.value for r in u.reasons),
        "computedAt": u.computed_at,
        "deleted": u.deleted,
        "unavailable": u.unavailable,
    }


def _crossing_json(c: Crossing) -> dict[str, Any]:
    return {
        "entitlementId": c.entitlement_id,
        "subjectKey": c.subject_key,
        "featureKey": c.feature_key,
        "thresholdIndex": c.threshold_index,
        "threshold": {_THRESHOLD_NAMES[c.threshold.kind]: float(c.threshold.amount)},
        "value": _value_json(c.value, EntitlementType.METERED),
        "periodStart": c.period_start,
        "replayed": c.replayed,
    }


def event_of(m: Message) -> bytes:
    """One SSE event for a watch message: ``id`` (its position) and ``data`` (one line of JSON, with
    ``currentAsOf``: the instant the values sent so far are current as of, as on gRPC). A heartbeat (nothing
    to say but that instant) is an ``event: heartbeat``: EventSource takes its id, and a page's ``onmessage``
    does not see it (only a listener for "heartbeat" does). A snapshot's chunks before its last carry no
    ``id``: a stream cut in the middle of a snapshot resumes from before it, never from a position whose
    values the page has only in part."""
    position = m.position.encode()
    as_of = None if m.as_of is None else datetime.fromtimestamp(m.as_of, UTC)
    if not (m.updates or m.crossings or m.snapshot or m.resumed):
        beat = orjson.dumps({"position": m.position, "currentAsOf": as_of}, option=orjson.OPT_UTC_Z)
        return b"event: heartbeat\nid: " + position + b"\ndata: " + beat + b"\n\n"
    data = orjson.dumps(
        {
            "position": m.position,
            "currentAsOf": as_of,
            "snapshot": m.snapshot or None,
            "snapshotComplete": m.snapshot_complete,
            "resumed": m.resumed,
            "updates": [_update_json(u) for u in m.updates],
            "crossings": [_crossing_json(c) for c in m.crossings],
        },
        option=orjson.OPT_UTC_Z,
    )
    head = b"" if m.snapshot and not m.snapshot_complete else b"id: " + position + b"\n"
    return head + b"data: " + data + b"\n\n"


def problem_event(exc: errors.MeterdError) -> bytes:
    """A problem that ends a stream already begun, as an ``event: problem`` with the problem+json body."""
    return b"event: problem\ndata: " + problem_of(exc).body + b"\n\n"


# -- a portal token's view -------------------------------------------------------------------------------
class PortalView:
    """Which entitlements a portal token may see (PortalAccess.allows_entitlement), decided once per
    entitlement of the stream (two reads, on the worker pool), and the messages cut to them."""

    def __init__(self, s: Services, access: PortalAccess) -> None:
        self._s = s
        self._access = access
        self._visible: dict[str, bool] = {}

    def _allows(self, entitlement_id: str) -> bool:
        known = self._visible.get(entitlement_id)
        if known is not None:
            return known
        try:
            e = self._s.entitlements.get_by_id(entitlement_id)
        except errors.NotFound:
            return False  # deleted before the page saw it: nothing to tell
        meter = ""
        if e.type is EntitlementType.METERED:
            feature = self._s.features.get(e.feature_id)
            meter = feature.meter_slug or ""
        allowed = self._visible[entitlement_id] = self._access.allows_entitlement(
            e.type is EntitlementType.METERED, meter
        )
        return allowed

    def cut(self, m: Message) -> Message:
        if not self._access.allowed_meter_slugs:
            return m
        return replace(
            m,
            updates=[u for u in m.updates if self._allows(u.entitlement_id)],
            crossings=[c for c in m.crossings if self._allows(c.entitlement_id)],
        )


# -- the stream ------------------------------------------------------------------------------------------
class _Stream:
    """One SSE watch: its session, its slot among the server's streams, the portal token it runs under."""

    def __init__(self, call: Call, s: Services, service: WatchService, credential: str | None) -> None:
        self.call = call
        self.s = s
        self.service = service
        self.gate: StreamGate | None = s.streams
        self.view = PortalView(s, call.portal) if call.portal is not None else None
        self.credential = credential
        self.woken = asyncio.Event()
        self.session: WatchSession | None = None
        self.first: Iterator[Message] | None = None
        self.head = b""
        self._released = False
        self._acquired = False

    async def open(self, request: WatchRequest) -> None:
        """Opens the session and renders its first message, so that a refused watch is a problem status."""
        if self.gate is not None:
            self.gate.acquire_stream()
            self._acquired = True
        loop = asyncio.get_running_loop()
        self.session = await self.call.run(
            self.service.open, request, lambda: loop.call_soon_threadsafe(self.woken.set)
        )
        self.first = self.session.start()
        first: bytes | None = await self.call.run(self._next_first)
        self.head = f"retry: {RETRY_MS}\n\n".encode() + (first or b"")

    def _render(self, messages: list[Message]) -> bytes:
        started = time.perf_counter()
        out = b"".join(event_of(self.view.cut(m) if self.view else m) for m in messages)
        self.service.budget.spend(time.perf_counter() - started, 0)  # as the gRPC stream's conversion counts
        return out

    def _next_first(self) -> bytes | None:
        assert self.first is not None
        m = next(self.first, None)
        return None if m is None else self._render([m])

    def _poll(self) -> bytes:
        assert self.session is not None
        messages = self.session.poll()
        return self._render(messages) if messages else b""

    async def events(self) -> AsyncIterator[bytes]:
        session = self.session
        assert session is not None
        yield self.head
        try:
            while (chunk := await self.call.run(self._next_first)) is not None:
                yield chunk
            checked = time.monotonic()
            while not session.ended:
                self.woken.clear()
                quick = (
                    session.quick()
                )  # nothing due but maybe the heartbeat: answered here, no worker thread
                chunk = await self.call.run(self._poll) if quick is None else self._render(quick)
                if chunk:
                    yield chunk
                wait = session.wait_seconds()
                access = self.call.portal
                if access is not None:
                    if time.monotonic() - checked >= REVALIDATE_SECONDS or (
                        access.expires_at is not None and access.expires_at <= self.s.clock()
                    ):
                        await self.call.run(self.s.portal.authenticate, self.credential)
                        checked = time.monotonic()
                    wait = min(wait, max(0.0, checked + REVALIDATE_SECONDS - time.monotonic()))
                    if access.expires_at is not None:
                        wait = min(wait, max(0.0, (access.expires_at - self.s.clock()).total_seconds()))
                await sleep_until_woken(self.woken, wait)  # a heartbeat's wait ends on the shared tick
        except errors.MeterdError as exc:  # the token invalidated or expired; a selection grown too large
            yield problem_event(exc)
        except Exception:
            log.exception("watch stream failed", extra={"path": self.call.request.url.path})
            yield problem_event(errors.Unavailable("the watch failed on the server; reconnect"))

    def release(self) -> None:
        """Once, on the event loop, when the response is over (whether or not the stream ever started)."""
        if self._released:
            return
        self._released = True
        if self.session is not None:
            release_session(self.service, self.session)
        if self._acquired and self.gate is not None:
            self.gate.release_stream()


class EventStreamResponse(StreamingResponse):
    """``text/event-stream`` whose stream is released however the response ends (finished, the client gone,
    cancelled at shutdown), even if it never started streaming."""

    def __init__(self, stream: _Stream) -> None:
        super().__init__(stream.events(), media_type="text/event-stream", headers=_HEADERS)
        self._stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._stream.release()


async def watch(call: Call, s: Services) -> Response:
    """Both routes: the selection of the query (a portal token's subject forced), resumed from Last-Event-ID."""
    request = request_of(call, call.portal)
    service = s.watch
    if service is None:
        raise errors.Unavailable("watching entitlement values is not available on this server")
    resume = call.request.headers.get("last-event-id", "").strip()
    if resume:
        service.feed.log.parse(resume, "Last-Event-ID")  # a malformed one is 400 naming the header
        request = replace(request, resume_position=resume)
    credential = bearer(call.request, query_token=True) if call.portal is not None else None
    if call.request.method == "HEAD":  # the headers a watch would answer with, and no watch
        return Response(media_type="text/event-stream", headers=_HEADERS)
    stream = _Stream(call, s, service, credential)
    try:
        await stream.open(request)
    except errors.FailedPrecondition as exc:
        stream.release()
        if "shutting down" in exc.message:
            raise errors.Unavailable("meterd is shutting down; reconnect") from None
        raise
    except BaseException:
        stream.release()
        raise
    return EventStreamResponse(stream)


def routes(s: Services) -> list[Route]:
    """Listed before the entitlement routes: ``/api/v1/entitlements/watch`` would otherwise be read as an
    entitlement id (ids are ULIDs, so no entitlement is named "watch")."""
    return [
        Route("GET", "/api/v1/entitlements/watch", lambda call: watch(call, s), query_token=True),
        Route(
            "GET",
            "/api/v1/portal/entitlements/watch",
            lambda call: watch(call, s),
            Access.PORTAL,
            query_token=True,
        ),
    ]
