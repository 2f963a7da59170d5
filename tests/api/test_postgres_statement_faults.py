"""PostgreSQL connection loss at each statement of the ingest, backfill and reset paths: a proxy between
meterd and the database (tests/pgproxy.py) cuts the connection at the Nth statement, before the database gets
it or after it ran it (a COMMIT included) with its answer lost, N swept over the statements of each path's
first operation. Whatever the statement:

- every call is answered OK or UNAVAILABLE (never INTERNAL), and meterd carries on without a restart;
- nothing acknowledged is lost or duplicated, the meters agree with the stored events exactly, acknowledged
  resets are stored and balance snapshots equal a replay without them; resending what was not acknowledged
  stores it once.

``make test`` runs a few statements of each path; ``make test-slow`` every one.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from pgproxy import PgProxy
from support import wait_until
from test_storage_faults import PATHS, Run, verify

from meterd.client import MeterdError, OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config


def run_case(pg_url: str, path: str, nth: int, when: str) -> bool:
    """One path with its ``nth`` statement cut ``when``; True if the cut fell in the path's first operation."""
    host_port = pg_url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    proxy = PgProxy((host, int(port)))
    setup, ops = PATHS[path]
    run = Run()
    server = MeterdServer(
        Config(listen="127.0.0.1:0", db=proxy.url(pg_url), log_format="text", db_wait_seconds=5)
    ).start()
    try:
        with OpenMeter(server.address, timeout=60) as om:
            setup(om, run, pg_url)
            assert set(run.outcomes) == {"OK"}, run.outcomes
            first_op = len(run.outcomes)
            run.fired = lambda: proxy.cut is not None
            proxy.arm(nth, when)
            ops(om, run, lambda: True)
            assert all(o == "OK" or o.startswith("UNAVAILABLE") for o in run.outcomes), (
                proxy.cut,
                run.outcomes,
            )
            # meterd carries on: a write goes through again, without a restart.
            wait_until(lambda: _writes(om), 60, "meterd to write again after the lost connection")
            run.sent["after-cut"] = after = {
                "specversion": "1.0",
                "id": "after-cut",
                "source": "faults",
                "type": "other",
                "subject": "s9",
            }
            run.acked.add(after["id"])
    finally:
        server.stop(0)
        proxy.close()
    verify(PgDatabase(pg_url), path, run)
    return run.fired_at == first_op


def _writes(om: OpenMeter) -> bool:
    try:
        om.events.ingest(
            {"specversion": "1.0", "id": "after-cut", "source": "faults", "type": "other", "subject": "s9"}
        )
    except MeterdError:
        return False
    return True


class PgDatabase:
    """What ``verify`` reads straight from the database (see test_storage_faults.SqliteFile)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(sql).fetchall()  # type: ignore[arg-type]

    def execute(self, sql: str) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]


SHORT: list[tuple[int, str]] = [(1, "before"), (1, "after"), (4, "before"), (4, "after")]


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize(("nth", "when"), SHORT, ids=[f"{n}-{w}" for n, w in SHORT])
def test_a_lost_connection(pg_url: str, path: str, nth: int, when: str) -> None:
    run_case(pg_url, path, nth, when)


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("when", ["before", "after"])
def test_the_connection_lost_at_every_statement(pg_cluster: Any, path: str, when: str) -> None:
    nth = 1
    while True:
        url = pg_cluster.acquire()
        try:
            cut_in_first = run_case(url, path, nth, when)
        finally:
            pg_cluster.release(url)
        if not cut_in_first:
            break
        nth += 1
