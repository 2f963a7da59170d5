"""``OpenMeter`` and ``AsyncOpenMeter``: the entry points, mirroring the OpenMeter SDK. The namespaces they
hold (``om.meters`` ...) are written once in ``_async/``; ``_sync/`` is their generated blocking twin."""

from __future__ import annotations

from types import TracebackType

import grpc
import grpc.aio

from meterd.client._async.entitlements import AsyncEntitlements
from meterd.client._async.events import AsyncEvents
from meterd.client._async.features import AsyncFeatures
from meterd.client._async.grants import AsyncGrants
from meterd.client._async.meters import AsyncMeters
from meterd.client._async.notifications import AsyncNotifications
from meterd.client._async.portal import AsyncPortal
from meterd.client._async.subjects import AsyncSubjects
from meterd.client._sync.entitlements import Entitlements
from meterd.client._sync.events import Events
from meterd.client._sync.features import Features
from meterd.client._sync.grants import Grants
from meterd.client._sync.meters import Meters
from meterd.client._sync.notifications import Notifications
from meterd.client._sync.portal import Portal
from meterd.client._sync.subjects import Subjects
from meterd.client._transport import (
    DEFAULT_TIMEOUT,
    AsyncTransport,
    PemSource,
    Transport,
    channel_credentials,
    resolve_api_key,
    resolve_target,
)


class OpenMeter:
    """A blocking meterd client: ``OpenMeter("localhost:50051")``, or ``OpenMeter()`` to read
    ``METERD_TARGET`` and ``METERD_API_KEY``.

    Args:
        target: the server's ``host:port``; default ``METERD_TARGET``, else ``localhost:50051``.
        api_key: the admin key, when the server requires one; default ``METERD_API_KEY``.
        portal_token: a consumer portal token instead; only ``meters.query`` is then allowed.
        timeout: default deadline in seconds for each call (each method takes ``timeout=`` too).
        tls: connect over TLS (implied by ``ca``, ``cert`` or ``key``); plaintext by default.
        ca: the CA certificate(s) to trust, as a PEM file path or PEM bytes (default: the system's roots).
        cert, key: a client certificate and its private key for mutual TLS (paths or PEM bytes).
        credentials: ready-made grpc channel credentials instead of tls/ca/cert/key.
        channel: an existing grpc.Channel to use instead of opening one.

    Results are Python values (see ``meterd.client.Result``); every failure raises a ``MeterdError``
    subclass, the client's own argument checks included (``InvalidArgumentError``, also a ValueError).
    """

    def __init__(
        self,
        target: str | None = None,
        *,
        api_key: str | None = None,
        portal_token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        tls: bool | None = None,
        ca: PemSource | None = None,
        cert: PemSource | None = None,
        key: PemSource | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        channel: grpc.Channel | None = None,
    ) -> None:
        api_key = resolve_api_key(api_key, portal_token)
        client_cert = None if credentials is not None else cert is not None
        credentials = credentials or channel_credentials(tls, ca, cert, key)
        self._transport = Transport(
            resolve_target(target),
            api_key=api_key,
            portal_token=portal_token,
            client_cert=client_cert,
            timeout=timeout,
            credentials=credentials,
            channel=channel,
        )
        self.portal_token = portal_token
        self.events = Events(self._transport)
        self.meters = Meters(self._transport, portal=portal_token is not None)
        self.subjects = Subjects(self._transport)
        self.portal = Portal(self._transport)
        self.features = Features(self._transport)
        self.entitlements = Entitlements(self._transport)
        self.grants = Grants(self._transport)
        self.notifications = Notifications(self._transport)

    @property
    def channel(self) -> grpc.Channel:
        """The underlying channel (for health checks or other stubs)."""
        return self._transport.channel

    @property
    def target(self) -> str:
        """The server this client talks to (``host:port``)."""
        return self._transport.target

    def close(self) -> None:
        """Closes the channel."""
        self._transport.close()

    def __enter__(self) -> OpenMeter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncOpenMeter:
    """The same client over grpc.aio: every method is a coroutine. Use ``async with`` or ``await close()``.
    Takes the same arguments as ``OpenMeter`` (``channel`` a grpc.aio.Channel)."""

    def __init__(
        self,
        target: str | None = None,
        *,
        api_key: str | None = None,
        portal_token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        tls: bool | None = None,
        ca: PemSource | None = None,
        cert: PemSource | None = None,
        key: PemSource | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        channel: grpc.aio.Channel | None = None,
    ) -> None:
        api_key = resolve_api_key(api_key, portal_token)
        client_cert = None if credentials is not None else cert is not None
        credentials = credentials or channel_credentials(tls, ca, cert, key)
        self._transport = AsyncTransport(
            resolve_target(target),
            api_key=api_key,
            portal_token=portal_token,
            client_cert=client_cert,
            timeout=timeout,
            credentials=credentials,
            channel=channel,
        )
        self.portal_token = portal_token
        self.events = AsyncEvents(self._transport)
        self.meters = AsyncMeters(self._transport, portal=portal_token is not None)
        self.subjects = AsyncSubjects(self._transport)
        self.portal = AsyncPortal(self._transport)
        self.features = AsyncFeatures(self._transport)
        self.entitlements = AsyncEntitlements(self._transport)
        self.grants = AsyncGrants(self._transport)
        self.notifications = AsyncNotifications(self._transport)

    @property
    def channel(self) -> grpc.aio.Channel:
        """The underlying channel (for health checks or other stubs)."""
        return self._transport.channel

    @property
    def target(self) -> str:
        """The server this client talks to (``host:port``)."""
        return self._transport.target

    async def close(self) -> None:
        """Closes the channel."""
        await self._transport.close()

    async def __aenter__(self) -> AsyncOpenMeter:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
