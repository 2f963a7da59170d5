"""Stored data never blocks the service (issue 11 § 4). A database made by the server is poisoned with SQL, the
way older code could have stored events that today's validation refuses (year 10000, before 1970, NUL in
attributes, lone surrogates, deep nesting, invalid JSON, 1e20 values); then meters are declared in the config
and created through the API (each backfills), queried, listed, and read by an entitlement's history. Every
meter skips each bad event with a validation error and moves on; ListEvents serves every row."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config

T0 = datetime(2024, 1, 1, tzinfo=UTC)
T0_US = int(T0.timestamp()) * 1_000_000

# (id, subject, time_us, data): what older code could have stored.
BAD_EVENTS = [
    ("year-10000", "c1", 253_402_300_800_000_000, '{"n": 1, "model": "a"}'),
    ("year-1", "c1", -62_135_596_800_000_000, '{"n": 1, "model": "a"}'),
    ("int64-time", "c1", 2**63 - 1, '{"n": 1, "model": "a"}'),
    ("nul\x00id", "c1", T0_US, '{"n": 1, "model": "a"}'),
    ("nul-subject", "c\x001", T0_US, '{"n": 1, "model": "a"}'),
    ("surrogate-value", "c1", T0_US, '{"n": 1, "model": "\\udcff"}'),
    ("surrogate-key", "c1", T0_US, '{"n": 1, "\\ud800": "x", "model": "a"}'),
    ("deep", "c1", T0_US, "[" * 10_000 + "]" * 10_000),
    ("deep-object", "c1", T0_US, '{"a":' * 10_000 + "1" + "}" * 10_000),
    ("not-json", "c1", T0_US, "not json"),
    ("array", "c1", T0_US, "[1, 2]"),
    ("nan", "c1", T0_US, '{"n": NaN, "model": "a"}'),
    ("huge", "c1", T0_US, '{"n": 1e20, "model": "a"}'),
    ("huge-digits", "c1", T0_US, '{"n": ' + "9" * 5000 + ', "model": "a"}'),  # beyond Python's int parsing
    ("tiny-exponent", "c1", T0_US, '{"n": 1e-999999999, "model": "a"}'),
]
# Events with no error under a SUM meter (5 + 7 at T0 and T0 + 1 minute; with "nul\x00id", whose NUL harms no
# meter, and "tiny-exponent", a 0 at nine decimal places: 13).
GOOD_EVENTS = [
    ("good-1", "c1", T0_US, '{"n": 5, "model": "a"}'),
    ("good-2", "c2", T0_US + 60_000_000, '{"n": 7, "model": "b"}'),
]
METERS = [
    {
        "slug": "declared_total",
        "eventType": "calls",
        "aggregation": "SUM",
        "valueProperty": "$.n",
        "groupBy": {"model": "$.model"},
    },
    {"slug": "declared_count", "eventType": "calls", "aggregation": "COUNT"},
]


def poison(path: Path) -> None:
    conn = sqlite3.connect(path)
    with conn:
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
        for i, (event_id, subject, time_us, data) in enumerate(BAD_EVENTS + GOOD_EVENTS, start=seq + 1):
            conn.execute(
                "INSERT INTO events (seq, source, id, type, subject, time_us, ingested_us, specversion, data)"
                " VALUES (?, 'old', ?, 'calls', ?, ?, ?, '1.0', ?)",
                (i, event_id, subject, time_us, T0_US, data),
            )
    conn.close()


@pytest.fixture
def poisoned(tmp_path: Path) -> Config:
    config = Config(
        listen="127.0.0.1:0", db=str(tmp_path / "meterd.db"), grace_seconds=2.0, log_format="text"
    )
    MeterdServer(config).start().stop(0)  # the schema as the server makes it
    poison(tmp_path / "meterd.db")
    config.meters = METERS
    return config


def test_a_poisoned_database_blocks_nothing(poisoned: Config) -> None:
    server = MeterdServer(poisoned).start()  # startup backfills the config-declared meters
    try:
        with OpenMeter(server.address, timeout=30) as om:
            om.meters.create(
                {
                    "slug": "unique_models",
                    "eventType": "calls",
                    "aggregation": "UNIQUE_COUNT",
                    "valueProperty": "$.model",
                }
            )
            om.meters.create(
                {
                    "slug": "latest",
                    "eventType": "calls",
                    "aggregation": "LATEST",
                    "valueProperty": "$.n",
                    "groupBy": {"model": "$.model"},
                }
            )
            end = T0 + timedelta(hours=1)
            total = om.meters.query("declared_total", from_=T0, to=end)
            assert [r.value for r in total.rows] == [13.0]
            grouped = om.meters.query(
                "declared_total", from_=T0, to=end, window_size="DAY", group_by=["model", "subject"]
            )
            assert [(r.subject, r.group_by["model"], r.value) for r in grouped.rows] == [
                ("c1", "a", 6.0),
                ("c2", "b", 7.0),
            ]
            assert [r.value for r in om.meters.query("declared_count", from_=T0, to=end).rows] == [5.0]
            assert [r.value for r in om.meters.query("unique_models", from_=T0, to=end).rows] == [2.0]
            assert sorted(
                r.value for r in om.meters.query("latest", from_=T0, to=end, group_by=["model"]).rows
            ) == [5.0, 7.0]
            assert om.meters.subjects("declared_total") == ["c1", "c2"]

            # ListEvents serves every row, the year-10000 one first, each bad one with its errors.
            listed = om.events.list(limit=100)
            ids = [e.event.id for e in listed]
            assert sorted(ids) == sorted(e[0] for e in BAD_EVENTS + GOOD_EVENTS)
            assert ids[0] == "int64-time" and ids[1] == "year-10000"
            errors = {e.event.id: {v.meter_slug for v in e.validation_errors} for e in listed}
            every_meter = {"declared_total", "declared_count", "unique_models", "latest"}
            for bad in (
                "year-10000",
                "year-1",
                "int64-time",
                "nul-subject",
                "surrogate-value",
                "surrogate-key",
                "deep",
                "deep-object",
                "not-json",
                "array",
                "nan",
                "huge-digits",
            ):
                assert errors[bad] == every_meter, bad
            assert errors["huge"] == {
                "declared_total",
                "latest",
            }  # a value no exact sum holds: numeric meters only
            assert errors["good-1"] == errors["good-2"] == set()
            assert {e.event.id for e in om.events.list(has_error=True, limit=100)} == {
                e[0] for e in BAD_EVENTS
            } - {"nul\x00id", "tiny-exponent"}

            # An entitlement on the meter: value and history read the same aggregates.
            om.meters.create(
                {"slug": "calls_sum", "eventType": "calls", "aggregation": "SUM", "valueProperty": "$.n"}
            )
            om.features.create({"key": "calls", "name": "Calls", "meterSlug": "calls_sum"})
            om.subjects.create_entitlement(
                "c1",
                {
                    "type": "metered",
                    "featureKey": "calls",
                    "usagePeriod": {"interval": "MONTH"},
                    "measureUsageFrom": T0,
                    "issueAfterReset": 100,
                },
            )
            history = om.subjects.get_entitlement_history(
                "c1", "calls", window_size="DAY", from_=T0, to=T0 + timedelta(days=1)
            )
            assert [r.usage for r in history.windowed_history] == [6.0]
            om.meters.delete("latest")
    finally:
        server.stop(0)
    # A restart (config meters unchanged) and a changed config definition (rebuilt by backfill) both start.
    MeterdServer(poisoned).start().stop(0)
    poisoned.meters = [{**METERS[0], "groupBy": {}}, METERS[1]]
    server = MeterdServer(poisoned).start()
    try:
        with OpenMeter(server.address, timeout=30) as om:
            assert [
                r.value for r in om.meters.query("declared_total", from_=T0, to=T0 + timedelta(hours=1)).rows
            ] == [13.0]
    finally:
        server.stop(0)
