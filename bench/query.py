"""Meter queries at scale: 30 days of events for 1,000 subjects with 2 group keys, at two sizes (1M and
10M by default) to show that query time follows the rows returned, not the events stored. Also the
stream ingest rate with 3 meters on the event type against the rate with none, in the same run.

The bulk data goes in through meterd's own ingest code in this process (validation, dedupe, the meters'
pre-aggregation, group commit) without the gRPC hop, to keep the run short; the ingest rates and every
query are measured through the real server and client in separate processes."""

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
from common import Server, load_in_process, percentile, table, write_result

from meterd.client import OpenMeter
from meterd.server.store.sqlite.db import Database
from meterd.server.store.sqlite.events import SqliteEventStore
from meterd.server.store.sqlite.meters import SqliteMeterStore
from meterd.v1 import events_pb2

START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 30
SUBJECTS = 1000
METHODS = ("GET", "POST", "PUT", "DELETE")
PATHS = tuple(f"/v1/r{i}" for i in range(8))
METERS = [
    {"slug": "requests", "event_type": "request", "aggregation": "COUNT", "group_by": {"method": "$.method", "path": "$.path"}},
    {"slug": "tokens", "event_type": "request", "aggregation": "SUM", "value_property": "$.tokens",
     "group_by": {"method": "$.method", "path": "$.path"}},
    {"slug": "latency_max", "event_type": "request", "aggregation": "MAX", "value_property": "$.ms",
     "group_by": {"method": "$.method", "path": "$.path"}},
]


def event(prefix: str, i: int, n: int, rng: random.Random) -> events_pb2.Event:
    t = START + timedelta(microseconds=int(i * DAYS * 86_400_000_000 / n))
    e = events_pb2.Event(
        specversion="1.0", id=f"{prefix}{i}", source="bench", type="request", subject=f"customer-{rng.randrange(SUBJECTS)}",
        data=json.dumps({"tokens": rng.randrange(1, 2000), "ms": rng.randrange(1, 500),
                         "method": rng.choice(METHODS), "path": rng.choice(PATHS)}),
    )
    e.time.FromDatetime(t)
    return e


def load(db_path: Path, n: int) -> float:
    """Ingests n events through the store-side ingest path; returns events/s."""
    return load_in_process(Database(db_path), SqliteEventStore, SqliteMeterStore, METERS, event, n)


def timed(fn, runs: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    samples = []
    rows = 0
    for _ in range(runs):
        t = time.perf_counter()
        rows = fn()
        samples.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": round(percentile(samples, 50), 2), "p99_ms": round(percentile(samples, 99), 2), "rows": rows}


def query_suite(address: str, runs: int) -> dict[str, dict[str, float]]:
    end = START + timedelta(days=DAYS)
    rng = random.Random(7)
    with OpenMeter(address, timeout=300) as om:
        om.meters.query("tokens", from_=START, to=end, subject=["customer-1"], window_size="HOUR")  # warm up
        return {
            "one_subject_30d_hourly": timed(lambda: len(om.meters.query(
                "tokens", from_=START, to=end, subject=[f"customer-{rng.randrange(SUBJECTS)}"],
                window_size="HOUR").rows), runs),
            "all_subjects_30d_hourly_by_method": timed(lambda: len(om.meters.query(
                "tokens", from_=START, to=end, group_by=["method"], window_size="HOUR").rows), max(3, runs // 5)),
            "all_subjects_30d_total": timed(lambda: len(om.meters.query("tokens", from_=START, to=end).rows), runs),
            "one_subject_30d_daily_budapest": timed(lambda: len(om.meters.query(
                "tokens", from_=START, to=end, subject=[f"customer-{rng.randrange(SUBJECTS)}"], window_size="DAY",
                window_time_zone="Europe/Budapest").rows), runs),
        }


def stream_rate(address: str, n: int, prefix: str, event_type: str) -> float:
    rng = random.Random(1)
    wire = [event(prefix, i, n, rng) for i in range(n)]
    for e in wire:
        e.type = event_type
    with OpenMeter(address, timeout=300) as om:
        start = time.perf_counter()
        with om.events.stream(batch_size=1000, max_in_flight=8) as stream:
            for e in wire:
                stream.send(e)
        return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000000,10000000", help="comma-separated event counts")
    parser.add_argument("--runs", type=int, default=30, help="runs per query for percentiles")
    parser.add_argument("--stream-events", type=int, default=200_000, help="events for the stream rate comparison")
    args = parser.parse_args()
    results: dict[str, object] = {"subjects": SUBJECTS, "days": DAYS, "group_keys": 2, "meters_on_type": len(METERS)}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            db = Path(tmp) / f"q{n}.db"
            print(f"loading {n:,} events ...", flush=True)
            load_rate = load(db, n)
            server = Server(db)
            try:
                queries = query_suite(server.address, args.runs)
                if n == max(int(s) for s in args.sizes.split(",")):
                    results["stream_ingest_events_per_second"] = {
                        "no_meters": round(stream_rate(server.address, args.stream_events, "s0-", "unmetered")),
                        "three_meters": round(stream_rate(server.address, args.stream_events, "s3-", "request")),
                    }
            finally:
                server.stop()
            results[f"events_{n}"] = {"load_events_per_second": round(load_rate), "db_mb": round(db.stat().st_size / 2**20),
                                      "queries": queries}
    path = write_result("query", results)
    print(f"-> {path}")
    lines = []
    for key, value in results.items():
        if key.startswith("events_"):
            for name, q in value["queries"].items():  # type: ignore[index]
                lines.append((f"{key} {name}", f"p50 {q['p50_ms']} ms  p99 {q['p99_ms']} ms  rows {q['rows']}"))
    if "stream_ingest_events_per_second" in results:
        rates = results["stream_ingest_events_per_second"]
        lines.append(("stream ingest, no meters / 3 meters", f"{rates['no_meters']:,} / {rates['three_meters']:,} events/s"))  # type: ignore[index]
    print(table(lines))


if __name__ == "__main__":
    main()
