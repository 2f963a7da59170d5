"""Deadlines and retries of the client's transport, against an in-process fake MeterService/EventService
whose answers the test scripts (UNAVAILABLE n times, then success; or a call that never answers).

Retries are gRPC's own (the retry policy in the channel's service config), so these tests count what the
server saw: every attempt is a call that reached it."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from support import ROOT, free_port

from meterd.client import (
    AsyncOpenMeter,
    DeadlineExceededError,
    OpenMeter,
    UnavailableError,
    _transport,
)
from meterd.v1 import events_pb2, events_pb2_grpc, meters_pb2, meters_pb2_grpc


class Script:
    """How many calls of each method fail with UNAVAILABLE before one succeeds, and how many came in."""

    def __init__(self) -> None:
        self.unavailable: dict[str, int] = {}
        self.calls: dict[str, int] = {}
        self.hang = threading.Event()  # set: calls to "Hang" methods return
        self.lock = threading.Lock()

    def enter(self, method: str, context: grpc.ServicerContext) -> None:
        with self.lock:
            self.calls[method] = self.calls.get(method, 0) + 1
            failing = self.unavailable.get(method, 0)
            if failing:
                self.unavailable[method] = failing - 1
        if failing:
            context.abort(grpc.StatusCode.UNAVAILABLE, "scripted outage")


class FakeMeters(meters_pb2_grpc.MeterServiceServicer):
    def __init__(self, script: Script) -> None:
        self.script = script

    def GetMeter(self, request: Any, context: grpc.ServicerContext) -> meters_pb2.GetMeterResponse:
        self.script.enter("GetMeter", context)
        return meters_pb2.GetMeterResponse(meter=meters_pb2.Meter(slug=request.meter))

    def CreateMeter(self, request: Any, context: grpc.ServicerContext) -> meters_pb2.CreateMeterResponse:
        self.script.enter("CreateMeter", context)
        return meters_pb2.CreateMeterResponse(meter=request.meter)

    def ListMeters(self, request: Any, context: grpc.ServicerContext) -> meters_pb2.ListMetersResponse:
        self.script.enter("ListMeters", context)
        self.script.hang.wait(timeout=30)  # answers only once the test lets it
        return meters_pb2.ListMetersResponse()


class FakeEvents(events_pb2_grpc.EventServiceServicer):
    def __init__(self, script: Script) -> None:
        self.script = script

    def IngestEvents(self, request: Any, context: grpc.ServicerContext) -> events_pb2.IngestEventsResponse:
        self.script.enter("IngestEvents", context)
        return events_pb2.IngestEventsResponse(accepted_count=len(request.events))


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def target(script: Script, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(_transport, "RETRY_BASE_DELAY", 0.01)  # keep the backoff short (read per channel)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    meters_pb2_grpc.add_MeterServiceServicer_to_server(FakeMeters(script), server)
    events_pb2_grpc.add_EventServiceServicer_to_server(FakeEvents(script), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    script.hang.set()
    server.stop(0)


EVENT = {"id": "e1", "source": "s", "type": "t", "subject": "c1"}


def test_idempotent_calls_are_retried_through_an_outage(target: str, script: Script) -> None:
    script.unavailable = {"GetMeter": 2, "IngestEvents": _transport.RETRY_ATTEMPTS - 1}
    with OpenMeter(target) as om:
        assert om.meters.get("m1").slug == "m1"
        assert om.events.ingest(EVENT).accepted_count == 1
    assert script.calls == {"GetMeter": 3, "IngestEvents": _transport.RETRY_ATTEMPTS}


def test_retries_give_up_after_the_last_attempt(target: str, script: Script) -> None:
    script.unavailable = {"GetMeter": _transport.RETRY_ATTEMPTS}
    with OpenMeter(target) as om, pytest.raises(UnavailableError, match="scripted outage"):
        om.meters.get("m1")
    assert script.calls == {"GetMeter": _transport.RETRY_ATTEMPTS}


def test_calls_that_are_not_idempotent_are_not_retried(target: str, script: Script) -> None:
    script.unavailable = {"CreateMeter": 1}
    with OpenMeter(target) as om, pytest.raises(UnavailableError):
        om.meters.create({"slug": "m1", "eventType": "t", "aggregation": "COUNT"})
    assert script.calls == {"CreateMeter": 1}


def test_async_client_retries_too(target: str, script: Script) -> None:
    script.unavailable = {"GetMeter": 2}

    async def run() -> str:
        async with AsyncOpenMeter(target) as om:
            meter = await om.meters.get("m1")
            return meter.slug

    assert asyncio.run(run()) == "m1"
    assert script.calls == {"GetMeter": 3}


def test_per_call_timeout_overrides_the_default(target: str, script: Script) -> None:
    with OpenMeter(target, timeout=30) as om, pytest.raises(DeadlineExceededError):
        om.meters.list(timeout=0.2)


def test_default_timeout_applies_to_every_call(target: str, script: Script) -> None:
    with OpenMeter(target, timeout=0.2) as om, pytest.raises(DeadlineExceededError):
        om.meters.list()


def test_the_retry_policy_covers_reads_and_idempotent_writes_only() -> None:
    retried = set(_transport.retried_methods())
    assert {
        ("meterd.v1.MeterService", "GetMeter"),
        ("meterd.v1.MeterService", "QueryMeter"),
        ("meterd.v1.EventService", "IngestEvents"),
        ("meterd.v1.SubjectService", "UpsertSubjects"),
        ("meterd.v1.EntitlementService", "GetEntitlementValue"),
    } <= retried
    assert (
        not {
            ("meterd.v1.MeterService", "CreateMeter"),
            ("meterd.v1.EventService", "StreamEvents"),
            ("meterd.v1.GrantService", "VoidGrant"),
            ("meterd.v1.GrantService", "CreateGrant"),
        }
        & retried
    )
    policy = json.loads(_transport.service_config())["methodConfig"][0]["retryPolicy"]
    assert policy["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert policy["maxAttempts"] == _transport.RETRY_ATTEMPTS


def test_calls_marked_idempotent_are_the_ones_the_policy_retries() -> None:
    """``idempotent=True`` on a transport call documents intent; the service config decides. They agree.
    Calls are ``self._t.call(self._t.<stub>.<Method>, ...)`` in the namespaces written once in ``_async/``."""
    source = "\n".join(p.read_text() for p in (ROOT / "client" / "meterd" / "client" / "_async").glob("*.py"))
    transport = _transport.Transport(
        "localhost:1", api_key=None, portal_token=None, timeout=1
    )  # never called
    marked = set()
    for call in re.finditer(r"\._t\.call\(\s*self\._t\.(\w+)\.(\w+)\b", source):
        depth, end = 1, call.end()
        while depth:  # to the call's closing parenthesis
            depth += {"(": 1, ")": -1}.get(source[end], 0)
            end += 1
        if "idempotent=True" in source[call.end() : end]:
            service = type(getattr(transport, call.group(1))).__name__.removesuffix("Stub")
            marked.add((f"meterd.v1.{service}", call.group(2)))
    transport.close()
    assert len(marked) > 20 and marked <= set(_transport.retried_methods()), marked - set(
        _transport.retried_methods()
    )


def test_unreachable_server_names_the_target_and_how_to_set_it() -> None:
    target = f"127.0.0.1:{free_port()}"
    with OpenMeter(target, timeout=20) as om, pytest.raises(UnavailableError) as info:
        om.meters.get("m1")
    assert target in str(info.value) and "METERD_TARGET" in str(info.value)


def test_a_client_started_before_the_server_gets_through_once_it_is_up(script: Script) -> None:
    """The first attempt finds nothing listening (a real refused connection); the server starts as soon as
    the channel reports the failure, and the retry policy's next attempt reaches it. No sleep waits for the
    server: the channel's own state change starts it."""
    port = free_port()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    meters_pb2_grpc.add_MeterServiceServicer_to_server(FakeMeters(script), server)
    assert server.add_insecure_port(f"127.0.0.1:{port}") == port
    started = threading.Event()

    def start_on_failure(state: grpc.ChannelConnectivity) -> None:
        if state == grpc.ChannelConnectivity.TRANSIENT_FAILURE and not started.is_set():
            started.set()
            server.start()

    # The channel's own reconnect backoff (1 s by default) would outlast the retry policy's attempts.
    channel = grpc.insecure_channel(
        f"127.0.0.1:{port}",
        options=[
            *_transport.channel_options(),
            ("grpc.initial_reconnect_backoff_ms", 10),
            ("grpc.min_reconnect_backoff_ms", 10),
            ("grpc.max_reconnect_backoff_ms", 20),
        ],
    )
    channel.subscribe(start_on_failure, try_to_connect=False)
    try:
        with OpenMeter(channel=channel) as om:
            assert om.meters.get("m1").slug == "m1"
        assert started.is_set()
        assert script.calls == {"GetMeter": 1}
    finally:
        channel.unsubscribe(start_on_failure)
        server.stop(0)
