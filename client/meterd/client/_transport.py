"""Transports: the channel (its options, retry policy, credentials and auth metadata) and the generated,
typed stubs on it. Namespaces build a request and call a stub's method through ``call``, which returns
the stub's response type (the sync transport the response, the async one an awaitable) and turns a
failure into a ``MeterdError``."""

from __future__ import annotations

import functools
import json
import os
from typing import Any, TypeVar

import grpc
import grpc.aio

from meterd.client._errors import MeterdError, from_rpc_error, invalid_argument
from meterd.client._streams import AsyncBidiStream, AsyncServerStream, BidiStream, ServerStream
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

DEFAULT_TIMEOUT = 30.0
DEFAULT_TARGET = "localhost:50051"
TARGET_ENV = "METERD_TARGET"
API_KEY_ENV = "METERD_API_KEY"
# gRPC's own retry policy (a service config on the channel): UNAVAILABLE is retried with exponential
# backoff and jitter, within the call's deadline, for the methods that are safe to repeat.
RETRY_ATTEMPTS = 5
RETRY_BASE_DELAY = 0.1
RETRY_MAX_DELAY = 2.0
# Safe to repeat beside reads: ingest (deduplicated by source and id), upserts, invalidation.
_IDEMPOTENT_WRITES = frozenset({"IngestEvents", "UpsertSubjects", "InvalidatePortalTokens"})
_READ_PREFIXES = ("Get", "List", "Query")

CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    # A retried request is buffered until the call ends; the default (256 KiB) would leave big batches
    # unretried.
    ("grpc.per_rpc_retry_buffer_size", 64 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    # gRPC backs off reconnecting by 1.6x per failed attempt up to 120 s: a few failed attempts while a
    # server restarts left a watch (and an entitlement cache) without a connection for minutes after the
    # server was back. At most 5 s, as the watch's own reconnect delay.
    ("grpc.max_reconnect_backoff_ms", 5_000),
]

_MODULES = (
    entitlements_pb2,
    events_pb2,
    features_pb2,
    grants_pb2,
    meters_pb2,
    notifications_pb2,
    portal_pb2,
    subjects_pb2,
)

PemSource = str | bytes | os.PathLike[str]
Request = TypeVar("Request")
Response = TypeVar("Response")


def retried_methods() -> list[tuple[str, str]]:
    """(service, method) of every unary RPC that the retry policy covers: reads and idempotent writes."""
    methods = []
    for module in _MODULES:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                if method.client_streaming or method.server_streaming:
                    continue
                if method.name.startswith(_READ_PREFIXES) or method.name in _IDEMPOTENT_WRITES:
                    methods.append((service.full_name, method.name))
    return methods


def service_config() -> str:
    """The channel's service config: the retry policy for ``retried_methods()``."""
    return json.dumps(
        {
            "methodConfig": [
                {
                    "name": [{"service": service, "method": method} for service, method in retried_methods()],
                    "retryPolicy": {
                        "maxAttempts": RETRY_ATTEMPTS,
                        "initialBackoff": f"{RETRY_BASE_DELAY}s",
                        "maxBackoff": f"{RETRY_MAX_DELAY}s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ]
        }
    )


def channel_options() -> list[tuple[str, Any]]:
    """Options of every channel the client opens (limits, keep-alive, the retry policy)."""
    return [*CHANNEL_OPTIONS, ("grpc.service_config", service_config())]


def resolve_target(target: str | None) -> str:
    """The target given, else ``METERD_TARGET``, else localhost:50051."""
    if target is not None and not isinstance(target, str):
        raise invalid_argument("target", f"expected host:port, got {type(target).__name__}")
    return target or os.environ.get(TARGET_ENV) or DEFAULT_TARGET


_TARGET_SCHEMES = ("dns:", "unix:", "unix-abstract:", "ipv4:", "ipv6:", "vsock:", "xds:")


def check_target(target: str) -> None:
    """InvalidArgumentError for a target gRPC would take but not as meant: a URL (``http://host:port``: gRPC
    reads the scheme as a name resolver and fails to resolve it) or a host without a port (gRPC would silently
    use 443). Targets with a gRPC scheme (``dns:``, ``unix:``, ...) are passed as they are."""
    if target.startswith(_TARGET_SCHEMES):
        return
    scheme, sep, rest = target.partition("://")
    if sep:
        hint = f"; for a TLS server, {rest.rstrip('/')!r} with tls=True" if scheme.lower() == "https" else ""
        raise invalid_argument("target", f"write host:port, not a URL: {rest.rstrip('/')!r}{hint}")
    host, colon, port = target.rpartition(":")
    if target.startswith("[") and "]" in target and not target.rstrip().endswith("]"):
        bracketed = target[: target.index("]") + 1]
        host, port, colon = bracketed, target[len(bracketed) + 1 :], ":"
    if not colon or (host.count(":") and not host.startswith("[")):
        raise invalid_argument(
            "target",
            f"{target!r} has no port: write host:port (meterd listens on 50051 unless told otherwise)",
        )
    if not port.isdigit() or not 0 < int(port) <= 65535:
        raise invalid_argument("target", f"{target!r}: the port must be a number from 1 to 65535")


def resolve_api_key(api_key: str | None, portal_token: str | None) -> str | None:
    """The api_key given, else ``METERD_API_KEY`` (unless a portal token is given instead)."""
    if api_key is None and portal_token is None:
        return os.environ.get(API_KEY_ENV) or None
    return api_key


def _pem(value: PemSource, what: str) -> bytes:
    """PEM bytes from bytes, PEM text, or a file path."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str) and value.lstrip().startswith("-----BEGIN"):
        return value.encode()
    if not isinstance(value, str | os.PathLike):
        raise invalid_argument(what, f"expected a PEM file path or PEM bytes, got {type(value).__name__}")
    try:
        with open(value, "rb") as file:
            return file.read()
    except OSError as exc:
        raise invalid_argument(what, f"cannot read {os.fspath(value)!r}: {exc.strerror}") from None


def channel_credentials(
    tls: bool | None,
    ca: PemSource | None,
    cert: PemSource | None,
    key: PemSource | None,
) -> grpc.ChannelCredentials | None:
    """TLS credentials for ``tls=True`` (or any of ca/cert/key): ``ca`` the roots to trust (default: the
    system's), ``cert``/``key`` a client certificate for mutual TLS. None for plaintext."""
    if tls is False and (ca or cert or key):
        raise invalid_argument("tls", "tls=False with ca, cert or key; leave tls out or set it to True")
    if not (tls or ca or cert or key):
        return None
    if (cert is None) != (key is None):
        raise invalid_argument("cert" if cert is None else "key", "cert and key go together (mutual TLS)")
    return grpc.ssl_channel_credentials(
        root_certificates=_pem(ca, "ca") if ca is not None else None,
        private_key=_pem(key, "key") if key is not None else None,
        certificate_chain=_pem(cert, "cert") if cert is not None else None,
    )


def auth_metadata(api_key: str | None, portal_token: str | None) -> list[tuple[str, str]]:
    """The ``authorization`` metadata for an admin key or a portal token. InvalidArgumentError if both are given."""
    if api_key and portal_token:
        raise invalid_argument("api_key", "give api_key or portal_token, not both")
    secret = api_key or portal_token
    return [("authorization", f"Bearer {secret}")] if secret else []


class Transport:
    """Blocking calls over a grpc.Channel, through the generated stubs: one property per service
    (``meters`` is the ``MeterServiceStub``). A namespace calls ``self._t.call(self._t.meters.GetMeter,
    request)``, and the response's type comes from the stub. A new service is one more property here
    and in ``AsyncTransport``."""

    def __init__(
        self,
        target: str,
        *,
        api_key: str | None,
        portal_token: str | None,
        timeout: float,
        credentials: grpc.ChannelCredentials | None = None,
        channel: grpc.Channel | None = None,
        client_cert: bool | None = None,
    ) -> None:
        self.metadata = tuple(auth_metadata(api_key, portal_token))
        self.target = target
        # How the channel connects, for the message of a failed connection (None: not known).
        self.tls: bool | None = None if channel is not None else credentials is not None
        self.client_cert = client_cert
        if channel is None:
            check_target(target)
        if channel is not None:
            self.channel = channel
        elif credentials is not None:
            self.channel = grpc.secure_channel(target, credentials, options=channel_options())
        else:
            self.channel = grpc.insecure_channel(target, options=channel_options())
        self.timeout = timeout

    # The stubs, each made on first use (all seven at once cost 0.3 ms per client: 35 registered methods).
    @functools.cached_property
    def events(self) -> events_pb2_grpc.EventServiceStub:
        return events_pb2_grpc.EventServiceStub(self.channel)

    @functools.cached_property
    def meters(self) -> meters_pb2_grpc.MeterServiceStub:
        return meters_pb2_grpc.MeterServiceStub(self.channel)

    @functools.cached_property
    def subjects(self) -> subjects_pb2_grpc.SubjectServiceStub:
        return subjects_pb2_grpc.SubjectServiceStub(self.channel)

    @functools.cached_property
    def portal(self) -> portal_pb2_grpc.PortalServiceStub:
        return portal_pb2_grpc.PortalServiceStub(self.channel)

    @functools.cached_property
    def features(self) -> features_pb2_grpc.FeatureServiceStub:
        return features_pb2_grpc.FeatureServiceStub(self.channel)

    @functools.cached_property
    def entitlements(self) -> entitlements_pb2_grpc.EntitlementServiceStub:
        return entitlements_pb2_grpc.EntitlementServiceStub(self.channel)

    @functools.cached_property
    def grants(self) -> grants_pb2_grpc.GrantServiceStub:
        return grants_pb2_grpc.GrantServiceStub(self.channel)

    @functools.cached_property
    def notifications(self) -> notifications_pb2_grpc.NotificationServiceStub:
        return notifications_pb2_grpc.NotificationServiceStub(self.channel)

    def call(
        self,
        rpc: grpc.UnaryUnaryMultiCallable[Request, Response],
        request: Request,
        *,
        timeout: float | None = None,
        idempotent: bool | None = None,
    ) -> Response:
        """Calls a unary RPC of one of the stubs and returns its response (the client's ``timeout`` by
        default). Retries come from the channel's service config (``retried_methods``); ``idempotent`` is
        only a note for the reader (a test holds the two together)."""
        deadline = self.timeout if timeout is None else timeout
        try:
            return rpc(request, timeout=deadline, metadata=self.metadata)
        except grpc.RpcError as error:
            raise self.error(error) from None

    def server_stream(
        self,
        rpc: grpc.UnaryStreamMultiCallable[Request, Response],
        request: Request,
        *,
        timeout: float | None,
    ) -> ServerStream[Response]:
        """Opens a server-streaming RPC; ``timeout`` None: no deadline (a watch runs until closed)."""
        return ServerStream(rpc(request, timeout=timeout, metadata=self.metadata), self.error)

    def bidi_stream(
        self, rpc: grpc.StreamStreamMultiCallable[Request, Response]
    ) -> BidiStream[Request, Response]:
        """Opens a bidirectional RPC, with no deadline (a producer's stream lives long)."""
        return BidiStream(rpc, self.metadata, self.error)

    def error(self, error: grpc.RpcError) -> MeterdError:
        """The client exception for a failed call on this channel (naming the cause of a failed connection)."""
        return from_rpc_error(error, self.target, self.tls, self.client_cert)

    def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        self.channel.close()


class AsyncTransport:
    """``Transport`` over a grpc.aio.Channel: ``call`` is a coroutine, the streams are async iterators."""

    def __init__(
        self,
        target: str,
        *,
        api_key: str | None,
        portal_token: str | None,
        timeout: float,
        credentials: grpc.ChannelCredentials | None = None,
        channel: grpc.aio.Channel | None = None,
        client_cert: bool | None = None,
    ) -> None:
        self.metadata = tuple(auth_metadata(api_key, portal_token))
        self.target = target
        # How the channel connects, for the message of a failed connection (None: not known).
        self.tls: bool | None = None if channel is not None else credentials is not None
        self.client_cert = client_cert
        if channel is None:
            check_target(target)
        if channel is not None:
            self.channel = channel
        elif credentials is not None:
            self.channel = grpc.aio.secure_channel(target, credentials, options=channel_options())
        else:
            self.channel = grpc.aio.insecure_channel(target, options=channel_options())
        self.timeout = timeout

    # For a grpc.aio.Channel the generated stubs' overloads give the aio multicallables' types.
    @functools.cached_property
    def events(self) -> events_pb2_grpc.EventServiceAsyncStub:
        return events_pb2_grpc.EventServiceStub(self.channel)

    @functools.cached_property
    def meters(self) -> meters_pb2_grpc.MeterServiceAsyncStub:
        return meters_pb2_grpc.MeterServiceStub(self.channel)

    @functools.cached_property
    def subjects(self) -> subjects_pb2_grpc.SubjectServiceAsyncStub:
        return subjects_pb2_grpc.SubjectServiceStub(self.channel)

    @functools.cached_property
    def portal(self) -> portal_pb2_grpc.PortalServiceAsyncStub:
        return portal_pb2_grpc.PortalServiceStub(self.channel)

    @functools.cached_property
    def features(self) -> features_pb2_grpc.FeatureServiceAsyncStub:
        return features_pb2_grpc.FeatureServiceStub(self.channel)

    @functools.cached_property
    def entitlements(self) -> entitlements_pb2_grpc.EntitlementServiceAsyncStub:
        return entitlements_pb2_grpc.EntitlementServiceStub(self.channel)

    @functools.cached_property
    def grants(self) -> grants_pb2_grpc.GrantServiceAsyncStub:
        return grants_pb2_grpc.GrantServiceStub(self.channel)

    @functools.cached_property
    def notifications(self) -> notifications_pb2_grpc.NotificationServiceAsyncStub:
        return notifications_pb2_grpc.NotificationServiceStub(self.channel)

    async def call(
        self,
        rpc: grpc.aio.UnaryUnaryMultiCallable[Request, Response],
        request: Request,
        *,
        timeout: float | None = None,
        idempotent: bool | None = None,
    ) -> Response:
        """See ``Transport.call``."""
        deadline = self.timeout if timeout is None else timeout
        try:
            return await rpc(request, timeout=deadline, metadata=self.metadata)
        except grpc.aio.AioRpcError as error:
            raise self.error(error) from None

    def server_stream(
        self,
        rpc: grpc.aio.UnaryStreamMultiCallable[Request, Response],
        request: Request,
        *,
        timeout: float | None,
    ) -> AsyncServerStream[Response]:
        """See ``Transport.server_stream``."""
        return AsyncServerStream(rpc(request, timeout=timeout, metadata=self.metadata), self.error)

    def bidi_stream(
        self, rpc: grpc.aio.StreamStreamMultiCallable[Request, Response]
    ) -> AsyncBidiStream[Request, Response]:
        """See ``Transport.bidi_stream``."""
        return AsyncBidiStream(rpc, self.metadata, self.error)

    def error(self, error: grpc.RpcError) -> MeterdError:
        """See ``Transport.error``."""
        return from_rpc_error(error, self.target, self.tls, self.client_cert)

    async def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        await self.channel.close(None)


__all__ = ["AsyncTransport", "MeterdError", "Transport"]
