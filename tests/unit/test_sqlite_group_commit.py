"""Batches stored by one commit (the writer's group commit) leave the database exactly as the same batches
stored one commit each: the same events and seqs, the same duplicates, the same pre-aggregates (rows of
batches whose times meet are merged per key before the upserts), on a real SQLite database."""

from __future__ import annotations

import json
import random
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from meterd.server.events.model import ValidEvent
from meterd.server.meters.model import Aggregation, MeterDefinition
from meterd.server.store.sqlite.db import Database
from meterd.server.store.sqlite.events import SqliteEventStore
from meterd.server.store.sqlite.meters import SqliteMeterStore

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
MINUTE = 60_000_000
METERS = [
    ("tokens", Aggregation.SUM, "$.v"),
    ("requests", Aggregation.COUNT, None),
    ("peak", Aggregation.MAX, "$.v"),
    ("low", Aggregation.MIN, "$.v"),
    ("last", Aggregation.LATEST, "$.v"),
    ("users", Aggregation.UNIQUE_COUNT, "$.u"),
    ("nested", Aggregation.SUM, "$.n.v"),
]


def batches(seed: int, live: bool) -> list[list[ValidEvent]]:
    """Six batches; live: every event within the same two minutes (the batches' rows share keys), else each
    batch in its own hour. Ids repeat across and within batches (duplicates), values include decimals,
    numbers beyond 64 bits and equal times (LATEST ties)."""
    rng = random.Random(seed)
    base = 1_714_564_800_000_000
    out = []
    for b in range(6):
        events = []
        for _ in range(40):
            t = (
                base + rng.randrange(2 * MINUTE)
                if live
                else base + b * 60 * MINUTE + rng.randrange(60 * MINUTE)
            )
            if rng.random() < 0.2:
                t = base  # ties
            v = rng.choice([rng.randrange(100), f"{rng.randrange(1000) / 8}", 2**70, "x", -3])
            v_text = v if isinstance(v, str) and v != "x" else json.dumps(v)
            data = (
                f'{{"v": {v_text}, "g": "{rng.choice(["a", "é", "日本"])}", "u": "u{rng.randrange(5)}",'
                f' "n": {{"v": {rng.randrange(10)}}}}}'
            )
            event_id = f"e{rng.randrange(180)}"  # some ids repeat: duplicates across and within batches
            events.append(ValidEvent(event_id, "src", "1.0", "t", f"s{rng.randrange(3)}", t, "", "", data))
        out.append(events)
    return out


def stores(path: Path) -> tuple[Database, SqliteEventStore]:
    db = Database(path)
    events = SqliteEventStore(db)
    meters = SqliteMeterStore(db, events)
    for slug, aggregation, value in METERS:
        meters.create(slug, MeterDefinition(slug, "t", aggregation, value, {"g": "$.g"}), NOW)
    return db, events


def contents(db: Database) -> dict[str, Any]:
    conn = db.reader()
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND (name LIKE 'meter_%' OR name LIKE 'agg_%' OR name IN ('events', 'event_errors'))"
        )
    ]
    return {
        name: sorted(conn.execute(f"SELECT * FROM {name}").fetchall(), key=repr) for name in sorted(names)
    }


@pytest.mark.parametrize("live", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_commit_for_many_batches_stores_what_one_commit_each_does(
    tmp_path: Path, live: bool, seed: int
) -> None:
    data = batches(seed, live)
    # One commit each: every batch awaited before the next is sent.
    db, events = stores(tmp_path / "each.db")
    try:
        each = [events.submit_ingest(batch, NOW).result(timeout=30) for batch in data]
        expected = contents(db)
    finally:
        db.close()
    # One commit for all: the writer is held until every batch is queued.
    db, events = stores(tmp_path / "group.db")
    try:
        gate = threading.Event()
        held = db.submit(lambda conn: gate.wait(30))
        futures = [events.submit_ingest(batch, NOW) for batch in data]
        gate.set()
        held.result(timeout=30)
        grouped = [f.result(timeout=30) for f in futures]
        got = contents(db)
    finally:
        db.close()
    assert grouped == each
    assert any(not ok for outcome in each for ok in outcome)  # the batches did hold duplicates
    assert got == expected
    assert got["agg_sub_m"] and got["agg_sub_h"] and got["meter_all_distinct_d"]
