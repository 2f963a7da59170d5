"""``OpenMeter`` and ``AsyncOpenMeter``: the entry points, mirroring the OpenMeter SDK."""

from __future__ import annotations

from types import TracebackType

import grpc

from meterd.client._entitlements import AsyncEntitlements, Entitlements
from meterd.client._events import AsyncEvents, Events
from meterd.client._features import AsyncFeatures, Features
from meterd.client._grants import AsyncGrants, Grants
from meterd.client._meters import AsyncMeters, Meters
from meterd.client._portal import AsyncPortal, Portal
from meterd.client._subjects import AsyncSubjects, Subjects
from meterd.client._transport import DEFAULT_TIMEOUT, AsyncTransport, Transport


class OpenMeter:
    """A blocking meterd client: ``OpenMeter("localhost:50051")``.

    Args:
        target: the server's ``host:port``.
        api_key: the admin key, when the server requires one.
        portal_token: a consumer portal token instead; only ``meters.query`` is then allowed.
        timeout: default deadline in seconds for each call (each method takes ``timeout=`` too).
        credentials: TLS channel credentials; plaintext when omitted.
        channel: an existing grpc.Channel to use instead of opening one.
    """

    def __init__(
        self, target: str = "localhost:50051", *, api_key: str | None = None, portal_token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT, credentials: grpc.ChannelCredentials | None = None,
        channel: grpc.Channel | None = None,
    ) -> None:
        self._transport = Transport(target, api_key=api_key, portal_token=portal_token, timeout=timeout,
                                    credentials=credentials, channel=channel)
        self.portal_token = portal_token
        self.events = Events(self._transport)
        self.meters = Meters(self._transport, portal=portal_token is not None)
        self.subjects = Subjects(self._transport)
        self.portal = Portal(self._transport)
        self.features = Features(self._transport)
        self.entitlements = Entitlements(self._transport)
        self.grants = Grants(self._transport)

    @property
    def channel(self) -> grpc.Channel:
        """The underlying channel (for health checks or other stubs)."""
        return self._transport.channel

    def close(self) -> None:
        """Closes the channel."""
        self._transport.close()

    def __enter__(self) -> OpenMeter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class AsyncOpenMeter:
    """The same client over grpc.aio: every method is a coroutine. Use ``async with`` or ``await close()``."""

    def __init__(
        self, target: str = "localhost:50051", *, api_key: str | None = None, portal_token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT, credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        self._transport = AsyncTransport(target, api_key=api_key, portal_token=portal_token, timeout=timeout,
                                         credentials=credentials)
        self.portal_token = portal_token
        self.events = AsyncEvents(self._transport)
        self.meters = AsyncMeters(self._transport, portal=portal_token is not None)
        self.subjects = AsyncSubjects(self._transport)
        self.portal = AsyncPortal(self._transport)
        self.features = AsyncFeatures(self._transport)
        self.entitlements = AsyncEntitlements(self._transport)
        self.grants = AsyncGrants(self._transport)

    async def close(self) -> None:
        """Closes the channel."""
        await self._transport.close()

    async def __aenter__(self) -> AsyncOpenMeter:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
