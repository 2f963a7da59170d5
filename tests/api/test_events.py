"""Events through the real server and client: ingest, stream, dedupe, validation, listing, durability."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from meterd.client import (
    AsyncOpenMeter,
    EventOutcome,
    IngestRejectedError,
    InvalidArgumentError,
    OpenMeter,
    ResourceExhaustedError,
)
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.v1 import events_pb2, events_pb2_grpc

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def ev(i: int, **overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "specversion": "1.0",
        "id": f"id-{i}",
        "source": "my-app",
        "type": "api-calls",
        "subject": "customer-1",
        "time": T0 + timedelta(minutes=i),
        "data": {"api_calls": 1, "n": i},
    }
    base.update(overrides)
    return base


def test_ingest_one_event_then_list_it(om: OpenMeter) -> None:
    reply = om.events.ingest(ev(1))
    assert reply.accepted_count == 1 and reply.duplicate_count == 0
    assert reply.results[0].outcome == EventOutcome.ACCEPTED

    [stored] = om.events.list()
    assert stored.event.id == "id-1"
    assert stored.event.subject == "customer-1"
    assert stored.event.time == T0 + timedelta(minutes=1)
    assert json.loads(stored.event.data) == {"api_calls": 1, "n": 1}
    assert stored.ingested_at.tzinfo is UTC
    # No meter reads api-calls yet: the event carries OpenMeter's sink error until one does.
    assert [(e.meter_slug, e.message) for e in stored.validation_errors] == [
        ("", "no meter reads event type api-calls")
    ]
    om.meters.create({"slug": "calls", "eventType": "api-calls", "aggregation": "COUNT"})
    [stored] = om.events.list()
    assert list(stored.validation_errors) == []


def test_batch_and_duplicates(om: OpenMeter) -> None:
    first = om.events.ingest([ev(1), ev(2), ev(3)])
    assert first.accepted_count == 3
    # Same (source, id) with a different body is a duplicate and changes nothing.
    again = om.events.ingest([ev(2, data={"api_calls": 99}), ev(4), ev(4)])
    assert [r.outcome for r in again.results] == [
        EventOutcome.DUPLICATE,
        EventOutcome.ACCEPTED,
        EventOutcome.DUPLICATE,
    ]
    assert again.accepted_count == 1 and again.duplicate_count == 2
    stored = {e.event.id: json.loads(e.event.data) for e in om.events.list()}
    assert stored == {f"id-{i}": {"api_calls": 1, "n": i} for i in (1, 2, 3, 4)}
    # Same id from another source is a different event.
    assert om.events.ingest(ev(1, source="other")).accepted_count == 1


def test_event_time_defaults_to_ingestion_time_and_keeps_subsecond_precision(om: OpenMeter) -> None:
    om.events.ingest(ev(1, time=None))
    precise = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    om.events.ingest(ev(2, time=precise))
    by_id = {e.event.id: e for e in om.events.list()}
    assert by_id["id-1"].event.time == by_id["id-1"].ingested_at
    assert by_id["id-2"].event.time == precise


def test_data_may_be_absent_or_null(om: OpenMeter) -> None:
    om.events.ingest([ev(1, data=None), {k: v for k, v in ev(2).items() if k != "data"}])
    assert {e.event.data for e in om.events.list()} == {""}


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"id": ""}, "events[1].id"),
        ({"source": ""}, "events[1].source"),
        ({"type": ""}, "events[1].type"),
        ({"subject": ""}, "events[1].subject"),
        ({"specversion": "0.3"}, "events[1].specversion"),
        ({"data": [1, 2]}, "events[1].data"),
        ({"data": "text"}, "events[1].data"),
        ({"datacontenttype": "text/plain"}, "events[1].datacontenttype"),
        ({"subject": "x" * 5000}, "events[1].subject"),
    ],
)
def test_unary_batch_with_one_bad_event_stores_nothing(
    om: OpenMeter, override: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        om.events.ingest([ev(0), ev(1, **override), ev(2)])
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert field in caught.value.message
    assert [v.field for v in caught.value.violations] == [field]
    assert om.events.list() == []


def test_missing_specversion_is_refused_with_bad_request_details(server: MeterdServer) -> None:
    # Raw stub, to see the google.rpc details on the wire as any language would.
    with grpc.insecure_channel(server.address) as channel:
        stub = events_pb2_grpc.EventServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.IngestEvents(
                events_pb2.IngestEventsRequest(
                    events=[events_pb2.Event(id="a", source="s", type="t", subject="c")]
                )
            )
    status = rpc_status.from_call(caught.value)
    assert status is not None and status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    bad = error_details_pb2.BadRequest()
    status.details[0].Unpack(bad)
    assert [(v.field, v.description) for v in bad.field_violations] == [
        ("events[0].specversion", "is required")
    ]


def test_invalid_json_data_is_refused(server: MeterdServer) -> None:
    with grpc.insecure_channel(server.address) as channel:
        stub = events_pb2_grpc.EventServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.IngestEvents(
                events_pb2.IngestEventsRequest(
                    events=[
                        events_pb2.Event(
                            id="a", source="s", type="t", subject="c", specversion="1.0", data="{nope"
                        )
                    ]
                )
            )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "events[0].data" in (caught.value.details() or "")


def test_empty_and_oversized_batches(om: OpenMeter) -> None:
    with pytest.raises(InvalidArgumentError):
        om.events.ingest([])
    with pytest.raises(ResourceExhaustedError):
        om.events.ingest([ev(i) for i in range(10_001)])


def test_client_refuses_unknown_keys_and_naive_times_before_sending(om: OpenMeter) -> None:
    with pytest.raises(InvalidArgumentError, match="unknown key 'subjekt'"):
        om.events.ingest({**ev(1), "subjekt": "x"})
    with pytest.raises(InvalidArgumentError, match="naive"):
        om.events.ingest(ev(1, time=datetime(2024, 1, 1)))


def test_stream_acknowledges_batches_with_per_event_outcomes(om: OpenMeter) -> None:
    with om.events.stream(batch_size=10, max_in_flight=3) as stream:
        for i in range(95):
            stream.send(ev(i))
    assert (stream.tally.accepted, stream.tally.duplicates, stream.tally.rejected) == (95, 0, 0)
    assert len(om.events.list(limit=1000)) == 95

    stream = om.events.stream(batch_size=4)
    with pytest.raises(IngestRejectedError) as caught, stream:
        stream.send(ev(1))  # duplicate
        stream.send(ev(200, subject=""))  # rejected alone
        stream.send(ev(201))  # accepted
    assert list(caught.value.rejected) == ["id-200"]
    assert caught.value.rejected["id-200"][0].field == "subject"
    assert (stream.tally.accepted, stream.tally.duplicates, stream.tally.rejected) == (1, 1, 1)
    assert {e.event.id for e in om.events.list(limit=1000)} == {f"id-{i}" for i in [*range(95), 201]}


def test_stream_flush_waits_for_acknowledgement(om: OpenMeter) -> None:
    with om.events.stream(batch_size=1000) as stream:
        stream.send(ev(1))
        stream.flush()
        # After flush the event is durable and visible.
        assert [e.event.id for e in om.events.list()] == ["id-1"]
        stream.send(ev(2))
    assert len(om.events.list()) == 2


def test_list_filters_and_paging(om: OpenMeter) -> None:
    events = [ev(i, subject=f"c{i % 3}", type="a" if i % 2 else "b") for i in range(30)]
    om.events.ingest(events)
    # Newest event time first.
    assert [e.event.id for e in om.events.list(limit=3)] == ["id-29", "id-28", "id-27"]
    assert {e.event.subject for e in om.events.list(subject="c1", limit=1000)} == {"c1"}
    assert len(om.events.list(subject=["c1", "c2"], limit=1000)) == 20
    assert {e.event.type for e in om.events.list(type="a", limit=1000)} == {"a"}
    assert [e.event.id for e in om.events.list(id="id-7")] == ["id-7"]
    window = om.events.list(from_=T0 + timedelta(minutes=10), to=T0 + timedelta(minutes=12))
    assert [e.event.id for e in window] == ["id-11", "id-10"]
    assert len(om.events.list(has_error=True, limit=1000)) == 30  # no meter reads "a" or "b"
    assert om.events.list(has_error=False) == []
    now = datetime.now(UTC)
    assert len(om.events.list(ingested_from=now - timedelta(hours=1), limit=1000)) == 30
    assert om.events.list(ingested_to=now - timedelta(hours=1)) == []

    seen: list[str] = []
    token = None
    while True:
        page = om.events.list_page(limit=7, page_token=token)
        seen += [e.event.id for e in page.events]
        token = page.next_page_token
        if not token:
            break
    assert seen == [f"id-{i}" for i in range(29, -1, -1)]


def test_list_refuses_bad_paging_and_ranges(om: OpenMeter) -> None:
    with pytest.raises(InvalidArgumentError, match="page_size"):
        om.events.list(limit=1001)
    with pytest.raises(InvalidArgumentError, match="page_token"):
        om.events.list(page_token="not-a-token")
    with pytest.raises(InvalidArgumentError, match="from_time"):
        om.events.list(from_=T0, to=T0)


def test_ties_in_event_time_list_newest_ingestion_first(om: OpenMeter) -> None:
    om.events.ingest(ev(1, time=T0))
    om.events.ingest(ev(2, time=T0))
    assert [e.event.id for e in om.events.list()] == ["id-2", "id-1"]


def test_restart_keeps_every_acknowledged_event(server_config: Config) -> None:
    first = MeterdServer(server_config).start()
    with OpenMeter(first.address) as om:
        om.events.ingest([ev(i) for i in range(50)])
        with om.events.stream(batch_size=7) as stream:
            for i in range(50, 120):
                stream.send(ev(i))
    first.stop()
    second = MeterdServer(server_config).start()
    try:
        with OpenMeter(second.address) as om:
            assert len(om.events.list(limit=1000)) == 120
            assert om.events.ingest(ev(3)).duplicate_count == 1
    finally:
        second.stop(0)


def test_async_client_ingests_lists_and_streams(server: MeterdServer) -> None:
    async def session() -> tuple[int, int, list[str]]:
        async with AsyncOpenMeter(server.address) as om:
            reply = await om.events.ingest([ev(1), ev(2)])
            async with om.events.stream(batch_size=3) as stream:
                for i in range(3, 11):
                    await stream.send(ev(i))
            with pytest.raises(InvalidArgumentError):
                await om.events.ingest(ev(99, subject=""))
            listed = await om.events.list(limit=100)
            return reply.accepted_count, stream.tally.accepted, [e.event.id for e in listed]

    accepted, streamed, ids = asyncio.run(session())
    assert accepted == 2 and streamed == 8
    assert ids == [f"id-{i}" for i in range(10, 0, -1)]
