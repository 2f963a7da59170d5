"""Ingest throughput: unary single events, unary batches of 100, the stream with batches of 1,000, and
the raw SQLite ceiling (the same rows into the same table and dedupe index, no meterd in between)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Server, table, write_result

from meterd.client import OpenMeter
from meterd.server.store.sqlite.db import connect
from meterd.server.store.sqlite.migrations import migrate
from meterd.v1 import events_pb2

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def make_events(prefix: str, n: int, subjects: int = 1000) -> list[events_pb2.Event]:
    """Wire events built ahead of time, so the client side measures sending, not building dicts."""
    out = []
    for i in range(n):
        t = T0 + timedelta(seconds=i * 2.6)
        ts = events_pb2.Event().time
        ts.FromDatetime(t)
        out.append(
            events_pb2.Event(
                specversion="1.0",
                id=f"{prefix}-{i}",
                source="bench",
                type="request",
                subject=f"customer-{i % subjects}",
                time=ts,
                data=json.dumps({"tokens": i % 1000, "method": ("GET", "POST")[i % 2], "path": f"/p{i % 7}"}),
            )
        )
    return out


def bench_unary_single(om: OpenMeter, events: list[events_pb2.Event]) -> float:
    start = time.perf_counter()
    for e in events:
        om.events.ingest(e)
    return len(events) / (time.perf_counter() - start)


def bench_unary_batches(om: OpenMeter, events: list[events_pb2.Event], size: int = 100) -> float:
    start = time.perf_counter()
    for i in range(0, len(events), size):
        om.events.ingest(events[i : i + size])
    return len(events) / (time.perf_counter() - start)


def bench_stream(om: OpenMeter, events: list[events_pb2.Event], size: int = 1000) -> float:
    start = time.perf_counter()
    with om.events.stream(batch_size=size, max_in_flight=8) as stream:
        for e in events:
            stream.send(e)
    elapsed = time.perf_counter() - start
    assert stream.tally.accepted == len(events), stream.tally.accepted
    return len(events) / elapsed


def bench_sqlite_ceiling(events: list[events_pb2.Event], db: Path, size: int = 1000) -> float:
    """Same rows, same schema and dedupe index, same durability (one FULL-synchronous commit per 1,000)."""
    conn = connect(str(db))
    migrate(conn)
    rows = [
        (
            e.source,
            e.id,
            e.type,
            e.subject,
            e.time.seconds * 1_000_000 + e.time.nanos // 1000,
            0,
            e.specversion,
            None,
            None,
            e.data,
        )
        for e in events
    ]
    start = time.perf_counter()
    for i in range(0, len(rows), size):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO events (source, id, type, subject, time_us, ingested_us, specversion, datacontenttype,"
            " dataschema, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, id) DO NOTHING",
            rows[i : i + size],
        )
        conn.execute("COMMIT")
    rate = len(rows) / (time.perf_counter() - start)
    conn.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="events for the stream, batches and ceiling"
    )
    parser.add_argument("--single", type=int, default=20_000, help="events sent one call each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ceiling = bench_sqlite_ceiling(make_events("c", args.events), Path(tmp) / "ceiling.db")
        server = Server(Path(tmp) / "meterd.db")
        try:
            with OpenMeter(server.address, timeout=120) as om:
                single = bench_unary_single(om, make_events("u", args.single))
                batches = bench_unary_batches(om, make_events("b", args.events))
                rss_before_stream = server.rss()
                stream = bench_stream(om, make_events("s", args.events))
                rss_after_stream = server.rss()
            peak = server.peak_rss
        finally:
            server.stop()
    result = {
        "events": args.events,
        "events_per_second": {
            "unary_single": round(single),
            "unary_batch_100": round(batches),
            "stream_batch_1000": round(stream),
            "sqlite_ceiling_batch_1000": round(ceiling),
        },
        "stream_vs_ceiling": round(stream / ceiling, 3),
        "server_rss_mb": {
            "peak": round(peak / 2**20, 1),
            "before_stream": round(rss_before_stream / 2**20, 1),
            "after_stream": round(rss_after_stream / 2**20, 1),
        },
        "notes": "client and server in separate processes on one 2-core machine; no meters defined",
    }
    path = write_result("ingest", result)
    print(f"ingest ({args.events} events) -> {path}")
    print(
        table(
            [(k, f"{v:,} events/s") for k, v in result["events_per_second"].items()]
            + [
                ("stream / ceiling", f"{result['stream_vs_ceiling']:.0%}"),
                ("server peak RSS", f"{result['server_rss_mb']['peak']} MiB"),
            ]
        )
    )


if __name__ == "__main__":
    main()
