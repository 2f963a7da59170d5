"""PostgreSQL: raw events are partitioned by month of event time. Events of months with a partition go to
it, others to the default partition; dropping an old month's partition keeps meter queries (they read
pre-aggregates) and dedupe (keys are kept apart), and a meter created afterwards has no usage for it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config


@pytest.fixture
def pg_om(pg_url: str) -> Iterator[OpenMeter]:
    server = MeterdServer(
        Config(listen="127.0.0.1:0", db=pg_url, grace_seconds=2.0, log_format="text")
    ).start()
    try:
        with OpenMeter(server.address, timeout=30) as om:
            yield om
    finally:
        server.stop(0)


def event(i: str, at: datetime) -> dict[str, object]:
    return {
        "specversion": "1.0",
        "id": i,
        "source": "p",
        "type": "call",
        "subject": "s1",
        "time": at,
        "data": {"n": 1},
    }


def test_monthly_partitions_and_dropping_one(pg_om: OpenMeter, pg_url: str) -> None:
    om = pg_om
    now = datetime.now(UTC)
    old = datetime(2020, 1, 15, tzinfo=UTC)
    om.meters.create({"slug": "calls", "eventType": "call", "aggregation": "COUNT"})
    om.events.ingest([event("old", old), event("now", now)])
    month = f"events_{now.year:04d}{now.month:02d}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        where = dict(conn.execute("SELECT id, tableoid::regclass::text FROM events").fetchall())
        assert where == {"old": "events_default", "now": month}
        # Partitions exist ahead of need: this month and the next three.
        names = {r[0] for r in conn.execute("SELECT relname FROM pg_class WHERE relname LIKE 'events_2%'")}
        assert month in names and len(names) >= 4

        conn.execute(f"ALTER TABLE events DETACH PARTITION {month}")
        conn.execute(f"DROP TABLE {month}")

    # Queries still answer from the pre-aggregates; ListEvents no longer has the dropped month.
    assert [r.value for r in om.meters.query("calls").rows] == [2]
    assert [e.event.id for e in om.events.list()] == ["old"]
    # An id of a dropped event is still a duplicate.
    again = om.events.ingest(event("now", now))
    assert (again.accepted_count, again.duplicate_count) == (0, 1)
    # A meter created now is backfilled from the raw events that remain only.
    om.meters.create({"slug": "calls_later", "eventType": "call", "aggregation": "COUNT"})
    assert [r.value for r in om.meters.query("calls_later").rows] == [1]
