"""Serving: thousands of idle streams cost unary calls nothing, the stream cap, undecodable bodies, and
deadlines/cancellation reaching the servicer."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from entitlement_support import create_meter
from support import IdleStreams, wait_until

from meterd.client import MeterdError, OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config, load
from meterd.server.errors import InvalidArgument
from meterd.v1 import events_pb2, meters_pb2

IDLE_STREAMS = 2_000


def p99(call: Callable[[], object], n: int = 200) -> float:
    """The 99th percentile latency of ``n`` sequential calls, in seconds (after a few warm-up calls)."""
    for _ in range(5):
        call()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[int(0.99 * (n - 1))]


def test_unary_calls_stay_fast_with_2000_idle_streams(om: OpenMeter, server: MeterdServer) -> None:
    create_meter(om)
    om.features.create({"key": "ai_tokens", "name": "AI tokens", "meterSlug": "tokens_total"})
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    om.subjects.create_entitlement(
        "c1",
        {
            "type": "metered",
            "featureKey": "ai_tokens",
            "usagePeriod": {"interval": "MONTH"},
            "issueAfterReset": 1000,
            "measureUsageFrom": start,
        },
    )
    om.events.ingest(
        [
            {
                "id": f"e{i}",
                "source": "t",
                "type": "tokens",
                "subject": "c1",
                "time": start + timedelta(minutes=i),
                "data": {"tokens": 5, "model": "m"},
            }
            for i in range(50)
        ]
    )

    def value() -> None:
        assert om.subjects.get_entitlement_value("c1", "ai_tokens", timeout=20).has_access

    def meters() -> None:
        assert len(om.meters.list(timeout=20)) == 1

    before = {"GetEntitlementValue": p99(value), "ListMeters": p99(meters)}
    with IdleStreams(server.address, IDLE_STREAMS):
        wait_until(
            lambda: server.serving.open_streams == IDLE_STREAMS, what="every stream open on the server"
        )
        during = {"GetEntitlementValue": p99(value), "ListMeters": p99(meters)}
        assert server.serving.open_streams == IDLE_STREAMS
    wait_until(lambda: server.serving.open_streams == 0, what="every stream closed on the server")
    print(
        f"p99 without / with {IDLE_STREAMS} idle streams:",
        {k: (round(before[k] * 1000, 2), round(during[k] * 1000, 2)) for k in before},
        "ms",
    )
    for name in before:
        # Generous: the old thread-per-stream server made these calls wait for their deadline (20 s).
        assert during[name] <= 5 * before[name] + 0.25, (name, before[name], during[name])


@pytest.fixture
def capped(server_config: Config) -> Config:
    server_config.max_streams = 3
    return server_config


def test_streams_beyond_the_cap_are_resource_exhausted(capped: Config, server: MeterdServer) -> None:
    with IdleStreams(server.address, 3, channels=1):
        wait_until(lambda: server.serving.open_streams == 3)
        with (
            OpenMeter(server.address, timeout=10) as om,
            pytest.raises(MeterdError) as refused,
            om.events.stream() as stream,
        ):
            stream.send({"id": "x", "source": "s", "type": "t", "subject": "c", "data": {}})
        assert refused.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED, refused.value
        assert "max_streams" in str(refused.value)
        # Unary calls are not streams: still served.
        with OpenMeter(server.address, timeout=10) as om:
            assert om.meters.list() == []
    wait_until(lambda: server.serving.open_streams == 0)
    with OpenMeter(server.address, timeout=10) as om, om.events.stream() as stream:
        stream.send({"id": "x", "source": "s", "type": "t", "subject": "c", "data": {}})
    assert stream.tally.accepted == 1


GARBAGE = b"\xff\xff\xff\xff\x0f"  # a field tag with a truncated varint: not a protobuf message


def raw_unary(
    address: str, method: str, body: bytes, metadata: tuple[tuple[str, str], ...] = ()
) -> grpc.RpcError:
    with grpc.insecure_channel(address) as channel, pytest.raises(grpc.RpcError) as failed:
        channel.unary_unary(method)(body, timeout=10, metadata=metadata)
    return failed.value


def test_an_undecodable_body_is_invalid_argument(om: OpenMeter, server: MeterdServer) -> None:
    for method in (
        "/meterd.v1.MeterService/ListMeters",
        "/meterd.v1.EventService/IngestEvents",
        "/meterd.v1.PortalService/CreatePortalToken",
    ):
        error = raw_unary(server.address, method, GARBAGE)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (method, error)
        assert error.details().startswith("request: is not a valid meterd.v1."), error.details()
    # On a stream: the stream ends INVALID_ARGUMENT, the batch before it stays acknowledged.
    good = events_pb2.StreamEventsRequest(
        sequence=1,
        events=[events_pb2.Event(specversion="1.0", id="ok-1", source="s", type="t", subject="c", data="{}")],
    ).SerializeToString()
    with grpc.insecure_channel(server.address) as channel:
        call = channel.stream_stream("/meterd.v1.EventService/StreamEvents")(
            iter([good, GARBAGE]), timeout=10
        )
        with pytest.raises(grpc.RpcError) as failed:
            _ = [events_pb2.StreamEventsResponse.FromString(raw) for raw in call]
        assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [e.event.id for e in om.events.list()] == ["ok-1"]
    assert om.meters.list() == []  # the server is fine


@pytest.fixture
def secured(server_config: Config) -> Config:
    server_config.admin_key = "k" * 32
    return server_config


def test_authentication_comes_before_decoding(secured: Config, server: MeterdServer) -> None:
    error = raw_unary(server.address, "/meterd.v1.MeterService/ListMeters", GARBAGE)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    error = raw_unary(
        server.address,
        "/meterd.v1.MeterService/ListMeters",
        GARBAGE,
        metadata=(("authorization", "Bearer " + "k" * 32),),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    # A valid body still works with the key.
    with grpc.insecure_channel(server.address) as channel:
        raw = channel.unary_unary("/meterd.v1.MeterService/ListMeters")(
            meters_pb2.ListMetersRequest().SerializeToString(),
            timeout=10,
            metadata=(("authorization", "Bearer " + "k" * 32),),
        )
    assert meters_pb2.ListMetersResponse.FromString(raw).meters == []


def test_serving_settings_come_from_the_file_then_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "meterd.yaml"
    path.write_text("server:\n  max_streams: 7\n  keepalive_time_seconds: 30\n  max_message_bytes: 1048576\n")
    config = load(path, env={"METERD_MAX_STREAMS": "9", "METERD_WORKERS": "4"})
    assert (config.max_streams, config.workers, config.keepalive_time_seconds, config.max_message_bytes) == (
        9,
        4,
        30.0,
        1_048_576,
    )
    with pytest.raises(InvalidArgument, match="max_streams"):
        load(None, env={"METERD_MAX_STREAMS": "0"})
    with pytest.raises(InvalidArgument, match=r"server\.workers"):
        path.write_text("server:\n  workers: many\n")
        load(path, env={})


def test_a_message_over_max_message_bytes_is_refused(server_config: Config) -> None:
    server_config.max_message_bytes = 64 * 1024
    server = MeterdServer(server_config).start()
    try:
        with OpenMeter(server.address, timeout=10) as om, pytest.raises(MeterdError) as refused:
            om.events.ingest(
                {"id": "x", "source": "s", "type": "t", "subject": "c", "data": {"pad": "x" * 100_000}}
            )
        assert refused.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        server.stop(0)


def test_shutdown_ends_open_streams_once_their_batches_are_acknowledged(server_config: Config) -> None:
    server_config.grace_seconds = 60.0
    server = MeterdServer(server_config).start()
    try:
        with OpenMeter(server.address, timeout=30) as om:
            stream = om.events.stream(batch_size=1)
            stream.open()
            stream.send({"id": "before", "source": "s", "type": "t", "subject": "c", "data": {}})
            stream.flush()  # acknowledged; now the stream is open and idle, as a producer's is
            with IdleStreams(server.address, 20):
                wait_until(lambda: server.serving.open_streams == 21)
                started = time.monotonic()
                server.stop()  # a 60 s grace: idle streams must not hold it
                assert time.monotonic() - started < 30
            with pytest.raises(MeterdError) as ended:
                stream.send({"id": "after", "source": "s", "type": "t", "subject": "c", "data": {}})
                stream.flush(timeout=30)
            stream.abort()
        assert ended.value.code == grpc.StatusCode.UNAVAILABLE
        assert "shutting down" in ended.value.message
    finally:
        server.stop(0)
    restarted = MeterdServer(server_config).start()
    try:
        with OpenMeter(restarted.address, timeout=30) as om:
            assert [e.event.id for e in om.events.list()] == ["before"]
    finally:
        restarted.stop(0)
