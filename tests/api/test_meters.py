"""Meters through the real server and client: resources, validation, queries, and a property test that
holds every query to a brute-force reference over the raw events."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_query import reference_query

from meterd.client import (
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
    OpenMeter,
    WindowSize,
)
from meterd.server.meters.model import Aggregation, MeterDefinition
from meterd.v1 import meters_pb2

T0 = datetime(2024, 3, 30, 20, 0, tzinfo=UTC)  # the night Europe's clocks spring forward
_ids = itertools.count()


def api_event(subject: str, t: datetime, data: Any, type_: str = "api-calls") -> dict[str, Any]:
    return {
        "id": f"e{next(_ids)}",
        "source": "tests",
        "type": type_,
        "subject": subject,
        "time": t,
        "data": data,
    }


def tokens_meter(
    om: OpenMeter, slug: str = "tokens", aggregation: str = "SUM", **extra: Any
) -> meters_pb2.Meter:
    spec: dict[str, Any] = {
        "slug": slug,
        "eventType": "api-calls",
        "aggregation": aggregation,
        "valueProperty": "$.tokens",
        "groupBy": {"model": "$.model", "region": "$.region"},
    }
    spec.update(extra)
    if aggregation == "COUNT":
        spec.pop("valueProperty")
    return om.meters.create(spec)


def rows_of(reply: meters_pb2.QueryMeterResponse) -> list[tuple[Any, ...]]:
    return [(r.window_start, r.window_end, r.subject, dict(r.group_by), r.value) for r in reply.rows]


def test_create_get_list_delete(om: OpenMeter) -> None:
    created = tokens_meter(om, description="LLM tokens")
    assert created.id and created.slug == "tokens"
    assert created.aggregation == "SUM"
    assert dict(created.group_by) == {"model": "$.model", "region": "$.region"}
    assert om.meters.get("tokens") == created
    assert om.meters.get(created.id) == created
    om.meters.create({"slug": "calls", "event_type": "api-calls", "aggregation": "COUNT"})
    assert [m.slug for m in om.meters.list()] == ["calls", "tokens"]
    assert [m.slug for m in om.meters.list(limit=1)] == ["calls"]
    with pytest.raises(AlreadyExistsError, match="tokens"):
        tokens_meter(om)
    om.meters.delete("tokens")
    with pytest.raises(NotFoundError):
        om.meters.get("tokens")
    with pytest.raises(NotFoundError):
        om.meters.delete("tokens")
    with pytest.raises(NotFoundError):
        om.meters.query("tokens")


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"slug": "Bad-Slug"}, "meter.slug"),
        ({"slug": "a" * 64}, "meter.slug"),
        ({"aggregation": "COUNT"}, "meter.value_property"),
        ({"valueProperty": None}, "meter.value_property"),
        ({"valueProperty": "tokens"}, "meter.value_property"),
        ({"valueProperty": "$..tokens"}, "meter.value_property"),
        ({"groupBy": {"subject": "$.s"}}, "meter.group_by"),
        ({"groupBy": {"9bad": "$.s"}}, "meter.group_by"),
        ({"groupBy": {"model": "$[bad"}}, "meter.group_by.model"),
        ({"eventType": ""}, "meter.event_type"),
    ],
)
def test_create_refuses_bad_definitions(om: OpenMeter, spec: dict[str, Any], field: str) -> None:
    base: dict[str, Any] = {"slug": "m", "eventType": "t", "aggregation": "SUM", "valueProperty": "$.v"}
    base.update(spec)
    if base.get("valueProperty") is None:
        base.pop("valueProperty")
    if base["eventType"] == "":
        base["eventType"] = ""
    with pytest.raises(InvalidArgumentError) as caught:
        om.meters.create(base)
    assert any(v.field.startswith(field) for v in caught.value.violations), caught.value.violations


def test_sum_query_with_windows_groups_and_filters(om: OpenMeter) -> None:
    tokens_meter(om)
    om.events.ingest(
        [
            api_event("alice", T0 + timedelta(minutes=5), {"tokens": 10, "model": "gpt", "region": "eu"}),
            api_event("alice", T0 + timedelta(minutes=65), {"tokens": "2.5", "model": "gpt", "region": "us"}),
            api_event("bob", T0 + timedelta(minutes=70), {"tokens": 0.1, "model": "llama"}),
            api_event("bob", T0 + timedelta(minutes=71), {"tokens": 0.2, "model": "llama"}),
            api_event("bob", T0 + timedelta(minutes=72), {"tokens": "lots", "model": "llama"}),  # skipped
            api_event("bob", T0 + timedelta(minutes=73), {"model": "llama"}, type_="other"),  # other type
        ]
    )
    span = {"from_": T0, "to": T0 + timedelta(hours=3)}
    assert rows_of(om.meters.query("tokens", **span)) == [(T0, T0 + timedelta(hours=3), None, {}, 12.8)]
    hourly = om.meters.query("tokens", window_size=WindowSize.HOUR, **span)
    assert rows_of(hourly) == [
        (T0, T0 + timedelta(hours=1), None, {}, 10.0),
        (T0 + timedelta(hours=1), T0 + timedelta(hours=2), None, {}, 2.8),
    ]
    by_subject = om.meters.query("tokens", group_by=["subject", "model"], **span)
    assert rows_of(by_subject) == [
        (T0, T0 + timedelta(hours=3), "alice", {"model": "gpt"}, 12.5),
        (T0, T0 + timedelta(hours=3), "bob", {"model": "llama"}, 0.3),  # exactly 0.3: decimal sums
    ]
    assert rows_of(om.meters.query("tokens", group_by="region", **span)) == [
        (T0, T0 + timedelta(hours=3), None, {}, 0.3),  # no region: the key is absent (null)
        (T0, T0 + timedelta(hours=3), None, {"region": "eu"}, 10.0),
        (T0, T0 + timedelta(hours=3), None, {"region": "us"}, 2.5),
    ]
    filtered = om.meters.query("tokens", filter_group_by={"model": "gpt"}, subject=["alice"], **span)
    assert rows_of(filtered) == [(T0, T0 + timedelta(hours=3), "alice", {}, 12.5)]
    assert om.meters.subjects("tokens") == ["alice", "bob"]
    # The unreadable value is an error on the event, for this meter only; no meter reads "other".
    [other] = om.events.list(has_error=True, type="other")
    assert [(e.meter_slug, e.message) for e in other.validation_errors] == [
        ("", "no meter reads event type other")
    ]
    [bad] = om.events.list(has_error=True, type="api-calls")
    assert [(e.meter_slug, e.message) for e in bad.validation_errors] == [
        ("tokens", "value_property $.tokens: not a number ('lots')")
    ] or bad.validation_errors[0].meter_slug == "tokens"


def test_query_defaults_and_bad_parameters(om: OpenMeter) -> None:
    tokens_meter(om)
    assert list(om.meters.query("tokens").rows) == []
    om.events.ingest(api_event("a", T0 + timedelta(minutes=1, seconds=30), {"tokens": 1}))
    reply = om.meters.query("tokens")
    assert reply.from_time == T0 + timedelta(minutes=1)
    assert [r.value for r in reply.rows] == [1.0]
    for kwargs, field in [
        ({"from_": T0 + timedelta(seconds=1)}, "from_time"),
        ({"from_": T0, "to": T0}, "to_time"),
        ({"window_time_zone": "Mars/Olympus"}, "window_time_zone"),
        ({"group_by": ["nope"]}, "group_by"),
        ({"filter_group_by": {"nope": "x"}}, "filter_group_by.nope"),
    ]:
        with pytest.raises(InvalidArgumentError) as caught:
            om.meters.query("tokens", **kwargs)
        assert any(v.field == field for v in caught.value.violations), (kwargs, caught.value.violations)
    with pytest.raises(InvalidArgumentError, match="window_size"):
        om.meters.query("tokens", window_size="WEEK")


def test_day_windows_follow_the_time_zone_across_dst(om: OpenMeter) -> None:
    om.meters.create({"slug": "calls", "eventType": "api-calls", "aggregation": "COUNT"})
    # Budapest: 2024-03-31 is 23 hours long.
    times = [
        datetime(2024, 3, 30, 22, 59, tzinfo=UTC),
        datetime(2024, 3, 30, 23, 0, tzinfo=UTC),
        datetime(2024, 3, 31, 21, 59, tzinfo=UTC),
        datetime(2024, 3, 31, 22, 0, tzinfo=UTC),
    ]
    om.events.ingest([api_event("a", t, None) for t in times])
    reply = om.meters.query(
        "calls",
        from_=datetime(2024, 3, 30, tzinfo=UTC),
        to=datetime(2024, 4, 2, tzinfo=UTC),
        window_size="DAY",
        window_time_zone="Europe/Budapest",
    )
    assert [(r[0], r[1], r[4]) for r in rows_of(reply)] == [
        (datetime(2024, 3, 29, 23, tzinfo=UTC), datetime(2024, 3, 30, 23, tzinfo=UTC), 1.0),
        (datetime(2024, 3, 30, 23, tzinfo=UTC), datetime(2024, 3, 31, 22, tzinfo=UTC), 2.0),
        (datetime(2024, 3, 31, 22, tzinfo=UTC), datetime(2024, 4, 1, 22, tzinfo=UTC), 1.0),
    ]


def test_meter_created_later_backfills_and_delete_removes_errors(om: OpenMeter) -> None:
    om.events.ingest([api_event("a", T0, {"tokens": 5}), api_event("a", T0, {"tokens": "x"})])
    no_meter = ("", "no meter reads event type api-calls")

    def errors() -> list[list[tuple[str, str]]]:
        return [
            [(e.meter_slug, e.message) for e in row.validation_errors]
            for row in om.events.list(has_error=True)
        ]

    assert errors() == [[no_meter], [no_meter]]  # no meter reads their type yet
    assert om.events.list(has_error=False) == []
    tokens_meter(om)  # its backfill reads them: only the unreadable value is left as an error
    reply = om.meters.query("tokens", from_=T0, to=T0 + timedelta(hours=1))
    assert [r.value for r in reply.rows] == [5.0]
    assert errors() == [[("tokens", "value_property $.tokens: not a number: 'x'")]]
    assert len(om.events.list(has_error=False)) == 1
    om.meters.delete("tokens")  # nothing reads api-calls again
    assert errors() == [[no_meter], [no_meter]]
    tokens_meter(om)  # same slug again: fresh aggregates, same numbers
    assert [r.value for r in om.meters.query("tokens", from_=T0, to=T0 + timedelta(hours=1)).rows] == [5.0]


@pytest.mark.parametrize("backfill", [False, True])
def test_values_a_meter_cannot_keep_are_validation_errors_not_failures(om: OpenMeter, backfill: bool) -> None:
    """Content that the meters cannot use never fails a batch: the event is stored with an error per meter,
    and every other event of the batch counts (on ingest and when a later meter backfills)."""
    deep: Any = 1
    for _ in range(60):  # validation allows 64 levels
        deep = {"d": deep}
    datas = [
        {"tokens": 10**20, "model": "a"},  # beyond what a sum keeps exactly (int64 units of 10^-9)
        {"tokens": "1E+400", "model": "a"},  # beyond a double
        {"tokens": 10**30 + 1, "model": "a"},  # beyond 64 bits: the exact parser
        {"tokens": 5, "model": {"nested": True}, "deep": deep},
        {"tokens": 7, "model": "日本"},
        {"tokens": "2.5", "model": 3},
    ]
    events = [api_event("s", T0 + timedelta(minutes=i), d) for i, d in enumerate(datas)]
    specs = [("tokens", "SUM"), ("peak", "MAX"), ("users", "UNIQUE_COUNT")]
    if not backfill:
        for slug, aggregation in specs:
            tokens_meter(om, slug=slug, aggregation=aggregation)
    assert om.events.ingest(events) is not None
    if backfill:
        for slug, aggregation in specs:
            tokens_meter(om, slug=slug, aggregation=aggregation)
    window = {"from_": T0, "to": T0 + timedelta(hours=1)}
    assert [r.value for r in om.meters.query("tokens", **window).rows] == [14.5]
    assert [r.value for r in om.meters.query("peak", **window).rows] == [7.0]
    assert [r.value for r in om.meters.query("users", **window).rows] == [6.0]
    by_model = om.meters.query("tokens", group_by=["model"], subject=["s"], **window).rows
    assert {r.group_by.get("model"): r.value for r in by_model} == {None: 5.0, "日本": 7.0, "3": 2.5}
    errors = {e.event.id: {v.meter_slug for v in e.validation_errors} for e in om.events.list(has_error=True)}
    assert errors == {events[i]["id"]: {"tokens", "peak"} for i in range(3)}


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [
        ("SUM", 9.0),
        ("COUNT", 4.0),
        ("AVG", 2.25),
        ("MIN", 1.0),
        ("MAX", 4.0),
        ("UNIQUE_COUNT", 3.0),
        ("LATEST", 2.0),
    ],
)
def test_each_aggregation(om: OpenMeter, aggregation: str, expected: float) -> None:
    tokens_meter(om, aggregation=aggregation)
    values = [
        (T0 + timedelta(minutes=3), 4),
        (T0, 1),
        (T0 + timedelta(hours=2), 2),
        (T0 + timedelta(minutes=1), 2),
    ]
    om.events.ingest([api_event("a", t, {"tokens": v}) for t, v in values])
    reply = om.meters.query("tokens", from_=T0, to=T0 + timedelta(days=1))
    assert [r.value for r in reply.rows] == [expected]


def test_unique_count_is_distinct_over_the_window_not_a_sum_of_minutes(om: OpenMeter) -> None:
    tokens_meter(om, aggregation="UNIQUE_COUNT")
    om.events.ingest(
        [
            api_event("a", T0 + timedelta(minutes=m), {"tokens": v})
            for m, v in [(0, "x"), (1, "x"), (61, "x"), (62, 1), (63, 1.0), (64, "y")]
        ]
    )
    reply = om.meters.query("tokens", from_=T0, to=T0 + timedelta(days=1))
    assert [r.value for r in reply.rows] == [3.0]  # x, 1 (== 1.0: numbers compare canonically), y


def test_config_declared_meters_are_created_at_start(tmp_path: Any) -> None:
    from meterd.server.app import MeterdServer
    from meterd.server.config import load

    path = tmp_path / "meterd.yaml"
    path.write_text(
        "meters:\n  - slug: m1\n    eventType: event\n    aggregation: SUM\n    valueProperty: $.value\n"
        "    groupBy:\n      method: $.method\n"
    )
    config = load(path)
    config.listen, config.db = "127.0.0.1:0", str(tmp_path / "m.db")
    server = MeterdServer(config).start()
    try:
        with OpenMeter(server.address) as om:
            meter = om.meters.get("m1")
            assert (meter.event_type, dict(meter.group_by)) == ("event", {"method": "$.method"})
    finally:
        server.stop(0)
    # Restart with a changed definition: updated in place.
    path.write_text("meters:\n  - slug: m1\n    eventType: event\n    aggregation: COUNT\n")
    config = load(path)
    config.listen, config.db = "127.0.0.1:0", str(tmp_path / "m.db")
    server = MeterdServer(config).start()
    try:
        with OpenMeter(server.address) as om:
            assert om.meters.get("m1").aggregation == "COUNT"
    finally:
        server.stop(0)


# -- property test against the reference --------------------------------------------------------------

ZONES = ["UTC", "Europe/Budapest", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
BASE = datetime(2024, 3, 30, tzinfo=UTC)
_slugs = itertools.count()

values = st.one_of(
    st.integers(-1000, 10**6),
    st.integers(-(10**20), 10**20),  # beyond 64 bits, and beyond what a sum keeps exactly
    st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False).map(lambda d: f"{d}"),
    st.decimals(min_value=0, max_value=100, places=2, allow_nan=False).map(float),
    st.sampled_from([None, "abc", True, {"x": 1}, "1E+3", "7", -0.0, 2**63]),
)
events_strategy = st.lists(
    st.tuples(
        st.integers(0, 4 * 24 * 60 - 1),  # minute offset over four days spanning DST changes
        st.integers(0, 59),  # second (several events share one: LATEST ties)
        st.sampled_from(["s1", "s2", "s3"]),
        values,
        st.sampled_from(["a", "b", None, "é", "日本"]),
        st.sampled_from(["x", 1, None, "1", 1.5, True, ["l"]]),
        st.integers(0, 3),  # dedupe: small id space makes duplicates
    ),
    max_size=40,
)
# A second meter on the same event type reads a nested group path and the same value (the general
# reader path, beside the inline one for member names).
SECOND_GROUPS = {"k1": "$.k1", "n": "$.nest.k"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    aggregation=st.sampled_from(list(Aggregation)),
    second=st.sampled_from(list(Aggregation)),
    second_later=st.booleans(),
    raw_events=events_strategy,
    window=st.sampled_from([None, "MINUTE", "HOUR", "DAY"]),
    zone=st.sampled_from(ZONES),
    span=st.tuples(st.integers(0, 4 * 24 * 60), st.integers(1, 4 * 24 * 60)),
    subjects=st.sampled_from([(), ("s1",), ("s1", "s3")]),
    group_by=st.sampled_from([(), ("subject",), ("k1",), ("k1", "k2"), ("subject", "k2")]),
    filters=st.sampled_from([{}, {"k1": "a"}, {"k2": "1"}]),
)
def test_queries_equal_the_brute_force_reference(
    om: OpenMeter,
    aggregation: Aggregation,
    second: Aggregation,
    second_later: bool,
    raw_events: list[Any],
    window: str | None,
    zone: str,
    span: tuple[int, int],
    subjects: tuple[str, ...],
    group_by: tuple[str, ...],
    filters: dict[str, str],
) -> None:
    n = next(_slugs)
    event_type = f"prop{n}"
    definition = MeterDefinition(
        slug=f"prop_{n}",
        event_type=event_type,
        aggregation=aggregation,
        value_property=None if aggregation is Aggregation.COUNT else "$.v",
        group_by={"k1": "$.k1", "k2": "$.k2"},
    )
    other = MeterDefinition(
        slug=f"prop_{n}_b",
        event_type=event_type,
        aggregation=second,
        value_property=None if second is Aggregation.COUNT else "$.v",
        group_by=SECOND_GROUPS,
    )

    def create(meter: MeterDefinition) -> None:
        om.meters.create(
            {
                "slug": meter.slug,
                "eventType": event_type,
                "aggregation": meter.aggregation.value,
                "valueProperty": meter.value_property,
                "groupBy": dict(meter.group_by),
            }
        )

    create(definition)
    if not second_later:
        create(other)
    events = []
    for i, (minute, sec, subject, value, k1, k2, dup) in enumerate(raw_events):
        data = {"v": value, "k1": k1, "k2": k2, "nest": {"k": k2}}
        events.append(
            {
                "id": f"{n}-{i % 7 if dup == 0 else i}",
                "source": "prop",
                "type": event_type,
                "subject": subject,
                "time": BASE + timedelta(minutes=minute, seconds=sec),
                "data": data,
            }
        )
    # Half through the stream, half unary, in shuffled arrival order: both paths feed the aggregates.
    half = len(events) // 2
    if events[:half]:
        with om.events.stream(batch_size=3) as stream:
            stream.send_many(events[:half])
    for e in events[half:]:
        om.events.ingest(e)
    if second_later:  # backfilled from the stored events
        create(other)
    start = BASE + timedelta(minutes=min(span[0], 4 * 24 * 60 - 1))
    end = start + timedelta(minutes=span[1])
    check_against_reference(om, events, definition, start, end, window, zone, subjects, group_by, filters)
    other_group_by = tuple("n" if g == "k2" else g for g in group_by)
    other_filters = {("n" if k == "k2" else k): v for k, v in filters.items()}
    check_against_reference(
        om, events, other, start, end, window, zone, subjects, other_group_by, other_filters
    )


def check_against_reference(
    om: OpenMeter,
    events: list[dict[str, Any]],
    definition: MeterDefinition,
    start: datetime,
    end: datetime,
    window: str | None,
    zone: str,
    subjects: tuple[str, ...],
    group_by: tuple[str, ...],
    filters: dict[str, str],
) -> None:
    aggregation = definition.aggregation
    expected = reference_query(
        events, definition, start, end, window, zone, list(subjects) or None, group_by, filters
    )
    reply = om.meters.query(
        definition.slug,
        from_=start,
        to=end,
        window_size=window,
        window_time_zone=zone,
        subject=list(subjects),
        group_by=list(group_by),
        filter_group_by=filters,
    )
    got = rows_of(reply)
    want = [
        (
            r.window_start,
            r.window_end,
            r.subject,
            {k: v for k, v in r.group_by.items() if v is not None},
            r.value,
        )
        for r in expected
    ]
    assert [g[:4] for g in got] == [w[:4] for w in want]
    for g, w in zip(got, want, strict=True):
        if aggregation is Aggregation.AVG:
            assert math.isclose(g[4], w[4], rel_tol=1e-15, abs_tol=1e-15)
        else:
            assert g[4] == w[4], (g, w)
    assert all(Decimal(repr(g[4])).is_finite() for g in got)
