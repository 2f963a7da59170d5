"""Watching entitlement values at scale: 10,000 metered entitlements (one per subject) watched by one
WatchEntitlementValues stream, under a sustained stream ingest, against a server in its own process.

Measures:
- ack-to-message delay: events are streamed (StreamEvents) at a fixed rate, each batch to random subjects;
  for every event, the time from its batch's acknowledgement (read by the ingesting client) to the first
  watch message whose usage includes it (read by the watcher, in another process; both on CLOCK_MONOTONIC);
- what watching costs ingest: the same events streamed as fast as possible, with and without the watcher;
- ``cache.has_access``: a cache over the same 10,000 entitlements, answered from memory (in this process);
- the same on PostgreSQL with two replicas (a throwaway cluster, as the tests make one): ingest on A, the
  watcher on B (every change crosses replicas by NOTIFY/LISTEN), and A's ingest rate with and without it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import psutil
from common import Server, percentile, table, write_result

from meterd.client import OpenMeter
from meterd.v1 import events_pb2, events_pb2_grpc

FEATURE = "ai_tokens"


def subjects_of(n: int) -> list[str]:
    return [f"w-{i}" for i in range(n)]


def setup(address: str, n: int) -> float:
    started = time.perf_counter()
    with OpenMeter(address, timeout=120) as om:
        om.meters.create(
            {"slug": "tokens_total", "eventType": "tokens", "aggregation": "SUM", "valueProperty": "$.tokens"}
        )
        om.features.create({"key": FEATURE, "name": "AI tokens", "meterSlug": "tokens_total"})

        def create(subject: str) -> None:
            om.subjects.create_entitlement(
                subject,
                {
                    "type": "metered",
                    "featureKey": FEATURE,
                    "usagePeriod": {"interval": "MONTH"},
                    "issueAfterReset": 1_000_000_000,
                },
            )

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, subjects_of(n)))
    return time.perf_counter() - started


def watcher(address: str, n: int, ready: Any, stop: Any, out: Any) -> None:
    """Child process: watches every subject, records (subject, usage, monotonic receive time)."""
    records: list[tuple[str, float, float]] = []
    initial: dict[str, float] = {}
    snapshot_s = 0.0
    with OpenMeter(address) as om:
        started = time.perf_counter()
        watch = om.entitlements.watch(subject=subjects_of(n), reconnect=False)

        def closer() -> None:
            stop.wait()
            watch.close()

        threading.Thread(target=closer, daemon=True).start()
        for message in watch:
            now = time.monotonic()
            if message.snapshot:
                for u in message.updates:
                    initial[u.subject_key] = u.value.usage
                if message.snapshot_complete:
                    snapshot_s = time.perf_counter() - started
                    ready.set()
                continue
            for u in message.updates:
                records.append((u.subject_key, u.value.usage, now))
    out.send((snapshot_s, initial, records))


def _event(i: int, subject: str, now: datetime) -> events_pb2.Event:
    e = events_pb2.Event(
        specversion="1.0", id=f"e-{i}", source="bench", type="tokens", subject=subject, data='{"tokens":1}'
    )
    e.time.FromDatetime(now)
    return e


def stream_ingest(
    address: str, batches: list[list[events_pb2.Event]], rate_batches_per_s: float | None
) -> tuple[float, dict[int, float]]:
    """Streams the batches (at a fixed rate, or as fast as possible with 8 in flight); returns the elapsed
    seconds and each batch's acknowledgement time (monotonic)."""
    import grpc

    acks: dict[int, float] = {}
    in_flight = threading.Semaphore(8)
    with grpc.insecure_channel(address, options=[("grpc.max_send_message_length", 64 << 20)]) as channel:
        stub = events_pb2_grpc.EventServiceStub(channel)

        def requests() -> Iterator[events_pb2.StreamEventsRequest]:
            start = time.monotonic()
            for i, batch in enumerate(batches):
                if rate_batches_per_s:
                    delay = start + i / rate_batches_per_s - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                else:
                    in_flight.acquire()
                yield events_pb2.StreamEventsRequest(sequence=i, events=batch)

        started = time.perf_counter()
        for ack in stub.StreamEvents(requests()):
            acks[ack.sequence] = time.monotonic()
            if not rate_batches_per_s:
                in_flight.release()
        return time.perf_counter() - started, acks


def make_batches(
    prefix: int, subjects: list[str], events: int, batch: int, rng: random.Random
) -> list[list[events_pb2.Event]]:
    now = datetime.now(UTC)
    out = []
    for b in range(0, events, batch):
        out.append([_event(prefix + b + j, rng.choice(subjects), now) for j in range(min(batch, events - b))])
    return out


def delays(
    batches: list[list[events_pb2.Event]],
    acks: dict[int, float],
    initial: dict[str, float],
    records: list[tuple[str, float, float]],
) -> tuple[list[float], int]:
    """Per event: first message with usage >= the subject's usage after its batch, minus the batch's ack."""
    seen: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for subject, usage, t in records:
        seen[subject].append((usage, t))
    usage: dict[str, float] = defaultdict(float, initial)
    out: list[float] = []
    missing = 0
    for i, batch in enumerate(batches):
        for e in batch:
            usage[e.subject] += 1
        for subject in {e.subject for e in batch}:
            target = usage[subject]
            first = next((t for u, t in seen[subject] if u >= target), None)
            if first is None:
                missing += 1
                continue
            out.append(max(0.0, first - acks[i]) * 1000)  # a message may beat the ack to its reader
    return out, missing


def measure(
    ingest: Server,
    watched: Server,
    args: argparse.Namespace,
    subjects: list[str],
    rng: random.Random,
    base: int,
) -> dict[str, Any]:
    """Full-speed ingest into ``ingest`` without a watcher, then a watcher on ``watched`` (the same server, or
    another replica): ack-to-message delay at a fixed rate, full-speed ingest with it, and without it again."""
    proc = psutil.Process(ingest.proc.pid)
    cpu_us: dict[str, list[float]] = {"without": [], "with": []}

    def full_speed(k: int, side: str) -> float:
        bs = make_batches(base + 10_000_000 * (k + 1), subjects, args.max_events, 1000, rng)
        before = proc.cpu_times()
        elapsed, _ = stream_ingest(ingest.address, bs, None)
        after = proc.cpu_times()
        used = (after.user - before.user) + (after.system - before.system)
        cpu_us[side].append(used / args.max_events * 1e6)
        return args.max_events / elapsed

    # Without any watcher (the baseline): once before the watcher, once after it ended, so that drift in the
    # machine's load affects both sides alike.
    base_rates = [full_speed(0, "without")]
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=watcher, args=(watched.address, len(subjects), ready, stop, send))
    child.start()
    if not ready.wait(600):
        raise RuntimeError("the watcher's snapshot did not arrive")
    n = int(args.rate * args.seconds)
    latency_batches = make_batches(base + 50_000_000, subjects, n, 50, rng)
    _, acks = stream_ingest(ingest.address, latency_batches, args.rate / 50)
    time.sleep(1.0)  # the last messages (coalescing interval 0.1 s)
    watched_rates = [full_speed(1, "with"), full_speed(2, "with")]
    stop.set()
    snapshot_s, initial, records = receive.recv()
    child.join(60)
    base_rates.append(full_speed(3, "without"))
    lat, missing = delays(latency_batches, acks, initial, records)
    without, with_ = sum(base_rates) / 2, sum(watched_rates) / 2
    return {
        "initial_snapshot_seconds": round(snapshot_s, 2),
        "ack_to_message_ms": {
            "p50": round(percentile(lat, 50), 1),
            "p99": round(percentile(lat, 99), 1),
            "max": round(max(lat), 1) if lat else None,
            "samples": len(lat),
            "never_seen": missing,
        },
        "ingest_events_per_s": {
            "without_watchers": round(without),
            "with_watcher": round(with_),
            "cost_percent": round((1 - with_ / without) * 100, 1),
            "runs": {"without": [round(r) for r in base_rates], "with": [round(r) for r in watched_rates]},
        },
        "ingest_server_cpu_us_per_event": {side: round(sum(v) / len(v), 1) for side, v in cpu_us.items()},
    }


def postgres_replicas(
    args: argparse.Namespace, subjects: list[str], rng: random.Random
) -> dict[str, Any] | None:
    """Two replicas on one PostgreSQL (a throwaway cluster, as the tests make): ingest on A, the watcher on B,
    so every change reaches the watcher through A's NOTIFY and B's LISTEN."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from pgcluster import PgCluster, find_bindir

    if find_bindir() is None:
        return None
    cluster = PgCluster({"shared_buffers": "512MB", "max_wal_size": "4GB", "synchronous_commit": "on"})
    try:
        cluster.migrate_template()
        url = cluster.create_database()
        a, b = Server(url), Server(url)  # type: ignore[arg-type]
        try:
            started = time.perf_counter()
            setup(a.address, len(subjects))
            setup_s = time.perf_counter() - started
            out = measure(a, b, args, subjects, rng, 500_000_000)
            out["setup_seconds"] = round(setup_s, 1)
            return out
        finally:
            a.stop()
            b.stop()
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entitlements", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=500, help="events per second in the latency run")
    parser.add_argument("--seconds", type=float, default=20, help="length of the latency run")
    parser.add_argument("--max-events", type=int, default=200_000, help="events of each full-speed run")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-postgres", action="store_true", help="skip the two-replica PostgreSQL run")
    args = parser.parse_args()
    if args.quick:
        args.entitlements, args.rate, args.seconds, args.max_events = 500, 500, 3, 20_000
    rng = random.Random(16)
    subjects = subjects_of(args.entitlements)
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "m.db")
        try:
            setup_s = setup(server.address, args.entitlements)
            sqlite = measure(server, server, args, subjects, rng, 0)
            # The cache: has_access from memory.
            with OpenMeter(server.address) as om:
                cache = om.entitlements.cache(subject=subjects, wait=600)
                probe = [rng.choice(subjects) for _ in range(1000)]
                calls = 200_000
                started = time.perf_counter()
                for i in range(calls):
                    cache.has_access(probe[i % 1000], FEATURE)
                has_access_us = (time.perf_counter() - started) / calls * 1e6
                d: dict[str, bool] = {(s, FEATURE): True for s in subjects}  # type: ignore[misc]
                started = time.perf_counter()
                for i in range(calls):
                    d.get((probe[i % 1000], FEATURE))  # type: ignore[call-overload]
                dict_us = (time.perf_counter() - started) / calls * 1e6
                cache.close()
            peak_rss = server.peak_rss
        finally:
            server.stop()
    pg = None if args.no_postgres else postgres_replicas(args, subjects, rng)
    result = {
        "workload": {
            "entitlements": args.entitlements,
            "watchers": 1,
            "coalesce_interval_s": 0.1,
            "latency_run": {
                "events_per_s": args.rate,
                "seconds": args.seconds,
                "batch": 50,
                "subjects": "uniformly random among the watched",
            },
            "full_speed_runs": {
                "events": args.max_events,
                "batch": 1000,
                "in_flight": 8,
                "order": "without, with, with, without (means of each side)",
            },
        },
        "setup_seconds": round(setup_s, 1),
        **sqlite,
        "cache_has_access_us": round(has_access_us, 3),
        "plain_dict_lookup_us": round(dict_us, 3),
        "server_peak_rss_mb": round(peak_rss / 1e6),
        "postgres_two_replicas": pg
        if pg is not None
        else "skipped (PostgreSQL not installed, or --no-postgres)",
        "targets": {"ack_to_message_p99_ms": 250, "ingest_cost_percent": 10, "cache_has_access_us": 5},
    }
    result["load_average_1m_at_end"] = round(os.getloadavg()[0], 1)  # other work on the machine
    write_result("watch", result)
    rows = [
        ("entitlements watched", f"{args.entitlements:,} (1 stream)"),
        ("initial snapshot", f"{sqlite['initial_snapshot_seconds']:.2f} s"),
        (
            "ack -> message p50 / p99",
            f"{sqlite['ack_to_message_ms']['p50']} / {sqlite['ack_to_message_ms']['p99']} ms"
            f" at {args.rate:,} events/s (target p99 < 250 ms)",
        ),
        (
            "ingest without / with watcher",
            f"{sqlite['ingest_events_per_s']['without_watchers']:,} / "
            f"{sqlite['ingest_events_per_s']['with_watcher']:,} events/s "
            f"({sqlite['ingest_events_per_s']['cost_percent']}% slower; target < 10%)",
        ),
        (
            "server CPU per event without / with",
            f"{sqlite['ingest_server_cpu_us_per_event']['without']} / "
            f"{sqlite['ingest_server_cpu_us_per_event']['with']} us",
        ),
        (
            "cache.has_access",
            f"{has_access_us:.3f} us (a plain dict lookup: {dict_us:.3f} us; target < 5 us)",
        ),
    ]
    if pg is not None:
        rows += [
            (
                "PostgreSQL, ingest on A, watch on B",
                f"ack -> message p50 / p99 {pg['ack_to_message_ms']['p50']} / "
                f"{pg['ack_to_message_ms']['p99']} ms",
            ),
            (
                "  A's ingest without / with watcher on B",
                f"{pg['ingest_events_per_s']['without_watchers']:,} / "
                f"{pg['ingest_events_per_s']['with_watcher']:,} events/s "
                f"({pg['ingest_events_per_s']['cost_percent']}% slower)",
            ),
        ]
    print(table(rows))


if __name__ == "__main__":
    main()
