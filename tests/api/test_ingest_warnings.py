"""An accepted event that a meter cannot read is stored and skipped by that meter (SPEC § Events): the
ingest's answer says so per event (``warnings``, as ListEvents shows them), for unary and streamed ingest.
Group and distinct values holding a NUL character (JSON "\\u0000") are refused by the meter that way rather
than kept cut at the NUL, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from meterd.client import OpenMeter

T0 = datetime(2024, 5, 1, tzinfo=UTC)
NUL = "group_by g: holds a NUL character (\\u0000), which meters cannot keep in a group or distinct value"


def event(i: int, data: Any, type: str = "call", subject: str = "c1") -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"e{i}",
        "source": "warnings",
        "type": type,
        "subject": subject,
        "time": T0 + timedelta(minutes=i),
        "data": data,
    }


def warnings_of(result: Any) -> list[list[tuple[str, str]]]:
    return [[(w.meter_slug, w.message) for w in r.warnings] for r in result.results]


def test_unary_ingest_answers_the_warnings_listevents_shows(om: OpenMeter) -> None:
    om.meters.create({"slug": "tokens", "eventType": "call", "aggregation": "SUM", "valueProperty": "$.n"})
    om.meters.create({"slug": "peak", "eventType": "call", "aggregation": "MAX", "valueProperty": "$.n"})
    om.meters.create({"slug": "calls", "eventType": "call", "aggregation": "COUNT", "groupBy": {"g": "$.g"}})
    result = om.events.ingest(
        [
            event(0, {"n": 1, "g": "a"}),
            event(1, {"n": "lots", "g": "a"}),
            event(2, {"n": 2}, type="unmetered"),
            event(0, {"n": "x"}),
        ]
    )
    assert [r.outcome.name for r in result.results] == ["ACCEPTED", "ACCEPTED", "ACCEPTED", "DUPLICATE"]
    assert warnings_of(result) == [
        [],
        [
            ("peak", "value_property $.n: not a number: 'lots'"),
            ("tokens", "value_property $.n: not a number: 'lots'"),
        ],
        [("", "no meter reads event type unmetered")],
        [],  # a duplicate changes nothing, and is not read again
    ]
    listed = {e.event.id: [(v.meter_slug, v.message) for v in e.validation_errors] for e in om.events.list()}
    assert listed == {"e0": [], "e1": warnings_of(result)[1], "e2": warnings_of(result)[2]}


def test_streamed_acknowledgements_carry_warnings_and_the_tally_counts_them(om: OpenMeter) -> None:
    om.meters.create({"slug": "tokens", "eventType": "call", "aggregation": "SUM", "valueProperty": "$.n"})
    with om.events.stream(batch_size=2) as stream:
        for i, n in enumerate([1, "x", 3, None, 5]):
            stream.send(event(i, {"n": n}))
        stream.send(event(9, {}, type="other"))
    tally = stream.tally
    assert (tally.accepted, tally.warned) == (6, 3)
    assert tally.warnings["tokens"][0] == 2 and tally.warnings[""][0] == 1
    assert tally.warnings["tokens"][1][0] == ("e1", "value_property $.n: not a number: 'x'")
    assert om.meters.query("tokens").rows[0].value == 9


def test_nul_in_group_and_distinct_values_is_refused_not_cut(om: OpenMeter) -> None:
    om.meters.create({"slug": "calls", "eventType": "call", "aggregation": "COUNT", "groupBy": {"g": "$.g"}})
    om.meters.create(
        {"slug": "nested", "eventType": "call", "aggregation": "COUNT", "groupBy": {"g": "$.h.g"}}
    )
    om.meters.create(
        {"slug": "users", "eventType": "call", "aggregation": "UNIQUE_COUNT", "valueProperty": "$.u"}
    )
    result = om.events.ingest(
        [
            event(0, {"g": "a\u0000b", "h": {"g": "x\u0000"}, "u": "v\u0000w"}),
            event(1, {"g": "a", "h": {"g": "x"}, "u": "v"}),
            event(2, {"g": "\u0000", "h": {"g": "y"}, "u": "v"}),
        ]
    )
    assert warnings_of(result) == [
        [
            ("calls", NUL),
            ("nested", NUL),
            (
                "users",
                "value_property $.u: holds a NUL character (\\u0000), which meters cannot keep in a group or "
                "distinct value",
            ),
        ],
        [],
        [("calls", NUL)],
    ]
    # Exact: the refused values count nowhere, "a" is not merged with "a\u0000b", the rest is intact.
    assert [(r.group_by["g"], r.value) for r in om.meters.query("calls", group_by=["g"]).rows] == [("a", 1)]
    assert sorted((r.group_by["g"], r.value) for r in om.meters.query("nested", group_by=["g"]).rows) == [
        ("x", 1),
        ("y", 1),
    ]
    assert [r.value for r in om.meters.query("users").rows] == [1]
    # A meter created later (backfilled from the stored events) refuses them the same way.
    om.meters.create({"slug": "later", "eventType": "call", "aggregation": "COUNT", "groupBy": {"g": "$.g"}})
    assert [(r.group_by["g"], r.value) for r in om.meters.query("later", group_by=["g"]).rows] == [("a", 1)]
    errors = {e.event.id: sorted(v.meter_slug for v in e.validation_errors) for e in om.events.list()}
    assert errors["e0"] == ["calls", "later", "nested", "users"] and errors["e2"] == ["calls", "later"]
