"""Minute buckets: updating, merging, final values, and queries over buckets against the brute force."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterd.server.meters.aggregate import (
    EMPTY_BUCKET,
    Bucket,
    BucketKey,
    bucket_key,
    bucket_update,
    epoch_us,
    final_value,
    merge,
    minute_of,
    query_rows,
)
from meterd.server.meters.model import Aggregation, MeterDefinition, MeterReader, Reading
from meterd.server.meters.windows import WindowSize
from tests.reference_query import reference_query

T0 = datetime(2024, 5, 17, 12, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def number(value: str | int) -> Reading:
    return Reading(Decimal(value), ())


def fold(readings: Sequence[tuple[Reading, datetime, int]]) -> Bucket:
    bucket: Bucket | None = None
    for reading, time, seq in readings:
        bucket = bucket_update(bucket, reading, time, seq)
    assert bucket is not None
    return bucket


# --- hand-computed --------------------------------------------------------------------------------------


def test_bucket_of_numbers() -> None:
    b = fold([(number(3), T0, 1), (number("0.5"), T0 + timedelta(seconds=20), 2), (number(-2), T0, 3)])
    assert b == Bucket(
        count=3,
        sum=Decimal("1.5"),
        min=Decimal(-2),
        max=Decimal(3),
        latest=Decimal("0.5"),
        latest_time_us=epoch_us(T0) + 20_000_000,
        latest_seq=2,
        distinct=frozenset(),
    )
    assert final_value(Aggregation.SUM, b) == Decimal("1.5")
    assert final_value(Aggregation.COUNT, b) == 3
    assert final_value(Aggregation.AVG, b) == Decimal("0.5")
    assert final_value(Aggregation.MIN, b) == -2
    assert final_value(Aggregation.MAX, b) == 3
    assert final_value(Aggregation.LATEST, b) == Decimal("0.5")


def test_decimal_sums_are_exact() -> None:
    b = fold([(number("0.1"), T0, 1), (number("0.2"), T0, 2)])
    assert final_value(Aggregation.SUM, b) == Decimal("0.3")


def test_latest_is_greatest_event_time_not_last_ingested() -> None:
    late_arrival = fold(
        [(number(1), T0 + timedelta(seconds=30), 1), (number(2), T0 + timedelta(seconds=10), 2)]
    )
    assert final_value(Aggregation.LATEST, late_arrival) == 1


def test_latest_tie_goes_to_the_last_ingested() -> None:
    b = fold([(number(1), T0, 7), (number(2), T0, 9), (number(3), T0, 8)])
    assert final_value(Aggregation.LATEST, b) == 2
    # The same across buckets, whichever order they merge in.
    parts = [fold([(number(1), T0, 7)]), fold([(number(2), T0, 9)]), fold([(number(3), T0, 8)])]
    assert final_value(Aggregation.LATEST, merge(parts)) == 2
    assert final_value(Aggregation.LATEST, merge(reversed(parts))) == 2


def test_latest_uses_sub_second_times() -> None:
    b = fold([(number(1), T0 + timedelta(microseconds=2), 1), (number(2), T0 + timedelta(microseconds=1), 2)])
    assert final_value(Aggregation.LATEST, b) == 1


def test_count_bucket() -> None:
    b = fold([(Reading(None, ()), T0, 1), (Reading(None, ()), T0, 2)])
    assert b == Bucket(count=2)
    assert final_value(Aggregation.COUNT, b) == 2


def test_unique_count_is_distinct_over_the_union_not_a_sum() -> None:
    first = fold([(Reading("a", ()), T0, 1), (Reading("b", ()), T0, 2), (Reading("a", ()), T0, 3)])
    second = fold([(Reading("b", ()), T0 + M, 4), (Reading("c", ()), T0 + M, 5)])
    assert final_value(Aggregation.UNIQUE_COUNT, first) == 2
    assert final_value(Aggregation.UNIQUE_COUNT, second) == 2
    merged = merge([first, second])
    assert merged.count == 5 and merged.distinct == {"a", "b", "c"}
    assert final_value(Aggregation.UNIQUE_COUNT, merged) == 3


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [
        (Aggregation.SUM, Decimal(0)),
        (Aggregation.COUNT, Decimal(0)),
        (Aggregation.UNIQUE_COUNT, Decimal(0)),
        (Aggregation.AVG, None),
        (Aggregation.MIN, None),
        (Aggregation.MAX, None),
        (Aggregation.LATEST, None),
    ],
)
def test_values_of_no_events(aggregation: Aggregation, expected: Decimal | None) -> None:
    assert merge([]) == EMPTY_BUCKET
    assert final_value(aggregation, EMPTY_BUCKET) == expected


def test_avg_of_thirds_is_rounded_at_50_digits() -> None:
    b = fold([(number(1), T0, 1), (number(0), T0, 2), (number(0), T0, 3)])
    assert final_value(Aggregation.AVG, b) == Decimal("0." + "3" * 50)


def test_huge_and_tiny_values_do_not_overflow() -> None:
    b = fold([(number("1e999999"), T0, 1), (number("1e999999"), T0, 2), (number("1e-999999"), T0, 3)])
    assert final_value(Aggregation.SUM, b) == Decimal("2e999999")
    assert final_value(Aggregation.MIN, b) == Decimal("1e-999999")


def test_bucket_key_is_the_utc_minute() -> None:
    reading = Reading(Decimal(1), ("gpt", None))
    t = datetime(2024, 5, 17, 14, 30, 59, 999999, tzinfo=ZoneInfo("Europe/Budapest"))
    assert bucket_key("acme", reading, t) == BucketKey(
        "acme", ("gpt", None), datetime(2024, 5, 17, 12, 30, tzinfo=UTC)
    )
    assert minute_of(t).tzinfo is UTC


def test_epoch_us_is_exact() -> None:
    # Beyond 2**53 microseconds, where datetime.timestamp() (a float) loses the last microsecond.
    days = date(2262, 1, 1).toordinal() - date(1970, 1, 1).toordinal()
    assert epoch_us(datetime(2262, 1, 1, 0, 0, 0, 1, tzinfo=UTC)) == days * 86_400_000_000 + 1


# --- properties: any split and merge order gives the brute-force value ------------------------------------

small_decimals = st.builds(
    lambda digits, exponent: Decimal(digits).scaleb(exponent),
    st.integers(-(10**12), 10**12),
    st.integers(-6, 6),
)
times = st.integers(0, 5 * 60).map(lambda s: T0 + timedelta(seconds=s))


@st.composite
def event_readings(draw: st.DrawFn) -> tuple[Aggregation, list[tuple[Reading, datetime, int]]]:
    aggregation = draw(st.sampled_from(list(Aggregation)))
    if aggregation is Aggregation.COUNT:
        values: st.SearchStrategy[Decimal | str | None] = st.none()
    elif aggregation is Aggregation.UNIQUE_COUNT:
        values = st.sampled_from(["a", "b", "c", "1", "2.5", ""])
    else:
        values = small_decimals
    drawn = draw(st.lists(st.tuples(values, times), min_size=1, max_size=30))
    seqs = draw(st.permutations(range(len(drawn))))
    return aggregation, [(Reading(v, ()), t, seq) for (v, t), seq in zip(drawn, seqs, strict=True)]


def brute(aggregation: Aggregation, events: list[tuple[Reading, datetime, int]]) -> Fraction:
    values = [Fraction(r.value) for r, _, _ in events if isinstance(r.value, Decimal)]
    match aggregation:
        case Aggregation.COUNT:
            return Fraction(len(events))
        case Aggregation.SUM:
            return sum(values, Fraction(0))
        case Aggregation.AVG:
            return sum(values, Fraction(0)) / len(values)
        case Aggregation.MIN:
            return min(values)
        case Aggregation.MAX:
            return max(values)
        case Aggregation.UNIQUE_COUNT:
            return Fraction(len({r.value for r, _, _ in events}))
        case Aggregation.LATEST:
            reading, _, _ = max(events, key=lambda e: (e[1], e[2]))
            return Fraction(reading.value)  # type: ignore[arg-type]


def close(value: Decimal | None, exact: Fraction, aggregation: Aggregation) -> bool:
    assert value is not None
    if aggregation is Aggregation.AVG:  # rounded at 50 digits
        return abs(Fraction(value) - exact) <= abs(exact) * Fraction(1, 10**48) + Fraction(1, 10**60)
    return Fraction(value) == exact


@given(case=event_readings(), cuts=st.lists(st.integers(0, 30), max_size=5), data=st.data())
@settings(max_examples=300)
def test_any_partition_merges_to_the_brute_force_value(
    case: tuple[Aggregation, list[tuple[Reading, datetime, int]]], cuts: list[int], data: st.DataObject
) -> None:
    aggregation, events = case
    bounds = sorted({0, len(events), *(c for c in cuts if c < len(events))})
    parts = [fold(events[a:b]) for a, b in itertools.pairwise(bounds) if a < b]
    order = data.draw(st.permutations(parts))
    merged = merge(order)
    # Merging twice (as a store merges a batch into its stored row) changes nothing.
    assert merge([merge(order[: len(order) // 2]), merge(order[len(order) // 2 :])]) == merged
    assert (
        merged == fold(events)
        or aggregation is Aggregation.UNIQUE_COUNT
        or merged.count == fold(events).count
    )
    assert merged.count == len(events)
    assert close(final_value(aggregation, merged), brute(aggregation, events), aggregation)


# --- queries over buckets against the brute-force reference ---------------------------------------------

ZONES = ["UTC", "Europe/Budapest", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
# Ranges start near a 2024 DST transition of one of the zones, so that windows cross them.
ANCHORS = [
    datetime(2024, 3, 10, 7, tzinfo=UTC),
    datetime(2024, 11, 3, 6, tzinfo=UTC),
    datetime(2024, 3, 31, 1, tzinfo=UTC),
    datetime(2024, 10, 27, 1, tzinfo=UTC),
    datetime(2024, 4, 6, 15, tzinfo=UTC),
    datetime(2024, 10, 5, 15, 30, tzinfo=UTC),
]
SUBJECTS = ["acme", "globex", "initech"]

value_json = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.sampled_from(['"12.5"', '"abc"', "null", "true", "1.0", "1e0", "0.1", '"7"', "{}", "[2]"]),
    small_decimals.map(lambda d: str(d)),
)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    aggregation = draw(st.sampled_from(list(Aggregation)))
    meter = MeterDefinition(
        slug="m",
        event_type="call",
        aggregation=aggregation,
        value_property=None if aggregation is Aggregation.COUNT else "$.v",
        group_by={"region": "$.r", "tier": "$.t"},
    )
    anchor = draw(st.sampled_from(ANCHORS))
    from_ = anchor + draw(st.integers(-26 * 60, 60)) * M
    to = from_ + draw(st.integers(1, 50 * 60)) * M
    span = int((to - from_).total_seconds())
    events = []
    for n in range(draw(st.integers(0, 60))):
        # Some events outside [from, to), in any order, some of another type, some unreadable.
        offset = draw(st.integers(-600, span + 600) | st.sampled_from([-1, 0, 30, 59, 60, span - 1, span]))
        data: dict[str, str] = {}
        if draw(st.integers(0, 4)):
            data["v"] = draw(value_json)
        if draw(st.integers(0, 3)):
            data["r"] = draw(st.sampled_from(['"eu"', '"us"', "1", "true", "null"]))
        if draw(st.booleans()):
            data["t"] = draw(st.sampled_from(['"free"', '"pro"']))
        body = "{" + ", ".join(f'"{k}": {v}' for k, v in data.items()) + "}"
        events.append(
            {
                "source": "test",
                "id": f"e{draw(st.integers(0, 45)) if draw(st.integers(0, 9)) == 0 else n}",  # a few duplicates
                "type": draw(st.sampled_from(["call", "call", "call", "other"])),
                "subject": draw(st.sampled_from(SUBJECTS)),
                # Equal times are common, so LATEST's tie-break on ingestion order is exercised.
                "time": from_
                + timedelta(seconds=offset, microseconds=draw(st.sampled_from([0, 0, 1, 500_000]))),
                "data": body if draw(st.booleans()) else None if body == "{}" else body,
            }
        )
    return {
        "meter": meter,
        "events": events,
        "from_": from_,
        "to": to,
        "size": draw(st.sampled_from([None, *WindowSize])),
        "tz": draw(st.sampled_from(ZONES)),
        "subjects": draw(
            st.none() | st.lists(st.sampled_from(SUBJECTS), min_size=1, max_size=2, unique=True)
        ),
        "group_by": draw(st.lists(st.sampled_from(["subject", "region", "tier"]), unique=True, max_size=3)),
        "filter_group_by": draw(st.sampled_from([None, {"tier": "pro"}, {"region": "eu"}, {"region": "1"}])),
    }


def ingest(
    meter: MeterDefinition, events: list[dict[str, Any]], first_seq: int = 0
) -> dict[BucketKey, Bucket]:
    """What the store does on ingest, in memory: dedupe, read, update the minute bucket."""
    reader = MeterReader(meter)
    seen: set[tuple[str, str]] = set()
    buckets: dict[BucketKey, Bucket] = {}
    for seq, event in enumerate(events, start=first_seq):
        if (event["source"], event["id"]) in seen:
            continue
        seen.add((event["source"], event["id"]))
        if event["type"] != meter.event_type:
            continue
        data = json.loads(event["data"], parse_float=Decimal) if event["data"] is not None else None
        reading = reader.read(data)
        if not isinstance(reading, Reading):
            continue
        key = bucket_key(event["subject"], reading, event["time"])
        buckets[key] = bucket_update(buckets.get(key), reading, event["time"], seq)
    return buckets


@given(scenario=scenarios(), split=st.booleans())
@settings(max_examples=250, deadline=None)
def test_query_over_buckets_matches_the_brute_force(scenario: dict[str, Any], split: bool) -> None:
    meter: MeterDefinition = scenario["meter"]
    size: WindowSize | None = scenario["size"]
    tz = ZoneInfo(scenario["tz"])
    buckets = list(ingest(meter, scenario["events"]).items())
    if split:
        # The same events ingested in two batches give two rows with one key: the query merges them.
        half = len(scenario["events"]) // 2
        first = ingest(meter, scenario["events"][:half])
        # Duplicates of the first batch's events are dropped by dedupe before they reach a meter.
        earlier = {e["id"] for e in scenario["events"][:half]}
        rest = [
            e if e["id"] not in earlier else {**e, "type": "duplicate"} for e in scenario["events"][half:]
        ]
        buckets = [*first.items(), *ingest(meter, rest, first_seq=half).items()]
    rows = query_rows(
        meter.aggregation,
        meter.group_keys,
        buckets,
        scenario["from_"],
        scenario["to"],
        size,
        tz,
        subjects=scenario["subjects"],
        group_by=scenario["group_by"],
        filter_group_by=scenario["filter_group_by"],
    )
    expected = reference_query(
        scenario["events"],
        meter,
        scenario["from_"],
        scenario["to"],
        size.value if size else None,
        tz,
        subjects=scenario["subjects"],
        group_by=scenario["group_by"],
        filter_group_by=scenario["filter_group_by"],
    )
    assert [(r.window_start, r.window_end, r.subject, dict(r.group_by)) for r in rows] == [
        (r.window_start, r.window_end, r.subject, r.group_by) for r in expected
    ]
    for row, ref in zip(rows, expected, strict=True):
        assert close(row.value, ref.exact, meter.aggregation)
        assert float(row.value) == pytest.approx(ref.value, rel=1e-15, abs=0)


def test_query_example_by_hand() -> None:
    """Budapest DAY windows, clipped range, grouped by subject and region."""
    meter = MeterDefinition("tokens", "llm", Aggregation.SUM, "$.tokens", {"region": "$.region"})
    tz = ZoneInfo("Europe/Budapest")

    def event(subject: str, time: datetime, data: str) -> dict[str, Any]:
        return {"type": "llm", "subject": subject, "time": time, "data": data}

    events = [
        event(
            "acme", datetime(2024, 5, 17, 21, 59, tzinfo=UTC), '{"tokens": 5, "region": "eu"}'
        ),  # 17 May local
        event(
            "acme", datetime(2024, 5, 17, 22, 0, tzinfo=UTC), '{"tokens": 7, "region": "eu"}'
        ),  # 18 May local
        event("acme", datetime(2024, 5, 17, 23, 0, tzinfo=UTC), '{"tokens": 1.5}'),  # no region
        event("acme", datetime(2024, 5, 17, 23, 0, tzinfo=UTC), '{"tokens": "x"}'),  # unreadable: skipped
        event("acme", datetime(2024, 5, 17, 9, 59, tzinfo=UTC), '{"tokens": 100}'),  # before from
    ]
    from_, to = datetime(2024, 5, 17, 10, tzinfo=UTC), datetime(2024, 5, 18, 10, tzinfo=UTC)
    day17 = (datetime(2024, 5, 16, 22, tzinfo=UTC), datetime(2024, 5, 17, 22, tzinfo=UTC))
    day18 = (datetime(2024, 5, 17, 22, tzinfo=UTC), datetime(2024, 5, 18, 22, tzinfo=UTC))
    expected = [
        (*day17, "acme", {"region": "eu"}, Decimal(5)),
        (*day18, "acme", {"region": None}, Decimal("1.5")),
        (*day18, "acme", {"region": "eu"}, Decimal(7)),
    ]
    buckets = ingest(meter, [{"source": "s", "id": str(i), **e} for i, e in enumerate(events)])
    rows = query_rows(
        meter.aggregation,
        meter.group_keys,
        buckets.items(),
        from_,
        to,
        WindowSize.DAY,
        tz,
        group_by=["subject", "region"],
    )
    assert [(r.window_start, r.window_end, r.subject, dict(r.group_by), r.value) for r in rows] == expected
    ref = reference_query(events, meter, from_, to, "DAY", tz, group_by=["subject", "region"])
    assert [
        (r.window_start, r.window_end, r.subject, r.group_by, Decimal(str(r.value))) for r in ref
    ] == expected


def test_query_without_window_and_without_data() -> None:
    meter = MeterDefinition("calls", "call", Aggregation.COUNT)
    from_, to = T0, T0 + timedelta(hours=5)
    assert query_rows(meter.aggregation, (), [], from_, to, None, ZoneInfo("UTC")) == []
    assert reference_query([], meter, from_, to, None) == []
    events = [{"type": "call", "subject": s, "time": T0 + k * M, "data": None} for k, s in enumerate("abca")]
    (row,) = reference_query(events, meter, from_, to, None)
    assert (row.window_start, row.window_end, row.subject, row.group_by, row.value) == (
        from_,
        to,
        None,
        {},
        4.0,
    )
    by_subject = reference_query(events, meter, from_, to, None, subjects=["a", "c"])
    assert [(r.subject, r.value) for r in by_subject] == [("a", 2.0), ("c", 1.0)]
