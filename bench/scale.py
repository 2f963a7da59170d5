"""Costs as data grows (issue 23), on both backends: for each size N (1M, 10M and 50M events by default; `make
bench-scale`, run once: hours), a database holding N events of query.py's workload (30 days, 1,000 subjects,
three meters SUM/COUNT/MAX on the type, grouped by two keys) is bulk-loaded, then measured:

- bytes on disk per event: the raw events (rows, dedupe keys, indexes) and the pre-aggregates, as loaded;
  and the growth of the database while the server ingests the hour-spread stream below (as ingest writes
  pages, not as a sorted load packs them);
- the one-subject 30-day hourly query through the real server and client (p50, p99, server CPU), the other
  queries of query.py, and the plan of the one-subject query: SQLite's ``EXPLAIN QUERY PLAN`` and the pages
  it reads from a cold connection (read system calls, /proc/self/io), PostgreSQL's
  ``EXPLAIN (ANALYZE, BUFFERS)``;
- ingest into that database through the real server and client, in batches of 1,000 (8 in flight), of new
  events: ``hour_spread`` (each batch an hour of event time, after the loaded month) and ``live`` (event
  times in the last minute), each as a share of the ceiling on the same rows into the same database: the
  raw insert (SQLite: ``executemany`` into the events table with its keys and indexes, WAL, synchronous=FULL,
  one transaction per 1,000 rows; PostgreSQL: COPY into event_keys and events, 4 connections, one commit per
  1,000 rows), measured before and after the server's streams, the higher counting.

The bulk loads put the events in by the thousand (SQLite) or COPY (PostgreSQL) and the aggregate rows that
the store's own fold (meters.fold, as ingest runs it) makes of each day's events; each load is first checked,
on 20,000 events, to store exactly what ingest stores. The load average is recorded at each step: the
machine (2 cores) is shared, so rates are noisy; the ratios are within one run."""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import RESULTS, Server, table, write_result
from meters_ingest import raw_rate
from query import DAYS, METERS, START, SUBJECTS, event, query_suite

from meterd.client import OpenMeter
from meterd.server.meters.fold import Folder, compile_meter
from meterd.server.meters.model import definition_from_fields
from meterd.server.meters.service import MeterQuery, MeterService
from meterd.server.meters.windows import WindowSize
from meterd.server.store import rowsets
from meterd.server.timeutil import to_us, utcnow
from meterd.v1 import events_pb2

DAY_US = 86_400_000_000
BATCH = 1000
QUERY_SUBJECT = "customer-7"


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def event_rows(n: int) -> Iterator[tuple[int, str, str, int, str]]:
    """(seq, id, subject, time_us, data) of query.py's events (``query.event("e", i, n, rng)``), without
    protobuf: the same random draws in the same order."""
    from postgres import event_rows as rows

    return rows(n)


# -- SQLite ------------------------------------------------------------------------------------------------


def sqlite_meters(path: Path) -> dict[str, list[Any]]:
    """Creates the workload's meters through the store (their slots given as the server gives them); returns
    them compiled for the fold."""
    from meterd.server.store.sqlite.db import Database
    from meterd.server.store.sqlite.events import SqliteEventStore
    from meterd.server.store.sqlite.meters import SqliteMeterStore

    db = Database(path)
    try:
        store = SqliteMeterStore(db, SqliteEventStore(db))
        service = MeterService(store, utcnow)
        for spec in METERS:
            service.create(
                definition_from_fields(
                    spec["slug"],
                    spec["event_type"],
                    spec["aggregation"],
                    spec.get("value_property"),
                    spec["group_by"],
                )
            )
        slots = {
            num: (rowset, slot)
            for num, rowset, slot in db.reader().execute("SELECT meter_num, rowset, slot FROM meter_slots")
        }
        return {"request": [compile_meter(m.num, m.definition, *slots[m.num]) for m in store.list(100, None)]}
    finally:
        db.close()


def sqlite_bulk(path: Path, n: int) -> float:
    """Loads n events and what ingest would store for them into a new database; returns events/s. Day by day:
    the events in transactions of their own (their indexes dropped, built again at the end: a sorted build is
    far cheaper than as many insertions), the store's fold of the day, its rows in key order (every key of a
    day's rows is of that day: plain inserts). Sequence numbers are 1..n in event order."""
    by_type = sqlite_meters(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1048576")
    conn.execute("PRAGMA temp_store=FILE")
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    ingested_us = to_us(utcnow())
    folder = Folder()
    subjects: set[tuple[int, str]] = set()
    start = time.perf_counter()
    done = 0

    def flush(day_rows: list[tuple[int, str, str, int, str]]) -> None:
        nonlocal done
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO events (seq, source, id, type, subject, time_us, ingested_us, specversion, data)"
            " VALUES (?, 'bench', ?, 'request', ?, ?, ?, '1.0', ?)",
            [(seq, i, s, t, ingested_us, d) for seq, i, s, t, d in day_rows],
        )
        folded = folder.fold(((seq, "request", s, t, d) for seq, _, s, t, d in day_rows), by_type, 0)
        assert not folded.errors, folded.errors[:3]
        for target, rows in folded.rows.items():
            conn.executemany(plain_insert(target), sorted(rows))
        conn.execute("COMMIT")
        subjects.update(folded.subjects)
        done += len(day_rows)
        print(f"  loaded {done:,} events ({done / (time.perf_counter() - start):,.0f}/s)", flush=True)

    for day_rows in event_days(n):
        flush(day_rows)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT OR IGNORE INTO meter_subjects (meter_num, subject) VALUES (?, ?)", sorted(subjects)
    )
    conn.execute("COMMIT")
    print("  building indexes ...", flush=True)
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return n / (time.perf_counter() - start)


def event_days(n: int) -> Iterator[list[tuple[int, str, str, int, str]]]:
    """``event_rows(n)`` day by day, made in a child process (their random draws and JSON are about 40% of a
    load's time in one process; two days are made ahead at most)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    days: Any = context.Queue(maxsize=2)
    child = context.Process(target=_make_days, args=(n, days), daemon=True)
    child.start()
    try:
        while (day := days.get()) is not None:
            yield day
    finally:
        child.kill()
        child.join()


def _make_days(n: int, days: Any) -> None:
    day_rows: list[tuple[int, str, str, int, str]] = []
    current_day = None
    for row in event_rows(n):
        day = row[3] // DAY_US
        if day != current_day and day_rows:
            days.put(day_rows)
            day_rows = []
        current_day = day
        day_rows.append(row)
    if day_rows:
        days.put(day_rows)
    days.put(None)


def plain_insert(target: tuple[Any, ...]) -> str:
    """The insert of a fold target's rows into tables that hold none of their keys yet."""
    from meterd.server.store.sqlite.meters import upsert_sql

    if target[0] not in ("sub", "sub_h", "all"):
        return upsert_sql(target)  # distinct values: INSERT OR IGNORE
    table, key = rowsets.table_of(target)
    columns = [*key, *rowsets.value_columns(target[-1])]
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def sqlite_ingested(path: Path, n: int) -> None:
    """n events through meterd's own ingest code in this process (the reference for the bulk load)."""
    from common import load_in_process

    from meterd.server.store.sqlite.db import Database
    from meterd.server.store.sqlite.events import SqliteEventStore
    from meterd.server.store.sqlite.meters import SqliteMeterStore

    load_in_process(Database(path), SqliteEventStore, SqliteMeterStore, METERS, event, n)


def sqlite_dump(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND"
                " (name LIKE 'agg_%' OR name LIKE 'meter_%')"
            )
        ]
        dump: dict[str, Any] = {
            t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in names
        }
        dump["events"] = conn.execute(
            "SELECT count(*), sum(seq), count(DISTINCT subject) FROM events"
        ).fetchall()
        for volatile in ("meters",):  # ids and creation times differ
            dump.pop(volatile, None)
        return dump
    finally:
        conn.close()


def sqlite_bytes(path: Path, n: int) -> dict[str, Any]:
    """Bytes on disk per event by part (dbstat: every b-tree's pages)."""
    conn = sqlite3.connect(path)
    try:
        owner = dict(
            conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")
        )
        sizes: dict[str, int] = {}
        for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            table_name = owner.get(name, name)
            sizes[table_name] = sizes.get(table_name, 0) + size
        file_bytes = (
            conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
        )
    finally:
        conn.close()
    return _bytes(sizes, n, file_bytes)


def _bytes(sizes: dict[str, int], n: int, total: int) -> dict[str, Any]:
    raw = sum(
        v
        for k, v in sizes.items()
        if k in ("events", "event_keys", "event_errors") or k.startswith("events_")
    )
    aggregates = sum(
        v for k, v in sizes.items() if k.startswith(("agg_", "meter_sub", "meter_all", "meter_subjects"))
    )
    return {
        "raw_events_bytes_per_event": round(raw / n, 1),
        "aggregates_bytes_per_event": round(aggregates / n, 1),
        "total_bytes_per_event": round(total / n, 1),
        "total_mb": round(total / 2**20),
        "by_table_mb": {
            k: round(v / 2**20, 1) for k, v in sorted(sizes.items(), key=lambda kv: -kv[1]) if v >= 2**20
        },
    }


class _Recorder:
    """A connection that records the statements run through it."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.calls: list[tuple[str, Any]] = []

    def execute(self, sql: str, params: Any = ()) -> Any:
        self.calls.append((sql, params))
        return self.conn.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def _query() -> MeterQuery:
    return MeterQuery(
        "tokens", START, START + timedelta(days=DAYS), WindowSize.HOUR, subjects=(QUERY_SUBJECT,)
    )


def sqlite_plan(path: Path) -> dict[str, Any]:
    """The one-subject query's statement as the store runs it, its plan, and the pages it reads on a cold
    reader connection (read system calls; the operating system's cache may hold the file)."""
    from meterd.server.store.sqlite.db import Database, connect
    from meterd.server.store.sqlite.events import SqliteEventStore
    from meterd.server.store.sqlite.meters import SqliteMeterStore

    db = Database(path)
    try:
        store = SqliteMeterStore(db, SqliteEventStore(db))
        recorder = _Recorder(db.reader())
        db.reader = lambda: recorder  # type: ignore[method-assign]
        # As the server runs it: the store groups rows into the query's windows (windowed_sql).
        rows = MeterService(store, utcnow, store).query(_query()).rows
    finally:
        db.close()
    sql, params = max(recorder.calls, key=lambda c: len(c[0]))
    conn = connect(str(path), readonly=True)
    try:
        plan = [r[-1] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
        conn.execute("SELECT count(*) FROM meters").fetchone()  # the schema, read once per connection
        reads = []
        times = []
        for _ in range(3):
            fresh = connect(str(path), readonly=True)
            fresh.execute("SELECT count(*) FROM meters").fetchone()
            before = _read_calls()
            t = time.perf_counter()
            fresh.execute(sql, params).fetchall()
            times.append((time.perf_counter() - t) * 1000)
            reads.append(_read_calls() - before)
            fresh.close()
    finally:
        conn.close()
    return {
        "sql": sql,
        "plan": plan,
        "rows": len(rows),
        "pages_read_cold_connection": min(reads),
        "sql_ms_cold_connection": round(min(times), 2),
    }


def _read_calls() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("syscr:"):
            return int(line.split()[1])
    return 0


# -- PostgreSQL --------------------------------------------------------------------------------------------


def pg_bytes(url: str, n: int) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url) as conn:
        sizes = dict(
            conn.execute(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace s"
                " ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND c.relkind IN ('r', 'p')"
            ).fetchall()
        )
        # Partitions of events count as events.
        parts = {r[0] for r in conn.execute("SELECT relid::regclass::text FROM pg_partition_tree('events')")}
        sizes = {("events" if k in parts else k): v for k, v in sizes.items() if k not in parts} | {
            "events": sum(v for k, v in sizes.items() if k in parts)
        }
        total = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return _bytes(sizes, n, total)


def pg_plan(url: str) -> dict[str, Any]:
    """The one-subject query's statement as the store runs it, and EXPLAIN (ANALYZE, BUFFERS) of it (run twice:
    the second is reported, with the buffers the first left)."""
    import contextlib

    import psycopg

    from meterd.server.store.postgres.db import Database
    from meterd.server.store.postgres.events import PgEventStore
    from meterd.server.store.postgres.meters import PgMeterStore

    db = Database(url, min_connections=1)
    recorders: list[_Recorder] = []
    real = db.connection

    @contextlib.contextmanager
    def recording() -> Iterator[Any]:
        with real() as raw:
            recorder = _Recorder(raw)
            recorders.append(recorder)
            yield recorder

    try:
        store = PgMeterStore(db, PgEventStore(db))
        db.connection = recording  # type: ignore[method-assign]
        rows = MeterService(store, utcnow, store).query(_query()).rows  # as the server runs it
    finally:
        db.close()
    sql, params = max((c for r in recorders for c in r.calls), key=lambda c: len(c[0]))
    with psycopg.connect(url) as conn:
        conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params).fetchall()  # type: ignore[arg-type]
        plan = [r[0] for r in conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)]  # type: ignore[arg-type]
    return {"sql": sql, "rows": len(rows), "explain_analyze_buffers": plan}


def pg_bulk(url: str, n: int) -> float:
    from postgres import load_bulk

    return load_bulk(url, n)


def pg_same_as_ingest(cluster: Any) -> bool:
    from postgres import same_aggregates

    return same_aggregates(cluster, 20_000)


# -- shared ------------------------------------------------------------------------------------------------


def new_events(prefix: str, n: int, live: bool) -> list[events_pb2.Event]:
    """Events of the workload after the loaded month (each batch of 1,000 an hour of event time), or live
    (event times within the last minute)."""
    rng = random.Random(prefix)
    now = datetime.now(UTC)
    after = START + timedelta(days=DAYS + 1)
    out = []
    for i in range(n):
        e = event(prefix, i, n, rng)
        t = now - timedelta(seconds=rng.random() * 60) if live else after + timedelta(seconds=i * 3.6)
        e.time.FromDatetime(t)
        out.append(e)
    return out


def stream_case(address: str, pid: int, events: list[events_pb2.Event]) -> dict[str, Any]:
    with OpenMeter(address, timeout=600) as om:
        with om.events.stream(batch_size=BATCH, max_in_flight=8) as s:
            s.send_many(events[:BATCH])  # warm: the meters loaded, the connections open
        process = psutil.Process(pid)
        cpu = process.cpu_times()
        load = load_average()
        start = time.perf_counter()
        with om.events.stream(batch_size=BATCH, max_in_flight=8) as s:
            for e in events[BATCH:]:
                s.send(e)
        elapsed = time.perf_counter() - start
        used = process.cpu_times()
        assert s.tally.accepted == len(events) - BATCH, s.tally.accepted
    n = len(events) - BATCH
    return {
        "events_per_second": round(n / elapsed),
        "server_cpu_us_per_event": round((used.user + used.system - cpu.user - cpu.system) / n * 1e6, 1),
        "load_average_at_start": load,
    }


def measure(
    backend: str,
    db: Any,
    n: int,
    ingest_events: int,
    runs: int,
    *,
    config: Path | None = None,
    raw: Callable[[list[events_pb2.Event], str], float],
    size_of: Callable[[], int],
) -> dict[str, Any]:
    """Queries, then the ingest cases with their ceilings, on a loaded database."""
    out: dict[str, Any] = {"load_average_at_start": load_average()}
    server = Server(db, config)
    try:
        out["queries"] = query_suite(server.address, runs, server.proc.pid)
    finally:
        server.stop()
    out["load_average_after_queries"] = load_average()
    cases = {
        "hour_spread": new_events(f"h{n}-", ingest_events, live=False),
        "live": new_events(f"l{n}-", ingest_events, live=True),
    }
    ceilings: dict[str, list[float]] = {name: [] for name in cases}
    for name, events in cases.items():
        ceilings[name].append(raw(events[: ingest_events // 2], f"r1{name}{n}-"))
    ingest: dict[str, Any] = {}
    for name, events in cases.items():
        before = size_of()
        server = Server(db, config)
        try:
            ingest[name] = stream_case(server.address, server.proc.pid, events)
        finally:
            server.stop()
        ingest[name]["database_growth_bytes_per_event"] = round((size_of() - before) / len(events), 1)
    for name, events in cases.items():
        ceilings[name].append(raw(events[: ingest_events // 2], f"r2{name}{n}-"))
    for name in cases:
        ceiling = max(ceilings[name])
        ingest[name]["ceiling_events_per_second"] = round(ceiling)
        ingest[name]["ceiling_samples"] = [round(c) for c in ceilings[name]]
        ingest[name]["share_of_ceiling"] = round(ingest[name]["events_per_second"] / ceiling, 3)
    out["ingest"] = ingest
    out["load_average_at_end"] = load_average()
    return out


def renamed(events: list[events_pb2.Event], prefix: str) -> list[events_pb2.Event]:
    """The same rows under new ids (a ceiling measured twice stores them twice)."""
    out = []
    for i, e in enumerate(events):
        copy = events_pb2.Event()
        copy.CopyFrom(e)
        copy.id = f"{prefix}{i}"
        out.append(copy)
    return out


def run_sqlite(
    sizes: list[int], ingest_events: int, runs: int, folder: Path, done: Callable[[dict[str, Any]], Any]
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    check = folder / "check"
    check.mkdir(exist_ok=True)
    sqlite_ingested(check / "ingest.db", 20_000)
    sqlite_bulk(check / "bulk.db", 20_000)
    results["bulk_load_matches_ingest"] = sqlite_dump(check / "ingest.db") == sqlite_dump(check / "bulk.db")
    shutil.rmtree(check)
    assert results["bulk_load_matches_ingest"], "the SQLite bulk load differs from ingest"
    for n in sizes:
        path = folder / f"scale{n}.db"
        print(f"SQLite: loading {n:,} events ...", flush=True)
        entry: dict[str, Any] = {"load_average_before_load": load_average()}
        entry["bulk_load_events_per_second"] = round(sqlite_bulk(path, n))
        entry["bytes_as_loaded"] = sqlite_bytes(path, n)
        entry["one_subject_plan"] = sqlite_plan(path)

        def raw(events: list[events_pb2.Event], prefix: str, path: Path = path) -> float:
            gc.collect()
            return raw_rate(renamed(events, prefix), path, "raw", fresh=False)

        def size_of(path: Path = path) -> int:
            wal = Path(f"{path}-wal")
            return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

        entry.update(measure("sqlite", path, n, ingest_events, runs, raw=raw, size_of=size_of))
        results[f"events_{n}"] = entry
        done(results)  # saved size by size
        print(json.dumps(entry["ingest"]), flush=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return results


def run_postgres(
    sizes: list[int], ingest_events: int, runs: int, done: Callable[[dict[str, Any]], Any]
) -> dict[str, Any]:
    import psycopg
    from pgcluster import PgCluster
    from postgres import SETTINGS, copy_rate

    results: dict[str, Any] = {"settings": SETTINGS}
    cluster = PgCluster(SETTINGS)
    try:
        cluster.migrate_template()
        results["bulk_load_matches_ingest"] = pg_same_as_ingest(cluster)
        assert results["bulk_load_matches_ingest"], "the PostgreSQL bulk load differs from ingest"
        for n in sizes:
            url = cluster.create_database()
            print(f"PostgreSQL: loading {n:,} events ...", flush=True)
            entry: dict[str, Any] = {"load_average_before_load": load_average()}
            entry["bulk_load_events_per_second"] = round(pg_bulk(url, n))
            entry["bytes_as_loaded"] = pg_bytes(url, n)
            entry["one_subject_plan"] = pg_plan(url)
            seqs = iter(range(n + 10_000_000, 2**62, 10_000_000))

            def raw(
                events: list[events_pb2.Event], prefix: str, url: str = url, seqs: Iterator[int] = seqs
            ) -> float:
                return copy_rate(url, renamed(events, prefix), next(seqs))

            def size_of(url: str = url) -> int:
                with psycopg.connect(url) as conn:
                    return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])

            entry.update(measure("postgres", url, n, ingest_events, runs, raw=raw, size_of=size_of))
            results[f"events_{n}"] = entry
            done(results)  # saved size by size
            print(json.dumps(entry["ingest"]), flush=True)
            cluster.drop_database(url)
    finally:
        cluster.stop()
    return results


def flatness(backend: dict[str, Any]) -> dict[str, Any] | None:
    """The largest size's figures against the smallest's: ingest rate and share of the ceiling (target:
    within 20%), one-subject query p50 (target: within 2x). None below two sizes."""
    sizes = sorted(int(k.removeprefix("events_")) for k in backend if k.startswith("events_"))
    if len(sizes) < 2:
        return None
    first, last = backend[f"events_{sizes[0]}"], backend[f"events_{sizes[-1]}"]
    out: dict[str, Any] = {"of": [sizes[-1], sizes[0]]}
    for case in ("hour_spread", "live"):
        a, b = first["ingest"][case], last["ingest"][case]
        out[f"{case}_rate_ratio"] = round(b["events_per_second"] / a["events_per_second"], 2)
        out[f"{case}_share_of_ceiling_ratio"] = round(b["share_of_ceiling"] / a["share_of_ceiling"], 2)
        out[f"{case}_server_cpu_ratio"] = round(
            b["server_cpu_us_per_event"] / a["server_cpu_us_per_event"], 2
        )
    q = "one_subject_30d_hourly"
    out["one_subject_hourly_p50_ratio"] = round(
        last["queries"][q]["p50_ms"] / first["queries"][q]["p50_ms"], 2
    )
    out["one_subject_hourly_server_cpu_ratio"] = round(
        last["queries"][q]["server_cpu_ms"] / max(first["queries"][q]["server_cpu_ms"], 0.01), 2
    )
    return out


def save(results: dict[str, Any], backend: str, figures: dict[str, Any]) -> Path:
    """Adds one backend's sizes to bench/results/scale.json, keeping the entries of sizes and backends this run
    did not measure (the large points load for hours: each is run once, maybe on its own)."""
    path = RESULTS / "scale.json"
    kept: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    for name in ("sqlite", "postgresql"):
        if name in kept and name not in results:
            results[name] = kept[name]
    entries = {k: v for k, v in results.get(backend, {}).items() if k.startswith("events_")}
    entries.update(figures)
    results[backend] = entries
    results[backend]["flatness"] = flatness(entries)
    results["sizes"] = sorted(
        {
            int(k.removeprefix("events_"))
            for b in ("sqlite", "postgresql")
            for k in results.get(b, {})
            if k.startswith("events_")
        }
    )
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return write_result("scale", results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000000,10000000,50000000", help="comma-separated event counts")
    parser.add_argument("--ingest-events", type=int, default=200_000, help="events per ingest case")
    parser.add_argument("--runs", type=int, default=30, help="runs per query for percentiles")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--folder", type=Path, default=None, help="where the SQLite databases go (a temporary folder)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[str, Any] = {
        "sizes": sizes,
        "subjects": SUBJECTS,
        "days": DAYS,
        "meters_on_type": len(METERS),
        "ingest_events_per_case": args.ingest_events,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    results["notes"] = (
        "one 2-core machine shared with other work; client, server (and PostgreSQL) on it; each "
        "share_of_ceiling divides by the ceiling of the same rows into the same database in the "
        "same run; rates across sizes are also taken at different times: see each step's load "
        "average"
    )
    backends = args.backends.split(",")
    path = RESULTS / "scale.json"
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory(dir=args.folder) as tmp:
            figures = run_sqlite(
                sizes, args.ingest_events, args.runs, Path(tmp), lambda f: save(results, "sqlite", f)
            )
            path = save(results, "sqlite", figures)
    if "postgresql" in backends:
        figures = run_postgres(sizes, args.ingest_events, args.runs, lambda f: save(results, "postgresql", f))
        path = save(results, "postgresql", figures)
    print(f"-> {path}")
    lines = []
    for backend in ("sqlite", "postgresql"):
        for n in sizes:
            entry = results.get(backend, {}).get(f"events_{n}")
            if not entry:
                continue
            q = entry["queries"]["one_subject_30d_hourly"]
            b = entry["bytes_as_loaded"]
            lines.append(
                (
                    f"{backend} {n:,}: one subject 30d hourly",
                    f"p50 {q['p50_ms']} ms  p99 {q['p99_ms']} ms  server CPU {q.get('server_cpu_ms')} ms",
                )
            )
            for case, c in entry["ingest"].items():
                lines.append(
                    (
                        f"{backend} {n:,}: ingest {case}",
                        f"{c['events_per_second']:,}/s = {c['share_of_ceiling']:.2f} of the ceiling "
                        f"({c['ceiling_events_per_second']:,}/s); {c['server_cpu_us_per_event']} µs CPU/event",
                    )
                )
            lines.append(
                (
                    f"{backend} {n:,}: bytes per event",
                    f"raw {b['raw_events_bytes_per_event']}, aggregates "
                    f"{b['aggregates_bytes_per_event']}, total {b['total_bytes_per_event']}",
                )
            )
    print(table(lines))


if __name__ == "__main__":
    main()
