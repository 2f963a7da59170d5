"""WatchEntitlementValues across replicas (PostgreSQL only): two servers on one database; changes made
through server A (usage, a grant, a late event, a reset, a void) reach a watcher on server B, whose values
equal GetEntitlementValue on either server. Also: an ingest naming more subjects than one NOTIFY payload can
carry still reaches B (split, or sent as "usage of this event type for every subject"), and B carries on
after its listening connection is killed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from entitlement_support import create_meter
from support import Clock
from test_watch import START, Collector, metered, same, usage, wait_for

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config


def listening(server: MeterdServer) -> bool:
    remote = server.services.watching.remote
    return remote is not None and remote._channel.listening.is_set()


@pytest.fixture
def pair(pg_url: str, clock: Clock) -> Iterator[tuple[OpenMeter, OpenMeter, MeterdServer]]:
    clock.set(START + timedelta(seconds=30))
    servers = [
        MeterdServer(
            Config(listen="127.0.0.1:0", db=pg_url, grace_seconds=2.0, log_format="text"), clock=clock
        ).start()
        for _ in range(2)
    ]
    clients = [OpenMeter(s.address, timeout=30) for s in servers]
    try:
        for s in servers:
            wait_for(lambda s=s: listening(s), "the change listener")
        yield clients[0], clients[1], servers[1]
    finally:
        for c in clients:
            c.close()
        for s in servers:
            s.stop(0)


def test_changes_made_through_one_replica_reach_watchers_on_another(
    pair: tuple[OpenMeter, OpenMeter, MeterdServer], clock: Clock, pg_url: str
) -> None:
    a, b, server_b = pair
    create_meter(a)
    a.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
    e = a.subjects.create_entitlement("customer-1", metered(issueAfterReset=100))
    w = Collector(b.entitlements.watch(subject="customer-1", coalesce_interval=0.05))
    try:
        wait_for(lambda: w.mirror.synced and e.id in w.by_id, "the initial snapshot")

        def agrees(what: str) -> None:
            expected = a.subjects.get_entitlement_value("customer-1", "ai_tokens").proto
            wait_for(lambda: same(w.by_id[e.id], expected), what)
            assert b.subjects.get_entitlement_value("customer-1", "ai_tokens").proto == expected

        usage(a, START, 30)
        agrees("usage ingested through A")
        assert w.by_id[e.id].value.usage == 30 and w.by_id[e.id].value.balance == 70
        g = a.subjects.create_entitlement_grant(
            "customer-1",
            "ai_tokens",
            {"amount": 50, "effectiveAt": START, "expiration": {"duration": "DAY", "count": 3}},
        )
        agrees("a grant created through A")
        assert w.by_id[e.id].value.balance == 120
        clock.advance(hours=2)
        usage(a, START + timedelta(minutes=30), 5)  # late
        agrees("a late event through A")
        assert w.by_id[e.id].value.usage == 35
        clock.advance(minutes=5)
        a.grants.void(g.id)
        agrees("a void through A")

        # One ingest naming far more subjects than a NOTIFY payload holds: still reaches B.
        a.events.ingest(
            [
                {
                    "specversion": "1.0",
                    "id": f"many-{i}",
                    "source": "test",
                    "type": "tokens",
                    "subject": f"someone-else-with-a-rather-long-subject-key-{i}",
                    "time": START,
                    "data": {"tokens": 1},
                }
                for i in range(3000)
            ]
            + [
                {
                    "specversion": "1.0",
                    "id": "many-last",
                    "source": "test",
                    "type": "tokens",
                    "subject": "customer-1",
                    "time": START,
                    "data": {"tokens": 4},
                }
            ]
        )
        agrees("usage in an ingest too big for one notification")
        assert w.by_id[e.id].value.usage == 39

        # B's listening connection dies: it reconnects, and its watchers get fresh values.
        channel = server_b.services.watching.remote._channel
        assert channel.connects == 1
        with psycopg.connect(pg_url, autocommit=True) as conn:
            killed = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN%%' AND pid <> pg_backend_pid()"
            ).fetchall()
        assert len(killed) == 2  # A's and B's listeners
        wait_for(lambda: channel.connects == 2 and listening(server_b), "the listener to reconnect")
        a.subjects.reset_entitlement_usage("customer-1", "ai_tokens")
        wait_for(
            lambda: listening(server_b) and w.by_id[e.id].value.usage == 0, "a reset after the reconnect"
        )
        agrees("a reset through A after B reconnected")
        assert w.error is None
    finally:
        w.close()
