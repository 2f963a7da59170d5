"""Runs the server: storage and services from the composition root (``meterd.server.wiring``), then gRPC on
an event loop with health, reflection and a graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import select
import signal
import socket
import threading
from collections.abc import Callable, Coroutine
from concurrent import futures
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
import grpc.aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from meterd.server import config as config_module
from meterd.server import health as health_servicer
from meterd.server import reflection, rpc, runtime, tls
from meterd.server.config import Config
from meterd.server.metrics import Metrics
from meterd.server.serving import Serving, method_handlers
from meterd.server.store import redact_url
from meterd.server.timeutil import utcnow
from meterd.server.tracing import Tracing
from meterd.server.wiring import Servicers, Services, assemble
from meterd.server.wiring.storage import open_storage
from meterd.v1 import (
    entitlements_pb2,
    entitlements_pb2_grpc,
    events_pb2,
    events_pb2_grpc,
    features_pb2,
    features_pb2_grpc,
    grants_pb2,
    grants_pb2_grpc,
    meters_pb2,
    meters_pb2_grpc,
    notifications_pb2,
    notifications_pb2_grpc,
    portal_pb2,
    portal_pb2_grpc,
    subjects_pb2,
    subjects_pb2_grpc,
)

if TYPE_CHECKING:
    from meterd.server.http.server import HttpServer

log = logging.getLogger("meterd.server")
T = TypeVar("T")

# (file descriptor, service name, add function, its servicer) of every meterd service.
SERVICES: list[tuple[Any, str, Callable[[Any, grpc.Server], None], Callable[[Servicers], object]]] = [
    (events_pb2, "EventService", events_pb2_grpc.add_EventServiceServicer_to_server, lambda s: s.events),
    (meters_pb2, "MeterService", meters_pb2_grpc.add_MeterServiceServicer_to_server, lambda s: s.meters),
    (
        subjects_pb2,
        "SubjectService",
        subjects_pb2_grpc.add_SubjectServiceServicer_to_server,
        lambda s: s.subjects,
    ),
    (portal_pb2, "PortalService", portal_pb2_grpc.add_PortalServiceServicer_to_server, lambda s: s.portal),
    (
        features_pb2,
        "FeatureService",
        features_pb2_grpc.add_FeatureServiceServicer_to_server,
        lambda s: s.features,
    ),
    (
        entitlements_pb2,
        "EntitlementService",
        entitlements_pb2_grpc.add_EntitlementServiceServicer_to_server,
        lambda s: s.entitlements,
    ),
    (grants_pb2, "GrantService", grants_pb2_grpc.add_GrantServiceServicer_to_server, lambda s: s.grants),
    (
        notifications_pb2,
        "NotificationService",
        notifications_pb2_grpc.add_NotificationServiceServicer_to_server,
        lambda s: s.notifications,
    ),
]


def server_options(config: Config) -> list[tuple[str, int]]:
    """gRPC channel arguments from the serving settings (README "Serving")."""
    return [
        ("grpc.max_receive_message_length", config.max_message_bytes),
        ("grpc.max_send_message_length", config.max_message_bytes),
        ("grpc.keepalive_time_ms", int(config.keepalive_time_seconds * 1000)),
        ("grpc.keepalive_timeout_ms", int(config.keepalive_timeout_seconds * 1000)),
        # Clients may ping idle streams (keep-alive) every 10 s, but no more often.
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        # Calls that arrived but that the event loop has not picked up yet: grpc's default (1,000) cancels
        # the newest of a burst of stream openings (say, every producer reconnecting after a restart).
        ("grpc.server.max_pending_requests", max(1000, config.max_streams)),
        ("grpc.server.max_pending_requests_hard_limit", max(3000, 2 * config.max_streams)),
        ("grpc.so_reuseport", 0),  # a second meterd on a taken port fails to start instead of sharing it
        # HTTP/2 flow control: without a bound, grpc's window probing let each producer stream push every
        # batch it had in flight into the server's buffers before the server read any of them.
        ("grpc.http2.bdp_probe", 0),
        ("grpc.http2.lookahead_bytes", HTTP2_LOOKAHEAD_BYTES),
    ]


# A stream's receive window beyond the message being read (grpc's default lookahead is 64 KiB).
HTTP2_LOOKAHEAD_BYTES = 1024 * 1024


class ServerStopped(RuntimeError):
    """meterd stopped by itself: its storage can no longer be written safely (the message says why)."""


class MeterdServer:
    """A running meterd: call ``stop()`` (or send SIGTERM to ``serve``) to shut it down gracefully.

    gRPC is served by ``grpc.aio`` on an event loop in a thread of its own; blocking work runs on a pool of
    ``config.workers`` threads (see ``serving``); writes go through the database's writer (one thread on
    SQLite, a few connections on PostgreSQL).
    """

    def __init__(self, config: Config, clock: Callable[[], datetime] = utcnow) -> None:
        config_module.check(config)
        self.config = config
        self.failure: str | None = None
        self._failure_listeners: list[Callable[[], None]] = []
        self.db, self.stores = open_storage(config.db, config.db_wait_seconds)
        self.metrics = Metrics() if config.metrics_listen else None
        if self.metrics is not None:
            self.metrics.watch_database(self.db)
        self.tracing = Tracing(config.tracing) if config.tracing != "off" else None
        try:
            assembly = assemble(config, self.stores, clock, self.metrics)
        except BaseException:
            self.db.close()
            raise
        self.services: Services = assembly.services
        self.servicers: Servicers = assembly.servicers
        self._interceptors = assembly.interceptors
        self._authenticator = assembly.authenticator
        self._clock = clock
        self.executor = futures.ThreadPoolExecutor(
            max_workers=config.workers, thread_name_prefix="meterd-rpc"
        )
        self.loop = asyncio.new_event_loop()
        self.loop.set_default_executor(self.executor)
        self._loop_thread = threading.Thread(target=self.loop.run_forever, name="meterd-loop", daemon=True)
        self._loop_thread.start()
        self.trimmer = runtime.Trimmer()
        self.serving = Serving(
            self.loop, self.executor, config.max_streams, config.max_inflight_bytes, self.trimmer.request
        )
        self._stopped = threading.Event()
        try:
            self.port = self._on_loop(self._build())
        except BaseException:
            self._close_loop()
            self.services.close()
            self.db.close()
            raise
        host = config.listen.rsplit(":", 1)[0]
        self.address = f"{host}:{self.port}"
        try:
            self.http = self._http_front() if config.http_listen else None
        except BaseException:  # cannot bind: nothing was started
            self._on_loop(self.grpc.stop(0))
            self._close_loop()
            self.db.close()
            raise
        # The HTTP API's address (port 0 resolved), or None when it is off.
        self.http_address = (
            f"{config.http_listen.rsplit(':', 1)[0]}:{self.http.port}"
            if self.http and config.http_listen
            else None
        )

    def _http_front(self) -> HttpServer:
        """OpenMeter's HTTP API over the services the servicers call (built by the composition root)."""
        from meterd.server.wiring import http as http_wiring  # imported only when the HTTP API is on

        return http_wiring.build(
            self.config, self.services, self._authenticator, self._clock, self.executor, self.serving
        )

    def _on_loop(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def _build(self) -> int:
        interceptors = list(self._interceptors)
        if self.metrics is not None:  # outside auth: it also sees the calls authentication refuses
            interceptors.insert(0, self.metrics.interceptor(aio=True))
        if self.tracing is not None:
            interceptors.insert(0, self.tracing.interceptor(aio=True))
        self.grpc = grpc.aio.server(interceptors=interceptors, options=server_options(self.config))
        names = [*reflection.SERVICE_NAMES, health.SERVICE_NAME]
        for module, name, add, servicer_of in SERVICES:
            servicer = servicer_of(self.servicers)
            setattr(
                servicer, rpc.PAGE_TOKEN_KEY_ATTRIBUTE, self.stores.page_token_key
            )  # signs this database's page tokens
            service, handlers = method_handlers(add, servicer)
            adapted = self.serving.adapt(service, handlers)
            self.grpc.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, adapted),))
            self.grpc.add_registered_method_handlers(service, adapted)  # type: ignore[attr-defined]  # grpc-stubs 1.53 predates it
            names.append(module.DESCRIPTOR.services_by_name[name].full_name)
        self.health = health_servicer.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc)
        reflection.enable(self.grpc, names)
        self._service_names = names
        credentials = tls.server_credentials(self.config)
        if credentials is None:
            port = self.grpc.add_insecure_port(self.config.listen)
        else:
            port = self.grpc.add_secure_port(self.config.listen, credentials)
        if port == 0:
            raise RuntimeError(f"cannot listen on {self.config.listen}")
        return port

    def start(self) -> MeterdServer:
        async def start() -> None:
            await self.grpc.start()
            if self.http is not None:
                await self.http.start()
            await self._set_health(self.db.available)

        self.db.add_health_listener(self._database_health)  # NOT_SERVING while the database is unreachable
        self.db.add_failure_listener(self._storage_failed)  # SQLite: a failed fsync stops the server
        self._on_loop(start())
        if self.services.raw_event_retention is not None:
            self.services.raw_event_retention.start()
        if self.metrics is not None and self.config.metrics_listen:
            address = self.metrics.serve(self.config.metrics_listen)
            log.info("metrics endpoint listening", extra={"address": f"http://{address}/metrics"})
        log.info(
            "meterd listening",
            extra={
                "address": self.address,
                "db": redact_url(self.config.db),
                "tls": "mutual" if self.config.tls_client_ca else bool(self.config.tls_cert),
            },
        )
        if self.http_address:
            log.info("HTTP API listening", extra={"address": f"http://{self.http_address}"})
        return self

    async def _set_health(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ["", *self._service_names]:
            await self.health.set(name, status)  # ignored once the graceful shutdown began

    def _database_health(self, available: bool) -> None:
        """The database became unreachable (NOT_SERVING) or answers again (SERVING); on its monitor's thread."""
        if self._stopped.is_set():
            return
        update = self._set_health(available)
        try:
            asyncio.run_coroutine_threadsafe(update, self.loop)
        except RuntimeError:  # the loop is closed: the server is stopping
            update.close()

    def _storage_failed(self, reason: str) -> None:
        """The database can no longer be written safely (on the writer's thread): NOT_SERVING, and whoever
        runs the server is told to stop it (``on_failure``)."""
        self.failure = reason
        self._database_health(False)
        for listener in self._failure_listeners:
            listener()

    def on_failure(self, listener: Callable[[], None]) -> None:
        """Registers a function called when the server must stop because its storage failed (``failure``
        says why); ``serve`` stops and exits 1."""
        self._failure_listeners.append(listener)

    def stop(self, grace: float | None = None) -> None:
        """Stops accepting calls, lets in-flight ones finish, then commits and closes the database."""
        if self._stopped.is_set():
            return
        self._stopped.set()

        async def stop() -> None:
            await self.health.enter_graceful_shutdown()
            self.serving.begin_shutdown()
            self.services.close()  # ends notifications' work and watch streams (which would wait for the grace)
            seconds = self.config.grace_seconds if grace is None else grace
            if self.http is None:
                await self.grpc.stop(seconds)
            else:
                await asyncio.gather(self.grpc.stop(seconds), self.http.stop(seconds))

        self._on_loop(stop())
        self._close_loop()
        if self.services.raw_event_retention is not None:
            self.services.raw_event_retention.stop()
        if self.metrics is not None:
            self.metrics.stop()
        if self.tracing is not None:
            self.tracing.stop()
        self.db.close()
        log.info("meterd stopped")

    def _close_loop(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)  # bodies still running finish their writes
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._loop_thread.join()
        self.loop.close()

    def wait(self) -> None:
        self._stopped.wait()


def serve(config: Config) -> None:
    """Runs meterd until SIGTERM or SIGINT, then shuts down gracefully.

    The main thread sleeps in ``select`` on the signal module's wakeup descriptor, not on a lock: Python runs a
    signal handler on the main thread only, and the kernel may deliver a process's SIGTERM to any of its
    threads. When another thread takes it, the C-level handler only marks it pending; a main thread blocked in
    ``Event.wait()`` (a futex) is not interrupted and never runs the handler, so meterd slept through the
    SIGTERM (seen in the test suite under load: the main thread in ``Event.wait``, SIGTERM caught and no
    longer pending, no "shutting down" record). The wakeup descriptor is written whichever thread takes the
    signal, so the main thread always wakes. The handlers are installed before the server starts to serve:
    a SIGTERM that comes as soon as health answers is a graceful stop too, not the default kill.
    """
    runtime.tune()  # this process is the server's alone: GIL switch interval, collector thresholds
    server = MeterdServer(config)
    wake_read, wake_write = socket.socketpair()
    wake_read.setblocking(False)
    wake_write.setblocking(False)
    previous = signal.set_wakeup_fd(wake_write.fileno(), warn_on_full_buffer=False)
    signal.signal(signal.SIGTERM, _note_signal)
    signal.signal(signal.SIGINT, _note_signal)

    # On the writer's thread: a byte that is no signal number wakes the main thread.
    def storage_failed() -> None:
        with contextlib.suppress(OSError):
            wake_write.send(b"\0")

    try:
        server.on_failure(storage_failed)
        server.start()
        runtime.freeze_startup()
        print(f"meterd listening on {server.address}", flush=True)
        if server.http_address:
            print(f"meterd HTTP API on http://{server.http_address}", flush=True)
        received = _wait_for_stop(wake_read, server)
        if received is not None:
            log.info("shutting down", extra={"signal": received.name})
        server.stop()
    finally:
        # The handlers stay: a second SIGTERM during the shutdown (or one that another thread still had pending,
        # seen in tests/cli/test_signals.py) must not kill the process with the default action now.
        signal.set_wakeup_fd(previous)
        wake_read.close()
        wake_write.close()
    if server.failure is not None:
        raise ServerStopped(server.failure)


def _note_signal(_signum: int, _frame: Any) -> None:
    """SIGTERM's and SIGINT's Python handler: nothing to do; the wakeup descriptor carries the signal."""


def _wait_for_stop(wake: socket.socket, server: MeterdServer) -> signal.Signals | None:
    """Blocks until SIGTERM or SIGINT (returned) or a storage failure (None)."""
    while True:
        select.select([wake], [], [])
        try:
            received = wake.recv(64)
        except BlockingIOError:  # woken for nothing (select may say so): sleep again
            continue
        for number in received:
            if number in (signal.SIGTERM, signal.SIGINT):
                return signal.Signals(number)
        if server.failure is not None:
            return None
