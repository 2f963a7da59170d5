"""Isolation in the writer: batches of different callers share a commit but never a failure; a full disk
answers UNAVAILABLE, and the server recovers when space returns."""

from __future__ import annotations

import json
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from support import wait_until

from meterd.client import MeterdError, OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.events.model import ValidEvent
from meterd.v1 import events_pb2, events_pb2_grpc

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def event(i: int, subject: str = "good", data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": f"{subject}-{i}",
        "source": "iso",
        "type": "tokens",
        "subject": subject,
        "time": T0 + timedelta(seconds=i),
        "data": data or {"tokens": 1},
    }


class Poison(Exception):
    """What the injected ingest listener raises: a failure the store did not expect."""


def poison_listener(_conn: sqlite3.Connection, inserted: list[tuple[int, ValidEvent]]) -> None:
    """A test-only ingest listener (run inside the real ingest transaction, like the meters' one) that fails
    any write holding an event of subject "poison"."""
    if any(e.subject == "poison" for _, e in inserted):
        raise Poison("this batch cannot be stored")


def hold_writer(server: MeterdServer) -> threading.Event:
    """Occupies the writer thread until the returned event is set, so the batches sent meanwhile queue up
    and are stored by one write job (group commit)."""
    release = threading.Event()
    server.db.submit(lambda _conn: release.wait(30))
    return release


@pytest.mark.parametrize("backend", ["sqlite"])  # SQLite's single writer queue; PostgreSQL: the test below
def test_a_failing_batch_fails_alone_and_the_others_commit(server: MeterdServer) -> None:
    store = server.stores.events
    store.add_ingest_listener(poison_listener)
    release = hold_writer(server)
    with (
        OpenMeter(server.address, timeout=30) as good,
        OpenMeter(server.address, timeout=30) as bad,
        ThreadPoolExecutor(8) as pool,
    ):
        good_calls = [
            pool.submit(good.events.ingest, [event(10 * k + j) for j in range(10)]) for k in range(4)
        ]
        stream = bad.events.stream(batch_size=5)
        stream.open()
        for i in range(5):
            stream.send(event(i, subject="poison"))  # one full batch: sent at once
        more_good = [pool.submit(good.events.ingest, [event(100 + k)]) for k in range(3)]
        # All eight batches wait in the store's queue, to be merged into one write job.
        wait_until(lambda: len(store._pending) == 8, what="eight batches queued behind the held writer")
        release.set()
        for call in good_calls + more_good:
            assert call.result().accepted_count in (10, 1)
        with pytest.raises(MeterdError) as failed:
            stream.flush(timeout=30)
        stream.abort()
    assert failed.value.code == grpc.StatusCode.INTERNAL
    assert "storing batch 1" in failed.value.message, failed.value.message
    with OpenMeter(server.address) as om:
        stored = {e.event.id for e in om.events.list(limit=1000)}
    assert stored == {f"good-{i}" for i in range(40)} | {f"good-{100 + k}" for k in range(3)}


@pytest.mark.parametrize("backend", ["sqlite"])  # SQLite's page cap stands in for a full disk
def test_a_full_disk_is_unavailable_and_the_server_recovers(server: MeterdServer) -> None:
    def cap_at_current_size(conn: sqlite3.Connection) -> int:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        return int(conn.execute(f"PRAGMA max_page_count = {pages}").fetchone()[0])

    def lift_cap(conn: sqlite3.Connection) -> int:
        return int(conn.execute("PRAGMA max_page_count = 4294967294").fetchone()[0])

    big = {"tokens": 1, "pad": "x" * 2000}
    server.db.write(cap_at_current_size)  # from now on the database cannot grow: a full disk
    with grpc.insecure_channel(server.address) as channel:
        stub = events_pb2_grpc.EventServiceStub(channel)
        request = events_pb2.IngestEventsRequest()
        for i in range(200):
            e = request.events.add(
                specversion="1.0",
                id=f"big-{i}",
                source="iso",
                type="tokens",
                subject="c",
                data=json.dumps(big),
            )
            e.time.FromDatetime(T0)
        with pytest.raises(grpc.RpcError) as failed:
            stub.IngestEvents(request, timeout=30)
        assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "storage is full" in failed.value.details()
        # A stream ends with the same status, and the client raises with it.
        with (
            OpenMeter(server.address, timeout=30) as om,
            pytest.raises(MeterdError) as streamed,
            om.events.stream(batch_size=200) as stream,
        ):
            for i in range(200):
                stream.send(event(i, data=big))
        assert streamed.value.code == grpc.StatusCode.UNAVAILABLE
        assert "storage is full" in streamed.value.message
        # Reads still work while the disk is full.
        with OpenMeter(server.address, timeout=30) as om:
            assert om.events.list() == []
        # Space returns: the same request now succeeds, with no restart.
        server.db.write(lift_cap)
        assert stub.IngestEvents(request, timeout=30).accepted_count == 200
    with OpenMeter(server.address, timeout=30) as om:
        assert len(om.events.list(limit=1000)) == 200


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_batches_grouped_in_one_transaction_fail_alone(server: MeterdServer) -> None:
    """PostgreSQL: batches that queued together go into one transaction; when one of them fails, each is
    stored alone in a savepoint, so only the failing caller gets the error."""
    store = server.stores.events
    store.add_ingest_listener(poison_listener)

    def valid(i: int, subject: str) -> ValidEvent:
        return ValidEvent(
            id=f"{subject}-{i}",
            source="iso",
            specversion="1.0",
            type="tokens",
            subject=subject,
            time_us=int((T0 + timedelta(seconds=i)).timestamp() * 1_000_000),
            datacontenttype="",
            dataschema="",
            data='{"tokens": 1}',
        )

    batches = [
        [valid(i, "good") for i in range(10)],
        [valid(i, "poison") for i in range(5)],
        [valid(i, "good") for i in range(10, 13)],
    ]
    futures: list[Future[list[bool]]] = [Future() for _ in batches]
    with store._pending_lock:  # queue all three before any drain runs: one transaction takes them together
        store._pending = [
            (b, 0, f, [listener.prepare(b) for listener in store._batch_listeners])
            for b, f in zip(batches, futures, strict=True)
        ]
        store._drain_scheduled = True
    store._schedule_drain()
    assert futures[0].result(30) == [True] * 10
    assert futures[2].result(30) == [True] * 3
    with pytest.raises(Poison):
        futures[1].result(30)
    with OpenMeter(server.address) as om:
        stored = {e.event.id for e in om.events.list(limit=1000)}
    assert stored == {f"good-{i}" for i in range(13)}
