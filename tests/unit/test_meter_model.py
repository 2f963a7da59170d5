"""Meter definitions: validation, JSONPath compilation, and reading values and groups from event data."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import jsonpath
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from meterd.server.errors import InvalidArgument
from meterd.server.meters.model import (
    MISSING,
    Aggregation,
    MeterDefinition,
    MeterReader,
    ReadError,
    Reading,
    canonical_decimal_text,
    compile_path,
    parse_aggregation,
    resolve,
    validate_meter,
    validate_query_grouping,
)


def meter(aggregation: Aggregation = Aggregation.SUM, **overrides: Any) -> MeterDefinition:
    fields: dict[str, Any] = {
        "slug": "tokens",
        "event_type": "llm",
        "aggregation": aggregation,
        "value_property": None if aggregation is Aggregation.COUNT else "$.tokens",
        "group_by": {"model": "$.model"},
    }
    fields.update(overrides)
    return MeterDefinition(**fields)


def violations(m: MeterDefinition) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as exc:
        validate_meter(m)
    return {v.field: v.description for v in exc.value.violations}


def parse(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


# --- validation -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("aggregation", list(Aggregation))
def test_valid_meter_of_each_aggregation(aggregation: Aggregation) -> None:
    validate_meter(meter(aggregation))


@pytest.mark.parametrize("slug", ["a", "tokens", "a_b", "v2_calls_total", "0", "a" * 63])
def test_valid_slugs(slug: str) -> None:
    validate_meter(meter(slug=slug))


@pytest.mark.parametrize("slug", ["", "Tokens", "a-b", "a__b", "_a", "a_", "a b", "é", "a" * 64])
def test_invalid_slugs(slug: str) -> None:
    assert list(violations(meter(slug=slug))) == ["meter.slug"]


def test_event_type_required() -> None:
    assert list(violations(meter(event_type=""))) == ["meter.event_type"]


def test_count_must_not_have_a_value_property() -> None:
    assert violations(meter(Aggregation.COUNT, value_property="$.x")) == {
        "meter.value_property": "must be absent for COUNT meters"
    }


@pytest.mark.parametrize("aggregation", [a for a in Aggregation if a is not Aggregation.COUNT])
@pytest.mark.parametrize("value_property", [None, ""])
def test_other_aggregations_need_a_value_property(
    aggregation: Aggregation, value_property: str | None
) -> None:
    assert list(violations(meter(aggregation, value_property=value_property))) == ["meter.value_property"]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("tokens", "must start with '$'"),
        ("$.a.", "invalid JSONPath"),
        ("$[", "invalid JSONPath"),
        ("$.a ", "invalid JSONPath"),
        ("$..a", "single value"),
        ("$.a[*]", "single value"),
        ("$.a[0:2]", "single value"),
        ("$.a[?@.b]", "single value"),
        ("$['a','b']", "single value"),
        ("$", "whole data object"),
    ],
)
def test_bad_paths_are_refused_on_the_field(path: str, reason: str) -> None:
    assert reason in violations(meter(value_property=path))["meter.value_property"]
    assert reason in violations(meter(group_by={"g": path}))["meter.group_by.g"]


@pytest.mark.parametrize(
    "path", ["$.a.b", "$.a[0]", '$["a b"]', "$['a']", "$.a[-1]", '$["a"][2]["c d"]', "$.é"]
)
def test_good_paths(path: str) -> None:
    validate_meter(meter(value_property=path, group_by={"g": path}))


@pytest.mark.parametrize(
    ("key", "reason"), [("subject", "reserved"), ("1a", "group key"), ("a-b", "group key")]
)
def test_bad_group_keys(key: str, reason: str) -> None:
    assert reason in violations(meter(group_by={key: "$.x"}))[f"meter.group_by.{key}"]


def test_all_violations_are_reported_together() -> None:
    bad = MeterDefinition("Bad", "", Aggregation.COUNT, "$.x", {"subject": "$.s", "ok": "nope"})
    assert set(violations(bad)) == {
        "meter.slug",
        "meter.event_type",
        "meter.value_property",
        "meter.group_by.subject",
        "meter.group_by.ok",
    }


def test_unknown_aggregation_in_a_definition() -> None:
    assert list(violations(meter(aggregation="SUMM"))) == ["meter.aggregation"]


def test_parse_aggregation() -> None:
    assert parse_aggregation("unique_count") is Aggregation.UNIQUE_COUNT
    assert parse_aggregation(Aggregation.MAX) is Aggregation.MAX
    for bad in (None, "", "MEDIAN"):
        with pytest.raises(InvalidArgument) as exc:
            parse_aggregation(bad)
        assert [v.field for v in exc.value.violations] == ["meter.aggregation"]


def test_group_keys_are_sorted() -> None:
    m = meter(group_by={"b": "$.b", "a": "$.a", "C": "$.c"})
    assert m.group_keys == ("C", "a", "b")
    assert MeterReader(m).read({"tokens": 5, "a": 1, "b": 2, "c": 3}) == Reading(Decimal(5), ("3", "1", "2"))


def test_query_grouping() -> None:
    m = meter(group_by={"model": "$.model", "region": "$.r"})
    validate_query_grouping(m, ["subject", "model"], {"region": "eu"})
    with pytest.raises(InvalidArgument) as exc:
        validate_query_grouping(m, ["colour", "model"], {"size": "L", "model": "x"})
    assert [v.field for v in exc.value.violations] == ["group_by", "filter_group_by.size"]


# --- reading numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"tokens": 12}', Decimal(12)),
        ('{"tokens": 12.50}', Decimal("12.50")),
        ('{"tokens": 0.1}', Decimal("0.1")),
        ('{"tokens": -1e3}', Decimal("-1e3")),
        ('{"tokens": "42"}', Decimal(42)),
        ('{"tokens": "-1.5e3"}', Decimal(-1500)),
        ('{"tokens": ".5"}', Decimal("0.5")),
        ('{"tokens": "5."}', Decimal(5)),
        ('{"tokens": "+3"}', Decimal(3)),
        ('{"tokens": 999999999999.123456789}', Decimal("999999999999.123456789")),
        ('{"tokens": -999999999999}', Decimal("-999999999999")),
        ('{"tokens": 1e-999999}', Decimal("1e-999999")),
    ],
)
@pytest.mark.parametrize(
    "aggregation", [Aggregation.SUM, Aggregation.AVG, Aggregation.MIN, Aggregation.MAX, Aggregation.LATEST]
)
def test_numeric_values(text: str, expected: Decimal, aggregation: Aggregation) -> None:
    reading = MeterReader(meter(aggregation)).read(parse(text))
    assert isinstance(reading, Reading) and reading.value == expected and isinstance(reading.value, Decimal)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (None, "value_property $.tokens: missing"),
        ({}, "value_property $.tokens: missing"),
        ({"tokens": None}, "value_property $.tokens: null"),
        ({"tokens": True}, "value_property $.tokens: not a number (boolean)"),
        ({"tokens": {"n": 1}}, "value_property $.tokens: not a number (object)"),
        ({"tokens": [1]}, "value_property $.tokens: not a number (array)"),
        ({"tokens": "abc"}, "value_property $.tokens: not a number: 'abc'"),
        ({"tokens": ""}, "value_property $.tokens: not a number: ''"),
        ({"tokens": "1_000"}, "value_property $.tokens: not a number: '1_000'"),
        ({"tokens": " 1"}, "value_property $.tokens: not a number: ' 1'"),
        ({"tokens": "NaN"}, "value_property $.tokens: not a number: 'NaN'"),
        ({"tokens": "Infinity"}, "value_property $.tokens: not a number: 'Infinity'"),
        ({"tokens": float("nan")}, "value_property $.tokens: not a finite number: nan"),
        ({"tokens": float("inf")}, "value_property $.tokens: not a finite number: inf"),
        ({"tokens": Decimal("NaN")}, "value_property $.tokens: not a finite number: NaN"),
    ],
)
def test_unreadable_numbers(data: Any, message: str) -> None:
    assert MeterReader(meter()).read(data) == ReadError(message)


def test_json_nan_tokens_are_refused() -> None:
    # json.loads accepts NaN and Infinity (as floats) even with parse_float=Decimal.
    for text in ('{"tokens": NaN}', '{"tokens": -Infinity}'):
        assert isinstance(MeterReader(meter()).read(parse(text)), ReadError)


def test_long_bad_strings_are_cut_in_messages() -> None:
    result = MeterReader(meter()).read({"tokens": "x" * 500})
    assert isinstance(result, ReadError) and len(result.message) < 100


def test_floats_read_by_their_shortest_text() -> None:
    assert MeterReader(meter()).read({"tokens": 0.1}) == Reading(Decimal("0.1"), (None,))


def test_count_with_an_empty_value_property_reads() -> None:
    assert MeterReader(meter(Aggregation.COUNT, value_property="")).read(None) == Reading(None, (None,))


def test_count_needs_no_data() -> None:
    reader = MeterReader(meter(Aggregation.COUNT))
    assert reader.read(None) == Reading(None, (None,))
    assert reader.read({"model": "gpt", "tokens": "garbage"}) == Reading(None, ("gpt",))


# --- UNIQUE_COUNT ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"tokens": "abc"}', "abc"),
        ('{"tokens": ""}', ""),
        ('{"tokens": "1.0"}', "1.0"),  # strings are taken as they are
        ('{"tokens": 1}', "1"),
        ('{"tokens": 1.0}', "1"),
        ('{"tokens": 1e0}', "1"),
        ('{"tokens": 100}', "100"),
        ('{"tokens": 1E2}', "100"),
        ('{"tokens": 0.050}', "0.05"),
        ('{"tokens": -0.0}', "0"),
        ('{"tokens": 1e100}', "1E+100"),
        ('{"tokens": 15e-61}', "1.5E-60"),
    ],
)
def test_unique_count_values(text: str, expected: str) -> None:
    assert MeterReader(meter(Aggregation.UNIQUE_COUNT)).read(parse(text)) == Reading(expected, (None,))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({}, "missing"),
        ({"tokens": None}, "null"),
        ({"tokens": False}, "must be a string or a number (got boolean)"),
        ({"tokens": {}}, "must be a string or a number (got object)"),
        ({"tokens": []}, "must be a string or a number (got array)"),
        ({"tokens": float("nan")}, "not a finite number: nan"),
    ],
)
def test_unique_count_refusals(data: Any, problem: str) -> None:
    assert MeterReader(meter(Aggregation.UNIQUE_COUNT)).read(data) == ReadError(
        f"value_property $.tokens: {problem}"
    )


finite_decimals = st.decimals(allow_nan=False, allow_infinity=False) | st.builds(
    lambda digits, exponent: Decimal(digits).scaleb(exponent),
    st.integers(-(10**30), 10**30),
    st.integers(-80, 80),
)


@given(a=finite_decimals, b=finite_decimals)
def test_canonical_text_is_one_text_per_value(a: Decimal, b: Decimal) -> None:
    assert Decimal(canonical_decimal_text(a)) == a
    assert (canonical_decimal_text(a) == canonical_decimal_text(b)) == (a == b)


@given(a=finite_decimals)
def test_canonical_text_ignores_representation(a: Decimal) -> None:
    sign, digits, exponent = a.as_tuple()
    assert isinstance(exponent, int)
    padded = Decimal((sign, (*digits, 0, 0), exponent - 2))  # same value, two more trailing zeros
    assert (
        canonical_decimal_text(a)
        == canonical_decimal_text(Decimal(f"{a:E}"))
        == canonical_decimal_text(padded)
    )


# --- group values ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value_json", "expected"),
    [
        ('"eu-west"', "eu-west"),
        ('""', ""),
        ("true", "true"),
        ("false", "false"),
        ("42", "42"),
        ("-7", "-7"),
        ("1.50", "1.50"),
        ("1e3", "1E+3"),
        ("null", None),
        ("{}", None),
        ("[1]", None),
    ],
)
def test_group_values_as_text(value_json: str, expected: str | None) -> None:
    reader = MeterReader(meter(Aggregation.COUNT, group_by={"g": "$.g"}))
    assert reader.read(parse(f'{{"g": {value_json}}}')) == Reading(None, (expected,))


def test_group_values_from_floats_use_repr() -> None:
    reader = MeterReader(meter(Aggregation.COUNT, group_by={"g": "$.g"}))
    assert reader.read({"g": 2.5}) == Reading(None, ("2.5",))


def test_group_paths() -> None:
    m = meter(
        Aggregation.COUNT,
        group_by={
            "first": "$.items[0].name",
            "last": "$.items[-1].name",
            "spaced": '$["a b"]',
            "deep": "$.x.y.z",
        },
    )
    data = parse('{"items": [{"name": "n0"}, {"name": "n1"}], "a b": "s", "x": {"y": 3}}')
    # Sorted keys: deep, first, last, spaced. $.x.y.z goes through a number: missing.
    assert MeterReader(m).read(data) == Reading(None, (None, "n0", "n1", "s"))


def test_reader_refuses_invalid_meters() -> None:
    with pytest.raises(InvalidArgument):
        MeterReader(meter(slug="Bad"))


# --- the compiled path against python-jsonpath itself -----------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=3)
    | st.decimals(allow_nan=False, allow_infinity=False),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from("abc"), children, max_size=3)
    ),
    max_leaves=12,
)
steps = st.lists(st.sampled_from("abc") | st.integers(-4, 4), min_size=1, max_size=4)


def path_text(path_steps: list[str | int]) -> str:
    return "$" + "".join(f'["{s}"]' if isinstance(s, str) else f"[{s}]" for s in path_steps)


@given(data=json_values, path_steps=steps)
@settings(max_examples=300)
def test_compiled_paths_select_what_the_library_selects(data: Any, path_steps: list[str | int]) -> None:
    # python-jsonpath reads a top-level str as JSON *text* to parse; event data is always an object (or
    # absent) at the top level, so only non-string documents are comparable.
    assume(not isinstance(data, str))
    path = path_text(path_steps)
    assert compile_path(path) == tuple(path_steps)
    found = jsonpath.compile(path, strict=True).findall(data)
    mine = resolve(compile_path(path), data)
    assert found == ([] if mine is MISSING else [mine])


@given(data=json_values, aggregation=st.sampled_from(list(Aggregation)))
def test_reader_never_raises(data: Any, aggregation: Aggregation) -> None:
    m = meter(
        aggregation, value_property=None if aggregation is Aggregation.COUNT else "$.a", group_by={"g": "$.b"}
    )
    result = MeterReader(m).read({"a": data, "b": data})
    assert isinstance(result, Reading | ReadError)
    if isinstance(result, Reading) and aggregation.needs_number:
        assert isinstance(result.value, Decimal) and result.value.is_finite()
