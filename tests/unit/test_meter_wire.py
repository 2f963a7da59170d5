"""Query rows on the wire: the rows a response gets from ``rows_bytes`` (shared parts serialized once, joined
per row) are exactly the messages built field by field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from meterd.server.meters.aggregate import QueryRow
from meterd.server.meters.servicer import rows_bytes
from meterd.v1 import meters_pb2

T0 = datetime(2024, 1, 1, tzinfo=UTC)
T0_US = 1_704_067_200_000_000  # T0 - T0_US is the epoch
texts = st.one_of(st.none(), st.text(max_size=3), st.sampled_from(["é", "日本", "\U0001f600", "x" * 200, ""]))
rows = st.lists(
    st.builds(
        lambda start, length, subject, groups, value: QueryRow(
            T0 + timedelta(microseconds=start),
            T0 + timedelta(microseconds=start + length),
            subject,
            groups,
            value,
        ),
        # From before 1970 (negative seconds) to 2500, whole minutes or not (nanos).
        st.one_of(
            st.integers(-(60 * 10**12), 15 * 10**15), st.sampled_from([-T0_US, -T0_US + 1, -T0_US - 1, 0])
        ),
        st.one_of(st.integers(1, 10**12), st.just(60_000_000)),
        st.one_of(st.none(), st.text(max_size=4), st.just("s" * 300)),
        st.dictionaries(st.sampled_from(["k", "model", "é" * 70]), texts, max_size=3),
        st.one_of(
            st.decimals(allow_nan=False, allow_infinity=False),
            st.sampled_from([Decimal(0), Decimal("-0"), Decimal("1e300")]),
        ),
    ),
    max_size=30,
)


def by_fields(rows: list[QueryRow]) -> meters_pb2.QueryMeterResponse:
    response = meters_pb2.QueryMeterResponse()
    for row in rows:
        wire = response.rows.add(
            value=float(row.value), group_by={k: v for k, v in row.group_by.items() if v is not None}
        )
        wire.window_start.FromDatetime(row.window_start)
        wire.window_end.FromDatetime(row.window_end)
        if row.subject is not None:
            wire.subject = row.subject
    return response


@settings(max_examples=300, deadline=None)
@given(rows=rows)
def test_rows_bytes_are_the_rows_built_field_by_field(rows: list[QueryRow]) -> None:
    response = meters_pb2.QueryMeterResponse(window_size=2)
    response.MergeFromString(rows_bytes(rows))
    expected = by_fields(rows)
    expected.window_size = 2
    assert response == expected
    assert [r.HasField("subject") for r in response.rows] == [r.subject is not None for r in rows]


def test_rows_sharing_window_objects_reuse_their_edges() -> None:
    # The service's rows share the window list's datetimes: one window's end is the next one's start.
    edges = [T0 + timedelta(hours=i) for i in range(4)]
    rows = [
        QueryRow(edges[i], edges[i + 1], s, {"k": g}, Decimal(i))
        for i in range(3)
        for s in ("a", "b")
        for g in ("x", None)
    ]
    response = meters_pb2.QueryMeterResponse()
    response.MergeFromString(rows_bytes(rows))
    assert response == by_fields(rows)
