"""The composition root: opens the stores, builds every domain's services in one explicit order, then the
gRPC servicers over them. The only place that knows every domain and both backends; no domain imports it.

Order (each step uses only what the steps before it built): stores -> events -> meters (and the meters the
config file declares) -> subjects -> portal -> features -> credit (balances: reads entitlement, grant and
feature stores and the meter service) -> entitlements -> grants -> watching -> notifications -> servicers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import grpc.aio

from meterd.server.balances.service import CreditService
from meterd.server.config import Config
from meterd.server.entitlements.service import EntitlementService
from meterd.server.entitlements.servicer import EntitlementServicer
from meterd.server.events.retention import RawEventRetention
from meterd.server.events.service import EventService
from meterd.server.events.servicer import EventServicer
from meterd.server.features.service import FeatureService
from meterd.server.features.servicer import FeatureServicer
from meterd.server.grants.service import GrantService
from meterd.server.grants.servicer import GrantServicer
from meterd.server.meters.service import MeterService
from meterd.server.meters.servicer import MeterServicer
from meterd.server.metrics import Metrics
from meterd.server.notifications.service import NotificationService
from meterd.server.notifications.servicer import NotificationServicer
from meterd.server.portal.auth import Authenticator, AuthInterceptor
from meterd.server.portal.service import PortalService
from meterd.server.portal.servicer import PortalServicer
from meterd.server.store.stores import Stores
from meterd.server.subjects.service import SubjectService
from meterd.server.subjects.servicer import SubjectServicer
from meterd.server.watch.service import WatchService
from meterd.server.watch.servicer import serve_watch_async
from meterd.server.wiring import events, meters, notifications, portal, watch
from meterd.server.wiring.notifications import Notifying
from meterd.server.wiring.watch import Watching


@dataclass(frozen=True)
class Services:
    """Every domain service of a running server (``MeterdServer.services``)."""

    events: EventService
    meters: MeterService
    subjects: SubjectService
    portal: PortalService
    features: FeatureService
    credit: CreditService
    entitlements: EntitlementService
    grants: GrantService
    watching: Watching
    notifying: Notifying
    # Removes raw events older than storage.raw_event_retention_days (started and stopped with the server);
    # None when they are kept.
    raw_event_retention: RawEventRetention | None = None

    @property
    def watch(self) -> WatchService:
        return self.watching.service

    @property
    def notifications(self) -> NotificationService:
        return self.notifying.service

    def close(self) -> None:
        """Stops the background work: notifications first (they read through a watch session), then watching."""
        self.notifying.close()
        self.watching.close()


@dataclass(frozen=True)
class Servicers:
    """The gRPC servicers, one per meterd service."""

    events: EventServicer
    meters: MeterServicer
    subjects: SubjectServicer
    portal: PortalServicer
    features: FeatureServicer
    entitlements: EntitlementServicer
    grants: GrantServicer
    notifications: NotificationServicer


@dataclass(frozen=True)
class Assembly:
    """What the server runs: services, their servicers, and the interceptors every call passes."""

    services: Services
    servicers: Servicers
    interceptors: list[grpc.aio.ServerInterceptor]
    authenticator: Authenticator  # the HTTP API authenticates with the same rules


def build_services(
    config: Config, stores: Stores, clock: Callable[[], datetime], metrics: Metrics | None = None
) -> Services:
    """Every domain service over ``stores``, in dependency order (see the module doc)."""
    event_service = events.build(stores.events, clock, metrics)
    meter_service = meters.build(stores.meters, stores.meter_windows, clock)
    meters.declare(meter_service, config.meters)
    subject_service = SubjectService(stores.subjects, clock)
    portal_service = portal.build(config, stores.portal, clock)
    feature_service = FeatureService(stores.features, clock)
    snapshots = stores.snapshots if metrics is None else metrics.snapshot_store(stores.snapshots)
    credit = CreditService(
        stores.entitlements, stores.grants, stores.features, meter_service, snapshots, clock
    )
    entitlement_service = EntitlementService(stores.entitlements, feature_service, credit, clock)
    grant_service = GrantService(stores.grants, entitlement_service, clock)
    watching = watch.build(
        stores,
        meter_service,
        entitlement_service,
        grant_service,
        credit,
        clock,
        heartbeat_seconds=config.watch_heartbeat_seconds,
    )
    try:
        notifying = notifications.build(
            config, stores, feature_service, subject_service, credit, watching, clock, metrics
        )
    except BaseException:
        watching.close()
        raise
    return Services(
        events=event_service,
        meters=meter_service,
        subjects=subject_service,
        portal=portal_service,
        features=feature_service,
        credit=credit,
        entitlements=entitlement_service,
        grants=grant_service,
        watching=watching,
        notifying=notifying,
        raw_event_retention=events.retention(stores.events, clock, config.raw_event_retention_days),
    )


def build_servicers(services: Services, clock: Callable[[], datetime]) -> Servicers:
    """The gRPC front over ``services``."""
    meter_servicer = MeterServicer(services.meters)
    return Servicers(
        events=EventServicer(services.events),
        meters=meter_servicer,
        subjects=SubjectServicer(services.subjects),
        portal=PortalServicer(services.portal, meter_servicer),
        features=FeatureServicer(services.features),
        entitlements=EntitlementServicer(
            services.entitlements, clock, partial(serve_watch_async, services.watch)
        ),
        grants=GrantServicer(services.grants),
        notifications=NotificationServicer(services.notifications),
    )


def assemble(
    config: Config, stores: Stores, clock: Callable[[], datetime], metrics: Metrics | None = None
) -> Assembly:
    """Services, servicers and interceptors (authentication guards every call) for one server."""
    services = build_services(config, stores, clock, metrics)
    try:
        servicers = build_servicers(services, clock)
        auth = portal.authenticator(config, services.portal)
        interceptors: list[grpc.aio.ServerInterceptor] = [AuthInterceptor(auth)]
    except BaseException:
        services.close()
        raise
    return Assembly(services, servicers, interceptors, auth)
