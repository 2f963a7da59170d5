"""Watching entitlement values: ``om.entitlements.watch(...)`` (an iterator of the server's messages, resuming
by itself after a disconnect) and ``om.entitlements.cache(...)`` (a local mirror kept current by a watch).

Request building, reconnecting and the mirror's bookkeeping are plain functions and classes that do no
I/O. The watch itself is written once (``_async/watch.py``, and its blocking twin); the two caches are
kept here by hand, as a thread and as a task differ in how they stop (a thread cannot be cancelled).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import grpc
from google.protobuf import duration_pb2

from meterd.client._convert import normalize, str_list, to_number
from meterd.client._errors import MeterdError, NotFoundError
from meterd.client._results import Result
from meterd.v1 import entitlements_pb2

if TYPE_CHECKING:
    from meterd.client._async.watch import AsyncEntitlementWatch
    from meterd.client._sync.watch import EntitlementWatch

Threshold = Mapping[str, float]
_THRESHOLD_KEYS = ("balance_below", "balance_below_percent", "usage_above")
# Codes after which a watch reconnects (with its last position) instead of raising: the server or the network
# is gone for now; CANCELLED that the watch did not ask for is a server stopping without a grace period.
_RECONNECT = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
DEFAULT_MAX_STALENESS = 10.0
# The server's heartbeat range (WatchEntitlementValuesRequest.heartbeat_interval): a cache asks for a heartbeat
# of a third of its max_staleness, within it; so max_staleness is at least three shortest heartbeats.
MIN_HEARTBEAT, MAX_HEARTBEAT = 0.1, 600.0
MIN_MAX_STALENESS = 0.3  # three shortest heartbeats
Value = Result[entitlements_pb2.EntitlementValue]


def cache_heartbeat(max_staleness: float) -> float:
    """The heartbeat a cache with ``max_staleness`` asks for: a third of it, within the server's range (a
    larger staleness just gets the longest heartbeat). ValueError naming ``max_staleness`` outside what a
    cache can keep."""
    if (
        not isinstance(max_staleness, int | float)
        or isinstance(max_staleness, bool)
        or not math.isfinite(max_staleness)
    ):
        raise ValueError(f"max_staleness: must be a finite number of seconds, got {max_staleness!r}")
    if max_staleness < MIN_MAX_STALENESS:
        raise ValueError(
            f"max_staleness: must be at least {MIN_MAX_STALENESS:g} seconds (the server's heartbeat is at least "
            f"{MIN_HEARTBEAT:g} s, and a cache needs three per max_staleness), got {max_staleness:g}"
        )
    return max(MIN_HEARTBEAT, min(MAX_HEARTBEAT, max_staleness / 3))  # (0.3 / 3 < 0.1 in binary)


RECONNECT_BASE_DELAY = 0.1
RECONNECT_MAX_DELAY = 5.0


def backoff(attempt: int) -> float:
    """Seconds before reconnect attempt ``attempt`` (from 0): exponential with full jitter."""
    return random.uniform(0, min(RECONNECT_MAX_DELAY, RECONNECT_BASE_DELAY * 2**attempt))


def _duration(seconds: float, *, what: str) -> duration_pb2.Duration:
    if seconds < 0:
        raise ValueError(f"{what}: must not be negative")
    d = duration_pb2.Duration()
    d.FromNanoseconds(round(seconds * 1e9))
    return d


def threshold_to_wire(value: Threshold, *, what: str) -> entitlements_pb2.EntitlementThreshold:
    """``{"balance_below": 10}``, ``{"balanceBelowPercent": 20}`` or ``{"usage_above": 100}``."""
    t = normalize(value, what=what, allowed=_THRESHOLD_KEYS)
    if len(t) != 1:
        raise ValueError(f"{what}: give exactly one of {', '.join(_THRESHOLD_KEYS)}")
    ((key, amount),) = t.items()
    return entitlements_pb2.EntitlementThreshold(**{key: to_number(amount, what=f"{what}.{key}")})


def watch_request(
    subject: str | Iterable[str] | None,
    feature: str | Iterable[str] | None,
    thresholds: Iterable[Threshold] | None,
    resume_position: str | None,
    coalesce_interval: float | None,
    heartbeat_interval: float | None,
) -> entitlements_pb2.WatchEntitlementValuesRequest:
    """The request of a watch; ValueError before anything is sent if the selection is empty."""
    request = entitlements_pb2.WatchEntitlementValuesRequest(
        subject_keys=str_list(subject, what="subject"),
        feature_keys=str_list(feature, what="feature"),
        thresholds=[threshold_to_wire(t, what=f"thresholds[{i}]") for i, t in enumerate(thresholds or ())],
        resume_position=resume_position or "",
    )
    if not request.subject_keys and not request.feature_keys:
        raise ValueError("watch: give subject, feature or both")
    if coalesce_interval is not None:
        request.coalesce_interval.CopyFrom(_duration(coalesce_interval, what="coalesce_interval"))
    if heartbeat_interval is not None:
        request.heartbeat_interval.CopyFrom(_duration(heartbeat_interval, what="heartbeat_interval"))
    return request


class Reconnector:
    """What a watch remembers across connections: the last position, and how many retries in a row."""

    def __init__(self, request: entitlements_pb2.WatchEntitlementValuesRequest, reconnect: bool) -> None:
        self.request = request
        self.reconnect = reconnect
        self.position = request.resume_position
        self.attempt = 0
        self.closed = False
        self.streams = 0  # streams opened so far (a reader of the messages sees where one ends)

    def next_request(self) -> entitlements_pb2.WatchEntitlementValuesRequest:
        self.streams += 1
        request = entitlements_pb2.WatchEntitlementValuesRequest()
        request.CopyFrom(self.request)
        request.resume_position = self.position
        return request

    def seen(self, message: Result[entitlements_pb2.WatchEntitlementValuesResponse]) -> None:
        self.position = message.position
        self.attempt = 0

    def can_retry(self, code: grpc.StatusCode | None) -> bool:
        """Whether to reconnect after the stream ended with ``code`` (None: the server ended it cleanly, as it
        does when it shuts down)."""
        return not self.closed and self.reconnect and (code is None or code in _RECONNECT)

    def delay(self) -> float:
        """Seconds to wait before the next attempt (exponential backoff with jitter)."""
        delay = backoff(min(self.attempt, 6))
        self.attempt += 1
        return delay


class Mirror:
    """The values a watch has delivered (wire messages), keyed by (subject, feature key), and how current they
    are. No I/O: feed it messages (results or wire messages), and ``new_stream()`` when the watch reconnected.

    ``as_of`` (seconds since the epoch, the server's clock) is the latest ``current_as_of`` the stream sent:
    every change committed before it is in ``values``. A snapshot's values replace the old ones only with its
    last message (until then the old values, and their ``as_of``, stand); a snapshot cut by a disconnect is
    dropped, never merged into the next one.
    """

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], entitlements_pb2.EntitlementValue] = {}
        self.ids: dict[tuple[str, str], str] = {}  # the entitlement id behind each value
        self._staging: dict[tuple[str, str], entitlements_pb2.EntitlementValue] | None = None
        self._staging_ids: dict[tuple[str, str], str] = {}
        self.synced = False  # a complete snapshot has been applied
        self.as_of: float | None = None

    def new_stream(self) -> None:
        """The watch reconnected: a snapshot the old stream had begun will not be finished."""
        self._staging, self._staging_ids = None, {}

    def _current(self, message: entitlements_pb2.WatchEntitlementValuesResponse) -> None:
        if message.HasField("current_as_of"):
            t = message.current_as_of.seconds + message.current_as_of.nanos / 1e9
            if self.as_of is None or t > self.as_of:
                self.as_of = t

    def apply(
        self,
        message: Result[entitlements_pb2.WatchEntitlementValuesResponse]
        | entitlements_pb2.WatchEntitlementValuesResponse,
    ) -> None:
        if isinstance(message, Result):
            message = message.proto
        if message.snapshot != entitlements_pb2.WATCH_SNAPSHOT_CAUSE_UNSPECIFIED:
            if self._staging is None:
                self._staging, self._staging_ids = {}, {}
            for u in message.updates:
                if not u.deleted:
                    self._staging[(u.subject_key, u.feature_key)] = u.value
                    self._staging_ids[(u.subject_key, u.feature_key)] = u.entitlement_id
            if message.snapshot_complete:
                self.values, self._staging = self._staging, None  # replaced at once: readers never see half
                self.ids = self._staging_ids
                self.synced = True
                self._current(message)
            return
        for u in message.updates:
            key = (u.subject_key, u.feature_key)
            if u.deleted:
                if self.ids.get(key) == u.entitlement_id:  # not a newer entitlement for the same feature
                    self.values.pop(key, None)
                    self.ids.pop(key, None)
            else:
                self.values[key] = u.value
                self.ids[key] = u.entitlement_id
        if self.synced:
            self._current(message)

    def fresh(self, max_staleness: float) -> bool:
        """Whether every change committed more than ``max_staleness`` seconds ago is in ``values``."""
        return self.synced and self.as_of is not None and time.time() < self.as_of + max_staleness


class EntitlementCache:
    """A local mirror of entitlement values, kept current in the background by a watch.

    ``has_access(subject, feature)`` and ``value(subject, feature)`` answer from memory while the mirror is
    current within ``max_staleness`` seconds: every change committed more than ``max_staleness`` seconds
    before the answer is in it (the server says, in each message, up to when its values are current; it sends
    a heartbeat at least every ``max_staleness / 3`` seconds, so a live stream always qualifies). Otherwise
    (the stream is down or behind, a snapshot is still arriving) they call the server (GetEntitlementValue);
    the watch reconnects by itself and the mirror resumes from its last position. Pairs outside the selection
    are always answered by a call. If the watch fails for good (an error a reconnect cannot mend, such as
    PERMISSION_DENIED), they raise that error instead of silently calling the server for every answer.
    The bound relies on this machine's clock agreeing with the server's (NTP): a clock behind the server's by
    d stretches it by d.
    """

    def __init__(
        self,
        watch: EntitlementWatch,
        fetch: Callable[[str, str], Value | None],
        subjects: Iterable[str],
        features: Iterable[str],
        max_staleness: float,
    ) -> None:
        self._watch = watch
        self._fetch = fetch
        self._subjects = frozenset(subjects)
        self._features = frozenset(features)
        self.max_staleness = max_staleness
        self.mirror = Mirror()
        self._ready = threading.Event()
        self._closed = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="meterd-entitlement-cache", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        stream = 0
        try:
            for message in self._watch:
                if self._watch.streams != stream:
                    stream = self._watch.streams
                    self.mirror.new_stream()
                self.mirror.apply(message)
                if self.mirror.synced:
                    self._ready.set()
        except BaseException as exc:  # not retryable (e.g. PERMISSION_DENIED): answers raise it
            self.error = exc
        finally:
            self._ready.set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Waits until the first complete set of values has arrived; False on timeout. Raises the watch's
        error if it failed for good."""
        ready = self._ready.wait(timeout)
        self._raise_failed()
        return ready and self.fresh

    @property
    def fresh(self) -> bool:
        """Whether answers come from memory right now."""
        return self.error is None and not self._closed and self.mirror.fresh(self.max_staleness)

    def _raise_failed(self) -> None:
        if self.error is not None:
            raise self.error

    def _covers(self, subject: str, feature: str) -> bool:
        return (not self._subjects or subject in self._subjects) and (
            not self._features or feature in self._features
        )

    def value(self, subject: str, feature: str) -> Value | None:
        """The entitlement's value, as ``get_entitlement_value`` gives it (None: the subject has no entitlement
        to the feature). Raises the watch's error if it failed for good."""
        if self._covers(subject, feature):
            self._raise_failed()
            if self.fresh:
                v = self.mirror.values.get((subject, feature))
                return None if v is None else Result(v)
        return self._fetch(subject, feature)

    def has_access(self, subject: str, feature: str) -> bool:
        """Whether the subject may use the feature now (False without an entitlement). Raises the watch's error
        if it failed for good."""
        if self._covers(subject, feature):
            self._raise_failed()
            if self.fresh:
                v = self.mirror.values.get((subject, feature))
                return v is not None and v.has_access
        fetched = self._fetch(subject, feature)
        return fetched is not None and bool(fetched.has_access)

    def close(self) -> None:
        """Stops the background watch."""
        self._closed = True
        self._watch.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> EntitlementCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncEntitlementCache:
    """``EntitlementCache`` for AsyncOpenMeter: kept current by an asyncio task; ``await cache.has_access(...)``
    and ``await cache.value(...)`` answer from memory within the same staleness bound, call the server beyond
    it, and raise the watch's error if it failed for good. ``fresh``, ``mirror`` and ``max_staleness`` as on
    the blocking cache."""

    def __init__(
        self,
        watch: AsyncEntitlementWatch,
        fetch: Callable[[str, str], Awaitable[Value | None]],
        subjects: Iterable[str],
        features: Iterable[str],
        max_staleness: float,
    ) -> None:
        self._watch = watch
        self._fetch = fetch
        self._subjects = frozenset(subjects)
        self._features = frozenset(features)
        self.max_staleness = max_staleness
        self.mirror = Mirror()
        self._ready = asyncio.Event()
        self._closed = False
        self.error: BaseException | None = None
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        stream = 0
        try:
            async for message in self._watch:
                if self._watch.streams != stream:
                    stream = self._watch.streams
                    self.mirror.new_stream()
                self.mirror.apply(message)
                if self.mirror.synced:
                    self._ready.set()
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # not retryable: answers raise it
            self.error = exc
        finally:
            self._ready.set()

    async def wait_ready(self, timeout: float | None = None) -> bool:
        """Waits until the first complete set of values has arrived; False on timeout. Raises the watch's
        error if it failed for good."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            self._raise_failed()
            return False
        self._raise_failed()
        return self.fresh

    @property
    def fresh(self) -> bool:
        """Whether answers come from memory right now."""
        return self.error is None and not self._closed and self.mirror.fresh(self.max_staleness)

    def _raise_failed(self) -> None:
        if self.error is not None:
            raise self.error

    def _covers(self, subject: str, feature: str) -> bool:
        return (not self._subjects or subject in self._subjects) and (
            not self._features or feature in self._features
        )

    async def value(self, subject: str, feature: str) -> Value | None:
        """See ``EntitlementCache.value``."""
        if self._covers(subject, feature):
            self._raise_failed()
            if self.fresh:
                v = self.mirror.values.get((subject, feature))
                return None if v is None else Result(v)
        return await self._fetch(subject, feature)

    async def has_access(self, subject: str, feature: str) -> bool:
        """See ``EntitlementCache.has_access``."""
        if self._covers(subject, feature):
            self._raise_failed()
            if self.fresh:
                v = self.mirror.values.get((subject, feature))
                return v is not None and v.has_access
        fetched = await self._fetch(subject, feature)
        return fetched is not None and bool(fetched.has_access)

    async def close(self) -> None:
        """Stops the background watch."""
        self._closed = True
        self._watch.close()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def __aenter__(self) -> AsyncEntitlementCache:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def async_fetcher(
    call: Callable[[str, str], Awaitable[Value]],
) -> Callable[[str, str], Awaitable[Value | None]]:
    """``fetcher`` for the async cache."""

    async def fetch(subject: str, feature: str) -> Value | None:
        try:
            return await call(subject, feature)
        except NotFoundError:
            return None

    return fetch


def fetcher(call: Callable[[str, str], Value]) -> Callable[[str, str], Value | None]:
    """GetEntitlementValue as the cache's fallback: None when there is no such entitlement."""

    def fetch(subject: str, feature: str) -> Value | None:
        try:
            return call(subject, feature)
        except NotFoundError:
            return None

    return fetch


__all__ = ["AsyncEntitlementCache", "EntitlementCache", "MeterdError", "Mirror"]
