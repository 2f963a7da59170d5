"""The heartbeat of an idle watch (issue 22, "idle costs nothing"): without ``heartbeat_interval`` a watch beats
at the server's ``server.watch_heartbeat_seconds`` (30 s unless configured); heartbeats of a second or more
end on a shared 100 ms tick, never before their interval."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.server.watch.service import HEARTBEAT_SECONDS
from meterd.server.watch.ticks import TICK_SECONDS

DEADLINE = 60.0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def as_of(message: Any) -> float:
    assert message.current_as_of is not None, message
    return float(message.current_as_of.timestamp())


class Reader:
    """Reads a watch on a thread of its own, keeping every message."""

    def __init__(self, watch: Any) -> None:
        self.watch = watch
        self.messages: list[Any] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for m in self.watch:
            self.messages.append(m)

    def close(self) -> None:
        self.watch.close()
        self.thread.join(timeout=DEADLINE)


@pytest.fixture
def server_with(server_config: Config) -> Iterator[Callable[..., MeterdServer]]:
    started: list[MeterdServer] = []

    def start(**settings: Any) -> MeterdServer:
        srv = MeterdServer(server_config.model_copy(update=settings)).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop(0)


def test_the_default_heartbeat_is_the_servers_setting_30_s_unless_configured(
    server_with: Callable[..., MeterdServer],
) -> None:
    assert Config().watch_heartbeat_seconds == HEARTBEAT_SECONDS == 30.0
    srv = server_with()
    with OpenMeter(srv.address, timeout=30) as om:
        om.features.create({"key": "sso", "name": "SSO"})
        om.subjects.create_entitlement("a", {"type": "boolean", "featureKey": "sso"})
        for asked, beat in ((None, 30.0), (2.5, 2.5), (600, 600.0)):
            reader = Reader(om.entitlements.watch(subject="a", heartbeat_interval=asked, reconnect=False))
            try:
                wait_for(lambda r=reader: len(r.messages) == 1, "the snapshot")
                (session,) = srv.services.watch.sessions()
                # Right after its snapshot, nothing is due before its heartbeat: asked for, or the default.
                wait = session.wait_seconds()
                assert beat - 5 < wait <= beat, (asked, wait)
            finally:
                reader.close()
            wait_for(lambda: srv.services.watch.session_count == 0, "the watch to end")


def test_a_watch_without_an_interval_beats_at_the_configured_default_on_the_shared_tick(
    server_with: Callable[..., MeterdServer],
) -> None:
    srv = server_with(watch_heartbeat_seconds=1.0)
    with OpenMeter(srv.address, timeout=30) as om:
        om.features.create({"key": "sso", "name": "SSO"})
        for s in ("a", "b"):
            om.subjects.create_entitlement(s, {"type": "boolean", "featureKey": "sso"})
        readers = [
            Reader(om.entitlements.watch(subject="a" if i % 2 else "b", reconnect=False)) for i in range(20)
        ]
        try:
            wait_for(lambda: all(len(r.messages) >= 4 for r in readers), "three heartbeats on every watch")
            for r in readers:
                snapshot, *beats = r.messages[:4]
                assert snapshot.snapshot_complete
                for m in beats:  # a heartbeat: its position and how current it is, nothing else
                    assert not m.updates and not m.crossings and not m.snapshot and not m.resumed
                    assert m.position == snapshot.position
                stamps = [as_of(m) for m in r.messages[:4]]
                # Never before the interval (the server's clock; how late one is depends on the machine's
                # load, at least by design the tick's 100 ms).
                assert all(b - a >= 1.0 - 1e-3 for a, b in itertools.pairwise(stamps)), stamps
        finally:
            for r in readers:
                r.close()


def test_the_default_heartbeat_setting_is_bounded(server_config: Config) -> None:
    with pytest.raises(ValueError, match="watch_heartbeat_seconds"):
        server_config.model_copy().watch_heartbeat_seconds = 0.05
    with pytest.raises(ValueError, match="watch_heartbeat_seconds"):
        server_config.model_copy().watch_heartbeat_seconds = 601
    assert TICK_SECONDS == 0.1  # the slack the proto comment and README document
