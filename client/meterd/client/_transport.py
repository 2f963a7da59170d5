"""Transports: how a namespace's prepared request reaches the server. Namespaces build requests and say
what to take from the response; the sync transport returns the result, the async one an awaitable."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import grpc
import grpc.aio

from meterd.client._errors import MeterdError, from_rpc_error
from meterd.v1 import (
    entitlements_pb2_grpc,
    events_pb2_grpc,
    features_pb2_grpc,
    grants_pb2_grpc,
    meters_pb2_grpc,
    portal_pb2_grpc,
    subjects_pb2_grpc,
)

DEFAULT_TIMEOUT = 30.0
RETRY_ATTEMPTS = 5
RETRY_BASE_DELAY = 0.1
RETRY_MAX_DELAY = 2.0

CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]

_STUBS: dict[str, Callable[[Any], Any]] = {
    "EventService": events_pb2_grpc.EventServiceStub,
    "MeterService": meters_pb2_grpc.MeterServiceStub,
    "SubjectService": subjects_pb2_grpc.SubjectServiceStub,
    "PortalService": portal_pb2_grpc.PortalServiceStub,
    "FeatureService": features_pb2_grpc.FeatureServiceStub,
    "EntitlementService": entitlements_pb2_grpc.EntitlementServiceStub,
    "GrantService": grants_pb2_grpc.GrantServiceStub,
}


def backoff(attempt: int) -> float:
    """Exponential backoff with full jitter."""
    return random.uniform(0, min(RETRY_MAX_DELAY, RETRY_BASE_DELAY * 2**attempt))


def auth_metadata(api_key: str | None, portal_token: str | None) -> list[tuple[str, str]]:
    """The ``authorization`` metadata for an admin key or a portal token. ValueError if both are given."""
    if api_key and portal_token:
        raise ValueError("give api_key or portal_token, not both")
    secret = api_key or portal_token
    return [("authorization", f"Bearer {secret}")] if secret else []


class Transport:
    """Blocking calls over a grpc.Channel."""

    is_async = False

    def __init__(
        self, target: str, *, api_key: str | None, portal_token: str | None, timeout: float,
        credentials: grpc.ChannelCredentials | None = None, channel: grpc.Channel | None = None,
    ) -> None:
        if channel is not None:
            self.channel = channel
        elif credentials is not None:
            self.channel = grpc.secure_channel(target, credentials, options=CHANNEL_OPTIONS)
        else:
            self.channel = grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
        self.metadata = auth_metadata(api_key, portal_token)
        self.timeout = timeout
        self._stubs: dict[str, Any] = {}

    def stub(self, service: str) -> Any:
        """The generated stub of ``service`` (e.g. "MeterService") on this channel, made once."""
        if service not in self._stubs:
            self._stubs[service] = _STUBS[service](self.channel)
        return self._stubs[service]

    def call(
        self, service: str, method: str, request: Any, take: Callable[[Any], Any] = lambda r: r, *,
        timeout: float | None = None, idempotent: bool = False,
    ) -> Any:
        """Calls ``service.method``; returns ``take(response)``. Retries UNAVAILABLE when idempotent."""
        rpc = getattr(self.stub(service), method)
        deadline = self.timeout if timeout is None else timeout
        attempt = 0
        while True:
            try:
                return take(rpc(request, timeout=deadline, metadata=self.metadata))
            except grpc.RpcError as error:
                if idempotent and error.code() == grpc.StatusCode.UNAVAILABLE and attempt < RETRY_ATTEMPTS - 1:
                    time.sleep(backoff(attempt))
                    attempt += 1
                    continue
                raise from_rpc_error(error) from None

    def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        self.channel.close()


class AsyncTransport:
    """The same calls over a grpc.aio.Channel; ``call`` returns a coroutine."""

    is_async = True

    def __init__(
        self, target: str, *, api_key: str | None, portal_token: str | None, timeout: float,
        credentials: grpc.ChannelCredentials | None = None, channel: grpc.aio.Channel | None = None,
    ) -> None:
        if channel is not None:
            self.channel = channel
        elif credentials is not None:
            self.channel = grpc.aio.secure_channel(target, credentials, options=CHANNEL_OPTIONS)
        else:
            self.channel = grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)
        self.metadata = auth_metadata(api_key, portal_token)
        self.timeout = timeout
        self._stubs: dict[str, Any] = {}

    def stub(self, service: str) -> Any:
        """The generated stub of ``service`` (e.g. "MeterService") on this channel, made once."""
        if service not in self._stubs:
            self._stubs[service] = _STUBS[service](self.channel)
        return self._stubs[service]

    async def call(
        self, service: str, method: str, request: Any, take: Callable[[Any], Any] = lambda r: r, *,
        timeout: float | None = None, idempotent: bool = False,
    ) -> Any:
        """Calls ``service.method``; returns ``take(response)``. Retries UNAVAILABLE when idempotent."""
        rpc = getattr(self.stub(service), method)
        deadline = self.timeout if timeout is None else timeout
        attempt = 0
        while True:
            try:
                return take(await rpc(request, timeout=deadline, metadata=self.metadata))
            except grpc.aio.AioRpcError as error:
                if idempotent and error.code() == grpc.StatusCode.UNAVAILABLE and attempt < RETRY_ATTEMPTS - 1:
                    await asyncio.sleep(backoff(attempt))
                    attempt += 1
                    continue
                raise from_rpc_error(error) from None

    async def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        await self.channel.close(None)


def violations_text(violations: Sequence[Any]) -> str:
    """``field: description; ...`` for a list of field violations."""
    return "; ".join(f"{v.field}: {v.description}" for v in violations)


__all__ = ["AsyncTransport", "MeterdError", "Transport"]
