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
texts = st.one_of(st.none(), st.text(max_size=3), st.sampled_from(["é", "日本", "\U0001f600", "x" * 200, ""]))
rows = st.lists(st.builds(
    lambda start, length, subject, groups, value: QueryRow(
        T0 + timedelta(minutes=start), T0 + timedelta(minutes=start + length), subject, groups, value),
    st.integers(-10**7, 10**7), st.integers(1, 10**6),
    st.one_of(st.none(), st.text(max_size=4), st.just("s" * 300)),
    st.dictionaries(st.sampled_from(["k", "model", "é" * 70]), texts, max_size=3),
    st.one_of(st.decimals(allow_nan=False, allow_infinity=False), st.sampled_from([Decimal(0), Decimal("-0"),
                                                                                   Decimal("1e300")])),
), max_size=30)


def by_fields(rows: list[QueryRow]) -> meters_pb2.QueryMeterResponse:
    response = meters_pb2.QueryMeterResponse()
    for row in rows:
        wire = response.rows.add(value=float(row.value),
                                 group_by={k: v for k, v in row.group_by.items() if v is not None})
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
