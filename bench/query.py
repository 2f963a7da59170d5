"""Meter queries at scale: 30 days of events for 1,000 subjects with 2 group keys, at two sizes (1M and
10M by default) to show that query time follows the rows returned, not the events stored. Also the
stream ingest rate with 3 meters on the event type against the rate with none, in the same run.

The bulk data goes in through meterd's own ingest code in this process (validation, dedupe, the meters'
pre-aggregation, group commit) without the gRPC hop, to keep the run short; the ingest rates and every
query are measured through the real server and client in separate processes."""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import psutil
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
    {
        "slug": "requests",
        "event_type": "request",
        "aggregation": "COUNT",
        "group_by": {"method": "$.method", "path": "$.path"},
    },
    {
        "slug": "tokens",
        "event_type": "request",
        "aggregation": "SUM",
        "value_property": "$.tokens",
        "group_by": {"method": "$.method", "path": "$.path"},
    },
    {
        "slug": "latency_max",
        "event_type": "request",
        "aggregation": "MAX",
        "value_property": "$.ms",
        "group_by": {"method": "$.method", "path": "$.path"},
    },
]


def event(prefix: str, i: int, n: int, rng: random.Random) -> events_pb2.Event:
    t = START + timedelta(microseconds=int(i * DAYS * 86_400_000_000 / n))
    e = events_pb2.Event(
        specversion="1.0",
        id=f"{prefix}{i}",
        source="bench",
        type="request",
        subject=f"customer-{rng.randrange(SUBJECTS)}",
        data=json.dumps(
            {
                "tokens": rng.randrange(1, 2000),
                "ms": rng.randrange(1, 500),
                "method": rng.choice(METHODS),
                "path": rng.choice(PATHS),
            }
        ),
    )
    e.time.FromDatetime(t)
    return e


def load(db_path: Path, n: int) -> float:
    """Ingests n events through the store-side ingest path; returns events/s."""
    return load_in_process(Database(db_path), SqliteEventStore, SqliteMeterStore, METERS, event, n)


def timed(fn, runs: int, process: psutil.Process | None = None) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """p50/p99 wall time of ``fn`` (which returns the rows it got), and the CPU time ``process`` (the server)
    spent per call: less sensitive than wall time to other work on a shared machine."""
    samples = []
    rows = 0
    cpu = process.cpu_times() if process else None
    for _ in range(runs):
        t = time.perf_counter()
        rows = fn()
        samples.append((time.perf_counter() - t) * 1000)
    out: dict[str, float] = {
        "p50_ms": round(percentile(samples, 50), 2),
        "p99_ms": round(percentile(samples, 99), 2),
        "rows": rows,
    }
    if process and cpu:
        used = process.cpu_times()
        out["server_cpu_ms"] = round((used.user + used.system - cpu.user - cpu.system) / runs * 1000, 2)
    return out


def query_suite(address: str, runs: int, pid: int | None = None) -> dict[str, dict[str, float]]:
    end = START + timedelta(days=DAYS)
    rng = random.Random(7)
    process = psutil.Process(pid) if pid else None
    with OpenMeter(address, timeout=300) as om:
        om.meters.query("tokens", from_=START, to=end, subject=["customer-1"], window_size="HOUR")  # warm up
        return {
            "one_subject_30d_hourly": timed(
                lambda: len(
                    om.meters.query(
                        "tokens",
                        from_=START,
                        to=end,
                        subject=[f"customer-{rng.randrange(SUBJECTS)}"],
                        window_size="HOUR",
                    ).rows
                ),
                runs,
                process,
            ),
            "all_subjects_30d_hourly_by_method": timed(
                lambda: len(
                    om.meters.query(
                        "tokens", from_=START, to=end, group_by=["method"], window_size="HOUR"
                    ).rows
                ),
                max(3, runs // 5),
                process,
            ),
            "all_subjects_30d_total": timed(
                lambda: len(om.meters.query("tokens", from_=START, to=end).rows), runs, process
            ),
            "one_subject_30d_daily_budapest": timed(
                lambda: len(
                    om.meters.query(
                        "tokens",
                        from_=START,
                        to=end,
                        subject=[f"customer-{rng.randrange(SUBJECTS)}"],
                        window_size="DAY",
                        window_time_zone="Europe/Budapest",
                    ).rows
                ),
                runs,
                process,
            ),
        }


def raw_suite(db_path: Path, runs: int) -> dict[str, dict[str, float]]:
    """The physical ceiling: the least SQL that gives the same answers (the same rows, sums as integers),
    run with Python's sqlite3 on the same database in this process, with no server, windows or wire: the
    meter's slot of its row set (one subject: its hour totals; all subjects: the hour and day rows)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    rowset, slot = conn.execute(
        "SELECT s.rowset, s.slot FROM meter_slots s JOIN meters m ON m.num = s.meter_num"
        " WHERE m.slug = 'tokens'"
    ).fetchone()
    n, units, nanos = (f"{c}{int(slot)}" for c in "nab")
    start = int(START.timestamp()) * 1_000_000
    day, hour = 86_400_000_000, 3_600_000_000
    end = start + DAYS * day
    days = list(range(start, end, day))
    marks = ",".join("?" * len(days))
    rng = random.Random(7)
    one = (
        f"SELECT (time_us - {start}) / {{unit}} AS w, SUM({n}), SUM({units}), SUM({nanos}) FROM agg_sub_h"
        f" WHERE rowset = ? AND day_us IN ({marks}) AND subject = ? AND time_us >= ? AND time_us < ?"
        " GROUP BY w ORDER BY w"
    )
    # Budapest is UTC+1 all January: its days start at 23:00 UTC.
    budapest = one.replace(f"(time_us - {start})", f"(time_us - {start - hour})").format(unit=day)

    def subject() -> list[object]:
        return [rowset, *days, f"customer-{rng.randrange(SUBJECTS)}", start, end]

    try:
        return {
            "one_subject_30d_hourly": timed(
                lambda: len(conn.execute(one.format(unit=hour), subject()).fetchall()), runs
            ),
            "all_subjects_30d_hourly_by_method": timed(
                lambda: len(
                    conn.execute(
                        f"SELECT time_us, json_extract(groups, '$[0]') AS g, SUM({n}), SUM({units}), SUM({nanos})"
                        " FROM agg_all_h WHERE rowset = ? AND time_us >= ? AND time_us < ? GROUP BY time_us, g"
                        " ORDER BY time_us, g",
                        (rowset, start, end),
                    ).fetchall()
                ),
                max(3, runs // 5),
            ),
            "all_subjects_30d_total": timed(
                lambda: len(
                    conn.execute(
                        f"SELECT SUM({n}), SUM({units}), SUM({nanos}) FROM agg_all_d WHERE rowset = ?"
                        " AND time_us >= ? AND time_us < ?",
                        (rowset, start, end),
                    ).fetchall()
                ),
                runs,
            ),
            "one_subject_30d_daily_budapest": timed(
                lambda: len(conn.execute(budapest, subject()).fetchall()), runs
            ),
        }
    finally:
        conn.close()


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
    parser.add_argument(
        "--stream-events", type=int, default=200_000, help="events for the stream rate comparison"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="keep the loaded databases in this folder and reuse those already there (loading 10M"
        " events takes about 20 minutes)",
    )
    args = parser.parse_args()
    results: dict[str, object] = {
        "subjects": SUBJECTS,
        "days": DAYS,
        "group_keys": 2,
        "meters_on_type": len(METERS),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for n in (int(s) for s in args.sizes.split(",")):
            db = folder / f"q{n}.db"
            marker = folder / f"q{n}.loaded.json"
            if args.keep and marker.exists() and db.exists():
                load_rate = json.loads(marker.read_text())["load_events_per_second"]
                print(f"reusing {db} ({n:,} events)", flush=True)
            else:
                db.unlink(missing_ok=True)
                print(f"loading {n:,} events ...", flush=True)
                load_rate = load(db, n)
                marker.write_text(json.dumps({"load_events_per_second": load_rate}))
            server = Server(db)
            try:
                queries = query_suite(server.address, args.runs, server.proc.pid)
                if n == max(int(s) for s in args.sizes.split(",")) and args.stream_events:
                    run = f"{time.time_ns()}-"  # new ids when a kept database is reused
                    results["stream_ingest_events_per_second"] = {
                        "no_meters": round(
                            stream_rate(server.address, args.stream_events, f"s0-{run}", "unmetered")
                        ),
                        "three_meters": round(
                            stream_rate(server.address, args.stream_events, f"s3-{run}", "request")
                        ),
                    }
            finally:
                server.stop()
            raw = raw_suite(db, args.runs)
            results[f"events_{n}"] = {
                "load_events_per_second": round(load_rate),
                "db_mb": round(db.stat().st_size / 2**20),
                "queries": queries,
                "raw_sqlite": raw,
                "share_of_raw_sqlite_p50": {
                    k: round(raw[k]["p50_ms"] / q["p50_ms"], 2) for k, q in queries.items()
                },
            }
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    path = write_result("query", results)
    print(f"-> {path}")
    lines = []
    for key, value in results.items():
        if key.startswith("events_"):
            for name, q in value["queries"].items():  # type: ignore[index]
                raw = value["raw_sqlite"][name]  # type: ignore[index]
                lines.append(
                    (
                        f"{key} {name}",
                        f"p50 {q['p50_ms']} ms  p99 {q['p99_ms']} ms  server CPU"
                        f" {q.get('server_cpu_ms')} ms  rows {q['rows']}  (raw SQLite p50"
                        f" {raw['p50_ms']} ms)",
                    )
                )
    if "stream_ingest_events_per_second" in results:
        rates = results["stream_ingest_events_per_second"]
        lines.append(
            (
                "stream ingest, no meters / 3 meters",
                f"{rates['no_meters']:,} / {rates['three_meters']:,} events/s",
            )
        )  # type: ignore[index]
    print(table(lines))


if __name__ == "__main__":
    main()
