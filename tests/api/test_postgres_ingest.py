"""PostgreSQL ingest: batches that queued together share one transaction, and their folds may hit the same
pre-aggregate rows (same meter, subject, minute and groups). Each statement then merges its rows first (one
statement may not update a row twice): every aggregation answers as if the batches had come one by one,
including a duplicate within the group (refolded from what was stored) and LATEST's tie-break by ingest
order."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.events.model import ValidEvent

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
METERS = [
    {"slug": "n", "eventType": "m", "aggregation": "COUNT", "groupBy": {"g": "$.g"}},
    {
        "slug": "total",
        "eventType": "m",
        "aggregation": "SUM",
        "valueProperty": "$.v",
        "groupBy": {"g": "$.g"},
    },
    {"slug": "low", "eventType": "m", "aggregation": "MIN", "valueProperty": "$.v", "groupBy": {"g": "$.g"}},
    {"slug": "high", "eventType": "m", "aggregation": "MAX", "valueProperty": "$.v", "groupBy": {"g": "$.g"}},
    {
        "slug": "last",
        "eventType": "m",
        "aggregation": "LATEST",
        "valueProperty": "$.v",
        "groupBy": {"g": "$.g"},
    },
    {
        "slug": "users",
        "eventType": "m",
        "aggregation": "UNIQUE_COUNT",
        "valueProperty": "$.u",
        "groupBy": {"g": "$.g"},
    },
]


def valid(i: int, v: str, u: str, second: int) -> ValidEvent:
    return ValidEvent(
        id=f"e{i}",
        source="grp",
        specversion="1.0",
        type="m",
        subject=f"s{i % 2}",
        time_us=int((T0 + timedelta(seconds=second)).timestamp() * 1_000_000),
        datacontenttype="",
        dataschema="",
        data=f'{{"v": {v}, "u": "{u}", "g": "{"ab"[i % 3 == 0]}"}}',
    )


@pytest.mark.parametrize("backend", ["postgresql"])
def test_batches_in_one_transaction_merge_shared_rows(
    server: MeterdServer, caplog: pytest.LogCaptureFixture
) -> None:
    with OpenMeter(server.address, timeout=30) as om:
        for meter in METERS:
            om.meters.create(meter)
        # One event through the usual path first, so the store's meters are loaded and batches are folded
        # before their transaction (prepared), as in a running server.
        first = {
            "id": "e-first",
            "source": "grp",
            "type": "m",
            "subject": "s0",
            "time": T0,
            "data": {"v": 5, "u": "x", "g": "a"},
        }
        om.events.ingest(first)
        store = server.stores.events
        values = ["1.5", "7", "-2", "0.25", "7", "3", "11", "-2.5", "4", "6", "0.125", "9"]
        events = [valid(i, values[i], f"u{i % 4}", second=i % 3 * 10) for i in range(12)]
        # Four batches over the same two minutes, subjects and groups; the third repeats an id of the first
        # (stored once: that batch is folded again in the transaction).
        batches = [events[0:3], events[3:6], [events[1], *events[6:9]], events[9:12]]
        futures: list[Future[list[bool]]] = [Future() for _ in batches]
        with store._pending_lock:  # queued together: one transaction takes them all
            store._pending = [
                (b, 0, f, [listener.prepare(b) for listener in store._batch_listeners])
                for b, f in zip(batches, futures, strict=True)
            ]
            store._drain_scheduled = True
        store._schedule_drain()
        assert [f.result(30) for f in futures] == [
            [True] * 3,
            [True] * 3,
            [False, True, True, True],
            [True] * 3,
        ]
        # Stored together, not each alone after a failure of the group.
        assert not [r for r in caplog.records if "ingest batches failed" in r.getMessage()]

        every = [(first["subject"], "a", Decimal(5), "x", 0)] + [
            (e.subject, "ab"[i % 3 == 0], Decimal(values[i]), f"u{i % 4}", i + 1)
            for i, e in enumerate(events)
        ]
        end = T0 + timedelta(minutes=5)
        for subject in (None, "s0", "s1"):
            for g in ("a", "b"):
                mine = [r for r in every if r[1] == g and subject in (None, r[0])]
                want = {
                    "n": len(mine),
                    "total": sum(r[2] for r in mine),
                    "low": min(r[2] for r in mine),
                    "high": max(r[2] for r in mine),
                    "users": len({r[3] for r in mine}),
                    # The latest event time wins; among equal times, the one ingested last.
                    "last": max(
                        mine,
                        key=lambda r: (
                            events[r[4] - 1].time_us if r[4] else int(T0.timestamp() * 1_000_000),
                            r[4],
                        ),
                    )[2],
                }
                for slug, value in want.items():
                    rows = om.meters.query(
                        slug, from_=T0, to=end, subject=[subject] if subject else [], filter_group_by={"g": g}
                    ).rows
                    assert [Decimal(str(r.value)) for r in rows] == [value], (slug, subject, g)
