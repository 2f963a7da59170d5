"""Writes the databases that tests/api/test_row_set_migration.py converts: a meterd server of the code before
row sets (SQLite schema 8, PostgreSQL schema 2: one aggregate row per meter) is run on each backend, given
meters and events through the client, and every table it wrote is dumped to JSON (rows and sequence values),
so the test starts from exactly what that code stored.

Run it with that code on the import path (its server runs in a child process with the same path), naming
the commit it is:
    PYTHONPATH=<old checkout>/server:<old checkout>/client .venv/bin/python tests/data/write_old_layouts.py COMMIT
The files it wrote (old_layout_sqlite.json, old_layout_postgres.json) are committed; nothing runs it again.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

T0 = datetime(2024, 5, 1, 22, 40, tzinfo=UTC)
# Meters of one type: five with the same group paths (a sixth, grouped by the same path under another key,
# makes six: more than a row set holds), one with other group paths, one with none, UNIQUE_COUNT; a meter of
# another type created after its events (a backfill), and one deleted after events were stored.
METERS: list[dict[str, Any]] = [
    {
        "slug": "tokens",
        "eventType": "call",
        "aggregation": "SUM",
        "valueProperty": "$.tokens",
        "groupBy": {"model": "$.model"},
    },
    {"slug": "calls", "eventType": "call", "aggregation": "COUNT", "groupBy": {"model": "$.model"}},
    {
        "slug": "peak",
        "eventType": "call",
        "aggregation": "MAX",
        "valueProperty": "$.tokens",
        "groupBy": {"model": "$.model"},
    },
    {
        "slug": "low",
        "eventType": "call",
        "aggregation": "MIN",
        "valueProperty": "$.tokens",
        "groupBy": {"model": "$.model"},
    },
    {
        "slug": "mean",
        "eventType": "call",
        "aggregation": "AVG",
        "valueProperty": "$.tokens",
        "groupBy": {"model": "$.model"},
    },
    {
        "slug": "peak_by_m",
        "eventType": "call",
        "aggregation": "MAX",
        "valueProperty": "$.tokens",
        "groupBy": {"m": "$.model"},
    },
    {
        "slug": "by_region",
        "eventType": "call",
        "aggregation": "SUM",
        "valueProperty": "$.tokens",
        "groupBy": {"model": "$.model", "region": "$.where.region"},
    },
    {"slug": "last", "eventType": "call", "aggregation": "LATEST", "valueProperty": "$.tokens"},
    {
        "slug": "users",
        "eventType": "call",
        "aggregation": "UNIQUE_COUNT",
        "valueProperty": "$.user",
        "groupBy": {"model": "$.model"},
    },
    {"slug": "gone", "eventType": "call", "aggregation": "COUNT", "groupBy": {"model": "$.model"}},
]
LATER = {
    "slug": "later",
    "eventType": "other",
    "aggregation": "SUM",
    "valueProperty": "$.v",
    "groupBy": {"k": "$.k"},
}


def events() -> list[dict[str, Any]]:
    """Decimals, numbers a sum cannot keep (an error for those meters), non-ASCII and numeric group values,
    LATEST ties (events of one second), a duplicate, and events of another type."""
    out = []
    tokens = [3, "2.5", 7, 0.125, "x", 10**20, -4, "1E+2", 12345678901, 0]
    for i in range(72):
        data: dict[str, Any] = {
            "tokens": tokens[i % len(tokens)],
            "model": ["a", "é", 4, None][i % 4],
            "user": f"u{i % 5}",
            "where": {"region": ["eu", "us"][i % 2]},
        }
        t = T0 + timedelta(minutes=(i * 17) % 700, seconds=0 if i % 6 == 0 else i % 50)
        out.append(
            {
                "id": f"old{i}",
                "source": "mig",
                "type": "call",
                "subject": f"s{i % 4}",
                "time": t,
                "data": data,
            }
        )
    out.append({**out[3], "data": {"tokens": 999}})  # a duplicate: not stored
    for i in range(12):
        out.append(
            {
                "id": f"other{i}",
                "source": "mig",
                "type": "other",
                "subject": f"s{i % 2}",
                "time": T0 + timedelta(minutes=41 * i),
                "data": {"v": f"{i}.5", "k": ["p", "q"][i % 3 == 0]},
            }
        )
    return out


def session(address: str) -> None:
    from meterd.client import OpenMeter

    with OpenMeter(address) as om:
        for meter in METERS:
            om.meters.create(meter)
        all_events = events()
        om.events.ingest(all_events[:40])
        with om.events.stream(batch_size=7) as stream:
            stream.send_many(all_events[40:])
        om.meters.delete("gone")
        om.meters.create(LATER)  # backfilled from the stored events


def _serve(db: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    proc = subprocess.Popen([sys.executable, "-m", "meterd.server", "serve", "--listen", address, "--db", db])
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=60, wait_for_ready=True
        )
    return proc, address


def _jsonable(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


def dump_sqlite(path: str) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    try:
        out: dict[str, Any] = {"version": conn.execute("PRAGMA user_version").fetchone()[0], "tables": {}}
        names = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        for name in names:
            cursor = conn.execute(f"SELECT * FROM {name}")
            columns = [d[0] for d in cursor.description]
            out["tables"][name] = {"columns": columns, "rows": [[_jsonable(v) for v in r] for r in cursor]}
        return _kept(out)
    finally:
        conn.close()


def dump_postgres(url: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url) as conn:
        out: dict[str, Any] = {
            "version": conn.execute("SELECT max(version) FROM schema_version").fetchone()[0],
            "tables": {},
            "sequences": {},
        }
        names = [
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
                " AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname"
            )
        ]
        for name in names:
            if name == "schema_version":
                continue
            cursor = conn.execute(f"SELECT * FROM {name}")  # type: ignore[arg-type]
            columns = [d.name for d in cursor.description or ()]
            out["tables"][name] = {"columns": columns, "rows": [list(r) for r in cursor]}
        for (name,) in conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall():
            out["sequences"][name] = conn.execute(f"SELECT last_value FROM {name}").fetchone()[0]  # type: ignore[arg-type]
    return _kept(out)


def _kept(dump: dict[str, Any]) -> dict[str, Any]:
    """The tables with rows, but the server's own settings (keys made for this throwaway database)."""
    dump["tables"] = {
        k: v
        for k, v in dump["tables"].items()
        if v["rows"] and k not in ("server_settings", "portal_settings")
    }
    return dump


def main() -> None:
    commit = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "old.db")
        proc, address = _serve(path)
        try:
            session(address)
        finally:
            proc.terminate()
            proc.wait()
        dumped = dump_sqlite(path)
    (HERE / "old_layout_sqlite.json").write_text(
        json.dumps({"written_by": commit, **dumped}, separators=(",", ":")) + "\n"
    )
    from pgcluster import PgCluster

    cluster = PgCluster()
    try:
        cluster.migrate_template()
        url = cluster.create_database()
        proc, address = _serve(url)
        try:
            session(address)
        finally:
            proc.terminate()
            proc.wait()
        dumped = dump_postgres(url)
    finally:
        cluster.stop()
    (HERE / "old_layout_postgres.json").write_text(
        json.dumps({"written_by": commit, **dumped}, separators=(",", ":")) + "\n"
    )


if __name__ == "__main__":
    main()
