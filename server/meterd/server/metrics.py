"""Prometheus metrics on a port of their own (``metrics.listen``; off by default).

What an operator watches: events by type and outcome, ingest batch sizes, group-commit latency and size,
the writer's queue, RPCs by method and status code with their latency, open request streams, database and
WAL file sizes, balance-snapshot hits and misses. Each server has its own registry (several servers in one
process do not mix), and nothing is measured when metrics are off: the instrumented wrappers below are only
put in place by ``wiring`` when a ``Metrics`` exists.
"""

from __future__ import annotations

import inspect
import os
import threading
import time
from collections import Counter as Tally
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from typing import Any

import grpc
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# Event types are chosen by clients, so the ``type`` label is bounded three ways: only a type some stored
# (accepted) event has becomes a label value (a rejected event never adds one: it counts under its type only
# if that is a label already, else "_other"); a type longer than MAX_TYPE_LABEL_CHARS is "_other"; and past
# MAX_EVENT_TYPES distinct types, new ones are "_other". (200 rejected junk types of 400 KB each once made
# every scrape 80 MB and pushed the real types into "_other".)
MAX_EVENT_TYPES = 200
MAX_TYPE_LABEL_CHARS = 100
OTHER_TYPE = "_other"
_ADMITTING = frozenset({"accepted", "duplicate"})

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_BATCH_BUCKETS = (1, 10, 50, 100, 500, 1000, 2500, 5000, 10000)


class _FileSizes(Collector):
    """meterd_database_bytes{file="db"|"wal"}, read when scraped."""

    def __init__(self, path: str) -> None:
        self._files = {"db": path, "wal": path + "-wal"}

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "meterd_database_bytes", "Size of the SQLite database and WAL files", labels=["file"]
        )
        for name, path in self._files.items():
            try:
                family.add_metric([name], os.path.getsize(path))
            except OSError:
                family.add_metric([name], 0)
        yield family


class _NotificationQueue(Collector):
    """meterd_notification_queue_depth and meterd_notification_oldest_pending_seconds, read from the outbox
    when scraped (every replica reports the shared outbox)."""

    def __init__(self, queue: Callable[[], tuple[int, Any]], clock: Callable[[], Any]) -> None:
        self._queue = queue
        self._clock = clock

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            depth, oldest = self._queue()
        except Exception:  # the database is unreachable: no sample rather than a failed scrape
            return
        yield GaugeMetricFamily(
            "meterd_notification_queue_depth",
            "Webhook deliveries waiting for their first attempt, a retry, or in progress",
            value=depth,
        )
        age = (self._clock() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "meterd_notification_oldest_pending_seconds",
            "Age of the oldest delivery not yet delivered or given up",
            value=max(0.0, age),
        )


class NotificationMetrics:
    """What the notification evaluator and dispatcher report (their Observer)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "meterd_notification_events",
            "Notification events created (threshold crossings and tests)",
            registry=registry,
        )
        self.attempts = Counter(
            "meterd_notification_delivery_attempts",
            "Webhook delivery attempts by result: success, http_error (a non-2xx answer), no_answer, refused",
            ["result"],
            registry=registry,
        )
        self.attempt_seconds = Histogram(
            "meterd_notification_attempt_seconds",
            "Duration of a delivery attempt",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.failures = Counter(
            "meterd_notification_delivery_failures", "Deliveries given up (FAILED)", registry=registry
        )
        self.latency = Histogram(
            "meterd_notification_delivery_seconds",
            "From an event's creation to its successful delivery",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )

    def attempt(self, result: str, seconds: float) -> None:
        self.attempts.labels(result).inc()
        self.attempt_seconds.observe(seconds)

    def delivered(self, seconds_since_created: float) -> None:
        self.latency.observe(max(0.0, seconds_since_created))

    def failed(self) -> None:
        self.failures.inc()

    def created(self, n: int) -> None:
        self.events.inc(n)


class Metrics:
    """The server's metrics and the wrappers that record them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        ProcessCollector(registry=r)  # process_cpu_seconds_total, process_resident_memory_bytes, open fds
        self.events = Counter(
            "meterd_events",
            "Ingested events by type and outcome (accepted, duplicate, rejected)",
            ["type", "outcome"],
            registry=r,
        )
        self.batch_events = Histogram(
            "meterd_ingest_batch_events",
            "Events per ingest call or streamed batch",
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.commit_seconds = Histogram(
            "meterd_commit_seconds",
            "Duration of a group commit (write transaction and fsync)",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.commit_jobs = Histogram(
            "meterd_commit_jobs",
            "Write jobs sharing one group commit",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=r,
        )
        self.queue_depth = Gauge(
            "meterd_writer_queue_depth", "Write jobs waiting for the writer thread", registry=r
        )
        self.handled = Counter(
            "grpc_server_handled",
            "RPCs completed, by method and status code",
            ["grpc_service", "grpc_method", "grpc_code"],
            registry=r,
        )
        self.handling = Histogram(
            "grpc_server_handling_seconds",
            "RPC duration, by method",
            ["grpc_service", "grpc_method"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.open_streams = Gauge(
            "meterd_open_streams",
            "Request streams open now (StreamEvents producers)",
            ["grpc_service", "grpc_method"],
            registry=r,
        )
        self.snapshot_lookups = Counter(
            "meterd_balance_snapshot_lookups",
            "Balance snapshot lookups of the credit engine: hit (replay from a snapshot) or miss",
            ["result"],
            registry=r,
        )
        self._types: set[str] = set()
        self._types_lock = threading.Lock()
        self._http: Any = None
        self.address: str | None = None

    # -- the endpoint --------------------------------------------------------------------------------
    def serve(self, listen: str) -> str:
        """Starts the HTTP endpoint (/metrics) on ``listen`` (host:port; port 0 picks one); returns its
        host:port."""
        host, _, port = listen.rpartition(":")
        self._http, _thread = start_http_server(
            int(port), addr=host.strip("[]") or "0.0.0.0", registry=self.registry
        )
        self.address = f"{host}:{self._http.server_address[1]}"
        return self.address

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    # -- storage -------------------------------------------------------------------------------------
    def watch_database(self, db: Any) -> None:
        """Group commits as they happen; file sizes and the writer's queue depth at each scrape. (What a
        backend does not have, it does not report: a server database has no local files.)"""
        if hasattr(db, "add_commit_listener"):
            db.add_commit_listener(self.on_commit)
        if hasattr(db, "queue_depth"):
            self.queue_depth.set_function(db.queue_depth)
        path = getattr(db, "path", None)
        if isinstance(path, str) and path != ":memory:" and "://" not in path:
            self.registry.register(_FileSizes(path))

    def on_commit(self, jobs: int, seconds: float) -> None:
        """A group commit of ``jobs`` jobs took ``seconds``."""
        self.commit_jobs.observe(jobs)
        self.commit_seconds.observe(seconds)

    # -- notifications -------------------------------------------------------------------------------
    def notifications(
        self, queue: Callable[[], tuple[int, Any]], clock: Callable[[], Any]
    ) -> NotificationMetrics:
        """The notification metrics; the outbox's depth and oldest entry are read from ``queue`` when scraped."""
        self.registry.register(_NotificationQueue(queue, clock))
        return NotificationMetrics(self.registry)

    # -- events --------------------------------------------------------------------------------------
    def _type_label(self, event_type: Any, outcome: str) -> str:
        if not isinstance(event_type, str) or len(event_type) > MAX_TYPE_LABEL_CHARS:
            return OTHER_TYPE
        if event_type in self._types:
            return event_type
        if outcome not in _ADMITTING:  # rejected input never becomes a label value
            return OTHER_TYPE
        with self._types_lock:
            if len(self._types) < MAX_EVENT_TYPES:
                self._types.add(event_type)
                return event_type
        return OTHER_TYPE

    def record_batch(self, events: Sequence[tuple[Any, Any]], outcomes: Iterable[tuple[int, str]]) -> None:
        """Counts one batch: ``events`` as given to the event service, ``outcomes`` (index, outcome)."""
        self.batch_events.observe(len(events))
        tally = Tally((events[index][0].type, str(outcome)) for index, outcome in outcomes)
        # Stored events first: a rejected event of a type that the same batch stores counts under it.
        for (event_type, outcome), n in sorted(tally.items(), key=lambda item: item[0][1] not in _ADMITTING):
            self.events.labels(self._type_label(event_type, outcome), outcome).inc(n)

    def event_service(self, service: Any) -> Any:
        """``service`` (an EventService) counting what it ingests."""
        return _CountingEvents(service, self)

    # -- credit --------------------------------------------------------------------------------------
    def snapshot_store(self, store: Any) -> Any:
        """``store`` (a snapshot store) counting hits and misses of ``latest``."""
        return _CountingSnapshots(store, self.snapshot_lookups)

    # -- RPCs ----------------------------------------------------------------------------------------
    def interceptor(self, aio: bool) -> Any:
        """A server interceptor recording every RPC (for a grpc.aio server when ``aio``)."""
        return _AsyncRpcInterceptor(self) if aio else _RpcInterceptor(self)

    def instrument(self, handler: grpc.RpcMethodHandler | None, method: str) -> grpc.RpcMethodHandler | None:
        """The same handler, recording its duration, status code and (for request streams) open count."""
        if handler is None:
            return None
        service, _, name = method.lstrip("/").rpartition("/")
        done = self.handled
        duration = self.handling.labels(service, name)
        streams = self.open_streams.labels(service, name) if handler.request_streaming else None

        def finish(context: Any, start: float, error: BaseException | None) -> None:
            duration.observe(time.perf_counter() - start)
            if streams is not None:
                streams.dec()
            done.labels(service, name, _code_name(context, error)).inc()

        def wrap(behavior: Callable[..., Any]) -> Callable[..., Any]:
            if inspect.isasyncgenfunction(behavior):

                async def run_async_gen(request: Any, context: Any) -> AsyncIterator[Any]:
                    start, error = _begin(streams), None
                    try:
                        async for item in behavior(request, context):
                            yield item
                    except BaseException as exc:
                        error = exc
                        raise
                    finally:
                        finish(context, start, error)

                return run_async_gen
            if inspect.iscoroutinefunction(behavior):

                async def run_async(request: Any, context: Any) -> Any:
                    start, error = _begin(streams), None
                    try:
                        return await behavior(request, context)
                    except BaseException as exc:
                        error = exc
                        raise
                    finally:
                        finish(context, start, error)

                return run_async
            streaming_reply = handler.response_streaming

            def run(request: Any, context: Any) -> Any:
                start, error = _begin(streams), None
                try:
                    result = behavior(request, context)
                except BaseException as exc:
                    finish(context, start, exc)
                    raise
                if not streaming_reply or not isinstance(result, Iterator):
                    finish(context, start, error)
                    return result
                return _timed_iterator(result, context, start, finish)

            return run

        kinds: list[tuple[Any, Callable[..., grpc.RpcMethodHandler]]] = [
            (handler.unary_unary, grpc.unary_unary_rpc_method_handler),
            (handler.unary_stream, grpc.unary_stream_rpc_method_handler),
            (handler.stream_unary, grpc.stream_unary_rpc_method_handler),
            (handler.stream_stream, grpc.stream_stream_rpc_method_handler),
        ]
        for behavior, make in kinds:
            if behavior is not None:
                return make(
                    wrap(behavior),
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
        return handler


def _begin(streams: Any) -> float:
    if streams is not None:
        streams.inc()
    return time.perf_counter()


def _timed_iterator(
    items: Iterator[Any],
    context: Any,
    start: float,
    finish: Callable[[Any, float, BaseException | None], None],
) -> Iterator[Any]:
    error: BaseException | None = None
    try:
        yield from items
    except BaseException as exc:
        error = exc
        raise
    finally:
        finish(context, start, error)


def _code_name(context: Any, error: BaseException | None) -> str:
    """The call's status: what the servicer set or aborted with; UNKNOWN for an unhandled error; CANCELLED
    when the caller went away."""
    code = None
    try:
        code = context.code()
    except Exception:  # a context without code() (very old grpc): fall back to the error
        code = None
    if isinstance(code, grpc.StatusCode):
        return code.name
    if isinstance(code, int):  # grpc.aio returns the numeric code in some versions
        for status in grpc.StatusCode:
            if status.value[0] == code:
                return status.name
    if error is None:
        return "OK"
    if isinstance(error, GeneratorExit) or type(error).__name__ == "CancelledError":
        return "CANCELLED"
    return "UNKNOWN"


class _RpcInterceptor(grpc.ServerInterceptor):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        return self._metrics.instrument(continuation(handler_call_details), handler_call_details.method)


class _AsyncRpcInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def intercept_service(  # type: ignore[override]  # grpc-stubs 1.53: a handler may be None
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Any],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        return self._metrics.instrument(await continuation(handler_call_details), handler_call_details.method)


class _CountingEvents:
    """An EventService that counts each batch's outcomes by event type."""

    def __init__(self, inner: Any, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def ingest(self, events: Sequence[tuple[Any, Any]]) -> Any:
        from meterd.server.errors import InvalidArgument
        from meterd.server.events.model import Outcome

        try:
            result = self._inner.ingest(events)
        except InvalidArgument:  # all or nothing: every event of the call was refused
            self._metrics.record_batch(events, ((i, Outcome.REJECTED) for i in range(len(events))))
            raise
        self._metrics.record_batch(events, ((r.index, r.outcome) for r in result.results))
        return result

    def submit_batch(self, events: Sequence[tuple[Any, Any]]) -> Future[Any]:
        future: Future[Any] = self._inner.submit_batch(events)

        def count(done: Future[Any]) -> None:
            if not done.cancelled() and done.exception() is None:
                self._metrics.record_batch(events, ((r.index, r.outcome) for r in done.result().results))

        future.add_done_callback(count)
        return future


class _CountingSnapshots:
    """A snapshot store that counts whether ``latest`` found a snapshot."""

    def __init__(self, inner: Any, lookups: Counter) -> None:
        self._inner = inner
        self._hit = lookups.labels("hit")
        self._miss = lookups.labels("miss")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def latest(self, *args: Any, **kwargs: Any) -> Any:
        state = self._inner.latest(*args, **kwargs)
        (self._hit if state is not None else self._miss).inc()
        return state
