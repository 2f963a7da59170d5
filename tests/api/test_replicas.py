"""Several stateless meterd replicas on one PostgreSQL: three `meterd serve` processes, each declaring the same
meters in its config, ingesting at once with duplicate ids across replicas; one killed with SIGKILL
mid-stream and its unacknowledged events resent through another. Every acknowledged event is stored once,
the meters' totals equal what was sent, a meter created on one replica is queryable on the others, and
entitlement values agree on every replica after grants, voids and resets made on different ones."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from support import ServerProcess

from meterd.client import MeterdError, OpenMeter, UnauthenticatedError
from meterd.v1 import events_pb2

CONFIG = """
meters:
  - slug: tokens_total
    eventType: tokens
    aggregation: SUM
    valueProperty: $.tokens
    groupBy: {model: $.model}
  - slug: tokens_count
    eventType: tokens
    aggregation: COUNT
  - slug: tokens_max
    eventType: tokens
    aggregation: MAX
    valueProperty: $.tokens
"""
N = 30_000
# Replica i streams ids RANGES[i]: neighbours overlap by 3,000 ids (duplicates across replicas).
RANGES = [range(0, 12_000), range(9_000, 21_000), range(18_000, N)]


def tokens(i: int) -> int:
    return i % 7 + 1


def make_events(t0: datetime) -> list[events_pb2.Event]:
    out = []
    for i in range(N):
        e = events_pb2.Event(
            specversion="1.0",
            id=f"ev-{i}",
            source="replicas",
            type="tokens",
            subject=f"customer-{i % 5}",
            data=f'{{"tokens": {tokens(i)}, "model": "m{i % 3}"}}',
        )
        e.time.FromDatetime(t0 + timedelta(milliseconds=i))
        out.append(e)
    return out


def stream_into(
    address: str,
    events: list[events_pb2.Event],
    acknowledged: set[str],
    lock: threading.Lock,
    kill_after: int | None = None,
    on_kill: threading.Event | None = None,
) -> None:
    """Streams the events, recording the ids of every acknowledged batch; stops quietly if the server dies."""
    with OpenMeter(address, timeout=60) as om:
        stream = om.events.stream(batch_size=250, max_in_flight=4)
        stream.open()
        original = stream.tally.record
        count = 0

        def record(ack: events_pb2.StreamEventsResponse, batch: list[events_pb2.Event]) -> None:
            nonlocal count
            original(ack, batch)
            with lock:
                acknowledged.update(e.id for e in batch)
            count += len(batch)
            if kill_after is not None and on_kill is not None and count >= kill_after:
                on_kill.set()

        stream.tally.record = record  # type: ignore[method-assign]
        try:
            for e in events:
                stream.send(e)
            stream.flush()
            stream.close()
        except MeterdError:
            if kill_after is None:
                raise
            stream.abort()


def test_three_replicas_on_one_postgresql(pg_url: str, tmp_path: Path) -> None:
    config = tmp_path / "meterd.yaml"
    config.write_text(CONFIG)
    replicas = [ServerProcess(pg_url, config=config) for _ in range(3)]  # type: ignore[arg-type]
    t0 = (datetime.now(UTC) - timedelta(minutes=30)).replace(second=0, microsecond=0)
    events = make_events(t0)
    by_id = {e.id: e for e in events}
    acknowledged: set[str] = set()
    lock = threading.Lock()
    try:
        # Every replica declared the same meters: they converged on one definition each.
        with OpenMeter(replicas[1].address) as om:
            assert sorted(m.slug for m in om.meters.list()) == ["tokens_count", "tokens_max", "tokens_total"]

        killed = threading.Event()
        threads = [
            threading.Thread(
                target=stream_into,
                args=(replicas[i].address, [events[j] for j in RANGES[i]], acknowledged, lock)
                + ((6_000, killed) if i == 2 else ()),
            )
            for i in range(3)
        ]
        for t in threads:
            t.start()
        assert killed.wait(120), "replica 2 never acknowledged 6,000 events"
        replicas[2].kill()
        for t in threads:
            t.join(300)
        acked_by_2 = acknowledged & {f"ev-{j}" for j in RANGES[2]}
        assert len(acked_by_2) < len(RANGES[2]), "the kill should land mid-stream"

        with psycopg.connect(pg_url) as conn:
            stored = {r[0] for r in conn.execute("SELECT id FROM events")}
        assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged events lost"

        # Resend replica 2's unacknowledged events through replica 0.
        unacked = [by_id[f"ev-{j}"] for j in RANGES[2] if f"ev-{j}" not in acknowledged]
        with OpenMeter(replicas[0].address) as om, om.events.stream(batch_size=500) as stream:
            for e in unacked:
                stream.send(e)
        assert stream.tally.accepted + stream.tally.duplicates == len(unacked)

        with psycopg.connect(pg_url) as conn:
            assert conn.execute("SELECT count(*), count(DISTINCT (source, id)) FROM events").fetchone() == (
                N,
                N,
            )
            assert conn.execute("SELECT count(*) FROM event_keys").fetchone() == (N,)

        replicas[2] = ServerProcess(pg_url, config=config)  # type: ignore[arg-type]
        expected_sum = sum(tokens(i) for i in range(N))
        for r in replicas:
            with OpenMeter(r.address) as om:
                assert [row.value for row in om.meters.query("tokens_total").rows] == [expected_sum]
                assert [row.value for row in om.meters.query("tokens_count").rows] == [N]
                assert [row.value for row in om.meters.query("tokens_max").rows] == [7]
                by_subject = {
                    row.subject: row.value
                    for row in om.meters.query("tokens_total", group_by=["subject"]).rows
                }
                assert by_subject == {
                    f"customer-{s}": sum(tokens(i) for i in range(s, N, 5)) for s in range(5)
                }

        # A meter created on replica 0 is queryable (and backfilled) on replica 1, and counts what replica 2
        # ingests next.
        with OpenMeter(replicas[0].address) as om:
            om.meters.create({"slug": "late_meter", "eventType": "tokens", "aggregation": "COUNT"})
        with OpenMeter(replicas[2].address) as om:
            om.events.ingest(
                {
                    "specversion": "1.0",
                    "id": "after-create",
                    "source": "replicas",
                    "type": "tokens",
                    "subject": "customer-0",
                    "time": t0,
                    "data": {"tokens": 1, "model": "m0"},
                }
            )
        with OpenMeter(replicas[1].address) as om:
            assert [row.value for row in om.meters.query("late_meter").rows] == [N + 1]

        check_portal_tokens(replicas)
        check_entitlements_agree(replicas, t0)
    finally:
        for r in replicas:
            if r.proc.poll() is None:
                r.terminate()


def check_portal_tokens(replicas: list[ServerProcess]) -> None:
    """A token signed by one replica works on the others (one signing secret, kept in the database); once
    invalidated through one replica, every other refuses it at once."""
    with OpenMeter(replicas[0].address) as om:
        token = om.portal.create_token(subject="customer-2", allowed_meter_slugs=["tokens_total"])
    with OpenMeter(replicas[1].address, portal_token=token.token) as customer:
        assert [r.value for r in customer.meters.query("tokens_total").rows] == [
            sum(tokens(i) for i in range(2, N, 5))
        ]
    with OpenMeter(replicas[2].address) as om:
        assert om.portal.invalidate_tokens(subject="customer-2") == 1
    for r in replicas:
        with OpenMeter(r.address, portal_token=token.token) as customer, pytest.raises(UnauthenticatedError):
            customer.meters.query("tokens_total")


def check_entitlements_agree(replicas: list[ServerProcess], t0: datetime) -> None:
    clients = [OpenMeter(r.address, timeout=30) for r in replicas]
    try:
        a, b, c = clients
        a.features.create({"key": "ai_tokens", "name": "AI tokens", "meterSlug": "tokens_total"})
        start = t0 - timedelta(hours=1)
        b.subjects.create_entitlement(
            "customer-1",
            {
                "type": "metered",
                "featureKey": "ai_tokens",
                "usagePeriod": {"interval": "MONTH", "anchor": start},
                "measureUsageFrom": start,
            },
        )
        at = [datetime.now(UTC).replace(microsecond=0)]
        used = Decimal(sum(tokens(i) for i in range(1, N, 5)))

        def values() -> list[tuple[bool, float, float, float]]:
            out = []
            for om in clients:
                v = om.subjects.get_entitlement_value("customer-1", "ai_tokens", at[0])
                out.append((v.has_access, v.balance, v.usage, v.overage))
            return out

        def agree() -> tuple[bool, float, float, float]:
            first = values()
            assert first[0] == first[1] == first[2], first
            second = values()  # now served from snapshots on every replica
            assert second == first
            return first[0]

        assert agree()[:3] == (False, 0, float(used))
        grant = c.subjects.create_entitlement_grant(
            "customer-1",
            "ai_tokens",
            {"amount": 1_000_000, "effectiveAt": start, "expiration": {"duration": "YEAR", "count": 1}},
        )
        assert agree() == (True, float(1_000_000 - used), float(used), 0)
        a.grants.void(grant.id)
        assert agree()[:3] == (False, 0, float(used))
        b.subjects.create_entitlement_grant(
            "customer-1",
            "ai_tokens",
            {
                "amount": 500_000,
                "effectiveAt": start,
                "expiration": {"duration": "YEAR", "count": 1},
                "maxRolloverAmount": 500_000,
            },
        )
        # The usage was burnt from the first grant while it was active (it was voided after): the second is whole.
        assert agree() == (True, 500_000, float(used), 0)
        c.subjects.reset_entitlement_usage("customer-1", "ai_tokens")
        at[0] = datetime.now(UTC)
        assert agree() == (True, 500_000, 0, 0)
    finally:
        for om in clients:
            om.close()


@pytest.fixture(autouse=True)
def _skip_without_postgresql(pg_cluster: object) -> None:
    """Requests the cluster first (skips where PostgreSQL is missing outside CI)."""
