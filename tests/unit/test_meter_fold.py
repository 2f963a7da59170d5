"""The ingest fold's inline reads (member-name paths, string groups, integer values) give exactly the rows
and errors that the general path through ``MeterReader`` gives: if the reader's rules change, this fails
until the fast path follows."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from meterd.server.meters import fold
from meterd.server.meters.model import Aggregation, MeterDefinition

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.sampled_from([2**63, -(2**63), 10**15, 10**15 - 1]),
    st.text(max_size=5), st.sampled_from(["é", "日本", "1", "1.50", "1E+3", ""]),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.sampled_from(["k"]), st.integers(), max_size=1),
)
datas = st.one_of(
    st.none(),
    st.fixed_dictionaries({}, optional={"v": scalars, "g": scalars, "h": scalars}),
)


def fold_rows(meter: fold.CompiledMeter, rows: list[tuple[int, int, str | None]]) -> tuple[Any, Any]:
    events = [(i, "t", f"s{i % 2}", t, data) for i, t, data in rows]
    out = fold.Folder().fold(events, {"t": [meter]}, 1, by_index=True)
    return ({sql: sorted(r, key=repr) for sql, r in out.rows.items()}, sorted(out.errors))


@settings(max_examples=200, deadline=None)
@given(
    aggregation=st.sampled_from(list(Aggregation)),
    group_by=st.sampled_from([{}, {"g": "$.g"}, {"g": "$.g", "h": "$.h"}]),
    events=st.lists(st.tuples(st.integers(0, 3 * 3_600_000_000), datas), max_size=12),
)
def test_inline_reads_equal_the_reader(aggregation: Aggregation, group_by: dict[str, str],
                                       events: list[tuple[int, Any]]) -> None:
    definition = MeterDefinition("m", "t", aggregation, None if aggregation is Aggregation.COUNT else "$.v", group_by)
    fast = fold.compile_meter(1, definition)
    assert fast.group_names is not None
    slow = dataclasses.replace(fast, group_names=None, value_name=None)
    rows = [(i, t, None if d is None else json.dumps(d)) for i, (t, d) in enumerate(events)]
    assert fold_rows(fast, rows) == fold_rows(slow, rows)
