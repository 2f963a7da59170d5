"""Authentication of every call, in one server interceptor.

Rules (DESIGN § 3, SPEC § Portal):
- Health checks and reflection are always open.
- ``PortalService/QueryPortalMeter`` needs a valid portal token (``authorization: Bearer <jwt>``); what the
  token grants is handed to the servicer through ``current_portal_access()``.
- Every other call needs the admin key when one is configured (compared in constant time); without one it
  is open. A portal token presented on such a call is refused: UNAUTHENTICATED if it does not verify,
  PERMISSION_DENIED if it does (a portal token is never an admin credential).
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import ipaddress
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextvars import ContextVar
from typing import Any

import grpc
import grpc.aio

from meterd.server import errors, rpc
from meterd.server.portal.model import PortalAccess
from meterd.server.portal.service import PortalService
from meterd.server.portal.tokens import looks_like_jwt

log = logging.getLogger("meterd.auth")

PORTAL_QUERY_METHOD = "/meterd.v1.PortalService/QueryPortalMeter"
OPEN_METHOD_PREFIXES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)

_portal_access: ContextVar[PortalAccess | None] = ContextVar("meterd_portal_access", default=None)


def current_portal_access() -> PortalAccess | None:
    """The verified portal token of the call being served (set only for QueryPortalMeter)."""
    return _portal_access.get()


def bearer_of(metadata: Iterable[tuple[str, Any]] | None) -> str | None:
    """The credential in ``authorization: Bearer <credential>``; None when absent.

    Raises Unauthenticated for an authorization value that is not a bearer credential.
    """
    for key, value in metadata or ():
        if key.lower() != "authorization":
            continue
        text = value.decode() if isinstance(value, bytes) else str(value)
        scheme, _, credential = text.strip().partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise errors.Unauthenticated("authorization metadata must be 'Bearer <credential>'")
        return credential.strip()
    return None


class Authenticator:
    """Decides whether a call may proceed; knows nothing of gRPC."""

    def __init__(self, admin_key: str | None, portal: PortalService) -> None:
        self._admin_key = admin_key.encode() if admin_key else None
        self._portal = portal

    @property
    def admin_key_required(self) -> bool:
        return self._admin_key is not None

    def check(self, method: str, bearer: str | None) -> PortalAccess | None:
        """Returns the portal access of a portal query, None for an allowed admin call; raises
        Unauthenticated or PermissionDenied otherwise."""
        if method == PORTAL_QUERY_METHOD:
            return self.check_portal(bearer, "QueryPortalMeter")
        self.check_admin(bearer, PORTAL_QUERY_METHOD.lstrip("/"))
        return None

    def check_portal(self, bearer: str | None, call: str) -> PortalAccess:
        """What the portal token in ``bearer`` grants, for the portal's meter query (named ``call`` in the
        message); Unauthenticated without a valid portal token. Reads the database (invalidations)."""
        if bearer is None or not looks_like_jwt(bearer):
            raise errors.Unauthenticated(f"{call} needs a portal token: authorization: Bearer <token>")
        return self._portal.authenticate(bearer)

    def check_admin(self, bearer: str | None, portal_call: str) -> None:
        """Allows an admin call: the admin key when one is configured (anything without one), never a portal
        token (PermissionDenied naming ``portal_call``, the only call a portal token may make; an invalid
        token is Unauthenticated). Reads the database only for a bearer that looks like a portal token."""
        if (
            self._admin_key is not None
            and bearer is not None
            and hmac.compare_digest(bearer.encode(), self._admin_key)
        ):
            return
        if bearer is not None and looks_like_jwt(bearer):
            self._portal.authenticate(bearer)  # an invalid token is UNAUTHENTICATED, whatever the call
            raise errors.PermissionDenied(f"a portal token may only call {portal_call}")
        if self._admin_key is None:
            return
        if bearer is None:
            raise errors.Unauthenticated(
                "missing admin key: send metadata 'authorization: Bearer <admin key>' (the Python client's "
                "api_key=, or METERD_API_KEY for the client and the meterd CLI)"
            )
        raise errors.Unauthenticated(
            "invalid admin key: it must equal the server's auth.admin_key "
            "(METERD_API_KEY where the server runs)"
        )


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Runs ``Authenticator.check`` before every guarded call's servicer, on the event loop (a portal token,
    which needs a database read, is checked on the worker pool: the loop's default executor)."""

    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator

    async def intercept_service(  # type: ignore[override]  # grpc-stubs 1.53: a handler may be None
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(OPEN_METHOD_PREFIXES):
            return handler
        return _guarded(handler, method, self._authenticator)


def _guarded(
    handler: grpc.RpcMethodHandler, method: str, authenticator: Authenticator
) -> grpc.RpcMethodHandler:
    """The same handler (same kind, same (de)serialisers) with the check in front of its behaviour.

    The check runs inside the behaviour, in the call's own task, so that the portal access it sets is seen by
    the servicer (the serving layer copies the task's context variables to the worker thread). The request
    is still raw bytes here (meterd's handlers parse it themselves), so authentication comes before parsing.
    """

    async def authenticate(context: grpc.aio.ServicerContext) -> PortalAccess | None:
        try:
            bearer = bearer_of(context.invocation_metadata())
            if bearer is not None and looks_like_jwt(bearer):
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(None, authenticator.check, method, bearer)
            return authenticator.check(method, bearer)
        except errors.MeterdError as exc:
            status = rpc.grpc_status_of(exc)
            await context.abort(status.code, status.details, status.trailing_metadata)
        except Exception:
            log.exception("authentication failed with an internal error", extra={"method": method})
            await context.abort(grpc.StatusCode.INTERNAL, "internal error during authentication")
        raise AssertionError("unreachable: abort raises")

    def guard_call(behavior: Callable[[Any, Any], Awaitable[Any]]) -> Callable[[Any, Any], Awaitable[Any]]:
        async def run(request: Any, context: grpc.aio.ServicerContext) -> Any:
            _portal_access.set(await authenticate(context))  # the call's own task: gone with it
            return await behavior(request, context)

        return run

    def guard_stream(
        behavior: Callable[[Any, Any], AsyncIterator[Any]],
    ) -> Callable[[Any, Any], AsyncIterator[Any]]:
        async def run(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            _portal_access.set(await authenticate(context))
            async for reply in behavior(request, context):
                yield reply

        return run

    kinds: list[tuple[Any, Callable[..., grpc.RpcMethodHandler], Callable[[Any], Any]]] = [
        (handler.unary_unary, grpc.unary_unary_rpc_method_handler, guard_call),
        (handler.unary_stream, grpc.unary_stream_rpc_method_handler, guard_stream),
        (handler.stream_unary, grpc.stream_unary_rpc_method_handler, guard_call),
        (handler.stream_stream, grpc.stream_stream_rpc_method_handler, guard_stream),
    ]
    for behavior, make, guard in kinds:
        if behavior is not None:
            if not (inspect.iscoroutinefunction(behavior) or inspect.isasyncgenfunction(behavior)):
                raise TypeError(f"{method}: the auth interceptor guards async handlers only")
            return make(
                guard(behavior),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
    return handler


def is_loopback(listen: str) -> bool:
    """Whether a ``host:port`` listen address only accepts local connections."""
    host = listen.rsplit(":", 1)[0].strip("[]") if ":" in listen else listen
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
