"""What the HTTP API does for browsers beyond its routes: CORS, and a directory of static pages.

CORS: pages on the configured origins may call the portal routes (and the admin routes only when configured
so). Starlette's CORSMiddleware answers preflights and adds the headers; this module confines it to the
routes it is meant for, so an admin route answers a cross-origin call without any ``Access-Control-*``
header (the browser then keeps the answer from the page) unless ``admin_routes``.

Static pages: ``http.dashboard_dir`` is served at ``/dashboard/`` (examples/dashboard in ``make run``),
open to anybody (the pages hold no credential; the user gives the page a portal token).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount, compile_path
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from meterd.server.config import Config
from meterd.server.http.app import Access, Route

DASHBOARD_PATH = "/dashboard"


@dataclass(frozen=True)
class CorsSettings:
    """README "Browsers": ``http.cors.*``. No origins: CORS is off (no header, no preflight answered)."""

    allowed_origins: tuple[str, ...] = ()
    allowed_methods: tuple[str, ...] = ("GET",)
    allowed_headers: tuple[str, ...] = ("Authorization", "Content-Type", "Last-Event-ID")
    max_age_seconds: int = 600
    admin_routes: bool = False


def cors_settings(config: Config) -> CorsSettings:
    return CorsSettings(
        allowed_origins=tuple(config.cors_allowed_origins),
        allowed_methods=tuple(config.cors_allowed_methods),
        allowed_headers=tuple(config.cors_allowed_headers),
        max_age_seconds=config.cors_max_age_seconds,
        admin_routes=config.cors_admin_routes,
    )


class _Confined:
    """CORSMiddleware on the requests whose path matches one of ``paths``; others go straight to the app."""

    def __init__(self, app: ASGIApp, cors: CorsSettings, paths: Sequence[re.Pattern[str]] | None) -> None:
        self._app = app
        self._paths = paths
        self._cors = CORSMiddleware(
            app,
            allow_origins=list(cors.allowed_origins),
            allow_methods=list(cors.allowed_methods),
            allow_headers=list(cors.allowed_headers),
            allow_credentials=False,
            max_age=cors.max_age_seconds,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            self._paths is None or any(p.match(scope["path"]) for p in self._paths)
        ):
            await self._cors(scope, receive, send)
        else:
            await self._app(scope, receive, send)


def cors_middleware(cors: CorsSettings, routes: Sequence[Route]) -> list[Middleware]:
    """The middleware for ``build_app``: CORS on the portal routes (every route with ``admin_routes``).
    Credentials are bearer tokens the page sends itself, never cookies: ``allow_credentials`` stays off."""
    if not cors.allowed_origins:
        return []
    paths = (
        None if cors.admin_routes else [compile_path(r.path)[0] for r in routes if r.access is Access.PORTAL]
    )
    return [Middleware(_Confined, cors=cors, paths=paths)]


def dashboard_mounts(directory: str | None) -> list[Mount]:
    """``directory``'s files at /dashboard/ (``index.html`` for the directory itself); none when unset."""
    if directory is None:
        return []
    return [Mount(DASHBOARD_PATH, StaticFiles(directory=directory, html=True), name="dashboard")]
