"""OpenMeter's HTTP API (meterd.server.http): a front over the same services the gRPC servicers call, with the
same authentication rules. Imported only when ``http.listen`` is set."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime

from meterd.server.config import Config
from meterd.server.http import app as http_app
from meterd.server.http import browsers
from meterd.server.http.app import StreamGate
from meterd.server.http.routes import all_routes
from meterd.server.http.server import HttpServer, bind
from meterd.server.portal.auth import Authenticator
from meterd.server.wiring import Services


def build(
    config: Config,
    services: Services,
    authenticator: Authenticator,
    clock: Callable[[], datetime],
    executor: Executor,
    streams: StreamGate,
) -> HttpServer:
    """The HTTP server, bound to ``config.http_listen`` (not yet serving); blocking work runs on ``executor``;
    its event streams count against the same cap as gRPC's (``streams``). CORS on the portal routes and the
    dashboard directory come from the config."""
    front = http_app.Services(
        events=services.events,
        meters=services.meters,
        subjects=services.subjects,
        portal=services.portal,
        features=services.features,
        entitlements=services.entitlements,
        grants=services.grants,
        authenticator=authenticator,
        clock=clock,
        watch=services.watch,
        streams=streams,
        notifications=services.notifications,
    )
    routes = all_routes(front)
    app = http_app.build_app(
        front,
        routes,
        executor,
        max_body_bytes=config.max_message_bytes,
        middleware=browsers.cors_middleware(browsers.cors_settings(config), routes),
        mounts=browsers.dashboard_mounts(config.dashboard_dir),
    )
    return HttpServer(app, bind(config.http_listen or ""))
