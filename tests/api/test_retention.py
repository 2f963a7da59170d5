"""Raw events kept for ``storage.raw_event_retention_days`` only (issue 23), on both backends: once older events
are removed, every meter's numbers are what they were (queries and entitlement values read the kept
pre-aggregates, checked against the brute-force reference over all the events ever stored), their ids stay
duplicates, ListEvents lists only the events kept, and a meter created afterwards counts the events kept
(what it can backfill from)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from reference_query import reference_query
from support import Clock

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.server.events.retention import RawEventRetention
from meterd.server.meters.model import Aggregation, MeterDefinition

NOW = datetime(2024, 6, 30, 12, tzinfo=UTC)
TOKENS = MeterDefinition("tokens", "call", Aggregation.SUM, "$.tokens", {"model": "$.model"})
PEAK = MeterDefinition("peak", "call", Aggregation.MAX, "$.tokens", {"model": "$.model"})
USERS = MeterDefinition("users", "call", Aggregation.UNIQUE_COUNT, "$.user", {})
LAST = MeterDefinition("last", "call", Aggregation.LATEST, "$.tokens", {})


@pytest.fixture
def retaining(server_config: Config, clock: Clock) -> Iterator[tuple[MeterdServer, OpenMeter]]:
    clock.set(NOW)
    config = server_config.model_copy(update={"raw_event_retention_days": 30})
    server = MeterdServer(config, clock=clock).start()
    try:
        with OpenMeter(server.address, timeout=30) as om:
            yield server, om
    finally:
        server.stop(0)


def create(om: OpenMeter, meter: MeterDefinition) -> None:
    om.meters.create(
        {
            "slug": meter.slug,
            "eventType": meter.event_type,
            "aggregation": meter.aggregation.value,
            "valueProperty": meter.value_property,
            "groupBy": dict(meter.group_by),
        }
    )


def events(days_ago: float, n: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{prefix}{i}",
            "source": "ret",
            "type": "call",
            "subject": f"s{i % 3}",
            "time": NOW - timedelta(days=days_ago, minutes=7 * i),
            "data": {
                "tokens": ["1.25", 4, 10, "0.5"][i % 4],
                "model": ["a", "é"][i % 2],
                "user": f"u{i % 5}",
            },
        }
        for i in range(n)
    ]


def check(om: OpenMeter, meter: MeterDefinition, all_events: list[dict[str, Any]]) -> None:
    start, end = NOW - timedelta(days=60), NOW
    for window, subjects, group_by in [
        (None, None, ()),
        ("DAY", ["s1"], ()),
        ("HOUR", None, ("subject",)),
        (None, ["s0", "s2"], tuple(meter.group_by)),
    ]:
        want = reference_query(all_events, meter, start, end, window, "UTC", subjects, group_by)
        reply = om.meters.query(
            meter.slug,
            from_=start,
            to=end,
            window_size=window,
            subject=subjects or [],
            group_by=list(group_by),
        )
        assert [(r.window_start, r.subject, dict(r.group_by), r.value) for r in reply.rows] == [
            (w.window_start, w.subject, {k: v for k, v in w.group_by.items() if v is not None}, w.value)
            for w in want
        ], (meter.slug, window, subjects, group_by)


def test_removed_raw_events_leave_every_number_exact(retaining: tuple[MeterdServer, OpenMeter]) -> None:
    server, om = retaining
    for meter in (TOKENS, PEAK, USERS, LAST):
        create(om, meter)
    old, recent = events(45, 20, "old"), events(3, 20, "new")
    om.events.ingest(old + recent)
    om.features.create({"key": "ai", "name": "AI", "meterSlug": "tokens"})
    om.subjects.create_entitlement(
        "s1",
        {
            "type": "metered",
            "featureKey": "ai",
            "usagePeriod": {"interval": "YEAR"},
            "measureUsageFrom": NOW - timedelta(days=90),
        },
    )
    usage = om.subjects.get_entitlement_value("s1", "ai").usage

    retention = server.services.raw_event_retention
    assert isinstance(retention, RawEventRetention)
    assert retention.horizon() == NOW - timedelta(days=30)
    retention.run()  # (the round the server runs at start may have come first: either removes the same)
    assert retention.run() == 0
    listed = om.events.list(limit=1000)
    assert sorted(e.event.id for e in listed) == sorted(e["id"] for e in recent)

    for meter in (TOKENS, PEAK, USERS, LAST):
        check(om, meter, old + recent)
    assert om.subjects.get_entitlement_value("s1", "ai").usage == usage
    # The removed events' ids stay duplicates, whatever the body now.
    again = om.events.ingest([{**old[0], "data": {"tokens": 1000, "model": "a"}}, {**old[5], "time": NOW}])
    assert (again.accepted_count, again.duplicate_count) == (0, 2)
    for meter in (TOKENS, PEAK):
        check(om, meter, old + recent)
    # New events still count, in rows the removal left as they were.
    newest = events(0.5, 6, "newest")
    om.events.ingest(newest)
    for meter in (TOKENS, PEAK, USERS, LAST):
        check(om, meter, old + recent + newest)
    # A meter created now is backfilled from the events still stored: the removed ones are not in it.
    later = MeterDefinition("later", "call", Aggregation.SUM, "$.tokens", {"model": "$.model"})
    create(om, later)
    check(om, later, recent + newest)


def test_retention_is_off_by_default(server: MeterdServer) -> None:
    assert server.services.raw_event_retention is None
