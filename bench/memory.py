"""The server's memory over a long stream and under concurrent queries: resident memory must level off, not
grow with the events stored.

Workload: a fresh server and database; three meters on the event type (SUM $.tokens, COUNT, MAX $.ms, each
grouped by $.model); a stream of N events (1,000 subjects, batches of 1,000 spanning an hour of event time,
8 in flight) in ten parts, the server's RSS and USS after each part; then three rounds of: 8 client threads
querying random subjects' hourly usage over the whole range (reads on many worker threads, each with its own
SQLite connection), and one more part of the stream; RSS after each.

What holds memory, and its bound (so that the plateau is by construction, not by luck):
- the writer's SQLite page cache: WRITER_CACHE_KIB (64 MiB), filled during the first part or two;
- each reader's page cache: READER_CACHE_KIB (2 MiB) per worker thread that reads (server.workers, 32);
- the meter store's known (meter, subject) pairs: cleared past 200,000 (about 33 MiB at that size);
- the fold's group-text cache: cleared past 100,000 entries (about 29 MiB at that size);
- the stream's in-flight batches: max_in_flight per stream (the client's credit), so a few MB."""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import psutil
from common import Server, table, write_result

from meterd.client import OpenMeter
from meterd.server.store.sqlite.db import READER_CACHE_KIB, WRITER_CACHE_KIB
from meterd.v1 import events_pb2

SUBJECTS = 1000
MODELS = ("gpt-4", "gpt-4o", "claude", "llama")
T0 = datetime(2024, 1, 1, tzinfo=UTC)
STEP = timedelta(seconds=3.6)  # batches of 1,000 span an hour
METERS = [
    {
        "slug": "tokens",
        "eventType": "request",
        "aggregation": "SUM",
        "valueProperty": "$.tokens",
        "groupBy": {"model": "$.model"},
    },
    {"slug": "requests", "eventType": "request", "aggregation": "COUNT", "groupBy": {"model": "$.model"}},
    {
        "slug": "latency",
        "eventType": "request",
        "aggregation": "MAX",
        "valueProperty": "$.ms",
        "groupBy": {"model": "$.model"},
    },
]


def events(first: int, n: int) -> list[events_pb2.Event]:
    rng = random.Random(first)
    out = []
    for i in range(first, first + n):
        e = events_pb2.Event(
            specversion="1.0",
            id=f"m{i}",
            source="bench",
            type="request",
            subject=f"customer-{rng.randrange(SUBJECTS)}",
            data=json.dumps(
                {
                    "tokens": rng.randrange(1, 4000),
                    "ms": rng.randrange(1, 900),
                    "model": MODELS[rng.randrange(4)],
                }
            ),
        )
        e.time.FromDatetime(T0 + STEP * i)
        out.append(e)
    return out


def mb(n: int) -> float:
    return round(n / 2**20, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="events streamed (in ten parts)")
    parser.add_argument("--queries", type=int, default=400, help="queries in the concurrent query phase")
    args = parser.parse_args()
    part = args.events // 10
    points: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "memory.db")
        process = psutil.Process(server.proc.pid)

        def sample(label: str, events_in: int) -> None:
            info = process.memory_full_info()
            points.append(
                {"after": label, "events": events_in, "rss_mb": mb(info.rss), "uss_mb": mb(info.uss)}
            )
            print(f"  {label:>24}: RSS {mb(info.rss)} MB, USS {mb(info.uss)} MB", flush=True)

        try:
            with OpenMeter(server.address, timeout=300) as om:
                for spec in METERS:
                    om.meters.create(spec)
                sample("start", 0)
                sent = 0
                start = time.perf_counter()
                for _ in range(10):
                    with om.events.stream(batch_size=1000, max_in_flight=8) as stream:
                        stream.send_many(events(sent, part))
                    sent += part
                    sample(f"{sent:,} events", sent)
                rate = sent / (time.perf_counter() - start)
                end = T0 + STEP * sent
                errors: list[BaseException] = []

                def reader(seed: int) -> None:
                    rng = random.Random(seed)
                    try:
                        with OpenMeter(server.address, timeout=300) as client:
                            for _ in range(args.queries // 8):
                                client.meters.query(
                                    "tokens",
                                    from_=T0,
                                    to=end.replace(minute=0, second=0, microsecond=0),
                                    subject=[f"customer-{rng.randrange(SUBJECTS)}"],
                                    window_size="HOUR",
                                )
                    except BaseException as exc:  # reported below
                        errors.append(exc)

                for round_ in range(3):
                    threads = [threading.Thread(target=reader, args=(round_ * 8 + i,)) for i in range(8)]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
                    if errors:
                        raise errors[0]
                    sample(f"{args.queries} queries (8 clients)", sent)
                    with om.events.stream(batch_size=1000, max_in_flight=8) as stream:
                        stream.send_many(events(sent, part))
                    sent += part
                    sample(f"{sent:,} events", sent)
        finally:
            server.stop()
    streamed = points[1:11]
    mixed = points[11:]
    payload = {
        "events": sent,
        "subjects": SUBJECTS,
        "meters_on_type": len(METERS),
        "stream_events_per_second": round(rate),
        "points": points,
        # Stream alone, from its second part to its last (the writer's cache fills during the first two).
        "rss_growth_stream_second_to_last_part_mb": round(streamed[-1]["rss_mb"] - streamed[1]["rss_mb"], 1),
        # Queries and stream in turn, from the end of the first round to the end of the last.
        "rss_growth_after_first_query_round_mb": round(mixed[-1]["rss_mb"] - mixed[1]["rss_mb"], 1),
        "bounds": {
            "writer_page_cache_mb": WRITER_CACHE_KIB // 1024,
            "reader_page_cache_mb_each": READER_CACHE_KIB // 1024,
            "known_subject_pairs": 200_000,
            "group_text_cache_entries": 100_000,
        },
        "notes": "one 2-core machine shared with other work; RSS/USS of the server process (psutil)",
    }
    path = write_result("memory", payload)
    print(f"server memory -> {path}")
    print(table([(p["after"], f"RSS {p['rss_mb']} MB  USS {p['uss_mb']} MB") for p in points]))


if __name__ == "__main__":
    main()
