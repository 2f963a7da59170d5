"""The PostgreSQL backend: stream ingest through 1 and 2 meterd replicas (3 meters on the event type) against
the raw ceiling (COPY of the same rows into the same partitioned table and dedupe key table, one commit per
1,000 rows), the same stream with no meter (what aggregation costs), where the CPU time goes (meterd
processes vs PostgreSQL's, the fold's share of meterd's), and one-subject / all-subject query latency at
2M events (by default; 10M and 50M: bench/scale.py, `make bench-scale`).

A throwaway cluster (tests/pgcluster.py: initdb in a temporary folder, fsync on, synchronous commits) is
started and removed by this script. The query data goes in by a bulk load (``load_bulk``: COPY of the
events, their keys and the aggregate rows the store's own fold makes of them), checked in the same run to
store the same aggregates as meterd's ingest on a sample; every rate and query is measured through real
servers and clients in separate processes. The load average is recorded: the machine may be shared."""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import Server, load_in_process, table, write_result
from pgcluster import PgCluster
from query import DAYS, METERS, METHODS, PATHS, START, SUBJECTS, event, query_suite

from meterd.client import OpenMeter
from meterd.server.meters.fold import Folder, compile_meter
from meterd.server.meters.model import definition_from_fields
from meterd.server.meters.service import MeterService
from meterd.server.store import rowsets
from meterd.server.store.postgres.db import Database
from meterd.server.store.postgres.events import PgEventStore
from meterd.server.store.postgres.meters import PgMeterStore, target_table
from meterd.server.timeutil import to_us, utcnow
from meterd.v1 import events_pb2

SETTINGS = {
    "shared_buffers": "1GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "synchronous_commit": "on",
    "fsync": "on",
}
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
        return {
            "meterd_cpu_s": round(meterd - self._start[0], 1),
            "postgres_cpu_s": round(pg - self._start[1], 1),
        }


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
        parts = [
            wire_events(f"r{replicas}{event_type}{k}-", n // replicas, event_type) for k in range(replicas)
        ]
        cpu = CpuMeter(cluster, servers)
        threads = [
            threading.Thread(target=stream, args=(s.address, p)) for s, p in zip(servers, parts, strict=True)
        ]
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
    url = cluster.create_database()
    Database(url, min_connections=1).close()  # schema and partitions
    try:
        rate = copy_rate(url, wire_events("c-", n), 1, size, connections)
    finally:
        cluster.drop_database(url)
    return {"events_per_second": round(rate), "connections": connections, "rows_per_commit": size}


def copy_rate(
    url: str, events: list[events_pb2.Event], first_seq: int, size: int = 1000, connections: int = 4
) -> float:
    """Events/s of COPY into event_keys and events of ``url`` (sequence numbers from ``first_seq``), one
    commit per ``size`` rows, on ``connections`` connections at once: the ceiling of PostgreSQL ingest."""
    import psycopg

    rows = [
        (
            first_seq + i,
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
        for i, e in enumerate(events)
    ]
    chunks = [rows[i : i + size] for i in range(0, len(rows), size)]

    def worker(mine: list[list[tuple[Any, ...]]]) -> None:
        with psycopg.connect(url) as conn:
            for chunk in mine:
                with conn.cursor() as cur:
                    with cur.copy("COPY event_keys (source, id) FROM STDIN") as copy:
                        for r in chunk:
                            copy.write_row((r[1], r[2]))
                    with cur.copy(
                        "COPY events (seq, source, id, type, subject, time_us, ingested_us, specversion,"
                        " datacontenttype, dataschema, data) FROM STDIN"
                    ) as copy:
                        for r in chunk:
                            copy.write_row(r)
                conn.commit()

    threads = [threading.Thread(target=worker, args=(chunks[k::connections],)) for k in range(connections)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(rows) / (time.perf_counter() - start)


def load_ingest(url: str, n: int) -> float:
    """Ingests n events through meterd's store-side ingest path (in this process); returns events/s."""
    return load_in_process(Database(url), PgEventStore, PgMeterStore, METERS, event, n)


def event_rows(n: int) -> Iterator[tuple[int, str, str, int, str]]:
    """(seq, id, subject, time_us, data) of the events ``query.event("e", i, n, rng)`` makes, without protobuf:
    the same random draws in the same order."""
    rng = random.Random(n)
    start_us = int(START.timestamp()) * 1_000_000
    for i in range(n):
        t = start_us + int(i * DAYS * 86_400_000_000 / n)
        subject = f"customer-{rng.randrange(SUBJECTS)}"
        data = json.dumps(
            {
                "tokens": rng.randrange(1, 2000),
                "ms": rng.randrange(1, 500),
                "method": rng.choice(METHODS),
                "path": rng.choice(PATHS),
            }
        )
        yield i + 1, f"e{i}", subject, t, data


# Indexes dropped during a bulk load and built again from their definitions at its end (a sorted build is far
# cheaper than as many insertions); the schema afterwards is the same.
_BULK_INDEXED = ("event_keys", "events", "agg_sub_m", "agg_sub_h", "agg_all_m")


def load_bulk(url: str, n: int, workers: int = 2) -> float:
    """Loads n events with what ingest would store, fast: the meters are created through the store, then day by
    day the events and their dedupe keys go in by COPY, and the store's own fold (meters.fold, as ingest runs
    it) turns them into aggregate rows, which go in by COPY too (each day's rows are complete: every key holds
    its day, hour or minute). Sequence numbers are 1..n in event order, as one ingesting client gets. The big
    tables' indexes are built after the rows are in. Returns events/s."""
    import psycopg

    db = Database(url)
    store = PgMeterStore(db, PgEventStore(db))
    meters = MeterService(store, utcnow)
    for spec in METERS:
        meters.create(
            definition_from_fields(
                spec["slug"],
                spec["event_type"],
                spec["aggregation"],
                spec.get("value_property"),
                spec["group_by"],
            )
        )
    with psycopg.connect(url) as conn:
        slots = {
            num: (rowset, slot)
            for num, rowset, slot in conn.execute(
                "SELECT meter_num, rowset, slot FROM meter_slots"
            ).fetchall()
        }
    by_type = {"request": [compile_meter(m.num, m.definition, *slots[m.num]) for m in store.list(100, None)]}
    db.close()
    ingested_us = to_us(utcnow())
    start = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        constraints = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'p' AND conrelid::regclass::text = ANY(%s)",
            (list(_BULK_INDEXED),),
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events' AND schemaname = 'public'"
        ).fetchall()
        for table, name, _ in constraints:
            conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")  # type: ignore[arg-type]
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")  # type: ignore[arg-type]

    # Days are made in order here and loaded by the workers as they come (a bounded queue: 50M events are not
    # held in memory at once).
    days: queue.Queue[list[tuple[int, str, str, int, str]] | None] = queue.Queue(maxsize=workers)
    subjects: set[tuple[int, str]] = set()
    lock = threading.Lock()
    done = [0]

    failed: list[BaseException] = []

    def worker() -> None:
        try:
            load_days()
        except BaseException as exc:  # keep taking days, so the producer never waits on a full queue
            failed.append(exc)
            while days.get() is not None:
                pass

    def load_days() -> None:
        folder = Folder()
        with psycopg.connect(url) as conn:
            while (day := days.get()) is not None:
                with conn.cursor() as cur:
                    with cur.copy("COPY event_keys (source, id) FROM STDIN") as copy:
                        for r in day:
                            copy.write_row(("bench", r[1]))
                    with cur.copy(
                        "COPY events (seq, source, id, type, subject, time_us, ingested_us, specversion,"
                        " data) FROM STDIN"
                    ) as copy:
                        for seq, i, subject, t, data in day:
                            copy.write_row((seq, "bench", i, "request", subject, t, ingested_us, "1.0", data))
                    folded = folder.fold(
                        ((seq, "request", subject, t, data) for seq, _, subject, t, data in day), by_type, 0
                    )
                    assert not folded.errors, folded.errors[:3]
                    for target, rows in folded.rows.items():
                        table, columns = target_table(target)
                        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
                conn.commit()
                with lock:
                    subjects.update(folded.subjects)
                    done[0] += len(day)
                    print(
                        f"  loaded {done[0]:,} events ({done[0] / (time.perf_counter() - start):,.0f}/s)",
                        flush=True,
                    )

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    day: list[tuple[int, str, str, int, str]] = []
    for row in event_rows(n):
        if day and row[3] // 86_400_000_000 != day[-1][3] // 86_400_000_000:
            days.put(day)
            day = []
        day.append(row)
    days.put(day)
    for _ in threads:
        days.put(None)
    for t in threads:
        t.join()
    if failed:
        raise failed[0]
    assert done[0] == n, (done[0], n)
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.cursor() as cur, cur.copy("COPY meter_subjects (meter_num, subject) FROM STDIN") as copy:
            for pair in sorted(subjects):
                copy.write_row(pair)
        conn.execute("SELECT setval('events_seq', %s)", (n,))
        print("  building indexes ...", flush=True)
        conn.execute("SET maintenance_work_mem = '512MB'")
        for table, name, definition in constraints:
            conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")  # type: ignore[arg-type]
        for _, definition in indexes:
            conn.execute(definition.replace(" ON ONLY ", " ON "))  # type: ignore[arg-type]
        conn.execute("VACUUM ANALYZE")  # what autovacuum does after a load
    return n / (time.perf_counter() - start)


def same_aggregates(cluster: PgCluster, n: int) -> bool:
    """Whether the bulk load stores the same aggregates as ingest, on n events (a check the bench runs first)."""
    import psycopg

    urls = [cluster.create_database(), cluster.create_database()]
    try:
        load_ingest(urls[0], n)
        load_bulk(urls[1], n)
        tables = sorted(
            {*rowsets.TABLES, "meter_subjects", "meter_sub_distinct_m", "meter_slots", "meter_rowsets"}
        )
        dumps = []
        for url in urls:
            with psycopg.connect(url) as conn:
                dump = {
                    t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr)  # type: ignore[arg-type]
                    for t in tables
                }
                dump["events"] = conn.execute(
                    "SELECT count(*), sum(seq), count(DISTINCT subject) FROM events"
                ).fetchall()
                dumps.append(dump)
        return dumps[0] == dumps[1]
    finally:
        for url in urls:
            cluster.drop_database(url)


def fold_cost(n: int) -> dict[str, float]:
    """The store's fold alone, in this process, on n events of the stream workload in batches of 1,000: CPU
    per event and the pre-aggregate rows each event becomes (what PostgreSQL then upserts)."""
    by_type = {
        "request": [
            compile_meter(
                k + 1,
                definition_from_fields(
                    spec["slug"],
                    spec["event_type"],
                    spec["aggregation"],
                    spec.get("value_property"),
                    spec["group_by"],
                ),
                1,
                k,
            )
            for k, spec in enumerate(METERS)
        ]
    }  # one row set, as the store gives them (same type and group paths)
    rows = [
        (i % 1000, "request", subject, t, data) for i, (_, _, subject, t, data) in enumerate(event_rows(n))
    ]
    folder = Folder()
    upserts = 0
    start = time.process_time()
    for base in range(0, n, 1000):
        folded = folder.fold(rows[base : base + 1000], by_type, 0, by_index=True)
        upserts += sum(len(r) for r in folded.rows.values())
    return {
        "fold_cpu_us_per_event": round((time.process_time() - start) * 1e6 / n, 1),
        "aggregate_rows_per_event": round(upserts / n, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000, help="events per ingest measurement")
    parser.add_argument("--query-events", type=int, default=2_000_000, help="events loaded for the queries")
    parser.add_argument("--runs", type=int, default=30, help="runs per query for percentiles")
    args = parser.parse_args()
    cluster = PgCluster(SETTINGS)
    results: dict[str, Any] = {
        "events": args.events,
        "meters_on_type": len(METERS),
        "settings": SETTINGS,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        cluster.migrate_template()
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "meterd.yaml"
            config.write_text(CONFIG)
            print("COPY ceiling ...", flush=True)
            results["copy_ceiling"] = bench_copy_ceiling(cluster, args.events)
            print("1 replica, no meter on the type ...", flush=True)
            results["stream_1_replica_no_meters"] = bench_streams(
                cluster, config, 1, args.events, "unmetered"
            )
            print("1 replica, 3 meters ...", flush=True)
            results["stream_1_replica_3_meters"] = bench_streams(cluster, config, 1, args.events, "request")
            print("2 replicas, 3 meters ...", flush=True)
            results["stream_2_replicas_3_meters"] = bench_streams(cluster, config, 2, args.events, "request")
            ceiling = results["copy_ceiling"]["events_per_second"]
            results["ratios_to_copy_ceiling"] = {
                k: round(results[k]["events_per_second"] / ceiling, 3)
                for k in (
                    "stream_1_replica_no_meters",
                    "stream_1_replica_3_meters",
                    "stream_2_replicas_3_meters",
                )
            }
            where: dict[str, Any] = {}
            for k in (
                "stream_1_replica_no_meters",
                "stream_1_replica_3_meters",
                "stream_2_replicas_3_meters",
            ):
                r = results[k]
                where[k] = {
                    "meterd_cpu_us_per_event": round(r["meterd_cpu_s"] * 1e6 / args.events, 1),
                    "postgres_cpu_us_per_event": round(r["postgres_cpu_s"] * 1e6 / args.events, 1),
                }
            where["fold"] = fold_cost(min(args.events, 100_000))
            where["how"] = (
                "CPU of the meterd processes and of PostgreSQL's during each measurement, per event; "
                "fold: the store's fold alone in the bench process on the same workload (part of "
                "meterd's CPU); aggregate_rows_per_event: the rows PostgreSQL upserts per event"
            )
            results["where_the_time_goes"] = where
            print("checking that the bulk load stores what ingest does ...", flush=True)
            results["bulk_load_matches_ingest"] = same_aggregates(cluster, 20_000)
            assert results["bulk_load_matches_ingest"], "the bulk load differs from ingest"
            url = cluster.create_database()
            print(f"loading {args.query_events:,} events for queries ...", flush=True)
            load_rate = load_bulk(url, args.query_events)
            server = Server(url)  # type: ignore[arg-type]
            try:
                queries = query_suite(server.address, args.runs)
            finally:
                server.stop()
            results[f"queries_{args.query_events}_events"] = {
                "loaded_by": "COPY of the events and keys, and of the aggregate rows the store's own fold makes of "
                "them, day by day (checked equal to ingest's on 20,000 events: bulk_load_matches_ingest)"
                "; then VACUUM ANALYZE",
                "bulk_load_events_per_second": round(load_rate),
                "queries": queries,
            }
    finally:
        cluster.stop()
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["notes"] = (
        "one 2-core machine shared by client, meterd replicas and PostgreSQL; events spread over "
        "1,000 subjects and 30 days; cpu_s: CPU seconds used during the measurement"
    )
    path = write_result("postgres", results)
    print(f"-> {path}")
    lines = [("COPY ceiling (4 connections, 1,000 rows/commit)", f"{ceiling:,} events/s")]
    for k in ("stream_1_replica_no_meters", "stream_1_replica_3_meters", "stream_2_replicas_3_meters"):
        r = results[k]
        lines.append(
            (
                k.replace("_", " "),
                f"{r['events_per_second']:,} events/s "
                f"({results['ratios_to_copy_ceiling'][k]:.0%} of COPY; meterd {r['meterd_cpu_s']} s CPU, "
                f"postgres {r['postgres_cpu_s']} s CPU)",
            )
        )
    fold = results["where_the_time_goes"]["fold"]
    lines.append(
        (
            "fold (in the replica)",
            f"{fold['fold_cpu_us_per_event']} µs CPU/event; "
            f"{fold['aggregate_rows_per_event']} aggregate rows/event",
        )
    )
    for name, q in queries.items():
        lines.append(
            (
                f"{args.query_events:,} events {name}",
                f"p50 {q['p50_ms']} ms  p99 {q['p99_ms']} ms  rows {q['rows']}",
            )
        )
    print(table(lines))


if __name__ == "__main__":
    main()
