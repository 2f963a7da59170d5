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

import hmac
import ipaddress
import logging
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

import grpc

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


def bearer_of(metadata: Sequence[tuple[str, Any]] | None) -> str | None:
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
            if bearer is None or not looks_like_jwt(bearer):
                raise errors.Unauthenticated("QueryPortalMeter needs a portal token: authorization: Bearer <token>")
            return self._portal.authenticate(bearer)
        if self._admin_key is not None and bearer is not None and hmac.compare_digest(
            bearer.encode(), self._admin_key
        ):
            return None
        if bearer is not None and looks_like_jwt(bearer):
            self._portal.authenticate(bearer)  # an invalid token is UNAUTHENTICATED, whatever the call
            raise errors.PermissionDenied(f"a portal token may only call {PORTAL_QUERY_METHOD.lstrip('/')}")
        if self._admin_key is None:
            return None
        if bearer is None:
            raise errors.Unauthenticated(
                "missing admin key: send metadata 'authorization: Bearer <admin key>' (the Python client's "
                "api_key=, or METERD_API_KEY for the client and the meterd CLI)")
        raise errors.Unauthenticated("invalid admin key: it must equal the server's auth.admin_key "
                                     "(METERD_API_KEY where the server runs)")


class AuthInterceptor(grpc.ServerInterceptor):
    """Runs ``Authenticator.check`` on the worker thread of each call, before the servicer."""

    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator

    def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(OPEN_METHOD_PREFIXES):
            return handler
        return _guarded(handler, method, self._authenticator)


def _guarded(handler: grpc.RpcMethodHandler, method: str, authenticator: Authenticator) -> grpc.RpcMethodHandler:
    """The same handler (same kind, same (de)serialisers) with the check in front of its behaviour.

    The check runs inside the behaviour, not in ``intercept_service``, so that it runs on the call's worker
    thread (where the context variable must be set) rather than on the server's polling thread.
    """

    def guard(behavior: Callable[[Any, grpc.ServicerContext], Any]) -> Callable[[Any, grpc.ServicerContext], Any]:
        def run(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                access = authenticator.check(method, bearer_of(context.invocation_metadata()))
            except errors.MeterdError as exc:
                context.abort_with_status(rpc.grpc_status_of(exc))
            except Exception:
                log.exception("authentication failed with an internal error", extra={"method": method})
                context.abort(grpc.StatusCode.INTERNAL, "internal error during authentication")
            token = _portal_access.set(access)
            try:
                return behavior(request, context)
            finally:
                _portal_access.reset(token)

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
                guard(behavior), request_deserializer=handler.request_deserializer,
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
