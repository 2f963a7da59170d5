"""Stream ingest with meters on the event type, as shares of the raw SQLite insert rate of the same rows
measured in the same run (issue 12's workload).

Workload: 1,000 subjects; data {"tokens", "ms", "model" (4 values), "user"}; streamed in batches of 1,000
(8 in flight) to a fresh server and database per case. Cases:

- ``raw_sqlite``: the same rows ``executemany``-inserted into the events table with its unique key, one
  FULL-synchronous commit per 1,000 (the storage's own speed, the denominator);
- ``no_meter``: the type has no meter;
- ``three_meters``: SUM $.tokens, COUNT, MAX $.ms, each grouped by $.model; batches spanning an hour;
- ``three_meters_unique``: the same with UNIQUE_COUNT $.user instead of MAX;
- ``three_meters_live``: three meters, event times within the last minute (a production stream).

Also the server's CPU time per event (less sensitive than rates to other work on the machine) and its RSS
before and after each stream (it must stay flat)."""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import psutil
from common import Server, table, write_result

from meterd.client import OpenMeter
from meterd.server.store.sqlite.db import connect
from meterd.server.store.sqlite.migrations import migrate
from meterd.v1 import events_pb2

SUBJECTS = 1000
MODELS = ("gpt-4", "gpt-4o", "claude", "llama")
BATCH = 1000
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def meters(third: str) -> list[dict[str, object]]:
    group = {"model": "$.model"}
    out: list[dict[str, object]] = [
        {"slug": "tokens", "eventType": "request", "aggregation": "SUM", "valueProperty": "$.tokens", "groupBy": group},
        {"slug": "requests", "eventType": "request", "aggregation": "COUNT", "groupBy": group},
    ]
    if third == "MAX":
        out.append({"slug": "latency", "eventType": "request", "aggregation": "MAX", "valueProperty": "$.ms",
                    "groupBy": group})
    else:
        out.append({"slug": "users", "eventType": "request", "aggregation": "UNIQUE_COUNT", "valueProperty": "$.user",
                    "groupBy": group})
    return out


def make_events(prefix: str, n: int, live: bool) -> list[events_pb2.Event]:
    """Batches of 1,000 spanning an hour of event time (3.6 s apart), or live: within the last minute."""
    rng = random.Random(n)
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        t = now - timedelta(seconds=rng.random() * 60) if live else T0 + timedelta(seconds=i * 3.6)
        e = events_pb2.Event(
            specversion="1.0", id=f"{prefix}-{i}", source="bench", type="request",
            subject=f"customer-{rng.randrange(SUBJECTS)}",
            data=json.dumps({"tokens": rng.randrange(1, 4000), "ms": rng.randrange(1, 900),
                             "model": MODELS[rng.randrange(4)], "user": f"u{rng.randrange(5000)}"}),
        )
        e.time.FromDatetime(t)
        out.append(e)
    return out


def raw_rate(events: list[events_pb2.Event], db: Path) -> float:
    conn = connect(str(db))
    migrate(conn)
    rows = [(e.source, e.id, e.type, e.subject, e.time.seconds * 1_000_000 + e.time.nanos // 1000, 0, e.specversion,
             None, None, e.data) for e in events]
    cpu = time.process_time()
    start = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO events (source, id, type, subject, time_us, ingested_us, specversion, datacontenttype,"
            " dataschema, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, id) DO NOTHING",
            rows[i:i + BATCH],
        )
        conn.execute("COMMIT")
    rate = len(rows) / (time.perf_counter() - start)
    CPU_US["raw_sqlite"] = (time.process_time() - cpu) / len(rows) * 1e6
    conn.close()
    return rate


CPU_US: dict[str, float] = {}  # CPU time per event: of this process for raw_sqlite, of the server otherwise


def stream_rate(db: Path, events: list[events_pb2.Event], specs: list[dict[str, object]],
                name: str) -> tuple[float, dict[str, float]]:
    server = Server(db)
    try:
        with OpenMeter(server.address, timeout=300) as om:
            for spec in specs:
                om.meters.create(spec)
            warm = events[:BATCH]  # the first batch also loads the meters on the writer
            with om.events.stream(batch_size=BATCH, max_in_flight=8) as stream:
                stream.send_many(warm)
            rss_before = server.rss()
            process = psutil.Process(server.proc.pid)
            cpu = process.cpu_times()
            start = time.perf_counter()
            half = BATCH + (len(events) - BATCH) // 2
            accepted = 0
            for i, part in enumerate((events[BATCH:half], events[half:])):  # RSS halfway too: flat or growing?
                with om.events.stream(batch_size=BATCH, max_in_flight=8) as stream:
                    for e in part:
                        stream.send(e)
                accepted += stream.tally.accepted
                if i == 0:
                    rss_half = server.rss()
            elapsed = time.perf_counter() - start
            used = process.cpu_times()
            CPU_US[name] = (used.user + used.system - cpu.user - cpu.system) / (len(events) - BATCH) * 1e6
            assert accepted == len(events) - BATCH, accepted
            rss_after = server.rss()
    finally:
        server.stop()
    return (len(events) - BATCH) / elapsed, {"before_mb": round(rss_before / 2**20, 1),
                                             "half_mb": round(rss_half / 2**20, 1),
                                             "after_mb": round(rss_after / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300_000, help="events per case")
    args = parser.parse_args()
    n = args.events
    spanning = make_events("e", n, live=False)
    results: dict[str, float] = {}
    rss: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        results["raw_sqlite"] = raw_rate(spanning, d / "raw.db")
        results["no_meter"], rss["no_meter"] = stream_rate(d / "none.db", spanning, [], "no_meter")
        results["three_meters"], rss["three_meters"] = stream_rate(d / "three.db", spanning, meters("MAX"), "three_meters")
        results["three_meters_unique"], rss["three_meters_unique"] = stream_rate(
            d / "unique.db", spanning, meters("UNIQUE_COUNT"), "three_meters_unique")
        results["three_meters_live"], rss["three_meters_live"] = stream_rate(
            d / "live.db", make_events("l", n, live=True), meters("MAX"), "three_meters_live")
    raw = results["raw_sqlite"]
    payload = {
        "events_per_case": n,
        "events_per_second": {k: round(v) for k, v in results.items()},
        "share_of_raw_sqlite": {k: round(v / raw, 3) for k, v in results.items() if k != "raw_sqlite"},
        "targets": {"no_meter": 0.60, "three_meters": 0.30, "three_meters_unique": 0.20, "three_meters_live": 0.40},
        "cpu_us_per_event": {k: round(v, 1) for k, v in CPU_US.items()},
        "server_rss": rss,
        "notes": "client and server in separate processes on one 2-core machine shared with other work; "
                 "ratios are within one run",
    }
    path = write_result("meters_ingest", payload)
    print(f"meters ingest ({n} events per case) -> {path}")
    print(table([(k, f"{round(v):,} events/s" + ("" if k == "raw_sqlite" else f"  {v / raw:.2f} of raw")
                  + f"  {CPU_US.get(k, 0):.1f} µs CPU/event") for k, v in results.items()]))


if __name__ == "__main__":
    main()
