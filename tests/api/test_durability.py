"""Durability: acknowledged events survive kill -9 and SIGTERM; resending after a crash stores each event
exactly once; the database is intact after a crash (integrity check)."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import ServerProcess

from meterd.client import MeterdError, OpenMeter
from meterd.v1 import events_pb2

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def make_events(n: int) -> list[events_pb2.Event]:
    out = []
    for i in range(n):
        e = events_pb2.Event(
            specversion="1.0",
            id=f"crash-{i}",
            source="durability",
            type="request",
            subject=f"c{i % 13}",
            data='{"tokens": 1}',
        )
        e.time.FromDatetime(T0 + timedelta(seconds=i))
        out.append(e)
    return out


def test_kill_9_during_a_stream_loses_no_acknowledged_event(tmp_path: Path) -> None:
    db = tmp_path / "meterd.db"
    events = make_events(60_000)
    server = ServerProcess(db)
    acknowledged: set[str] = set()
    half_acked = threading.Event()
    with OpenMeter(server.address) as om:
        stream = om.events.stream(batch_size=500, max_in_flight=4)
        stream.open()
        original_record = stream.tally.record

        def record(ack: events_pb2.StreamEventsResponse, batch: list[events_pb2.Event]) -> None:
            original_record(ack, batch)
            acknowledged.update(e.id for e in batch)
            if len(acknowledged) >= 20_000:
                half_acked.set()

        stream.tally.record = record  # type: ignore[method-assign]
        killer = threading.Thread(target=lambda: (half_acked.wait(60), server.kill()))
        killer.start()
        with pytest.raises(MeterdError):
            for e in events:
                stream.send(e)
            stream.flush()
        killer.join()
        stream.abort()
    assert 20_000 <= len(acknowledged) < len(events), "the kill should land mid-stream"

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in conn.execute("SELECT id FROM events")}
    assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged events lost"

    # Restart and resend everything: acknowledged ones come back as duplicates, the rest are stored once.
    server = ServerProcess(db)
    try:
        with OpenMeter(server.address) as om, om.events.stream(batch_size=1000) as stream:
            for e in events:
                stream.send(e)
        assert stream.tally.accepted + stream.tally.duplicates == len(events)
        assert stream.tally.duplicates >= len(acknowledged)
    finally:
        assert server.terminate() == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM events").fetchone() == (
            len(events),
            len(events),
        )


def test_sigterm_finishes_in_flight_work_and_exits_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "meterd.db"
    server = ServerProcess(db)
    with OpenMeter(server.address) as om:
        with om.events.stream(batch_size=100) as stream:
            for e in make_events(2_000):
                stream.send(e)
        assert server.terminate() == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 2_000
