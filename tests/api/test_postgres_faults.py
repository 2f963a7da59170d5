"""PostgreSQL under faults, with the real server process and the real client, on a throwaway cluster of this
module's own (restarting the session's shared one would disturb other tests):

- the PostgreSQL server restarts (fast and immediate shutdown) while streams ingest and queries run: streams
  end with UNAVAILABLE naming the database, unary calls get UNAVAILABLE (never INTERNAL), health reports
  NOT_SERVING while it is down and SERVING once it is back, and meterd serves again without a restart;
- meterd's backends are terminated from the database side mid-transaction, again and again;
- in both, every acknowledged event is stored, and resending the unacknowledged ones through the client's
  normal path stores each exactly once;
- PostgreSQL unreachable at start: meterd retries for storage.wait_seconds, then exits 1 with one clear line;
- a lock timeout or a statement timeout at the database: UNAVAILABLE with a message that names it, and the
  write goes through once the cause is gone;
- after a restart, watchers on one replica see changes made through another again (LISTEN reconnects).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import psycopg
import pytest
from entitlement_support import create_meter
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pgcluster import PgCluster, find_bindir
from support import Clock, ServerProcess, free_port, wait_until
from test_watch import START, Collector, metered, same, usage, wait_for

from meterd.client import MeterdError, OpenMeter, ResourceExhaustedError, UnavailableError
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.v1 import events_pb2

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
T0 = (datetime.now(UTC) - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    """A cluster for this module alone: its tests stop and start it."""
    if find_bindir() is None:
        if os.environ.get("CI") or os.environ.get("METERD_PG_REQUIRE"):
            pytest.fail("PostgreSQL is not installed: make setup installs Debian's postgresql package")
        pytest.skip("PostgreSQL is not installed (make setup installs it)")
    c = PgCluster()
    try:
        c.migrate_template()
        yield c
    finally:
        c.stop()


@pytest.fixture
def db_url(cluster: PgCluster) -> Iterator[str]:
    url = cluster.create_database()
    yield url
    cluster.drop_database(url)


def event(i: int) -> events_pb2.Event:
    e = events_pb2.Event(
        specversion="1.0",
        id=f"ev-{i}",
        source="faults",
        type="tokens",
        subject=f"s{i % 7}",
        data='{"tokens": 1}',
    )
    e.time.FromDatetime(T0 + timedelta(milliseconds=i))
    return e


def health(address: str) -> int:
    """The server's overall health status (-1: no answer)."""
    with grpc.insecure_channel(address) as channel:
        try:
            return int(
                health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2).status
            )
        except grpc.RpcError:
            return -1


def health_cli(address: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meterd.server", "health", "--target", address],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def stored_ids(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM events")]


class Producer:
    """Streams new events until stopped, recording what was sent and acknowledged; after a failure it keeps
    the stream's unacknowledged events and, if ``resend``, opens a new stream and sends them first (the
    client's normal path), else stops."""

    def __init__(self, address: str, resend: bool) -> None:
        self.address = address
        self.resend = resend
        self.sent: dict[str, events_pb2.Event] = {}
        self.acked: set[str] = set()
        self.errors: list[MeterdError] = []
        self.unacknowledged: list[events_pb2.Event] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self.thread = threading.Thread(target=self._run, name="producer", daemon=True)

    def start(self) -> Producer:
        self.thread.start()
        return self

    def acked_count(self) -> int:
        with self._lock:
            return len(self.acked)

    def _run(self) -> None:
        with OpenMeter(self.address, timeout=30) as om:
            while not self.stop.is_set():
                stream = om.events.stream(batch_size=200, max_in_flight=4)
                stream.open()
                original = stream.tally.record

                def record(
                    ack: events_pb2.StreamEventsResponse,
                    batch: list[events_pb2.Event],
                    original: Any = original,
                ) -> None:
                    original(ack, batch)
                    with self._lock:
                        self.acked.update(e.id for e in batch)

                stream.tally.record = record  # type: ignore[method-assign]
                try:
                    pending, self.unacknowledged = self.unacknowledged, []
                    for e in pending:
                        stream.send(e)
                    while not self.stop.is_set():
                        e = event(next(self._counter))
                        self.sent[e.id] = e
                        stream.send(e)
                    stream.flush()
                    stream.close()
                except MeterdError as exc:
                    self.errors.append(exc)
                    self.unacknowledged = stream.unacknowledged
                    stream.abort()
                    if not self.resend:
                        return

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(120)
        assert not self.thread.is_alive()


class Querier:
    """Queries the meter in a loop; records each call's status code."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.codes: list[str] = []
        self.messages: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="querier", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with OpenMeter(self.address, timeout=20) as om:
            while not self.stop.is_set():
                try:
                    om.meters.query("tokens")
                    self.codes.append("OK")
                except MeterdError as exc:
                    self.codes.append(exc.code.name if exc.code else "?")
                    self.messages.append(str(exc))

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(60)
        assert not self.thread.is_alive()


def check_stored_once(url: str, address: str, producer: Producer) -> None:
    """Every acknowledged event is stored; resending the rest through the client stores each once, and the
    meter counts each event once."""
    stored = stored_ids(url)
    assert len(stored) == len(set(stored)), "an event is stored twice"
    assert producer.acked <= set(stored), f"{len(producer.acked - set(stored))} acknowledged events lost"
    with OpenMeter(address, timeout=30) as om:
        with om.events.stream(batch_size=500) as stream:
            for e in producer.unacknowledged:
                stream.send(e)
        assert stream.tally.accepted + stream.tally.duplicates == len(producer.unacknowledged)
        # Anything sent and neither acknowledged nor in the last unacknowledged list (cut mid-batch) too.
        with om.events.stream(batch_size=500) as stream:
            for e in producer.sent.values():
                stream.send(e)
        assert stream.tally.accepted == 0 or not producer.resend, "events the producer sent went missing"
        assert [r.value for r in om.meters.query("tokens").rows] == [len(producer.sent)]
    stored = stored_ids(url)
    assert len(stored) == len(set(stored)) == len(producer.sent)


@pytest.mark.parametrize("mode", ["fast", pytest.param("immediate", marks=pytest.mark.slow)])
def test_postgresql_restarts_while_streams_ingest_and_queries_run(
    cluster: PgCluster, db_url: str, mode: str
) -> None:
    server = ServerProcess(db_url)  # type: ignore[arg-type]
    try:
        with OpenMeter(server.address, timeout=30) as om, contextlib.ExitStack() as stack:
            om.meters.create(
                {"slug": "tokens", "eventType": "tokens", "aggregation": "SUM", "valueProperty": "$.tokens"}
            )
            producer = Producer(server.address, resend=False).start()
            querier = Querier(server.address)
            stack.callback(querier.finish)
            stack.callback(producer.finish)
            wait_until(
                lambda: producer.acked_count() >= 2_000, 60, what="acknowledgements before the restart"
            )

            cluster.shutdown(mode)
            wait_until(lambda: health(server.address) == NOT_SERVING, 30, what="NOT_SERVING")
            down = health_cli(server.address)
            assert down.returncode == 1 and "NOT_SERVING" in down.stdout + down.stderr
            with pytest.raises(UnavailableError) as unary:
                om.meters.query("tokens")
            assert "database" in str(unary.value) and "is it running there" not in str(unary.value)
            producer.thread.join(60)
            assert [type(e) for e in producer.errors] == [UnavailableError], producer.errors
            assert "database" in str(producer.errors[0]), producer.errors[0]

            cluster.start_again()
            wait_until(lambda: health(server.address) == SERVING, 30, what="SERVING again")
            assert health_cli(server.address).returncode == 0
            querier.finish()
            assert set(querier.codes) <= {"OK", "UNAVAILABLE"}, querier.messages
            assert "UNAVAILABLE" in querier.codes or "OK" in querier.codes
            assert all("database" in m for m in querier.messages), querier.messages

            check_stored_once(db_url, server.address, producer)
            # Writes of every kind work again without a restart of meterd.
            om.meters.create({"slug": "after", "eventType": "tokens", "aggregation": "COUNT"})
            assert [r.value for r in om.meters.query("after").rows] == [len(producer.sent)]
    finally:
        assert server.terminate() == 0


def test_backends_terminated_mid_transaction(cluster: PgCluster, db_url: str) -> None:
    server = ServerProcess(db_url)  # type: ignore[arg-type]
    name = db_url.rsplit("/", 1)[1]
    try:
        with OpenMeter(server.address, timeout=30) as om:
            om.meters.create(
                {"slug": "tokens", "eventType": "tokens", "aggregation": "SUM", "valueProperty": "$.tokens"}
            )
        producer = Producer(server.address, resend=True).start()
        querier = Querier(server.address)
        killed = 0
        try:
            with psycopg.connect(cluster.admin_url, autocommit=True) as admin:
                for round_ in range(6):
                    wait_until(
                        lambda r=round_: producer.acked_count() >= 1_500 * (r + 1),
                        60,
                        what=f"acknowledgements in round {round_}",
                    )
                    killed += len(
                        admin.execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
                            " AND pid <> pg_backend_pid()",
                            (name,),
                        ).fetchall()
                    )
            wait_until(
                lambda: producer.acked_count() >= 1_500 * 7, 60, what="acknowledgements after the kills"
            )
        finally:
            producer.finish()
            querier.finish()
        assert killed >= 6
        assert set(querier.codes) <= {"OK", "UNAVAILABLE"}, querier.messages
        assert all(isinstance(e, UnavailableError) and "database" in str(e) for e in producer.errors), (
            producer.errors
        )
        assert health(server.address) == SERVING
        check_stored_once(db_url, server.address, producer)
    finally:
        assert server.terminate() == 0


def serve(db: str, wait: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meterd.server", "serve", "--listen", f"127.0.0.1:{free_port()}", "--db", db],
        env={**os.environ, "METERD_DB_WAIT_SECONDS": str(wait)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_unreachable_at_start_is_retried_then_one_clear_error() -> None:
    port = free_port()  # nothing listens there
    started = time.monotonic()
    result = serve(f"postgresql://meterd@127.0.0.1:{port}/meterd", wait=1)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    # The log is JSON (the default): the reason is the last record.
    last = json.loads(result.stderr.splitlines()[-1])
    assert last["msg"] == "meterd cannot start"
    assert last["reason"].startswith(
        f"cannot connect to PostgreSQL at 127.0.0.1:{port}/meterd after trying for 1 s: "
    )
    assert "refused" in last["reason"]
    assert time.monotonic() - started < 30


def test_an_unknown_database_fails_at_once(cluster: PgCluster) -> None:
    started = time.monotonic()
    result = serve(cluster.url("no_such_db"), wait=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{cluster.port}/no_such_db: " in result.stderr
    assert "does not exist" in result.stderr
    assert time.monotonic() - started < 30  # not the 60 s wait: waiting does not create a database


def test_a_database_that_comes_up_later_is_waited_for(cluster: PgCluster, db_url: str) -> None:
    port = free_port()
    cluster.shutdown("fast")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "meterd.server", "serve", "--listen", f"127.0.0.1:{port}", "--db", db_url],
            env={**os.environ, "METERD_DB_WAIT_SECONDS": "120"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "not reachable yet; retrying for up to 120 s" in line, line
        assert health(f"127.0.0.1:{port}") == -1
    finally:
        cluster.start_again()
    try:
        wait_until(lambda: health(f"127.0.0.1:{port}") == SERVING, 60, what="meterd to start")
        proc.terminate()
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("lock_timeout", "conflicting concurrent writes (LockNotAvailable)"),
        ("statement_timeout", "the database cancelled the statement"),
    ],
)
def test_a_timeout_at_the_database_is_unavailable_and_passes(
    cluster: PgCluster, db_url: str, setting: str, message: str
) -> None:
    name = db_url.rsplit("/", 1)[1]
    with psycopg.connect(cluster.admin_url, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {name} SET {setting} = '100ms'")  # meterd's connections inherit it
    server = ServerProcess(db_url)  # type: ignore[arg-type]
    try:
        # The blocker itself must not inherit the 100 ms timeout: under load its LOCK TABLE may wait behind
        # meterd's own start-up statements and would be cancelled (it was, at load 19).
        untimed = "-c statement_timeout=0 -c lock_timeout=0"
        with OpenMeter(server.address, timeout=60) as om, psycopg.connect(db_url, options=untimed) as blocker:
            blocker.execute("LOCK TABLE event_keys IN ACCESS EXCLUSIVE MODE")  # held until rollback
            with pytest.raises(UnavailableError) as unary:
                om.events.ingest(event(1))
            assert message in str(unary.value) and "nothing of this write was stored" in str(unary.value)
            stream = om.events.stream()
            stream.open()
            stream.send(event(2))
            with pytest.raises(UnavailableError) as streamed:
                stream.flush()
            stream.abort()
            assert message in str(streamed.value)
            assert [e.id for e in stream.unacknowledged] == ["ev-2"]
            blocker.rollback()
            assert om.events.ingest([event(1), event(2)]).accepted_count == 2
            assert sorted(stored_ids(db_url)) == ["ev-1", "ev-2"]
            assert health(server.address) == SERVING
    finally:
        assert server.terminate() == 0


def test_watchers_on_another_replica_catch_up_after_a_restart(
    cluster: PgCluster, db_url: str, clock: Clock
) -> None:
    """Notifications sent while PostgreSQL was down are lost: B's listener reconnects, its watches get current
    values, and changes made through A reach B's watcher again."""
    clock.set(START + timedelta(seconds=30))
    servers = [
        MeterdServer(
            Config(listen="127.0.0.1:0", db=db_url, grace_seconds=2.0, log_format="text"), clock=clock
        ).start()
        for _ in range(2)
    ]
    a, b = (OpenMeter(s.address, timeout=30) for s in servers)
    channel = servers[1].services.watching.remote._channel
    try:
        wait_for(
            lambda: all(s.services.watching.remote._channel.listening.is_set() for s in servers),
            "the change listeners",
        )
        create_meter(a)
        a.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
        e = a.subjects.create_entitlement("customer-1", metered(issueAfterReset=100))
        w = Collector(b.entitlements.watch(subject="customer-1", coalesce_interval=0.05))
        try:
            wait_for(lambda: w.mirror.synced and e.id in w.by_id, "the initial snapshot")
            connects = channel.connects
            cluster.shutdown("fast")
            wait_for(lambda: not servers[1].db.available, "B to find the database unreachable")
            cluster.start_again()
            wait_for(
                lambda: (
                    all(s.db.available for s in servers)
                    and channel.connects > connects
                    and channel.listening.is_set()
                ),
                "B to serve and listen again",
            )
            usage(a, START, 30)
            wait_for(lambda: w.by_id[e.id].value.usage == 30, "usage through A after the restart")
            assert same(w.by_id[e.id], a.subjects.get_entitlement_value("customer-1", "ai_tokens").proto)
            assert b.subjects.get_entitlement_value("customer-1", "ai_tokens").proto.balance == 70
        finally:
            w.close()
    finally:
        a.close()
        b.close()
        for s in servers:
            s.stop(0)


def test_a_key_too_large_for_an_index_is_resource_exhausted_not_internal(db_url: str) -> None:
    """1,024 four-byte characters in both source and id pass validation (as on SQLite) but exceed PostgreSQL's
    btree key limit: RESOURCE_EXHAUSTED naming the limit, nothing stored, and the server carries on."""
    server = ServerProcess(db_url)  # type: ignore[arg-type]
    huge = "".join(chr(0x20000 + i * 7919 % 0xA6DF) for i in range(1024))  # incompressible, 4 KiB of UTF-8
    try:
        with OpenMeter(server.address, timeout=30) as om:
            with pytest.raises(ResourceExhaustedError) as unary:
                om.events.ingest(
                    {
                        "specversion": "1.0",
                        "id": huge,
                        "source": huge,
                        "type": "tokens",
                        "subject": "s",
                        "data": {},
                    }
                )
            assert "2704 bytes" in str(unary.value) and "index row" not in str(unary.value)
            assert om.events.ingest(event(1)).accepted_count == 1
            assert stored_ids(db_url) == ["ev-1"]
    finally:
        assert server.terminate() == 0
