"""Events that the store, the aggregates or a window computation cannot represent are refused at validation,
per event, with the field named (issue 11 § 2): one test per class of input, through the real server, with
raw wire messages (the client would refuse some of them itself)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.events.model import MAX_DATA_DEPTH
from meterd.server.meters.model import MAX_VALUE_DIGITS
from meterd.v1 import events_pb2, events_pb2_grpc

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def stub(server: MeterdServer) -> Iterator[events_pb2_grpc.EventServiceStub]:
    with grpc.insecure_channel(server.address) as channel:
        yield events_pb2_grpc.EventServiceStub(channel)


def event(i: int = 1, **fields: object) -> events_pb2.Event:
    base: dict[str, object] = {
        "specversion": "1.0",
        "id": f"id-{i}",
        "source": "app",
        "type": "calls",
        "subject": "c1",
        "data": '{"n": 1}',
    }
    base.update(fields)
    message = events_pb2.Event(**base)  # type: ignore[arg-type]
    if "time" not in fields:
        message.time.FromDatetime(T0)
    return message


def violations_of(error: grpc.RpcError) -> list[tuple[str, str]]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    out = []
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            out.extend((v.field, v.description) for v in bad.field_violations)
    return out


def refused(stub: events_pb2_grpc.EventServiceStub, bad: events_pb2.Event) -> list[tuple[str, str]]:
    """Ingests ``bad`` next to a good event, unary (all or nothing) then streamed (per event); returns the
    violations. The good event of the unary batch is not stored; the streamed one is."""
    good = event(100)
    with pytest.raises(grpc.RpcError) as exc:
        stub.IngestEvents(events_pb2.IngestEventsRequest(events=[good, bad]), timeout=10)
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    unary = violations_of(exc.value)
    assert unary and all(field.startswith("events[1].") for field, _ in unary)
    assert len(exc.value.details()) < 1000
    assert stub.ListEvents(events_pb2.ListEventsRequest(id="id-100"), timeout=10).events == []

    requests = [
        events_pb2.StreamEventsRequest(sequence=1, events=[bad, good]),
        events_pb2.StreamEventsRequest(sequence=2, events=[event(101)]),
    ]
    acks = list(stub.StreamEvents(iter(requests), timeout=10))
    assert [a.sequence for a in acks] == [1, 2]
    assert [r.outcome for r in acks[0].results] == [
        events_pb2.EVENT_OUTCOME_REJECTED,
        events_pb2.EVENT_OUTCOME_ACCEPTED,
    ]
    assert acks[1].accepted_count == 1
    streamed = [(v.field, v.description) for v in acks[0].results[0].violations]
    assert [f for f, _ in streamed] == [f.removeprefix("events[1].") for f, _ in unary]
    listed = {e.event.id for e in stub.ListEvents(events_pb2.ListEventsRequest(), timeout=10).events}
    assert listed == {"id-100", "id-101"}
    return streamed


def fields_of(violations: list[tuple[str, str]]) -> list[str]:
    return [f for f, _ in violations]


@pytest.mark.parametrize("name", ["id", "source", "type", "subject", "dataschema"])
def test_nul_in_a_string_attribute(stub: events_pb2_grpc.EventServiceStub, name: str) -> None:
    violations = refused(stub, event(**{name: "a\x00b"}))
    assert violations == [(name, "must not contain NUL characters")]


def test_specversion_and_content_type_with_nul(stub: events_pb2_grpc.EventServiceStub) -> None:
    violations = refused(stub, event(specversion="1.0\x00", datacontenttype="application/json\x00"))
    assert fields_of(violations) == ["specversion", "datacontenttype", "specversion", "datacontenttype"]


@pytest.mark.parametrize(
    ("when", "seconds", "nanos"),
    [
        ("before 1970", -1, 0),
        ("year 1", -62135596800, 0),
        ("year 9999", 253370764800, 0),
        ("year 10000", 253402300800, 0),
        ("int64 max seconds", 2**63 - 1, 0),
        ("int64 min seconds", -(2**63), 0),
        ("negative nanos", 1_700_000_000, -1),
        ("nanos of a whole second", 1_700_000_000, 1_000_000_000),
    ],
)
def test_event_time_outside_the_range(
    stub: events_pb2_grpc.EventServiceStub, when: str, seconds: int, nanos: int
) -> None:
    bad = event()
    bad.time.seconds, bad.time.nanos = seconds, nanos
    [(field, description)] = refused(stub, bad)
    assert field == "time"
    assert (
        ("nanos" in description) if nanos else ("1970-01-01" in description and "9999-01-01" in description)
    )


def test_the_last_microsecond_before_9999_is_accepted(om: OpenMeter) -> None:
    last = datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    first = datetime(1970, 1, 1, tzinfo=UTC)
    reply = om.events.ingest(
        [
            {"id": "late", "source": "s", "type": "t", "subject": "c", "time": last},
            {"id": "early", "source": "s", "type": "t", "subject": "c", "time": first},
        ]
    )
    assert reply.accepted_count == 2
    assert [e.event.id for e in om.events.list()] == ["late", "early"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ('{"a": "\\udcff"}', "lone surrogate"),
        ('{"\\ud800": 1}', "lone surrogate"),
        ('{"a": ["\\udfff", 1e400]}', "lone surrogate"),  # 1e400 sends it to the exact parser
        ('{"a": 1', "not valid JSON"),
        ('{"a": NaN}', "not valid JSON"),
        ('{"a": 1} x', "not valid JSON"),
        ("[" * 10_000 + "]" * 10_000, f"nests deeper than {MAX_DATA_DEPTH} levels"),
        ('{"a":' * 10_000 + "1" + "}" * 10_000, f"nests deeper than {MAX_DATA_DEPTH} levels"),
        ('{"a":' * 1100 + "1e400" + "}" * 1100, f"nests deeper than {MAX_DATA_DEPTH} levels"),
        ('{"a":' * 500 + "1" + "}" * 500, f"nests deeper than {MAX_DATA_DEPTH} levels"),
        (
            '{"a":' * MAX_DATA_DEPTH + "[1]" + "}" * MAX_DATA_DEPTH,
            f"nests deeper than {MAX_DATA_DEPTH} levels",
        ),
        ('"text"', "must be a JSON object"),
    ],
)
def test_data_that_is_not_valid_json_text(
    stub: events_pb2_grpc.EventServiceStub, data: str, expected: str
) -> None:
    [(field, description)] = refused(stub, event(data=data))
    assert field == "data" and expected in description
    assert len(description) < 300


def test_data_within_the_limits_is_accepted(stub: events_pb2_grpc.EventServiceStub) -> None:
    deepest = '{"a":' * (MAX_DATA_DEPTH - 1) + "[1]" + "}" * (MAX_DATA_DEPTH - 1)
    paired = '{"emoji": "\\ud83d\\ude00", "big": 1e400, "nul": "\\u0000"}'
    reply = stub.IngestEvents(
        events_pb2.IngestEventsRequest(events=[event(1, data=deepest), event(2, data=paired)])
    )
    assert reply.accepted_count == 2
    stored = {e.event.id: e.event.data for e in stub.ListEvents(events_pb2.ListEventsRequest()).events}
    assert stored == {"id-1": deepest, "id-2": paired}


def test_a_long_specversion_is_quoted_cut(stub: events_pb2_grpc.EventServiceStub) -> None:
    [(field, description)] = refused(stub, event(specversion="x" * 20_000))
    assert field == "specversion" and "20000 characters" in description and len(description) < 200


def test_value_too_large_for_exact_sums_is_an_error_of_that_meter_only(om: OpenMeter) -> None:
    om.meters.create({"slug": "total", "eventType": "calls", "aggregation": "SUM", "valueProperty": "$.n"})
    om.meters.create({"slug": "calls", "eventType": "calls", "aggregation": "COUNT"})
    reply = om.events.ingest(
        [
            {"id": "huge", "source": "s", "type": "calls", "subject": "c", "time": T0, "data": {"n": 1e20}},
            {"id": "ok", "source": "s", "type": "calls", "subject": "c", "time": T0, "data": {"n": 2}},
        ]
    )
    assert reply.accepted_count == 2
    later = datetime(2024, 1, 2, tzinfo=UTC)
    assert [r.value for r in om.meters.query("total", from_=T0, to=later).rows] == [2.0]
    assert [r.value for r in om.meters.query("calls", from_=T0, to=later).rows] == [2.0]
    [huge] = om.events.list(id="huge")
    assert [(e.meter_slug, "too large" in e.message) for e in huge.validation_errors] == [("total", True)]


def test_the_largest_readings_never_overflow_the_exact_sums(om: OpenMeter) -> None:
    """Batches of the largest accepted reading, committed together, all in one minute: the sums stay exact."""
    om.meters.create({"slug": "total", "eventType": "calls", "aggregation": "SUM", "valueProperty": "$.n"})
    largest = 10**MAX_VALUE_DIGITS - 1
    with om.events.stream(batch_size=5000, max_in_flight=4) as stream:
        for i in range(20_000):
            stream.send(
                {
                    "id": f"e{i}",
                    "source": "s",
                    "type": "calls",
                    "subject": f"c{i % 2}",
                    "time": T0,
                    "data": {"n": largest},
                }
            )
    rows = om.meters.query("total", from_=T0, to=datetime(2024, 1, 2, tzinfo=UTC)).rows
    assert [r.value for r in rows] == [float(20_000 * largest)]
