"""The ASGI application of the HTTP API: routes, authentication, bodies, errors as RFC 7807 problems.

Adding a route: write ``async def handler(call: Call) -> Response`` and list ``Route("GET", "/api/v1/...",
handler)`` in a module's ``routes(services)`` (see ``routes/``); ``build_app`` mounts every route behind the
same authentication and error mapping. A handler may return any Starlette response, a ``StreamingResponse``
included (Server-Sent Events); ``build_app(middleware=...)`` wraps the whole application (CORS).
"""

from __future__ import annotations

import asyncio
import contextvars
import enum
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.routing import Route as StarletteRoute

from meterd.server import cancellation, errors
from meterd.server.entitlements.service import EntitlementService
from meterd.server.events.service import EventService
from meterd.server.features.service import FeatureService
from meterd.server.grants.service import GrantService
from meterd.server.meters.service import MeterService
from meterd.server.notifications.service import NotificationService
from meterd.server.portal.auth import Authenticator, bearer_of
from meterd.server.portal.model import PortalAccess
from meterd.server.portal.service import PortalService
from meterd.server.portal.tokens import looks_like_jwt
from meterd.server.subjects.service import SubjectService
from meterd.server.watch.service import WatchService

log = logging.getLogger("meterd.http")
T = TypeVar("T")

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
PORTAL_QUERY_ROUTE = "GET /api/v1/portal/meters/{meterSlug}/query"
PORTAL_WATCH_ROUTE = "GET /api/v1/portal/entitlements/watch"
# What a portal token may call (named in the 403 of any other route).
PORTAL_ROUTES = f"{PORTAL_QUERY_ROUTE} or {PORTAL_WATCH_ROUTE}"
# Seconds a request body may pause between two chunks before the request is refused (408): a slow upload holds
# no thread (the body is read on the event loop) but must not hold its connection forever either.
BODY_IDLE_TIMEOUT_SECONDS = 30.0

# Problem statuses of domain errors (the gRPC front's table is meterd.server.rpc._CODES).
_STATUSES: list[tuple[type[errors.MeterdError], int]] = [
    (errors.InvalidArgument, 400),
    (errors.Unauthenticated, 401),
    (errors.PermissionDenied, 403),
    (errors.NotFound, 404),
    (errors.AlreadyExists, 409),
    (errors.FailedPrecondition, 409),
    (errors.ResourceExhausted, 429),
    (errors.Cancelled, 499),
    (errors.Unavailable, 503),
    (errors.DeadlineExceeded, 504),
]
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    499: "Client Closed Request",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
# A problem stays small whatever the input (as a gRPC status does: meterd.server.rpc): messages quote user
# input cut short, and at most this many field violations are listed.
MAX_DETAIL_CHARS = 1000
MAX_VIOLATIONS = 10


class StreamGate(Protocol):
    """The server's count of open streams (meterd.server.serving.Serving): one cap for gRPC's and HTTP's."""

    def acquire_stream(self) -> None: ...  # ResourceExhausted at the cap
    def release_stream(self) -> None: ...


@dataclass(frozen=True)
class Services:
    """The domain services the HTTP API translates to: the same objects the gRPC servicers call."""

    events: EventService
    meters: MeterService
    subjects: SubjectService
    portal: PortalService
    features: FeatureService
    entitlements: EntitlementService
    grants: GrantService
    authenticator: Authenticator
    clock: Callable[[], datetime]
    watch: WatchService | None = None  # None: the watch routes answer 503
    streams: StreamGate | None = None  # None: streams are not counted
    notifications: NotificationService | None = None


class Access(enum.Enum):
    """Who may call a route."""

    ADMIN = "admin"  # the admin key when one is configured (anything without one); never a portal token
    PORTAL = "portal"  # a valid portal token only (Call.portal holds what it grants)
    OPEN = "open"  # anybody (health)


@dataclass(frozen=True)
class Route:
    """One route of the API: ``path`` in Starlette's syntax (``/api/v1/meters/{meter}``)."""

    method: str
    path: str
    handler: Callable[[Call], Awaitable[Response]]
    access: Access = Access.ADMIN
    # The credential may also come as the ``access_token`` query parameter (RFC 6750 2.3): for routes a
    # browser's EventSource calls, which cannot send an Authorization header.
    query_token: bool = False

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


class ProblemError(Exception):
    """A refusal the front itself decides (the body's size or media type, a request that timed out)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def problem(
    status: int,
    detail: str,
    violations: Sequence[errors.FieldViolation] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An RFC 7807 problem (``application/problem+json``); field violations in ``invalidParameters``."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": _cut(detail, MAX_DETAIL_CHARS),
    }
    if violations:
        body["invalidParameters"] = [
            {"field": _cut(v.field, 100), "reason": _cut(v.description, 200)}
            for v in violations[:MAX_VIOLATIONS]
        ]
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_of(exc: errors.MeterdError) -> Response:
    """The problem response of a domain error."""
    status = next(code for cls, code in _STATUSES if isinstance(exc, cls))
    violations = exc.violations if isinstance(exc, errors.InvalidArgument) else []
    detail = exc.message
    if len(violations) > MAX_VIOLATIONS:
        detail = (
            f"{_cut(detail, MAX_DETAIL_CHARS - 40)} (and {len(violations) - MAX_VIOLATIONS} more violations)"
        )
    return problem(status, detail, violations)


def json_response(value: Any, status: int = 200) -> Response:
    """``value`` as ``application/json`` (no parameters: OpenMeter's 1.0.0-beta.185 SDK refuses a charset).
    Datetimes are written as RFC 3339 in UTC with a ``Z``."""
    return Response(orjson.dumps(value, option=orjson.OPT_UTC_Z), status_code=status, media_type=JSON)


def no_content() -> Response:
    """204 with no body."""
    return Response(status_code=204)


def media_type(header: str | None) -> str:
    """The media type of a Content-Type value, lower-cased, without parameters ("" when absent)."""
    return (header or "").split(";", 1)[0].strip().lower()


class Call:
    """One request as a handler sees it: parameters, the body, the portal access, and the worker pool."""

    __slots__ = ("_executor", "_max_body_bytes", "portal", "request", "token")

    def __init__(
        self,
        request: Request,
        executor: Executor,
        max_body_bytes: int,
        portal: PortalAccess | None,
        token: cancellation.Cancellation,
    ) -> None:
        self.request = request
        self.portal = portal
        self.token = token
        self._executor = executor
        self._max_body_bytes = max_body_bytes

    def path(self, name: str) -> str:
        """A path parameter (already percent-decoded)."""
        return str(self.request.path_params[name])

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the worker pool (the one the gRPC servicers use), with this call's cancellation
        token current (``cancellation.checker()`` in domain loops)."""
        context = contextvars.copy_context()
        context.run(cancellation.bind, self.token)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, context.run, fn, *args)
        except asyncio.CancelledError:
            self.token.cancel()
            raise

    async def body(self) -> bytes:
        """The request body, at most the configured size (413 beyond, 408 when it stalls)."""
        length = self.request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self._max_body_bytes:
            raise ProblemError(
                413,
                f"the request body is larger than {self._max_body_bytes} bytes (server.max_message_bytes)",
            )
        chunks: list[bytes] = []
        size = 0
        stream = self.request.stream().__aiter__()
        while True:
            try:
                chunk = await asyncio.wait_for(stream.__anext__(), BODY_IDLE_TIMEOUT_SECONDS)
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise ProblemError(
                    408, f"the request body stalled for {BODY_IDLE_TIMEOUT_SECONDS:g} s"
                ) from None
            size += len(chunk)
            if size > self._max_body_bytes:
                raise ProblemError(
                    413,
                    f"the request body is larger than {self._max_body_bytes} bytes "
                    "(server.max_message_bytes)",
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def json(self, *, optional: bool = False) -> Any:
        """The body parsed as JSON (``application/json``, 415 otherwise). With ``optional``, an empty body
        (whatever its media type) is ``None``: OpenMeter's SDK sends a JSON content type with no body."""
        raw = await self.body()
        if optional and not raw.strip():
            return None
        kind = media_type(self.request.headers.get("content-type"))
        if kind != JSON and not kind.endswith("+json"):
            raise ProblemError(415, f"the body must be application/json, got {kind or 'no Content-Type'}")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise errors.InvalidArgument.of("body", f"is not valid JSON: {exc}") from None

    # -- query parameters ---------------------------------------------------------------------------------
    def one(self, name: str) -> str | None:
        """A query parameter given at most once (INVALID_ARGUMENT when repeated); None when absent."""
        values = self.request.query_params.getlist(name)
        if len(values) > 1:
            raise errors.InvalidArgument.of(name, "is given more than once")
        return values[0] if values else None

    def many(self, name: str) -> list[str]:
        """A repeated query parameter (``subject=a&subject=b``); also ``name[]``."""
        params = self.request.query_params
        return params.getlist(name) + params.getlist(f"{name}[]")

    def deep(self, name: str) -> dict[str, list[str]]:
        """A deepObject parameter (``filterGroupBy[model]=gpt-4o``): key -> values in order."""
        out: dict[str, list[str]] = {}
        prefix = name + "["
        for key, value in self.request.query_params.multi_items():
            if key.startswith(prefix) and key.endswith("]") and key != f"{name}[]":
                out.setdefault(key[len(prefix) : -1], []).append(value)
        return out

    def names(self) -> set[str]:
        """The query parameters given (names as sent)."""
        return set(self.request.query_params.keys())


def bearer(request: Request, query_token: bool) -> str | None:
    """The request's credential: ``Authorization: Bearer``, or with ``query_token`` the ``access_token``
    parameter (never both: RFC 6750 allows one method per request)."""
    header = bearer_of(
        [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw if k == b"authorization"]
    )
    if not query_token:
        return header
    tokens = request.query_params.getlist("access_token")
    if not tokens:
        return header
    if header is not None or len(tokens) > 1:
        raise errors.InvalidArgument.of(
            "access_token",
            "send the credential once: either the Authorization header or one access_token parameter",
        )
    if not tokens[0]:
        raise errors.Unauthenticated("access_token is empty")
    return tokens[0]


async def _authenticate(
    route: Route, request: Request, services: Services, executor: Executor
) -> PortalAccess | None:
    """The authenticator's rules (those of gRPC); a bearer that looks like a portal token is verified on the
    worker pool (a database read)."""
    if route.access is Access.OPEN:
        return None
    credential = bearer(request, route.query_token)
    auth = services.authenticator
    loop = asyncio.get_running_loop()
    if route.access is Access.PORTAL:
        if credential is None or not looks_like_jwt(credential):
            return auth.check_portal(credential, route.name)
        return await loop.run_in_executor(executor, auth.check_portal, credential, route.name)
    if credential is not None and looks_like_jwt(credential):
        await loop.run_in_executor(executor, auth.check_admin, credential, PORTAL_ROUTES)
    else:
        auth.check_admin(credential, PORTAL_ROUTES)
    return None


def _endpoint(
    route: Route, services: Services, executor: Executor, max_body_bytes: int
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            portal = await _authenticate(route, request, services, executor)
            call = Call(request, executor, max_body_bytes, portal, cancellation.Cancellation())
            return await route.handler(call)
        except errors.MeterdError as exc:
            return problem_of(exc)
        except ProblemError as exc:
            return problem(exc.status, exc.detail)
        except ClientDisconnect:
            return problem(499, "the client went away")

    return endpoint


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (unknown route 404, wrong method 405 with Allow) as problems."""
    assert isinstance(exc, HTTPException)
    detail = {
        404: f"no route {request.url.path}",
        405: f"{request.method} is not allowed on {request.url.path}",
    }
    return problem(exc.status_code, detail.get(exc.status_code, str(exc.detail)), headers=exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("internal error", exc_info=exc, extra={"method": request.method, "path": request.url.path})
    return problem(500, f"internal error: {type(exc).__name__}")


def build_app(
    services: Services,
    routes: Sequence[Route],
    executor: Executor,
    *,
    max_body_bytes: int,
    middleware: Sequence[Middleware] = (),
    mounts: Sequence[Mount] = (),
) -> Starlette:
    """The ASGI application serving ``routes`` (and ``mounts``: static files); blocking work runs on
    ``executor``."""
    table: list[BaseRoute] = [
        StarletteRoute(r.path, _endpoint(r, services, executor, max_body_bytes), methods=[r.method])
        for r in routes
    ]
    return Starlette(
        routes=[*table, *mounts],
        middleware=list(middleware),
        exception_handlers={HTTPException: _http_exception, Exception: _internal_error},
    )
