"""The ingest fold's inline reads (member-name paths, string groups, integer values) give exactly the rows
and errors that the general path through ``MeterReader`` gives: if the reader's rules change, this fails
until the fast path follows."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterd.server.meters import fold
from meterd.server.meters.model import Aggregation, MeterDefinition

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.sampled_from([2**63, -(2**63), 10**15, 10**15 - 1]),
    st.text(max_size=5),
    st.sampled_from(["é", "日本", "1", "1.50", "1E+3", ""]),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["k"]), st.integers(), max_size=1),
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
def test_inline_reads_equal_the_reader(
    aggregation: Aggregation, group_by: dict[str, str], events: list[tuple[int, Any]]
) -> None:
    definition = MeterDefinition(
        "m", "t", aggregation, None if aggregation is Aggregation.COUNT else "$.v", group_by
    )
    fast = fold.compile_meter(1, definition)
    assert fast.group_names is not None
    slow = dataclasses.replace(fast, group_names=None, value_name=None)
    rows = [(i, t, None if d is None else json.dumps(d)) for i, (t, d) in enumerate(events)]
    assert fold_rows(fast, rows) == fold_rows(slow, rows)


# -- the C loop (meters/_foldc.c) against the Python loop ----------------------------------------------

group_values = st.one_of(
    st.sampled_from(["a", "b"]),
    st.sampled_from(["a", "b"]),
    st.sampled_from(["a", "b"]),
    st.none(),
    st.sampled_from(["gpt-4", "é", "日本語", "", "1", "a\u0000b", "\U0001f600"]),
    st.integers(-3, 3),
    st.sampled_from([1.5, 2**64, -(2**70), True, False]),
    st.lists(st.integers(), max_size=1),
)
values = st.one_of(
    st.integers(-5, 5),
    st.integers(-5, 5),
    st.integers(-5, 5),
    st.sampled_from(["u1", "u2"]),
    st.none(),
    st.integers(-(2**80), 2**80),
    st.sampled_from([10**12 - 1, 10**12, -(10**12) + 1, 10**18 - 1, 10**18, 2**63 - 1, 2**63, 2**64 + 1]),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.sampled_from(["0.1", "-0.0", "1e20", "12345678901234567890.5", "1E-12", "0.0000000005"]).map(Decimal),
    st.sampled_from(["x", "é", "1", "u1", ""]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dictionaries(st.sampled_from(["k"]), st.integers(), max_size=1),
)


def placed(
    specs: list[tuple[Aggregation, dict[str, str], str]], event_type: Any, shared: bool
) -> dict[str, list[fold.CompiledMeter]]:
    """Meters m1, m2, ... compiled into row sets as a store gives them: with ``shared``, the meters of one type
    and group paths fill row sets of fold.SLOTS in turn (several meters in one row), else one row set each."""
    by_type: dict[str, list[fold.CompiledMeter]] = {}
    filled: dict[tuple[str, tuple[str, ...]], tuple[int, int]] = {}
    next_rowset = 100
    for num, (aggregation, group_by, value) in enumerate(specs, start=1):
        definition = MeterDefinition(
            f"m{num}",
            event_type(num),
            aggregation,
            None if aggregation is Aggregation.COUNT else value,
            group_by,
        )
        shape = (definition.event_type, tuple(definition.group_by.values()))
        if aggregation is Aggregation.UNIQUE_COUNT or not shared:
            meter = fold.compile_meter(num, definition)
        else:
            rowset, used = filled.get(shape, (0, fold.SLOTS))
            if used == fold.SLOTS:
                next_rowset += 1
                rowset, used = next_rowset, 0
            filled[shape] = (rowset, used + 1)
            meter = fold.compile_meter(num, definition, rowset, used)
        by_type.setdefault(definition.event_type, []).append(meter)
    return by_type


def json_number(value: Any) -> str:
    """JSON text for a value, decimals written as JSON numbers (huge or precise ones make orjson give up)."""
    if isinstance(value, Decimal):
        return format(value, "f") if value == value.to_integral_value() else str(value).replace("E", "e")
    return json.dumps(value)


@st.composite
def data_texts(draw: st.DrawFn) -> str | None:
    kind = draw(st.sampled_from(["object"] * 6 + ["none", "other", "broken", "nested"]))
    if kind == "none":
        return None
    if kind == "other":
        return draw(
            st.sampled_from(["[1, 2]", "3", '"text"', "null", "1e400", "123456789012345678901234567890"])
        )
    if kind == "broken":
        return draw(st.sampled_from(["{", '{"v": }', "nope"]))
    members = {}
    names = draw(
        st.sampled_from([["v", "g", "h"], ["v", "g", "h"], ["g", "v"]])
        | st.lists(st.sampled_from(["v", "g", "h"]), unique=True)
    )
    for name in names:
        members[name] = json_number(draw(values)) if name == "v" else json_number(draw(group_values))
    if kind == "nested":
        members["n"] = "{" + f'"x": {json_number(draw(values))}, "g": {json_number(draw(group_values))}' + "}"
    return "{" + ", ".join(f'"{k}": {v}' for k, v in members.items()) + "}"


meter_specs = st.tuples(
    st.sampled_from(list(Aggregation)),
    st.sampled_from([{}, {"g": "$.g"}, {"g": "$.g", "h": "$.h"}, {"g": "$.n.g"}, {"h": "$.h", "g": "$.g"}]),
    st.sampled_from(["$.v", "$.v", "$.n.x"]),
)


@settings(max_examples=300, deadline=None)
@given(
    specs=st.lists(meter_specs, min_size=1, max_size=7),
    events=st.lists(
        st.tuples(
            st.sampled_from(["t", "t", "u", "other"]),
            st.sampled_from(["s0", "é"]),
            st.sampled_from([0, 0, 0, 1, 59_999_999, 60_000_000, 3_600_000_000, -1])
            | st.integers(-3 * 60_000_000, 3 * 3_600_000_000),
            data_texts(),
        ),
        max_size=40,
    ),
    by_index=st.booleans(),
    shared=st.booleans(),
)
def test_native_loop_equals_the_python_loop(
    specs: list[tuple[Aggregation, dict[str, str], str]],
    events: list[tuple[str, str, int, str | None]],
    by_index: bool,
    shared: bool,
) -> None:
    """Identical Folded output (rows in the same order, floats to the sign of a zero, errors, subjects) from
    the C loop and the Python loop, over decimals, non-ASCII and numeric group values, LATEST ties (equal
    times), read errors, numbers beyond 64 bits, and several meters on one type, sharing row sets (slots with
    and without a reading in a row) or not."""
    if not fold.NATIVE:
        pytest.skip("the native fold is not built")
    by_type = placed(specs, lambda num: "t" if num % 3 else "u", shared)
    batch = [
        (i if by_index else 1000 + i, t, s, time_us, data) for i, (t, s, time_us, data) in enumerate(events)
    ]
    outs = []
    for native in (False, True):
        out = fold.Folder(native=native).fold(iter(batch), by_type, 7, by_index=by_index)
        outs.append(repr((list(out.rows.items()), out.seq_at, out.errors, sorted(out.subjects), out.version)))
    assert outs[0] == outs[1]


def test_native_loop_is_the_default_where_built() -> None:
    folder = fold.Folder()
    assert (folder._native is not None) == fold.NATIVE


# -- rows of several batches merged per key (one upsert per key and commit) -----------------------------


@settings(max_examples=150, deadline=None)
@given(
    specs=st.lists(meter_specs, min_size=1, max_size=6),
    shared=st.booleans(),
    batches=st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["s0", "é"]),
                st.sampled_from([0, 1, 60_000_000, 3_600_000_000, -1]),
                data_texts(),
            ),
            max_size=15,
        ),
        min_size=2,
        max_size=4,
    ),
)
def test_merged_rows_upsert_to_what_each_batch_upserts(
    specs: list[tuple[Aggregation, dict[str, str], str]],
    shared: bool,
    batches: list[list[tuple[str, int, str | None]]],
) -> None:
    """merge_rows (C and Python alike) gives rows whose upserts leave every aggregate table as upserting each
    batch's rows in turn does (the SQLite statements, on a migrated database)."""
    from meterd.server.store.sqlite.db import connect
    from meterd.server.store.sqlite.meters import upsert_sql
    from meterd.server.store.sqlite.migrations import migrate

    meters = placed(specs, lambda num: "t", shared)["t"]
    folder = fold.Folder()
    seq = 0
    per_target: dict[Any, list[list[tuple[Any, ...]]]] = {}
    for batch in batches:
        events = []
        for subject, time_us, data in batch:
            seq += 1
            events.append((seq, "t", subject, time_us, data))
        for target, rows in folder.fold(events, {"t": meters}, 1).rows.items():
            per_target.setdefault(target, []).append(rows)
    merged = {target: fold.merge_rows(target, lists) for target, lists in per_target.items()}
    if fold.NATIVE:
        python = {
            target: fold._merge_rows(lists, fold.key_width(target), tuple(k for _, k in target[-1]))
            for target, lists in per_target.items()
            if target[0] in ("sub", "sub_h", "all")
        }
        assert repr(python) == repr({t: rows for t, rows in merged.items() if t in python})

    def tables(write: Any) -> list[Any]:
        conn = connect(":memory:")
        migrate(conn)
        write(conn)
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND"
                " (name LIKE 'agg_%' OR name LIKE 'meter_all_%' OR name LIKE 'meter_sub_%')"
            )
        ]
        return [
            (name, sorted(conn.execute(f"SELECT * FROM {name}").fetchall(), key=repr))
            for name in sorted(names)
        ]

    def each(conn: Any) -> None:
        for target, lists in per_target.items():
            for rows in lists:
                conn.executemany(upsert_sql(target), rows)

    def once(conn: Any) -> None:
        for target, rows in merged.items():
            conn.executemany(upsert_sql(target), rows)

    assert tables(each) == tables(once)
