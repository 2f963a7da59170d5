"""Delivering events to channels, at least once, from the outbox, on an event loop of its own.

The dispatcher claims due deliveries (a lease in the database: on PostgreSQL with SKIP LOCKED, so several
replicas take different rows; a replica killed mid-attempt leaves a lease that expires, and another takes
the delivery over), sends each as a signed POST (Standard Webhooks: ``webhook-id`` is the event's id, the
same on every attempt and to every channel, so a receiver deduplicates by it; ``webhook-timestamp`` is the
attempt's time; ``webhook-signature`` an HMAC-SHA256 of id, timestamp and body with the channel's secret),
and records the attempt. A 2xx answer is SUCCESS; anything else is retried on the schedule of
``schedule.py`` (about 24 hours), then FAILED. A refused target, or a channel disabled or deleted
meanwhile, is FAILED at once.

Isolation: at most ``per_channel`` attempts per channel run at once (its connection pool holds as many
connections) and at most ``max_in_flight`` in all; each attempt ends within ``attempt_timeout``. So a slow
or dead endpoint costs a bounded number of connections and time slots, and the other channels' deliveries
keep flowing. Nothing here runs on the ingest path: events reach the outbox from the evaluator.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from standardwebhooks import Webhook

from meterd.server import ids
from meterd.server.notifications import schedule, targets
from meterd.server.notifications.model import Attempt, AttemptOutcome, ClaimedDelivery, DeliveryState
from meterd.server.notifications.service import NotificationStore

log = logging.getLogger("meterd.notifications")

DEFAULT_ATTEMPT_TIMEOUT = 10.0
MAX_IN_FLIGHT = 64
PER_CHANNEL = 4
# How often the outbox is looked at when nothing wakes the dispatcher (other replicas' events, retries).
POLL_SECONDS = 1.0
# A lease outlives the attempt (twice its timeout, plus this) so that recording the outcome has time; when a
# process dies mid-attempt, another takes the delivery over once the lease ends (25 s with the default 10 s).
LEASE_MARGIN = timedelta(seconds=5)
USER_AGENT = "meterd-webhooks/1"


class SendResult(Protocol):
    """An attempt's result: ``status`` 0 without an HTTP answer; ``refused`` when the target is refused."""

    @property
    def status(self) -> int: ...
    @property
    def error(self) -> str: ...
    @property
    def refused(self) -> bool: ...


class Sender(Protocol):
    """Sends one attempt (the webhooks adapter): never raises for what the endpoint or network does."""

    async def send(
        self, channel_id: str, url: str, headers: Sequence[tuple[str, str]], body: bytes, timeout: float
    ) -> SendResult: ...
    async def prune(self) -> None: ...
    async def aclose(self) -> None: ...


class Observer(Protocol):
    """What the dispatcher reports (the metrics)."""

    def attempt(self, result: str, seconds: float) -> None: ...
    def delivered(self, seconds_since_created: float) -> None: ...
    def failed(self) -> None: ...


class _Quiet:
    def attempt(self, result: str, seconds: float) -> None:
        pass

    def delivered(self, seconds_since_created: float) -> None:
        pass

    def failed(self) -> None:
        pass


def signed_headers(delivery: ClaimedDelivery, now: datetime) -> list[tuple[str, str]]:
    """The request's headers: the channel's own, then content type and the Standard Webhooks trio."""
    timestamp = now.replace(microsecond=0)
    signature = Webhook(delivery.signing_secret).sign(
        delivery.event_id, timestamp, delivery.payload_json.encode()
    )
    own_agent = any(name.lower() == "user-agent" for name in delivery.custom_headers)
    return [
        *delivery.custom_headers.items(),
        ("content-type", "application/json"),
        *([] if own_agent else [("user-agent", USER_AGENT)]),
        ("webhook-id", delivery.event_id),
        ("webhook-timestamp", str(int(timestamp.timestamp()))),
        ("webhook-signature", signature),
    ]


def outcome_of(
    delivery: ClaimedDelivery,
    status: int,
    error: str,
    refused: bool,
    started: datetime,
    seconds: float,
    now: datetime,
) -> AttemptOutcome:
    """Where a delivery goes after an attempt: SUCCESS, a retry (PENDING) or FAILED."""
    attempt = Attempt(started, status, error, seconds)
    if 200 <= status < 300:
        return AttemptOutcome(DeliveryState.SUCCESS, attempt, "", None)
    delay = None if refused else schedule.retry_delay(delivery.attempts + 1)
    if delay is None:
        reason = error if refused else f"gave up after {delivery.attempts + 1} attempts; last: {error}"
        return AttemptOutcome(DeliveryState.FAILED, attempt, reason, None)
    return AttemptOutcome(DeliveryState.PENDING, attempt, error, now + delay)


class Dispatcher:
    """Claims and sends due deliveries until closed. ``sender`` is built on the dispatcher's own loop."""

    def __init__(
        self,
        store: NotificationStore,
        sender: Callable[[], Sender],
        clock: Callable[[], datetime],
        *,
        allow_private: bool = False,
        attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT,
        max_in_flight: int = MAX_IN_FLIGHT,
        per_channel: int = PER_CHANNEL,
        observer: Observer | None = None,
        owner: str | None = None,
    ) -> None:
        self._store = store
        self._make_sender = sender
        self._clock = clock
        self._allow_private = allow_private
        self.attempt_timeout = attempt_timeout
        self.lease = timedelta(seconds=2 * attempt_timeout) + LEASE_MARGIN
        self._max_in_flight = max_in_flight
        self._per_channel = per_channel
        self._observer = observer or _Quiet()
        self.owner = owner or ids.new_id()
        self._in_flight: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._by_channel: dict[str, int] = {}
        self._loop = asyncio.new_event_loop()
        self._woken: asyncio.Event | None = None
        self._db = ThreadPoolExecutor(max_workers=2, thread_name_prefix="meterd-notify-db")
        self._stopping = False
        self._thread = threading.Thread(target=self._loop.run_forever, name="meterd-notify-send", daemon=True)
        self._main: Any = None
        self.attempts_made = 0

    def start(self) -> None:
        self._thread.start()
        self._main = asyncio.run_coroutine_threadsafe(self._run(), self._loop)

    def wake(self) -> None:
        """Something may be due now (events stored on this replica)."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: shutting down
            self._loop.call_soon_threadsafe(self._set_woken)

    def _set_woken(self) -> None:
        if self._woken is not None:
            self._woken.set()

    def close(self, grace: float = 2.0) -> None:
        """Stops claiming; attempts in flight get ``grace`` seconds, then are cancelled (their leases expire
        and they are attempted again, by this replica's next run or another one)."""
        self._stopping = True
        self.wake()
        if self._main is not None:
            with contextlib.suppress(Exception):
                self._main.result(timeout=grace + self.attempt_timeout + 5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._db.shutdown(wait=False, cancel_futures=True)

    async def _in_db(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self._loop.run_in_executor(self._db, fn, *args)

    async def _run(self) -> None:
        self._woken = asyncio.Event()
        sender = self._make_sender()
        last_prune = time.monotonic()
        try:
            while not self._stopping:
                wait = POLL_SECONDS
                try:
                    if await self._claim_and_start(sender):
                        wait = 0.0  # more may be due
                    else:
                        due = await self._in_db(self._store.next_due)
                        if due is not None:
                            wait = min(POLL_SECONDS, max(0.0, (due - self._clock()).total_seconds()))
                except Exception:
                    log.exception("notifications: claiming deliveries failed; retrying")
                    wait = POLL_SECONDS
                if time.monotonic() - last_prune > 60:
                    last_prune = time.monotonic()
                    await sender.prune()
                self._woken.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), wait)
            if self._in_flight:
                await asyncio.wait(list(self._in_flight.values()), timeout=2.0)
                for task in self._in_flight.values():
                    task.cancel()
        finally:
            await sender.aclose()

    async def _claim_and_start(self, sender: Sender) -> bool:
        """Claims what there is room for and starts an attempt for each; True when the room was filled (more
        may be waiting)."""
        free = self._max_in_flight - len(self._in_flight)
        if free <= 0:
            return False
        room = {channel: self._per_channel - n for channel, n in self._by_channel.items()}
        now = self._clock()
        claimed: list[ClaimedDelivery] = await self._in_db(
            self._store.claim, self.owner, now, now + self.lease, free, room, self._per_channel
        )
        started = 0
        for delivery in claimed:
            key = (delivery.event_id, delivery.channel_id)
            if key in self._in_flight:
                continue  # our own lease ran out while its attempt is still running (a clock jump): one attempt
            self._by_channel[delivery.channel_id] = self._by_channel.get(delivery.channel_id, 0) + 1
            task = self._loop.create_task(self._attempt(sender, delivery))
            self._in_flight[key] = task
            task.add_done_callback(functools.partial(self._done, key, delivery.channel_id))
            started += 1
        return len(claimed) >= free and started > 0

    def _done(self, key: tuple[str, str], channel: str, _task: object = None) -> None:
        self._in_flight.pop(key, None)
        left = self._by_channel.get(channel, 1) - 1
        if left > 0:
            self._by_channel[channel] = left
        else:
            self._by_channel.pop(channel, None)
        self._set_woken()

    async def _attempt(self, sender: Sender, delivery: ClaimedDelivery) -> None:
        started = self._clock()
        clock_started = time.monotonic()
        if not delivery.channel_active:
            outcome = AttemptOutcome(DeliveryState.FAILED, None, "the channel was disabled or deleted", None)
        else:
            try:
                targets.parse_url(delivery.url, self._allow_private)
                headers = signed_headers(
                    delivery, datetime.now(UTC)
                )  # receivers check it against their clock
                result = await sender.send(
                    delivery.channel_id,
                    delivery.url,
                    headers,
                    delivery.payload_json.encode(),
                    self.attempt_timeout,
                )
                status, error, refused = result.status, result.error, result.refused
            except targets.RefusedTarget as exc:
                status, error, refused = 0, f"refused: {exc}", True
            except Exception as exc:  # a bug must not leave the delivery leased forever: it is retried
                log.exception(
                    "notifications: an attempt failed unexpectedly", extra={"event": delivery.event_id}
                )
                status, error, refused = 0, f"internal error: {type(exc).__name__}", False
            seconds = time.monotonic() - clock_started
            self.attempts_made += 1
            kind = (
                "success"
                if 200 <= status < 300
                else "refused"
                if refused
                else "http_error"
                if status
                else "no_answer"
            )
            self._observer.attempt(kind, seconds)
            outcome = outcome_of(delivery, status, error, refused, started, seconds, self._clock())
        try:
            await self._in_db(self._store.record, self.owner, delivery, outcome, self._clock())
        except Exception:
            log.exception(
                "notifications: recording an attempt failed; its lease will expire and it is retried",
                extra={"event": delivery.event_id, "channel": delivery.channel_id},
            )
            return
        if outcome.state is DeliveryState.SUCCESS:
            self._observer.delivered((self._clock() - delivery.created_at).total_seconds())
        elif outcome.state is DeliveryState.FAILED:
            self._observer.failed()
            log.warning(
                "notifications: delivery failed for good",
                extra={"event": delivery.event_id, "channel": delivery.channel_id, "reason": outcome.reason},
            )
