"""GetEntitlementValue at scale: one subject's metered entitlement with 50 grants (mixed priorities,
expirations and recurrences) over a year of hourly usage (8,760 events streamed through the client).

Measures, against a server in its own process: the cold value (no balance snapshot: a full replay of the
year), the value right after a server restart, the warm value (served from the latest snapshot), and value
calls per second from 8 concurrent client processes, each with its own channel. Also the cost the snapshot
invalidation adds to the ingest hot path for on-time events (the listener, called in this process)."""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Server, percentile, table, write_result

from meterd.client import OpenMeter

SUBJECT = "bench-customer"
FEATURE = "ai_tokens"


def setup(address: str, hours: int, grants: int, now: datetime) -> dict[str, Any]:
    """Meter, feature, a YEAR entitlement, the grants, and ``hours`` events spread evenly (about hourly) over
    the entitlement's current period so far (at most 364 days: a YEAR period must still be running now)."""
    span = min(timedelta(hours=hours), timedelta(days=364))
    start = (now - span).replace(minute=0, second=0, microsecond=0)
    step = span / hours
    rng = random.Random(6)
    with OpenMeter(address, timeout=300) as om:
        om.meters.create(
            {
                "slug": "tokens_total",
                "eventType": "tokens",
                "aggregation": "SUM",
                "valueProperty": "$.tokens",
                "groupBy": {"model": "$.model"},
            }
        )
        om.features.create({"key": FEATURE, "name": "AI tokens", "meterSlug": "tokens_total"})
        om.subjects.create_entitlement(
            SUBJECT,
            {
                "type": "metered",
                "featureKey": FEATURE,
                "usagePeriod": {"interval": "YEAR", "anchor": start},
                "measureUsageFrom": start,
                "issueAfterReset": 1000,
            },
        )
        kinds = {"recurring_daily": 0, "recurring_weekly": 0, "recurring_monthly": 0, "one_off": 0}
        for i in range(grants):
            effective = start + step * rng.randrange(0, max(1, hours - 24))
            g: dict[str, Any] = {
                "amount": rng.randrange(100, 5000),
                "priority": rng.randrange(1, 6),
                "effectiveAt": effective,
                "maxRolloverAmount": rng.randrange(0, 500),
            }
            if i % 5 == 0:
                g["recurrence"], g["expiration"] = {"interval": "DAY"}, {"duration": "MONTH", "count": 2}
                kinds["recurring_daily"] += 1
            elif i % 5 == 1:
                g["recurrence"], g["expiration"] = {"interval": "WEEK"}, {"duration": "YEAR", "count": 1}
                kinds["recurring_weekly"] += 1
            elif i % 5 == 2:
                g["recurrence"], g["expiration"] = {"interval": "MONTH"}, {"duration": "YEAR", "count": 2}
                kinds["recurring_monthly"] += 1
            else:
                g["expiration"] = rng.choice(
                    [
                        {"duration": "DAY", "count": rng.randrange(1, 30)},
                        {"duration": "WEEK", "count": rng.randrange(1, 8)},
                        {"duration": "MONTH", "count": rng.randrange(1, 6)},
                    ]
                )
                kinds["one_off"] += 1
            om.subjects.create_entitlement_grant(SUBJECT, FEATURE, g)
        t0 = time.perf_counter()
        with om.events.stream(batch_size=1000, max_in_flight=8) as stream:
            for h in range(hours):
                stream.send(
                    {
                        "specversion": "1.0",
                        "id": f"u{h}",
                        "source": "bench",
                        "type": "tokens",
                        "subject": SUBJECT,
                        "time": start + step * h + timedelta(minutes=rng.randrange(60)),
                        "data": {"tokens": rng.randrange(1, 400), "model": rng.choice(["a", "b"])},
                    }
                )
        ingest_s = time.perf_counter() - t0
    return {
        "events": hours,
        "grants": grants,
        "grant_kinds": kinds,
        "ingest_seconds": round(ingest_s, 2),
        "period_start": start.isoformat(),
    }


def clear_snapshots(db: Path) -> None:
    """Deletes every balance snapshot from outside the server (a WAL database takes a second writer)."""
    conn = sqlite3.connect(db, timeout=30)
    conn.execute("DELETE FROM balance_snapshots")
    conn.commit()
    conn.close()


def snapshot_count(db: Path) -> int:
    conn = sqlite3.connect(db, timeout=30)
    n = int(conn.execute("SELECT COUNT(*) FROM balance_snapshots").fetchone()[0])
    conn.close()
    return n


def value_ms(om: OpenMeter) -> float:
    t = time.perf_counter()
    om.subjects.get_entitlement_value(SUBJECT, FEATURE)
    return (time.perf_counter() - t) * 1000


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(samples, 50), 2),
        "p99_ms": round(percentile(samples, 99), 2),
        "samples": len(samples),
    }


def _client_loop(address: str, seconds: float, out: Any) -> None:
    with OpenMeter(address, timeout=60) as om:
        om.subjects.get_entitlement_value(SUBJECT, FEATURE)
        end = time.perf_counter() + seconds
        n = 0
        while time.perf_counter() < end:
            om.subjects.get_entitlement_value(SUBJECT, FEATURE)
            n += 1
    out.put(n)


def concurrent_rate(address: str, clients: int, seconds: float) -> float:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_client_loop, args=(address, seconds, out)) for _ in range(clients)]
    for p in procs:
        p.start()
    total = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


def ingest_listener_cost(events: int) -> dict[str, float]:
    """µs per event the snapshot listener adds to ingest for on-time events of a subject with snapshots."""
    from meterd.server.events.model import ValidEvent
    from meterd.server.store.sqlite.db import Database
    from meterd.server.store.sqlite.snapshots import SqliteSnapshotStore

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "l.db")
        store = SqliteSnapshotStore(db)
        for i in range(1000):  # many subjects with snapshots
            store._bounds[("tokens", f"s{i}")] = 1_000_000
        batch = [
            (
                i,
                ValidEvent(
                    id=str(i),
                    source="b",
                    specversion="1.0",
                    type="tokens",
                    subject=f"s{i % 1000}",
                    time_us=2_000_000 + i,
                    datacontenttype="",
                    dataschema="",
                    data=None,
                ),
            )
            for i in range(1000)
        ]
        t = time.perf_counter()
        for _ in range(events // 1000):
            store.on_ingest(None, batch)  # type: ignore[arg-type]  # on-time events issue no SQL
        per_event = (time.perf_counter() - t) / events * 1e6
        db.close()
    return {"on_time_us_per_event": round(per_event, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a check that the benchmark runs")
    args = parser.parse_args()
    hours, cold_runs, warm_runs, restarts, seconds = (
        (24 * 60, 3, 100, 1, 2.0) if args.quick else (8760, 10, 500, 3, 10.0)
    )
    now = datetime.now(UTC)
    results: dict[str, Any] = {"quick": args.quick}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "entitlements.db"
        server = Server(db)
        try:
            print(f"setting up: 50 grants, {hours:,} hourly events ...", flush=True)
            results["setup"] = setup(server.address, hours, 50, now)
            with OpenMeter(server.address, timeout=300) as om:
                cold = []
                for _ in range(cold_runs):
                    clear_snapshots(db)
                    cold.append(value_ms(om))
                results["cold_no_snapshot"] = summary(cold)
                deadline = time.monotonic() + 30
                while snapshot_count(db) == 0 and time.monotonic() < deadline:
                    time.sleep(0.05)
                value_ms(om)
                results["warm"] = summary([value_ms(om) for _ in range(warm_runs)])
            results["concurrent_8_clients_calls_per_second"] = round(
                concurrent_rate(server.address, 8, seconds)
            )
        finally:
            server.stop()
        after_restart = []
        for _ in range(restarts):
            server = Server(db)
            try:
                with OpenMeter(server.address, timeout=300) as om:
                    after_restart.append(value_ms(om))
            finally:
                server.stop()
        results["first_call_after_restart"] = summary(after_restart)
        results["snapshots_kept"] = snapshot_count(db)
    results["ingest_listener"] = ingest_listener_cost(100_000)
    path = write_result("entitlements", results)
    print(f"-> {path}")
    rows = [
        (
            "cold value (no snapshot, full replay)",
            f"p50 {results['cold_no_snapshot']['p50_ms']} ms  p99 {results['cold_no_snapshot']['p99_ms']} ms",
        ),
        ("first value after a restart", f"p50 {results['first_call_after_restart']['p50_ms']} ms"),
        (
            "warm value (from a snapshot)",
            f"p50 {results['warm']['p50_ms']} ms  p99 {results['warm']['p99_ms']} ms",
        ),
        ("8 concurrent clients", f"{results['concurrent_8_clients_calls_per_second']:,} values/s"),
        (
            "snapshot listener on ingest",
            f"{results['ingest_listener']['on_time_us_per_event']} µs/event (on time)",
        ),
    ]
    print(table(rows))


if __name__ == "__main__":
    main()
