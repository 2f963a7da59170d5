"""``om.subjects``: to be implemented by its issue."""

from __future__ import annotations

from meterd.client._transport import AsyncTransport, Transport


class Subjects:
    """``om.subjects``."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport


class AsyncSubjects:
    """``om.subjects`` for AsyncOpenMeter: the same methods, awaitable."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport
