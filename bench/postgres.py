"""The PostgreSQL backend: stream ingest through 1 and 2 meterd replicas (3 meters on the event type) against
the raw ceiling (COPY of the same rows into the same partitioned table and dedupe key table, one commit per
1,000 rows), the same stream with no meter (what aggregation costs), where the CPU time goes (meterd
processes vs PostgreSQL's), and one-subject / all-subject query latency.

A throwaway cluster (tests/pgcluster.py: initdb in a temporary folder, fsync on, synchronous commits) is
started and removed by this script. Query data goes in through meterd's own ingest code in this process
(validation, dedupe, pre-aggregation; no gRPC hop) to keep the run short; every rate and query is measured
through real servers and clients in separate processes."""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import Server, load_in_process, table, write_result
from pgcluster import PgCluster
from query import METERS, event, query_suite

from meterd.client import OpenMeter
from meterd.server.store.postgres.db import Database
from meterd.server.store.postgres.events import PgEventStore
from meterd.server.store.postgres.meters import PgMeterStore
from meterd.v1 import events_pb2

SETTINGS = {"shared_buffers": "1GB", "max_wal_size": "8GB", "checkpoint_timeout": "30min",
            "synchronous_commit": "on", "fsync": "on"}
CONFIG = "meters:\n" + "".join(
    f"  - slug: {m['slug']}\n    eventType: {m['event_type']}\n    aggregation: {m['aggregation']}\n"
    + (f"    valueProperty: {m['value_property']}\n" if "value_property" in m else "")
    + "    groupBy: {method: $.method, path: $.path}\n"
    for m in METERS
)


def wire_events(prefix: str, n: int, event_type: str = "request") -> list[events_pb2.Event]:
    rng = random.Random(zlib.crc32(prefix.encode()))
    out = [event(prefix, i, n, rng) for i in range(n)]
    for e in out:
        e.type = event_type
    return out


class CpuMeter:
    """CPU seconds (user + system) used by meterd processes and by the PostgreSQL cluster between two points."""

    def __init__(self, cluster: PgCluster, servers: list[Server]) -> None:
        self._cluster = cluster
        self._servers = servers
        self._start = self._sample()

    def _pg_processes(self) -> list[psutil.Process]:
        pid = int((self._cluster.data / "postmaster.pid").read_text().split()[0])
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]

    def _sample(self) -> tuple[float, float]:
        def cpu(processes: list[psutil.Process]) -> float:
            total = 0.0
            for p in processes:
                try:
                    t = p.cpu_times()
                    total += t.user + t.system
                except psutil.Error:
                    pass
            return total

        return cpu([psutil.Process(s.proc.pid) for s in self._servers]), cpu(self._pg_processes())

    def used(self) -> dict[str, float]:
        meterd, pg = self._sample()
        return {"meterd_cpu_s": round(meterd - self._start[0], 1), "postgres_cpu_s": round(pg - self._start[1], 1)}


def stream(address: str, events: list[events_pb2.Event]) -> None:
    with OpenMeter(address, timeout=300) as om, om.events.stream(batch_size=1000, max_in_flight=8) as s:
        for e in events:
            s.send(e)
    assert s.tally.accepted == len(events), s.tally.accepted


def bench_streams(cluster: PgCluster, config: Path, replicas: int, n: int, event_type: str) -> dict[str, Any]:
    """n events split over ``replicas`` meterd processes, one client stream each, all at once."""
    url = cluster.create_database()
    servers = [Server(url, config) for _ in range(replicas)]  # type: ignore[arg-type]
    try:
        parts = [wire_events(f"r{replicas}{event_type}{k}-", n // replicas, event_type) for k in range(replicas)]
        cpu = CpuMeter(cluster, servers)
        threads = [threading.Thread(target=stream, args=(s.address, p)) for s, p in zip(servers, parts, strict=True)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        return {"events_per_second": round(n / elapsed), **cpu.used()}
    finally:
        for s in servers:
            s.stop()
        cluster.drop_database(url)


def bench_copy_ceiling(cluster: PgCluster, n: int, size: int = 1000, connections: int = 4) -> dict[str, Any]:
    """The same rows by COPY into event_keys and events (with their indexes), one commit per ``size`` rows,
    on ``connections`` connections at once (meterd's writers also commit concurrently)."""
    import psycopg

    url = cluster.create_database()
    Database(url, min_connections=1).close()  # schema and partitions
    events = wire_events("c-", n)
    rows = [(i + 1, e.source, e.id, e.type, e.subject, e.time.seconds * 1_000_000 + e.time.nanos // 1000, 0,
             e.specversion, None, None, e.data) for i, e in enumerate(events)]
    chunks = [rows[i:i + size] for i in range(0, len(rows), size)]

    def worker(mine: list[list[tuple[Any, ...]]]) -> None:
        with psycopg.connect(url) as conn:
            for chunk in mine:
                with conn.cursor() as cur:
                    with cur.copy("COPY event_keys (source, id) FROM STDIN") as copy:
                        for r in chunk:
                            copy.write_row((r[1], r[2]))
                    with cur.copy("COPY events (seq, source, id, type, subject, time_us, ingested_us, specversion,"
                                  " datacontenttype, dataschema, data) FROM STDIN") as copy:
                        for r in chunk:
                            copy.write_row(r)
                conn.commit()

    try:
        threads = [threading.Thread(target=worker, args=(chunks[k::connections],)) for k in range(connections)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    finally:
        cluster.drop_database(url)
    return {"events_per_second": round(n / elapsed), "connections": connections, "rows_per_commit": size}


def load(url: str, n: int) -> float:
    """Ingests n events through meterd's store-side ingest path (in this process); returns events/s."""
    return load_in_process(Database(url), PgEventStore, PgMeterStore, METERS, event, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000, help="events per ingest measurement")
    parser.add_argument("--query-events", type=int, default=1_000_000, help="events loaded for the queries")
    parser.add_argument("--runs", type=int, default=30, help="runs per query for percentiles")
    args = parser.parse_args()
    cluster = PgCluster(SETTINGS)
    results: dict[str, Any] = {"events": args.events, "meters_on_type": len(METERS), "settings": SETTINGS}
    try:
        cluster.migrate_template()
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "meterd.yaml"
            config.write_text(CONFIG)
            print("COPY ceiling ...", flush=True)
            results["copy_ceiling"] = bench_copy_ceiling(cluster, args.events)
            print("1 replica, no meter on the type ...", flush=True)
            results["stream_1_replica_no_meters"] = bench_streams(cluster, config, 1, args.events, "unmetered")
            print("1 replica, 3 meters ...", flush=True)
            results["stream_1_replica_3_meters"] = bench_streams(cluster, config, 1, args.events, "request")
            print("2 replicas, 3 meters ...", flush=True)
            results["stream_2_replicas_3_meters"] = bench_streams(cluster, config, 2, args.events, "request")
            ceiling = results["copy_ceiling"]["events_per_second"]
            results["ratios_to_copy_ceiling"] = {
                k: round(results[k]["events_per_second"] / ceiling, 3)
                for k in ("stream_1_replica_no_meters", "stream_1_replica_3_meters", "stream_2_replicas_3_meters")
            }
            url = cluster.create_database()
            print(f"loading {args.query_events:,} events for queries ...", flush=True)
            load_rate = load(url, args.query_events)
            server = Server(url)  # type: ignore[arg-type]
            try:
                queries = query_suite(server.address, args.runs)
            finally:
                server.stop()
            results[f"queries_{args.query_events}_events"] = {"load_events_per_second": round(load_rate),
                                                              "queries": queries}
    finally:
        cluster.stop()
    results["notes"] = ("one 2-core machine shared by client, meterd replicas and PostgreSQL; events spread over "
                        "1,000 subjects and 30 days; cpu_s: CPU seconds used during the measurement")
    path = write_result("postgres", results)
    print(f"-> {path}")
    lines = [("COPY ceiling (4 connections, 1,000 rows/commit)", f"{ceiling:,} events/s")]
    for k in ("stream_1_replica_no_meters", "stream_1_replica_3_meters", "stream_2_replicas_3_meters"):
        r = results[k]
        lines.append((k.replace("_", " "), f"{r['events_per_second']:,} events/s "
                      f"({results['ratios_to_copy_ceiling'][k]:.0%} of COPY; meterd {r['meterd_cpu_s']} s CPU, "
                      f"postgres {r['postgres_cpu_s']} s CPU)"))
    for name, q in queries.items():
        lines.append((f"{args.query_events:,} events {name}", f"p50 {q['p50_ms']} ms  p99 {q['p99_ms']} ms  "
                      f"rows {q['rows']}"))
    print(table(lines))


if __name__ == "__main__":
    main()
