"""Chaos: kill -9 of the server in a loop while streams ingest, meters are created (with backfill over what
is stored) and entitlements are reset. Nothing acknowledged is lost, nothing is stored twice, every meter that
exists agrees with the raw events, and the database passes its integrity check after every crash."""

from __future__ import annotations

import itertools
import random
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import ServerProcess, wait_until

from meterd.client import MeterdError, OpenMeter
from meterd.v1 import events_pb2

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ROUNDS = 5


def make_event(i: int) -> events_pb2.Event:
    e = events_pb2.Event(
        specversion="1.0",
        id=f"chaos-{i}",
        source="chaos",
        type="tokens",
        subject=f"c{i % 17}",
        data='{"tokens": 1}',
    )
    e.time.FromDatetime(T0 + timedelta(seconds=i))
    return e


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


@pytest.mark.slow
def test_kill_9_in_a_loop_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "meterd.db"
    rng = random.Random(11)
    counter = itertools.count()
    sent: dict[str, events_pb2.Event] = {}
    acked: set[str] = set()
    meters_acked: set[str] = set()
    resets_acked: set[str] = set()
    lock = threading.Lock()

    server = ServerProcess(db)
    with OpenMeter(server.address, timeout=30) as om:
        om.meters.create(
            {"slug": "base", "eventType": "tokens", "aggregation": "SUM", "valueProperty": "$.tokens"}
        )
        om.features.create({"key": "f", "name": "F", "meterSlug": "base"})
    meters_acked.add("base")

    for r in range(ROUNDS):
        if r:
            server = ServerProcess(db)
        stop = threading.Event()

        def stream_events(address: str = server.address, stop: threading.Event = stop) -> None:
            with OpenMeter(address, timeout=30) as om:
                stream = om.events.stream(batch_size=rng.choice([50, 200, 500]), max_in_flight=4)
                stream.open()
                record = stream.tally.record

                def on_ack(ack: events_pb2.StreamEventsResponse, batch: list[events_pb2.Event]) -> None:
                    record(ack, batch)
                    with lock:
                        acked.update(e.id for e in batch)

                stream.tally.record = on_ack  # type: ignore[method-assign]
                try:
                    while not stop.is_set():
                        e = make_event(next(counter))
                        with lock:
                            sent[e.id] = e
                        stream.send(e)
                except MeterdError:
                    pass  # the server died
                finally:
                    stream.abort()

        def create_meters(address: str = server.address, r: int = r, stop: threading.Event = stop) -> None:
            with OpenMeter(address, timeout=30) as om:
                for k in itertools.count():
                    slug = f"m{r}_{k}"
                    try:
                        om.meters.create(
                            {
                                "slug": slug,
                                "eventType": "tokens",
                                "aggregation": "SUM",
                                "valueProperty": "$.tokens",
                                "groupBy": {"subject_": "$.tokens"},
                            }
                        )
                    except MeterdError:
                        return
                    meters_acked.add(slug)
                    if stop.is_set():
                        return

        def reset_entitlements(
            address: str = server.address, r: int = r, stop: threading.Event = stop
        ) -> None:
            with OpenMeter(address, timeout=30) as om:
                for k in itertools.count():
                    subject = f"r{r}_{k}"
                    try:
                        om.subjects.create_entitlement(
                            subject,
                            {
                                "type": "metered",
                                "featureKey": "f",
                                "usagePeriod": {"interval": "MONTH", "anchor": T0},
                                "measureUsageFrom": T0,
                                "issueAfterReset": 10,
                            },
                        )
                        om.subjects.reset_entitlement_usage(subject, "f")
                    except MeterdError:
                        return
                    resets_acked.add(subject)
                    if stop.is_set():
                        return

        workers = [
            threading.Thread(target=fn)
            for fn in (stream_events, stream_events, create_meters, reset_entitlements)
        ]
        before = len(acked)
        for w in workers:
            w.start()
        target = before + rng.randrange(2_000, 8_000)
        wait_until(lambda target=target: len(acked) >= target, 120, what="acknowledgements this round")
        server.kill()
        stop.set()
        for w in workers:
            w.join(60)
            assert not w.is_alive()
        assert integrity(db) == "ok", f"round {r}"

    with sqlite3.connect(db) as conn:
        stored = {row[0] for row in conn.execute("SELECT id FROM events")}
    assert acked <= stored, f"{len(acked - stored)} acknowledged events lost"

    server = ServerProcess(db)
    try:
        with OpenMeter(server.address, timeout=60) as om:
            with om.events.stream(batch_size=1000) as stream:
                for e in sent.values():
                    stream.send(e)
            assert stream.tally.accepted + stream.tally.duplicates == len(sent)
            assert stream.tally.duplicates >= len(acked)
            existing = {m.slug for m in om.meters.list()}
            assert meters_acked <= existing, "an acknowledged meter is missing"
            for slug in existing:  # every meter, whether its creation was cut or not, agrees with the events
                rows = om.meters.query(slug).rows
                assert sum(row.value for row in rows) == len(sent), slug
            for subject in resets_acked:  # still answers after the crashes
                assert om.subjects.get_entitlement_value(subject, "f").has_access
    finally:
        assert server.terminate() == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT source || ':' || id) FROM events"
        ).fetchone() == (len(sent), len(sent))
        reset = {
            row[0]
            for row in conn.execute(
                "SELECT e.subject_key FROM entitlement_resets r JOIN entitlements e ON e.id = r.entitlement_id"
            )
        }
    assert resets_acked <= reset, "an acknowledged reset is missing"
    assert integrity(db) == "ok"
    assert len(meters_acked) > 1 and resets_acked, "the chaos should create meters and reset entitlements"
