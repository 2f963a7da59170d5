"""Meter queries around time zone transitions, with non-ASCII, empty and missing group values, and sums
near the limits, through the real server against the brute-force reference. On SQLite these rows are grouped
into windows in SQL (window runs, ``meter_reads``); the PostgreSQL backend merges in Python: both must agree
with the reference exactly."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_query import reference_query

from meterd.client import OpenMeter
from meterd.server.meters.model import Aggregation, MeterDefinition

# Instants near transitions: Budapest and New York (fall back and spring forward), Lord Howe's 30-minute
# changes (autumn, spring), Chatham's +12:45/+13:45.
TRANSITIONS = [
    datetime(2024, 10, 27, 1, tzinfo=UTC),
    datetime(2024, 3, 31, 1, tzinfo=UTC),
    datetime(2024, 11, 3, 6, tzinfo=UTC),
    datetime(2024, 3, 10, 7, tzinfo=UTC),
    datetime(2024, 4, 6, 15, tzinfo=UTC),
    datetime(2024, 10, 5, 15, 30, tzinfo=UTC),
    datetime(2024, 4, 6, 14, tzinfo=UTC),
]
ZONES = [
    "UTC",
    "Europe/Budapest",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kolkata",
]
_n = itertools.count()

values = st.one_of(
    st.integers(-1000, 10**6),
    st.decimals(min_value=-1000, max_value=1000, places=9, allow_nan=False).map(lambda d: f"{d}"),
    st.sampled_from(
        [
            "999999999999.999999999",
            "-999999999999.999999999",
            "0.000000001",
            "1E-9",
            "123456789012",
            2**53 + 1,
            0,
            "999999999999999.999999999",
        ]
    ),
)
events_strategy = st.lists(
    st.tuples(
        st.integers(-2 * 24 * 60, 2 * 24 * 60),  # minutes from the transition
        st.integers(0, 59),
        st.sampled_from(["s1", "s2", "ß"]),
        values,
        st.sampled_from(["a", "", None, "é", "日本", "Z", "a\u0301", "\U0001f600"]),
        st.sampled_from(["x", None, "ü"]),
    ),
    max_size=40,
)


def check(
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
    got = [(r.window_start, r.window_end, r.subject, dict(r.group_by), r.value) for r in reply.rows]
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
        if definition.aggregation is Aggregation.AVG:
            assert math.isclose(g[4], w[4], rel_tol=1e-15, abs_tol=1e-15)
        else:
            assert g[4] == w[4], (g, w)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    aggregation=st.sampled_from(list(Aggregation)),
    base=st.sampled_from(TRANSITIONS),
    raw_events=events_strategy,
    window=st.sampled_from([None, "MINUTE", "HOUR", "DAY"]),
    zone=st.sampled_from(ZONES),
    span=st.tuples(st.integers(-2 * 24 * 60, 2 * 24 * 60), st.integers(1, 3 * 24 * 60)),
    subjects=st.sampled_from([(), ("s1",), ("s2", "ß")]),
    group_by=st.sampled_from([(), ("k1",), ("k2", "k1"), ("subject", "k1"), ("k1", "subject")]),
    filters=st.sampled_from([{}, {"k1": "é"}, {"k2": "x"}]),
)
def test_windows_at_transitions_equal_the_reference(
    om: OpenMeter,
    aggregation: Aggregation,
    base: datetime,
    raw_events: list[Any],
    window: str | None,
    zone: str,
    span: tuple[int, int],
    subjects: tuple[str, ...],
    group_by: tuple[str, ...],
    filters: dict[str, str],
) -> None:
    n = next(_n)
    definition = MeterDefinition(
        slug=f"tz_{n}",
        event_type=f"tz{n}",
        aggregation=aggregation,
        value_property=None if aggregation is Aggregation.COUNT else "$.v",
        group_by={"k1": "$.k1", "k2": "$.k2"},
    )
    om.meters.create(
        {
            "slug": definition.slug,
            "eventType": definition.event_type,
            "aggregation": aggregation.value,
            "valueProperty": definition.value_property,
            "groupBy": dict(definition.group_by),
        }
    )
    events = [
        {
            "id": f"{n}-{i}",
            "source": "tz",
            "type": definition.event_type,
            "subject": subject,
            "time": base + timedelta(minutes=minute, seconds=second),
            "data": {"v": v, "k1": k1, "k2": k2},
        }
        for i, (minute, second, subject, v, k1, k2) in enumerate(raw_events)
    ]
    if events:
        om.events.ingest(events)
    start = base + timedelta(minutes=span[0])
    check(
        om,
        events,
        definition,
        start,
        start + timedelta(minutes=span[1]),
        window,
        zone,
        subjects,
        group_by,
        filters,
    )


def test_sums_beyond_64_bits_of_units_stay_exact(om: OpenMeter) -> None:
    # 10,000 events of just under 1e12 (the largest value a sum keeps) with 9 decimals, over a week: the
    # total in units of 10^-9, about 1e25, is far beyond int64 whichever rows SQL sums (minutes of one
    # subject, days of all), and the fractions carry into the units.
    value = "999999999999.999999999"
    om.meters.create(
        {
            "slug": "big",
            "eventType": "big",
            "aggregation": "SUM",
            "valueProperty": "$.v",
            "groupBy": {"k": "$.k"},
        }
    )
    om.meters.create({"slug": "big_avg", "eventType": "big", "aggregation": "AVG", "valueProperty": "$.v"})
    start = datetime(2024, 6, 3, tzinfo=UTC)
    n = 10_000
    with om.events.stream(batch_size=1000) as stream:
        stream.send_many(
            {
                "id": f"b{i}",
                "source": "big",
                "type": "big",
                "subject": "s" if i % 3 else "t",
                "time": start + timedelta(minutes=i),
                "data": {"v": value, "k": "é" if i % 2 else None},
            }
            for i in range(n)
        )
    end = start + timedelta(minutes=n)
    total = Fraction(Decimal(value)) * n
    one = Fraction(Decimal(value))
    assert [r.value for r in om.meters.query("big", from_=start, to=end).rows] == [float(total)]
    assert [r.value for r in om.meters.query("big", from_=start, to=end, subject=["s", "t"]).rows] == [
        float(one * sum(1 for i in range(n) if i % 3)),
        float(one * sum(1 for i in range(n) if not i % 3)),
    ]
    by_group = om.meters.query("big", from_=start, to=end, group_by=["k"]).rows
    assert [(dict(r.group_by), r.value) for r in by_group] == [
        ({}, float(one * (n // 2))),
        ({"k": "é"}, float(one * (n // 2))),
    ]
    days = om.meters.query(
        "big", from_=start, to=end, window_size="DAY", window_time_zone="Europe/Budapest"
    ).rows
    assert sum(Fraction(r.value) for r in days) == sum(
        Fraction(float(one * c)) for c in _per_budapest_day(start, n)
    )
    avg = om.meters.query("big_avg", from_=start, to=end).rows
    assert [r.value for r in avg] == [float(one)]


def _per_budapest_day(start: datetime, n: int) -> list[int]:
    # Events per Budapest day (UTC+2 in June): minute i falls in the local day of start + i minutes + 2 hours.
    counts: dict[Any, int] = {}
    for i in range(n):
        day = (start + timedelta(minutes=i, hours=2)).date()
        counts[day] = counts.get(day, 0) + 1
    return list(counts.values())
