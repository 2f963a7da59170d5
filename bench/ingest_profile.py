"""Where a metered event's ingest time goes, by sampling: py-spy on the server process while a stream of
bench/meters_ingest.py's hour-spread workload (three meters, SUM/COUNT/MAX grouped by $.model) goes to a
real server on SQLite, and bench/postgres.py's workload (three meters, 30 days) to a real server on
PostgreSQL with pg_stat_statements on (execution time per statement inside PostgreSQL).

py-spy is not a project dependency: install it into the venv by hand (``.venv/bin/python -m pip install
py-spy``). Output: bench/results/ingest_profile_samples.json (samples per part, converted to µs of
thread time per event: ``samples / rate / events``, wall time of the server's threads: running, or
runnable and waiting for a core or the GIL; threads parked in a wait are counted apart, under "waiting").
Ratios to the ceilings are measured by bench/meters_ingest.py and bench/postgres.py; the notes that read
these figures are in bench/results/ingest_profile.json."""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import psutil
from common import Server, write_result

from meterd.client import OpenMeter

RATE = 250  # samples per second per thread
BATCH = 1000

# A sample's part: the first rule (in this order) whose pattern is in a frame of its stack, looked at from
# the leaf up; the rules name the code by function and file (stacks carry ``function (path:line)``).
RULES: list[tuple[str, str]] = [
    ("commit", r"^(commit|_commit) |COMMIT"),
    ("fold", r"\((.*/)?meters/fold\.py"),
    ("sql: meter rows (row sets, hour totals, all-subject)", r"\((.*/)?store/(sqlite|postgres)/meters\.py"),
    ("sql: raw event rows", r"\((.*/)?store/(sqlite|postgres)/events\.py"),
    ("writer: transaction and queue", r"\((.*/)?store/(sqlite|postgres)/db\.py"),
    ("validation", r"\((.*/)?events/(service|validate|model)\.py"),
    ("wire to events (protobuf fields)", r"\((.*/)?events/servicer\.py"),
    ("grpc (receive, parse, send, ack)", r"grpc"),
]


# Leaf frames of a thread that waits (py-spy's idle detection does not see these as idle in this container):
# wall time, not work.
IDLE = re.compile(
    r"^(Condition\.wait|EpollSelector\.select|_worker \(concurrent/futures/thread\.py:81\)|Thread\.run "
    r"|LocalChangeSource\._run|BaseSelectorEventLoop\._write_to_self|BaseSelectorEventLoop\._read_from_self)"
)


def classify(stack: list[str]) -> str:
    if stack and IDLE.match(stack[-1]):
        return "waiting (idle threads: wall time, not work)"
    for label, pattern in RULES:
        rx = re.compile(pattern)
        for frame in reversed(stack):
            if rx.search(frame):
                return label
    return "other: " + (stack[-1] if stack else "?")


def pyspy(pid: int, out: Path) -> subprocess.Popen[bytes]:
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen(
        [
            exe,
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(RATE),
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def read_raw(path: Path) -> tuple[collections.Counter[str], collections.Counter[str]]:
    """(samples by part, by leaf frame) of a py-spy raw (collapsed) file."""
    parts: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    for line in path.read_text().splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not stack_text:
            continue
        stack = stack_text.split(";")
        n = int(count)
        parts[classify(stack)] += n
        leaves[stack[-1]] += n
    return parts, leaves


def sampled_stream(
    server: Server, events: list[Any], specs: list[dict[str, object]], out: Path
) -> dict[str, Any]:
    with OpenMeter(server.address, timeout=300) as om:
        for spec in specs:
            om.meters.create(spec)
        with om.events.stream(batch_size=BATCH, max_in_flight=8) as stream:
            stream.send_many(events[:BATCH])
        process = psutil.Process(server.proc.pid)
        spy = pyspy(server.proc.pid, out)
        try:
            _attached(spy)
            cpu = process.cpu_times()
            client_cpu = time.process_time()
            start = time.perf_counter()
            with om.events.stream(batch_size=BATCH, max_in_flight=8) as stream:
                for e in events[BATCH:]:
                    stream.send(e)
            used = process.cpu_times()
            elapsed = time.perf_counter() - start
            client_cpu = time.process_time() - client_cpu
        finally:
            spy.send_signal(2)
            spy.wait(timeout=120)
    n = len(events) - BATCH
    parts, leaves = read_raw(out)

    def us(samples: int) -> float:
        return round(samples / RATE / n * 1e6, 2)

    return {
        "events": n,
        "events_per_second_while_sampled": round(n / elapsed),
        "client_cpu_us_per_event": round(client_cpu / n * 1e6, 1),
        "server_cpu_us_per_event": round((used.user + used.system - cpu.user - cpu.system) / n * 1e6, 1),
        "sampled_us_per_event_by_part": {k: us(v) for k, v in parts.most_common() if us(v) >= 0.1},
        "top_leaf_frames_us_per_event": {k: us(v) for k, v in leaves.most_common(25)},
    }


def _attached(spy: subprocess.Popen[bytes]) -> None:
    """py-spy prints nothing when it has attached; a short wait on its process (it exits at once if it
    cannot attach) is the acknowledgement there is."""
    try:
        spy.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        return
    raise RuntimeError(f"py-spy exited at once (status {spy.returncode}): cannot attach")


def sqlite_case(n: int, tmp: Path) -> dict[str, Any]:
    from meters_ingest import make_events, meters

    events = make_events("e", n, live=False)
    server = Server(tmp / "profile.db")
    try:
        return sampled_stream(server, events, meters("MAX"), tmp / "sqlite.raw")
    finally:
        server.stop()


def postgres_case(n: int, tmp: Path) -> dict[str, Any]:
    import psycopg
    from pgcluster import PgCluster
    from postgres import CONFIG, SETTINGS, CpuMeter, wire_events

    cluster = PgCluster(
        {**SETTINGS, "shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track": "all"}
    )
    try:
        cluster.migrate_template()
        url = cluster.create_database()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        config = tmp / "meterd.yaml"
        config.write_text(CONFIG)
        events = wire_events("p-", n, "request")
        server = Server(url, config)  # type: ignore[arg-type]
        try:
            with OpenMeter(server.address, timeout=300) as om, om.events.stream(batch_size=BATCH) as s:
                s.send_many(events[:BATCH])
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("SELECT pg_stat_statements_reset()")
            cpu = CpuMeter(cluster, [server])
            sampled = sampled_stream(server, events, [], tmp / "pg.raw")
            used = cpu.used()
            with psycopg.connect(url, autocommit=True) as conn:
                statements = conn.execute(
                    "SELECT regexp_replace(query, '\\s+', ' ', 'g'), calls, rows, total_exec_time"
                    " FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15"
                ).fetchall()
        finally:
            server.stop()
        m = n - BATCH
        sampled["postgres_cpu_us_per_event"] = round(used["postgres_cpu_s"] * 1e6 / m, 1)
        sampled["statements_inside_postgres"] = [
            {
                "query": q[:160],
                "calls": calls,
                "rows_per_event": round(rows / m, 2),
                "exec_us_per_event": round(ms * 1000 / m, 2),
                "exec_us_per_row": round(ms * 1000 / rows, 2) if rows else None,
            }
            for q, calls, rows, ms in statements
        ]
        return sampled
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="events per case")
    parser.add_argument("cases", nargs="*", default=["sqlite", "postgres"])
    args = parser.parse_args()
    results: dict[str, Any] = {"rate_hz": RATE, "load_average_1m_start": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in args.cases:
            results["sqlite_three_meters_hour_spread"] = sqlite_case(args.events, Path(tmp))
            results["load_average_1m_after_sqlite"] = round(os.getloadavg()[0], 2)
        if "postgres" in args.cases:
            results["postgres_three_meters_1_replica"] = postgres_case(args.events, Path(tmp))
            results["load_average_1m_after_postgres"] = round(os.getloadavg()[0], 2)
    print(write_result("ingest_profile_samples", results))


if __name__ == "__main__":
    main()
