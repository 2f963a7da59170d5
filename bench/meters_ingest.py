"""Stream ingest with meters on the event type, as shares of the raw SQLite insert rate of the same rows
measured in the same run (issue 12's workload).

Workload: 1,000 subjects; data {"tokens", "ms", "model" (4 values), "user"}; streamed in batches of 1,000
(8 in flight) to a fresh server and database per case. Cases:

- ``raw_sqlite``: the same rows ``executemany``-inserted into the events table with its unique key, one
  FULL-synchronous commit per 1,000, with the server's WAL and checkpoint settings (the storage's own
  speed, the denominator); ``raw_sqlite_live`` the same for the live rows (the live case's denominator);
  each measured before and after the streams, the higher counting;
- ``no_meter``: the type has no meter;
- ``three_meters``: SUM $.tokens, COUNT, MAX $.ms, each grouped by $.model; batches spanning an hour;
- ``three_meters_unique``: the same with UNIQUE_COUNT $.user instead of MAX;
- ``three_meters_live``: three meters, event times within the last minute (a production stream).

Also the server's CPU time per event (less sensitive than rates to other work on the machine) and its RSS
before and after each stream (it must stay flat)."""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import psutil
from common import Server, table, write_result

from meterd.client import OpenMeter
from meterd.server.store.sqlite.db import WAL_CHECKPOINT_BYTES, connect
from meterd.server.store.sqlite.migrations import migrate
from meterd.v1 import events_pb2

SUBJECTS = 1000
MODELS = ("gpt-4", "gpt-4o", "claude", "llama")
BATCH = 1000
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def meters(third: str) -> list[dict[str, object]]:
    group = {"model": "$.model"}
    out: list[dict[str, object]] = [
        {
            "slug": "tokens",
            "eventType": "request",
            "aggregation": "SUM",
            "valueProperty": "$.tokens",
            "groupBy": group,
        },
        {"slug": "requests", "eventType": "request", "aggregation": "COUNT", "groupBy": group},
    ]
    if third == "MAX":
        out.append(
            {
                "slug": "latency",
                "eventType": "request",
                "aggregation": "MAX",
                "valueProperty": "$.ms",
                "groupBy": group,
            }
        )
    else:
        out.append(
            {
                "slug": "users",
                "eventType": "request",
                "aggregation": "UNIQUE_COUNT",
                "valueProperty": "$.user",
                "groupBy": group,
            }
        )
    return out


def make_events(prefix: str, n: int, live: bool) -> list[events_pb2.Event]:
    """Batches of 1,000 spanning an hour of event time (3.6 s apart), or live: within the last minute."""
    rng = random.Random(n)
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        t = now - timedelta(seconds=rng.random() * 60) if live else T0 + timedelta(seconds=i * 3.6)
        e = events_pb2.Event(
            specversion="1.0",
            id=f"{prefix}-{i}",
            source="bench",
            type="request",
            subject=f"customer-{rng.randrange(SUBJECTS)}",
            data=json.dumps(
                {
                    "tokens": rng.randrange(1, 4000),
                    "ms": rng.randrange(1, 900),
                    "model": MODELS[rng.randrange(4)],
                    "user": f"u{rng.randrange(5000)}",
                }
            ),
        )
        e.time.FromDatetime(t)
        out.append(e)
    return out


def raw_rate(events: list[events_pb2.Event], db: Path, name: str, *, fresh: bool = True) -> float:
    """The storage's own speed for these rows: ``executemany`` into the events table (its unique key and
    indexes), batches of 1,000, one transaction each, with the server's settings (meterd's connection
    pragmas: WAL, synchronous=FULL; no automatic checkpoint, a passive one between transactions once the
    WAL passes the server's threshold, as the server's writer does). The bench process's own heap (every
    event of the run) is frozen out of the garbage collector's passes while it runs: the server does not
    hold it. ``fresh``: into a new database, removed afterwards (else into ``db`` as it is, left there)."""
    conn = connect(str(db))
    if fresh:
        migrate(conn)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute(f"PRAGMA journal_size_limit={WAL_CHECKPOINT_BYTES // 4}")
    ingested_us = int(time.time() * 1e6)
    rows = [
        (
            e.source,
            e.id,
            e.type,
            e.subject,
            e.time.seconds * 1_000_000 + e.time.nanos // 1000,
            ingested_us,
            e.specversion,
            None,
            None,
            e.data,
        )
        for e in events
    ]
    wal = f"{db}-wal"
    gc.collect()
    gc.freeze()
    try:
        cpu = time.process_time()
        start = time.perf_counter()
        for i in range(0, len(rows), BATCH):
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO events (source, id, type, subject, time_us, ingested_us, specversion, datacontenttype,"
                " dataschema, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, id) DO NOTHING",
                rows[i : i + BATCH],
            )
            conn.execute("COMMIT")
            if os.path.getsize(wal) > WAL_CHECKPOINT_BYTES:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        rate = len(rows) / (time.perf_counter() - start)
        cpu_us = (time.process_time() - cpu) / len(rows) * 1e6
    finally:
        gc.unfreeze()
    conn.close()
    if fresh:
        db.unlink()
        for suffix in ("-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    CPU_US[name] = min(CPU_US.get(name, cpu_us), cpu_us)
    return rate


CPU_US: dict[str, float] = {}  # CPU time per event: of this process for raw_sqlite, of the server otherwise


def stream_rate(
    db: Path, events: list[events_pb2.Event], specs: list[dict[str, object]], name: str
) -> tuple[float, dict[str, float]]:
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
            for i, part in enumerate(
                (events[BATCH:half], events[half:])
            ):  # RSS halfway too: flat or growing?
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
    return (len(events) - BATCH) / elapsed, {
        "before_mb": round(rss_before / 2**20, 1),
        "half_mb": round(rss_half / 2**20, 1),
        "after_mb": round(rss_after / 2**20, 1),
    }


def breakdown(db: Path, events: list[events_pb2.Event], specs: list[dict[str, object]]) -> dict[str, Any]:
    """The server's CPU time per event by part, from a stream of ``events`` to bench/profiled_server.py."""
    out = db.with_suffix(".profile.json")
    server = Server(
        db,
        command=[sys.executable, str(Path(__file__).resolve().parent / "profiled_server.py")],
        env={"METERD_PROFILE_OUT": str(out)},
    )
    try:
        with OpenMeter(server.address, timeout=300) as om:
            for spec in specs:
                om.meters.create(spec)
            with om.events.stream(batch_size=BATCH, max_in_flight=8) as stream:
                stream.send_many(events[:BATCH])
            started = Path(f"{out}.started")
            server.proc.send_signal(signal.SIGUSR2)
            _wait_for(started.exists)
            with om.events.stream(batch_size=BATCH, max_in_flight=8) as stream:
                for e in events[BATCH:]:
                    stream.send(e)
            server.proc.send_signal(signal.SIGUSR2)
            _wait_for(out.exists)
            measured = json.loads(out.read_text())
    finally:
        server.stop()
    n = len(events) - BATCH

    def us(s: float) -> float:
        return round(s / n * 1e6, 2)

    return {
        "threads": {
            k: us(v) for k, v in sorted(measured["threads"].items(), key=lambda kv: -kv[1]) if us(v) >= 0.05
        },
        "parts": {
            k: us(v) for k, v in sorted(measured["seconds"].items(), key=lambda kv: -kv[1]) if us(v) >= 0.05
        },
    }


def _wait_for(condition: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the profiled server did not answer")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300_000, help="events per case")
    parser.add_argument(
        "--breakdown",
        type=int,
        default=0,
        metavar="N",
        help="also stream N events per case to bench/profiled_server.py: CPU time per event by part",
    )
    args = parser.parse_args()
    n = args.events
    spanning = make_events("e", n, live=False)
    live = make_events("l", n, live=True)
    results: dict[str, float] = {}
    rss: dict[str, dict[str, float]] = {}
    # The ceiling of each row set (spanning an hour, live) is measured before and after the streams; the
    # higher of the two counts (a ceiling lowered by other work on the machine would inflate every share).
    raw: dict[str, list[float]] = {"raw_sqlite": [], "raw_sqlite_live": []}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        raw["raw_sqlite"].append(raw_rate(spanning, d / "raw.db", "raw_sqlite"))
        raw["raw_sqlite_live"].append(raw_rate(live, d / "raw.db", "raw_sqlite_live"))
        results["no_meter"], rss["no_meter"] = stream_rate(d / "none.db", spanning, [], "no_meter")
        results["three_meters"], rss["three_meters"] = stream_rate(
            d / "three.db", spanning, meters("MAX"), "three_meters"
        )
        results["three_meters_unique"], rss["three_meters_unique"] = stream_rate(
            d / "unique.db", spanning, meters("UNIQUE_COUNT"), "three_meters_unique"
        )
        results["three_meters_live"], rss["three_meters_live"] = stream_rate(
            d / "live.db", live, meters("MAX"), "three_meters_live"
        )
        raw["raw_sqlite"].append(raw_rate(spanning, d / "raw.db", "raw_sqlite"))
        raw["raw_sqlite_live"].append(raw_rate(live, d / "raw.db", "raw_sqlite_live"))
        parts: dict[str, Any] = {}
        if args.breakdown:
            m = min(args.breakdown, n)
            for name, case_events, specs in (
                ("no_meter", spanning, []),
                ("three_meters", spanning, meters("MAX")),
                ("three_meters_unique", spanning, meters("UNIQUE_COUNT")),
                ("three_meters_live", live, meters("MAX")),
            ):
                parts[name] = breakdown(d / f"profile-{name}.db", case_events[:m], specs)
    ceiling = {name: max(samples) for name, samples in raw.items()}
    of_case = {
        name: ceiling["raw_sqlite_live" if name == "three_meters_live" else "raw_sqlite"] for name in results
    }
    payload = {
        "events_per_case": n,
        "events_per_second": {
            **{k: round(v) for k, v in ceiling.items()},
            **{k: round(v) for k, v in results.items()},
        },
        "raw_sqlite_samples": {k: [round(v) for v in samples] for k, samples in raw.items()},
        "share_of_raw_sqlite": {k: round(v / of_case[k], 3) for k, v in results.items()},
        "targets": {
            "no_meter": 0.60,
            "three_meters": 0.30,
            "three_meters_unique": 0.20,
            "three_meters_live": 0.40,
        },
        "cpu_us_per_event": {k: round(v, 1) for k, v in CPU_US.items()},
        "server_rss": rss,
        **(
            {
                "cpu_breakdown_us_per_event": {
                    "how": f"{args.breakdown} events per case streamed to bench/profiled_server.py: CPU time of each server "
                    "thread, and of the ingest's parts (time.thread_time around them: waiting does not count; "
                    "'submit:' parts run on the gRPC worker threads, 'writer:' parts on the writer thread; a "
                    "part's time includes the parts called inside it)",
                    **parts,
                }
            }
            if parts
            else {}
        ),
        "load_average_1m": {"start": LOAD[0], "end": round(os.getloadavg()[0], 2)},
        "notes": "client and server in separate processes on one 2-core machine shared with other work; ratios "
        "are within one run; each case's ceiling is the raw insert of its own rows (three_meters_live: "
        "the live rows), the higher of a measure before and after the streams",
    }
    path = write_result("meters_ingest", payload)
    print(f"meters ingest ({n} events per case) -> {path}")
    rows = [
        (
            k,
            f"{round(v):,} events/s (samples {', '.join(f'{round(x):,}' for x in raw[k])})"
            f"  {CPU_US.get(k, 0):.1f} µs CPU/event",
        )
        for k, v in ceiling.items()
    ]
    rows += [
        (k, f"{round(v):,} events/s  {v / of_case[k]:.2f} of raw  {CPU_US.get(k, 0):.1f} µs CPU/event")
        for k, v in results.items()
    ]
    print(table(rows))
    print(f"load average (1 min): {LOAD[0]} at the start, {os.getloadavg()[0]:.2f} at the end")


LOAD = (round(os.getloadavg()[0], 2),)


if __name__ == "__main__":
    main()
