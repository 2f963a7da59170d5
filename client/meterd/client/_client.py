"""``OpenMeter`` and ``AsyncOpenMeter``: the entry points, mirroring the OpenMeter SDK."""

from __future__ import annotations

from types import TracebackType

import grpc
import grpc.aio

from meterd.client._entitlements import AsyncEntitlements, Entitlements
from meterd.client._events import AsyncEvents, Events
from meterd.client._features import AsyncFeatures, Features
from meterd.client._grants import AsyncGrants, Grants
from meterd.client._meters import AsyncMeters, Meters
from meterd.client._notifications import (
    AsyncNotificationChannels,
    AsyncNotificationEvents,
    AsyncNotificationRules,
    AsyncNotifications,
    NotificationChannels,
    NotificationEvents,
    NotificationRules,
    Notifications,
)
from meterd.client._options import accept_sdk_names
from meterd.client._portal import AsyncPortal, Portal
from meterd.client._subjects import AsyncSubjects, Subjects
from meterd.client._transport import (
    DEFAULT_TIMEOUT,
    AsyncTransport,
    PemSource,
    Transport,
    channel_credentials,
    resolve_api_key,
    resolve_target,
)

# Every namespace takes OpenMeter's camelCase option names and raises InvalidArgumentError for any bad
# argument (see _options); done here once so that methods added to these classes get it too.
for _namespace in (Events, AsyncEvents, Meters, AsyncMeters, Subjects, AsyncSubjects, Portal, AsyncPortal,
                   Features, AsyncFeatures, Entitlements, AsyncEntitlements, Grants, AsyncGrants,
                   NotificationChannels, AsyncNotificationChannels, NotificationRules, AsyncNotificationRules,
                   NotificationEvents, AsyncNotificationEvents):
    accept_sdk_names(_namespace)


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
        self, target: str | None = None, *, api_key: str | None = None, portal_token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT, tls: bool | None = None, ca: PemSource | None = None,
        cert: PemSource | None = None, key: PemSource | None = None,
        credentials: grpc.ChannelCredentials | None = None, channel: grpc.Channel | None = None,
    ) -> None:
        api_key = resolve_api_key(api_key, portal_token)
        credentials = credentials or channel_credentials(tls, ca, cert, key)
        self._transport = Transport(resolve_target(target), api_key=api_key, portal_token=portal_token,
                                    timeout=timeout, credentials=credentials, channel=channel)
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

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class AsyncOpenMeter:
    """The same client over grpc.aio: every method is a coroutine. Use ``async with`` or ``await close()``.
    Takes the same arguments as ``OpenMeter`` (``channel`` a grpc.aio.Channel)."""

    def __init__(
        self, target: str | None = None, *, api_key: str | None = None, portal_token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT, tls: bool | None = None, ca: PemSource | None = None,
        cert: PemSource | None = None, key: PemSource | None = None,
        credentials: grpc.ChannelCredentials | None = None, channel: grpc.aio.Channel | None = None,
    ) -> None:
        api_key = resolve_api_key(api_key, portal_token)
        credentials = credentials or channel_credentials(tls, ca, cert, key)
        self._transport = AsyncTransport(resolve_target(target), api_key=api_key, portal_token=portal_token,
                                         timeout=timeout, credentials=credentials, channel=channel)
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
