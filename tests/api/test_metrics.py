"""The Prometheus endpoint: its series after real traffic (unary and streamed ingest, errors, auth,
entitlement values), read over HTTP as Prometheus reads them."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from meterd.client import InvalidArgumentError, NotFoundError, OpenMeter, UnauthenticatedError
from meterd.server.app import MeterdServer
from meterd.server.config import Config

KEY = "metrics-admin-key"


def scrape(server: MeterdServer) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    assert server.metrics is not None and server.metrics.address is not None
    with urllib.request.urlopen(f"http://{server.metrics.address}/metrics", timeout=10) as reply:
        assert reply.status == 200
        text = reply.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(series: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return series.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def metered(server_config: Config) -> Iterator[Config]:
    server_config.metrics_listen = "127.0.0.1:0"
    server_config.admin_key = KEY
    server_config.meters = [{"slug": "calls", "eventType": "call", "aggregation": "COUNT"}]  # type: ignore[list-item]
    yield server_config


def test_metrics_are_off_by_default(server: MeterdServer) -> None:
    assert server.metrics is None


def test_the_endpoint_reports_traffic(metered: Config, server: MeterdServer) -> None:
    with OpenMeter(server.address, api_key=KEY, timeout=30) as om:
        om.events.ingest([{"id": str(i), "source": "m", "type": "call", "subject": "s1"} for i in range(5)])
        om.events.ingest({"id": "0", "source": "m", "type": "call", "subject": "s1"})  # duplicate
        om.events.ingest({"id": "p", "source": "m", "type": "page", "subject": "s1"})
        with pytest.raises(InvalidArgumentError):  # refused whole
            om.events.ingest(
                [
                    {"id": "x", "source": "m", "type": "call", "subject": ""},
                    {"id": "y", "source": "m", "type": "call", "subject": "s1"},
                ]
            )
        with om.events.stream(batch_size=10, raise_on_rejected=False) as stream:
            for i in range(20):
                stream.send(
                    {"id": f"st-{i}", "source": "m", "type": "call", "subject": "" if i == 3 else "s2"}
                )
        with pytest.raises(NotFoundError):
            om.meters.get("nope")
        om.features.create({"key": "f", "name": "F", "meterSlug": "calls"})
        om.subjects.create_entitlement(
            "s1",
            {
                "type": "metered",
                "featureKey": "f",
                "usagePeriod": {"interval": "MONTH"},
                "issueAfterReset": 10,
            },
        )
        om.subjects.get_entitlement_value("s1", "f")
    with OpenMeter(server.address, timeout=10) as anonymous, pytest.raises(UnauthenticatedError):
        anonymous.meters.list()

    # A refused call's status reaches the client before the server's handler has finished recording it (seen
    # on PostgreSQL under load): wait for its series, then read everything from one scrape.
    unauthenticated = {
        "grpc_service": "meterd.v1.MeterService",
        "grpc_method": "ListMeters",
        "grpc_code": "UNAUTHENTICATED",
    }
    deadline = time.monotonic() + 10
    series = scrape(server)
    while value(series, "grpc_server_handled_total", **unauthenticated) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
        series = scrape(server)
    events = "meterd_events_total"
    assert value(series, events, type="call", outcome="accepted") == 5 + 19
    assert value(series, events, type="call", outcome="duplicate") == 1
    assert value(series, events, type="call", outcome="rejected") == 2 + 1
    assert value(series, events, type="page", outcome="accepted") == 1
    assert value(series, "meterd_ingest_batch_events_count") == 4 + 2  # 4 unary calls, 2 streamed batches
    assert value(series, "meterd_ingest_batch_events_sum") == 5 + 1 + 1 + 2 + 20
    assert value(series, "meterd_commit_seconds_count") >= 3
    assert value(series, "meterd_commit_jobs_sum") >= value(series, "meterd_commit_jobs_count") >= 3
    assert (events, frozenset()) not in series
    assert ("meterd_writer_queue_depth", frozenset()) in series
    rpc = {"grpc_service": "meterd.v1.EventService", "grpc_method": "IngestEvents"}
    assert value(series, "grpc_server_handled_total", **rpc, grpc_code="OK") == 3
    assert value(series, "grpc_server_handled_total", **rpc, grpc_code="INVALID_ARGUMENT") == 1
    assert value(series, "grpc_server_handling_seconds_count", **rpc) == 4
    stream_rpc = {"grpc_service": "meterd.v1.EventService", "grpc_method": "StreamEvents"}
    assert value(series, "grpc_server_handled_total", **stream_rpc, grpc_code="OK") == 1
    assert ("meterd_open_streams", frozenset(stream_rpc.items())) in series
    assert value(series, "meterd_open_streams", **stream_rpc) == 0
    assert (
        value(
            series,
            "grpc_server_handled_total",
            grpc_service="meterd.v1.MeterService",
            grpc_method="GetMeter",
            grpc_code="NOT_FOUND",
        )
        == 1
    )
    assert (
        value(
            series,
            "grpc_server_handled_total",
            grpc_service="meterd.v1.MeterService",
            grpc_method="ListMeters",
            grpc_code="UNAUTHENTICATED",
        )
        == 1
    )
    lookups = value(series, "meterd_balance_snapshot_lookups_total", result="hit") + value(
        series, "meterd_balance_snapshot_lookups_total", result="miss"
    )
    assert lookups >= 1
    if server.db.backend == "sqlite":  # a PostgreSQL server's files are not meterd's to measure
        assert value(series, "meterd_database_bytes", file="db") > 0
        assert value(series, "meterd_database_bytes", file="wal") > 0
    assert value(series, "process_resident_memory_bytes") > 0


def test_an_open_stream_is_counted_while_it_is_open(metered: Config, server: MeterdServer) -> None:
    with OpenMeter(server.address, api_key=KEY, timeout=30) as om, om.events.stream(batch_size=1) as stream:
        stream.send({"id": "1", "source": "m", "type": "call", "subject": "s"})
        stream.flush()
        series = scrape(server)
        assert (
            value(
                series,
                "meterd_open_streams",
                grpc_service="meterd.v1.EventService",
                grpc_method="StreamEvents",
            )
            == 1
        )
    series = scrape(server)
    assert (
        value(
            series, "meterd_open_streams", grpc_service="meterd.v1.EventService", grpc_method="StreamEvents"
        )
        == 0
    )


def test_event_types_beyond_the_cap_share_one_series(
    metered: Config, server: MeterdServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("meterd.server.metrics.MAX_EVENT_TYPES", 2)
    with OpenMeter(server.address, api_key=KEY, timeout=30) as om:
        om.events.ingest([{"id": str(i), "source": "m", "type": f"t{i}", "subject": "s"} for i in range(5)])
    series = scrape(server)
    counted = {dict(labels)["type"] for name, labels in series if name == "meterd_events_total"}
    assert counted == {"t0", "t1", "_other"}
    assert value(series, "meterd_events_total", type="_other", outcome="accepted") == 3


def test_rejected_events_never_add_a_type_label(metered: Config, server: MeterdServer) -> None:
    """Types of rejected events are not taken as label values (they count as "_other" unless their type is a
    label already), long types are "_other" too: junk cannot grow a scrape or push real types out."""
    junk = [
        {"id": f"j{i}", "source": "m", "type": f"junk-{i}-" + "x" * 5000, "subject": ""} for i in range(300)
    ]
    with OpenMeter(server.address, api_key=KEY, timeout=30) as om:
        for start in range(0, len(junk), 100):
            with pytest.raises(InvalidArgumentError):
                om.events.ingest(junk[start : start + 100])
        with pytest.raises(InvalidArgumentError):
            om.events.ingest([{"id": "r1", "source": "m", "type": "call", "subject": ""}])
        om.events.ingest(
            [
                {"id": "a1", "source": "m", "type": "call", "subject": "s"},
                {"id": "a2", "source": "m", "type": "t" * 101, "subject": "s"},
            ]
        )
        with pytest.raises(InvalidArgumentError):
            om.events.ingest([{"id": "r2", "source": "m", "type": "call", "subject": ""}])
    series = scrape(server)
    counted = {dict(labels)["type"] for name, labels in series if name == "meterd_events_total"}
    assert counted == {"call", "_other"}
    assert value(series, "meterd_events_total", type="_other", outcome="rejected") == 300 + 1
    assert value(series, "meterd_events_total", type="call", outcome="rejected") == 1
    assert value(series, "meterd_events_total", type="call", outcome="accepted") == 1
    assert value(series, "meterd_events_total", type="_other", outcome="accepted") == 1
    with urllib.request.urlopen(f"http://{server.metrics.address}/metrics", timeout=10) as reply:  # type: ignore[union-attr]
        assert len(reply.read()) < 100_000
