"""SQLite under storage faults: the ingest, backfill (a meter created over stored events) and reset paths run
with the Nth write, pwrite, fsync or fdatasync of meterd's writer thread failing with EIO or ENOSPC (libfiu:
``fiu-run`` and ``tests/fiu_serve.py``), N swept over the calls the path makes. Whatever the call:

- nothing acknowledged is lost or duplicated, and the meters agree with the stored events exactly (an
  aggregate applied twice or not at all would show); resending what was not acknowledged stores it once;
- ``PRAGMA integrity_check`` passes;
- a failed write (EIO, ENOSPC) is answered UNAVAILABLE, nothing of it is stored, and meterd carries on;
- a failed fsync/fdatasync is never acknowledged: meterd stops (exit 1) with a record naming the cause, and
  a restart recovers from what is on disk.

``make test`` runs a short sweep; ``make test-slow`` every N over the calls of each path's first operation
(the same statements repeat in the ones after it).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support import ROOT, free_port, wait_healthy

from meterd.client import MeterdError, OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config

FIU_RUN = shutil.which("fiu-run")
if FIU_RUN is None and (os.environ.get("CI") or os.environ.get("METERD_PG_REQUIRE")):
    raise RuntimeError("fiu-run is not installed: make setup installs Debian's fiu-utils")
pytestmark = pytest.mark.skipif(
    FIU_RUN is None, reason="fiu-run is not installed (make setup installs fiu-utils)"
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SYNC_CALLS = ("fsync", "fdatasync")


class FaultyServer:
    """``meterd serve`` under fiu-run with one fault armed on its writer thread (see tests/fiu_serve.py)."""

    def __init__(self, db: Path, call: str, errno: str, nth: int) -> None:
        self.address = f"127.0.0.1:{free_port()}"
        self.fired_path = db.parent / f"fired-{call}-{errno}-{nth}"
        self.proc = subprocess.Popen(
            [
                FIU_RUN,
                "-x",
                sys.executable,
                str(ROOT / "tests" / "fiu_serve.py"),
                "--call",
                call,
                "--errno",
                errno,
                "--nth",
                str(nth),
                "--fired",
                str(self.fired_path),
                "--wal",
                f"{db}-wal",
                "--",
                "serve",
                "--listen",
                self.address,
                "--db",
                str(db),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("METERD_")},
        )
        try:
            wait_healthy(self.address)
        except TimeoutError:
            self.proc.kill()
            raise

    def arm(self) -> None:
        """From now on the writer's calls count (it looks for this file at each call)."""
        Path(str(self.fired_path) + ".arm").touch()

    @property
    def fired(self) -> bool:
        return self.fired_path.exists()

    def finish(self) -> tuple[int, list[dict[str, Any]]]:
        """Stops the server if it still runs (SIGTERM); its exit code and its log records."""
        if self.proc.poll() is None:
            self.proc.terminate()
        _, err = self.proc.communicate(timeout=60)
        return self.proc.returncode, [json.loads(line) for line in err.splitlines() if line.strip()]


def event(key: str, minute: int, type: str = "call") -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": key,
        "source": "faults",
        "type": type,
        "subject": f"s{minute % 3}",
        "time": T0 + timedelta(minutes=minute),
        "data": {"n": 1},
    }


@dataclass
class Run:
    """What a path's operations did: events sent and acknowledged, and the outcome of each operation."""

    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    acked: set[str] = field(default_factory=set)
    outcomes: list[str] = field(default_factory=list)
    meters: set[str] = field(default_factory=set)  # meters whose creation was acknowledged
    resets: list[datetime] = field(default_factory=list)  # resets acknowledged
    fired: Callable[[], bool] = lambda: False
    fired_at: int | None = None  # the operation (index in outcomes) during which the fault fired

    def ingest(self, om: OpenMeter, events: list[dict[str, Any]]) -> None:
        self.sent.update((e["id"], e) for e in events)
        self.attempt(lambda: om.events.ingest(events))
        if self.outcomes[-1] == "OK":
            self.acked.update(e["id"] for e in events)

    def attempt(self, call: Callable[[], Any]) -> bool:
        try:
            call()
        except MeterdError as exc:
            self.outcomes.append(f"{exc.code.name}: {exc.message}")
        else:
            self.outcomes.append("OK")
        if self.fired_at is None and self.fired():
            self.fired_at = len(self.outcomes) - 1
        return self.outcomes[-1] == "OK"


# -- the paths: setup (before the fault is armed), then the operations under the fault ------------------------
def ingest_setup(om: OpenMeter, run: Run, db: Path | str) -> None:
    om.meters.create({"slug": "calls", "eventType": "call", "aggregation": "SUM", "valueProperty": "$.n"})
    run.meters.add("calls")
    run.ingest(om, [event(f"setup-{i}", i) for i in range(10)])


def ingest_ops(om: OpenMeter, run: Run, alive: Callable[[], bool]) -> None:
    for batch in range(3):
        if not alive():
            return
        run.ingest(om, [event(f"b{batch}-{i}", batch * 90 + i * 7) for i in range(10)])


def backfill_setup(om: OpenMeter, run: Run, db: Path | str) -> None:
    for batch in range(2):
        run.ingest(om, [event(f"old{batch}-{i}", batch * 400 + i * 9) for i in range(40)])


def backfill_ops(om: OpenMeter, run: Run, alive: Callable[[], bool]) -> None:
    for slug, definition in (
        ("calls", {"aggregation": "SUM", "valueProperty": "$.n"}),
        ("per_subject", {"aggregation": "COUNT", "groupBy": {"s": "$.n"}}),
    ):
        if not alive():
            return
        if run.attempt(lambda d=definition, s=slug: om.meters.create({"slug": s, "eventType": "call", **d})):
            run.meters.add(slug)


PERIOD_START = (datetime.now(UTC) - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)


def reset_setup(om: OpenMeter, run: Run, db: Path | str) -> None:
    om.meters.create({"slug": "calls", "eventType": "call", "aggregation": "SUM", "valueProperty": "$.n"})
    run.meters.add("calls")
    om.features.create({"key": "ai", "name": "AI", "meterSlug": "calls"})
    om.subjects.create_entitlement(
        "s0",
        {
            "type": "metered",
            "featureKey": "ai",
            "usagePeriod": {"interval": "MONTH", "anchor": PERIOD_START},
            "measureUsageFrom": PERIOD_START,
        },
    )
    om.subjects.create_entitlement_grant(
        "s0",
        "ai",
        {
            "amount": 1000,
            "effectiveAt": PERIOD_START,
            "expiration": {"duration": "YEAR", "count": 1},
            "maxRolloverAmount": 1000,
        },
    )
    run.ingest(
        om,
        [
            {**event(f"u{i}", 0), "subject": "s0", "time": PERIOD_START + timedelta(hours=i)}
            for i in range(30)
        ],
    )
    # Resets must not be before the entitlement's creation: it is moved back to the period's start, so that
    # the path has past minutes to reset at.
    created_us = int(PERIOD_START.timestamp() * 1_000_000)
    if isinstance(db, str):  # PostgreSQL
        import psycopg

        with psycopg.connect(db, autocommit=True) as pg:
            pg.execute("UPDATE entitlements SET created_us = %s", (created_us,))
    else:
        with sqlite3.connect(db, timeout=30) as conn:
            conn.execute("UPDATE entitlements SET created_us = ?", (created_us,))
    om.subjects.get_entitlement_value("s0", "ai")  # saves balance snapshots, in a write of its own
    run.ingest(om, [run.sent["u0"]])  # a duplicate: once answered, that write (queued before it) is done too


def reset_ops(om: OpenMeter, run: Run, alive: Callable[[], bool]) -> None:
    for hours in (10, 20):
        if not alive():
            return
        at = PERIOD_START + timedelta(hours=hours)
        if run.attempt(lambda t=at: om.subjects.reset_entitlement_usage("s0", "ai", effective_at=t)):
            run.resets.append(at)
        if alive():
            run.attempt(lambda: om.subjects.get_entitlement_value("s0", "ai"))


PATHS = {
    "ingest": (ingest_setup, ingest_ops),
    "backfill": (backfill_setup, backfill_ops),
    "reset": (reset_setup, reset_ops),
}


# -- one case --------------------------------------------------------------------------------------------------
def run_case(tmp_path: Path, path: str, call: str, errno: str, nth: int) -> bool:
    """Runs one path with the ``nth`` ``call`` failing with ``errno``; checks everything the module promises.
    Returns whether the fault fired during the path's first operation (it made at least ``nth`` such calls);
    the operations after it show that meterd carries on (or stopped, after a failed sync)."""
    db = tmp_path / f"{path}-{call}-{errno}-{nth}.db"
    setup, ops = PATHS[path]
    run = Run()
    server = FaultyServer(db, call, errno, nth)
    try:
        with OpenMeter(server.address, timeout=30) as om:
            setup(om, run, db)
            assert set(run.outcomes) == {"OK"}, run.outcomes
            first_op = len(run.outcomes)
            run.fired = lambda: server.fired
            server.arm()
            stopping = call in SYNC_CALLS

            def alive() -> bool:
                # After a failed sync the server stops by itself: wait for that, and send nothing more.
                if stopping and server.fired:
                    server.proc.wait(timeout=60)
                    return False
                return True

            ops(om, run, alive)
            if alive():  # meterd carried on: a write after the fault goes through
                run.ingest(om, [event("after-fault", 999)])
                assert run.outcomes[-1] == "OK", run.outcomes
    finally:
        code, records = server.finish()
    fired = server.fired
    failed = [o for o in run.outcomes if o != "OK"]
    if fired and call in SYNC_CALLS:
        # (Whether the write whose sync failed was acknowledged shows below: fiu_serve cut the WAL back to
        # its last good sync, so an acknowledged write would be missing after the restart.)
        assert code == 1, (code, run.outcomes)
        stop = [r for r in records if r["msg"] == "meterd stopped" and "reason" in r]
        assert stop and "durable" in stop[0]["reason"], records[-3:]
    else:
        assert code == 0, (code, records[-3:])
        assert all(o.startswith("UNAVAILABLE") for o in failed), failed
        if not fired:
            assert not failed, run.outcomes
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    verify(SqliteFile(db), path, run)
    return run.fired_at == first_op


class SqliteFile:
    """What ``verify`` reads straight from the database (a SQLite file here; PostgreSQL in the connection
    fault tests)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = str(path)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.path, timeout=30) as conn:
            return conn.execute(sql).fetchall()

    def execute(self, sql: str) -> None:
        with sqlite3.connect(self.path, timeout=30) as conn:
            conn.execute(sql)


def verify(db: Any, path: str, run: Run) -> None:
    """Restarts on the database (no fault) and checks what was acknowledged against what is stored: ``db``
    reads it directly (``rows``, ``execute``; ``url`` is what meterd opens)."""
    server = MeterdServer(Config(listen="127.0.0.1:0", db=db.url, log_format="text")).start()
    try:
        with OpenMeter(server.address, timeout=60) as om:
            stored = _stored_ids(db)
            assert run.acked <= stored, f"acknowledged events lost: {sorted(run.acked - stored)[:5]}"
            assert stored <= set(run.sent)
            meters = {m.slug for m in om.meters.list()}
            assert run.meters <= meters, "an acknowledged meter is gone"
            _check_meters(om, db, meters)
            if path == "reset":
                _check_resets(om, db, run)
            # The client's normal path after a failure: resend what was not acknowledged, create the meters
            # that were not: each event stored once, and every meter exact.
            missing = [run.sent[key] for key in sorted(set(run.sent) - run.acked)]
            for start in range(0, len(missing), 100):
                om.events.ingest(missing[start : start + 100])
            if path == "backfill":
                for slug in ("calls", "per_subject"):
                    if slug not in meters:
                        om.meters.create({"slug": slug, "eventType": "call", "aggregation": "COUNT"})
            assert _stored_ids(db) == set(run.sent)
            _check_meters(om, db, {m.slug for m in om.meters.list()})
    finally:
        server.stop(0)


def _stored_ids(db: Any) -> set[str]:
    rows = db.rows("SELECT id FROM events")
    ids = {r[0] for r in rows}
    assert len(ids) == len(rows)
    return ids


def _check_meters(om: OpenMeter, db: Any, slugs: set[str]) -> None:
    """Each meter's per-subject values equal what the stored events give (every event counts 1)."""
    per_subject = dict(db.rows("SELECT subject, COUNT(*) FROM events WHERE type = 'call' GROUP BY subject"))
    for slug in slugs:
        rows = om.meters.query(slug, group_by=["subject"]).rows
        assert {r.subject: r.value for r in rows} == per_subject, slug


def _check_resets(om: OpenMeter, db: Any, run: Run) -> None:
    """Acknowledged resets are stored; the value with the balance snapshots equals the value replayed
    without them (snapshots are only a cache, whatever failed)."""
    stored = {r[0] for r in db.rows("SELECT at_us FROM entitlement_resets")}
    assert {int(t.timestamp() * 1_000_000) for t in run.resets} <= stored
    cached = om.subjects.get_entitlement_value("s0", "ai")
    db.execute("DELETE FROM balance_snapshots")
    replayed = om.subjects.get_entitlement_value("s0", "ai")
    assert (cached.balance, cached.usage, cached.overage) == (
        replayed.balance,
        replayed.usage,
        replayed.overage,
    )


# -- the sweeps ------------------------------------------------------------------------------------------------
# The short sweep (make test): per path, the first call of each kind, and a write in the middle of a path.
SHORT = [
    (call, errno, nth)
    for call, errno, nth in (
        ("pwrite", "EIO", 1),
        ("pwrite", "ENOSPC", 6),
        ("fdatasync", "EIO", 1),
        ("fsync", "EIO", 1),
        ("write", "ENOSPC", 1),
    )
]


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize(("call", "errno", "nth"), SHORT, ids=[f"{c}-{e}-{n}" for c, e, n in SHORT])
def test_a_storage_fault(tmp_path: Path, path: str, call: str, errno: str, nth: int) -> None:
    run_case(tmp_path, path, call, errno, nth)


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("call", ["write", "pwrite", "fsync", "fdatasync"])
@pytest.mark.parametrize("errno", ["EIO", "ENOSPC"])
def test_every_call_of_a_path_may_fail(tmp_path: Path, path: str, call: str, errno: str) -> None:
    """N = 1, 2, ... over every such call of the path's first operation (the fault then hits the second
    one, or none)."""
    nth = 1
    while run_case(tmp_path, path, call, errno, nth):
        nth += 1
