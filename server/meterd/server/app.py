"""Assembles the server: storage, each domain's services and servicers, health, reflection, shutdown.

Each domain package may have a ``wiring`` module with ``wire(ctx)``: it builds the domain's services
from ``ctx`` (storage, clock, config, services of domains wired before it) and registers servicers and
interceptors. A service without a wired domain answers UNIMPLEMENTED (the generated base servicer).
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from meterd.server.config import Config
from meterd.server.store.sqlite.db import Database
from meterd.server.timeutil import utcnow
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
    portal_pb2,
    portal_pb2_grpc,
    subjects_pb2,
    subjects_pb2_grpc,
)

log = logging.getLogger("meterd.server")

# Domains in wiring order: later ones may use the services of earlier ones.
DOMAINS = ("events", "meters", "subjects", "portal", "features", "entitlements", "grants", "watch")

# (file descriptor, service name, add function, generated base servicer) of every meterd service.
SERVICES: list[tuple[Any, str, Callable[[Any, grpc.Server], None], type]] = [
    (events_pb2, "EventService", events_pb2_grpc.add_EventServiceServicer_to_server,
     events_pb2_grpc.EventServiceServicer),
    (meters_pb2, "MeterService", meters_pb2_grpc.add_MeterServiceServicer_to_server,
     meters_pb2_grpc.MeterServiceServicer),
    (subjects_pb2, "SubjectService", subjects_pb2_grpc.add_SubjectServiceServicer_to_server,
     subjects_pb2_grpc.SubjectServiceServicer),
    (portal_pb2, "PortalService", portal_pb2_grpc.add_PortalServiceServicer_to_server,
     portal_pb2_grpc.PortalServiceServicer),
    (features_pb2, "FeatureService", features_pb2_grpc.add_FeatureServiceServicer_to_server,
     features_pb2_grpc.FeatureServiceServicer),
    (entitlements_pb2, "EntitlementService", entitlements_pb2_grpc.add_EntitlementServiceServicer_to_server,
     entitlements_pb2_grpc.EntitlementServiceServicer),
    (grants_pb2, "GrantService", grants_pb2_grpc.add_GrantServiceServicer_to_server,
     grants_pb2_grpc.GrantServiceServicer),
]

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
SERVER_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
]


@dataclass
class AppContext:
    """What domains are wired with, and what they register."""

    config: Config
    db: Database
    clock: Callable[[], datetime]
    services: dict[str, Any] = field(default_factory=dict)  # domain services by name, for later domains
    servicers: dict[str, Any] = field(default_factory=dict)  # service name -> servicer
    interceptors: list[grpc.ServerInterceptor] = field(default_factory=list)
    on_start: list[Callable[[], None]] = field(default_factory=list)
    on_stop: list[Callable[[], None]] = field(default_factory=list)  # run first at shutdown (ends watches)

    def add_servicer(self, service_name: str, servicer: Any) -> None:
        self.servicers[service_name] = servicer


class MeterdServer:
    """A running meterd: call ``stop()`` (or send SIGTERM to ``serve``) to shut it down gracefully."""

    def __init__(self, config: Config, clock: Callable[[], datetime] = utcnow) -> None:
        self.config = config
        self.db = Database(config.db)
        self.ctx = AppContext(config=config, db=self.db, clock=clock)
        for domain in DOMAINS:
            try:
                wiring = importlib.import_module(f"meterd.server.{domain}.wiring")
            except ModuleNotFoundError as exc:
                if exc.name not in (f"meterd.server.{domain}", f"meterd.server.{domain}.wiring"):
                    raise
                continue
            wiring.wire(self.ctx)
        for hook in self.ctx.on_start:
            hook()
        self.grpc = grpc.server(
            futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="meterd-rpc"),
            interceptors=self.ctx.interceptors,
            options=SERVER_OPTIONS,
            maximum_concurrent_rpcs=1024,
        )
        names = [reflection.SERVICE_NAME, health.SERVICE_NAME]
        for module, name, add, base in SERVICES:
            add(self.ctx.servicers.get(name) or base(), self.grpc)
            names.append(module.DESCRIPTOR.services_by_name[name].full_name)
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc)
        reflection.enable_server_reflection(names, self.grpc)
        self.port = self.grpc.add_insecure_port(config.listen)
        if self.port == 0:
            raise RuntimeError(f"cannot listen on {config.listen}")
        host = config.listen.rsplit(":", 1)[0]
        self.address = f"{host}:{self.port}"
        self._service_names = names
        self._stopped = threading.Event()

    def start(self) -> MeterdServer:
        self.grpc.start()
        for name in ["", *self._service_names]:
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("meterd listening", extra={"address": self.address, "db": self.config.db})
        return self

    def stop(self, grace: float | None = None) -> None:
        """Stops accepting calls, lets in-flight ones finish, then commits and closes the database."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.health.enter_graceful_shutdown()
        for hook in self.ctx.on_stop:
            hook()
        self.grpc.stop(self.config.grace_seconds if grace is None else grace).wait()
        self.db.close()
        log.info("meterd stopped")

    def wait(self) -> None:
        self._stopped.wait()


def serve(config: Config) -> None:
    """Runs meterd until SIGTERM or SIGINT, then shuts down gracefully."""
    server = MeterdServer(config).start()
    done = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("shutting down", extra={"signal": signal.Signals(signum).name})
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"meterd listening on {server.address}", flush=True)
    done.wait()
    server.stop()
