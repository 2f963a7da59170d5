"""Notification delivery through crashes: meterd in a child process killed with SIGKILL between the commit of
a crossing and its evaluation, between an event's commit and its delivery, and in the middle of a delivery,
on SQLite and PostgreSQL; and two PostgreSQL replicas sharing the outbox, one of them killed mid-delivery.
Every event is delivered after the restart (or by the other replica), nothing is lost, and a request is
repeated only with the same webhook-id, never two at once for one event."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from entitlement_support import create_meter
from notify_support import Notifications, Receiver, verify
from support import ServerProcess, wait_until

from meterd.client import OpenMeter
from meterd.v1 import notifications_pb2 as pb

pytestmark = pytest.mark.slow
_ids = itertools.count()
ENV = {
    "METERD_NOTIFICATIONS_ALLOW_PRIVATE_TARGETS": "true",
    "METERD_NOTIFICATIONS_ATTEMPT_TIMEOUT_SECONDS": "1",
}
SUCCESS = pb.NOTIFICATION_DELIVERY_STATE_SUCCESS


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return str(tmp_path / "meterd.db")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def setup_rule(address: str, url: str, subjects: int = 1) -> str:
    """A meter, a feature, entitlements of 10 for ``subjects`` subjects and a rule at usage 5; the secret."""
    with OpenMeter(address, timeout=30) as om:
        create_meter(om)
        om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
        for i in range(subjects):
            om.subjects.create_entitlement(
                f"c{i}",
                {
                    "type": "metered",
                    "featureKey": "ai_tokens",
                    "usagePeriod": {"interval": "DAY"},
                    "issueAfterReset": 10,
                },
            )
        n = Notifications(om.channel)
        channel = n.channel(url)
        n.rule([channel.id], [("NUMBER", 5)])
        return channel.signing_secret


def cross(address: str, subject: str = "c0") -> None:
    with OpenMeter(address, timeout=30) as om:
        om.events.ingest(
            {
                "specversion": "1.0",
                "id": f"f-{next(_ids)}",
                "source": "faults",
                "type": "tokens",
                "subject": subject,
                "time": datetime.now(UTC),
                "data": {"tokens": 6},
            }
        )


def events(address: str) -> list[pb.NotificationEvent]:
    with OpenMeter(address, timeout=30) as om:
        return Notifications(om.channel).events()


def delivered(address: str, n: int) -> bool:
    found = events(address)
    return len(found) == n and all(d.state == SUCCESS for e in found for d in e.delivery_status)


def test_kill_9_between_the_crossing_and_its_evaluation(db: str, receiver: Receiver) -> None:
    server = ServerProcess(db, env=ENV)  # type: ignore[arg-type]
    secret = setup_rule(server.address, receiver.url)
    cross(server.address)
    server.kill()  # right after the acknowledgement: the event may or may not have been stored
    server = ServerProcess(db, env=ENV)  # type: ignore[arg-type]
    try:
        wait_until(lambda: delivered(server.address, 1), 60, "the crossing re-derived and delivered")
        (event,) = events(server.address)
        assert {r.webhook_id for r in receiver.received} == {event.id}
        assert verify(secret, receiver.received[0])["data"]["value"]["usage"] == 6
    finally:
        server.kill()


def test_kill_9_between_the_commit_and_the_delivery(db: str, receiver: Receiver) -> None:
    server = ServerProcess(db, env=ENV)  # type: ignore[arg-type]
    secret = setup_rule(server.address, receiver.url)
    receiver.down()  # the event is stored; its first attempt finds nobody listening
    cross(server.address)
    wait_until(
        lambda: any(len(d.attempts) == 1 for e in events(server.address) for d in e.delivery_status),
        60,
        "a failed first attempt",
    )
    server.kill()
    receiver.up()
    server = ServerProcess(db, env=ENV)  # type: ignore[arg-type]
    try:
        wait_until(lambda: delivered(server.address, 1), 60, "the retry after the restart")
        (event,) = events(server.address)
        assert [r.webhook_id for r in receiver.received] == [event.id]
        verify(secret, receiver.received[0])
        assert [a.status_code for a in event.delivery_status[0].attempts] == [0, 200]
    finally:
        server.kill()


def test_kill_9_during_a_delivery(db: str, receiver: Receiver) -> None:
    server = ServerProcess(db, env=ENV)  # type: ignore[arg-type]
    setup_rule(server.address, receiver.url)
    receiver.behaviour.hang = True  # the request arrives; its answer never does
    cross(server.address)
    receiver.wait_count(1)
    server.kill()
    receiver.behaviour.hang = False
    server = ServerProcess(db, env=ENV)  # type: ignore[arg-type]
    try:
        wait_until(lambda: delivered(server.address, 1), 60, "the delivery taken over once its lease ended")
        (event,) = events(server.address)
        assert {r.webhook_id for r in receiver.received} == {event.id} and len(receiver.received) >= 2
        assert receiver.most_at_once == 1
    finally:
        server.kill()


def test_two_replicas_deliver_each_event_once_and_take_over_from_a_killed_one(
    pg_url: str, receiver: Receiver
) -> None:
    a = ServerProcess(pg_url, env=ENV)  # type: ignore[arg-type]
    b = ServerProcess(pg_url, env=ENV)  # type: ignore[arg-type]
    try:
        secret = setup_rule(a.address, receiver.url, subjects=20)
        for i in range(20):  # crossings committed through both replicas; both evaluate every change
            cross((a if i % 2 else b).address, f"c{i}")
        wait_until(lambda: delivered(a.address, 20), 60, "every event delivered")
        ids = [r.webhook_id for r in receiver.received]
        assert len(ids) == 20 and len(set(ids)) == 20  # one event per crossing, each delivered once
        assert all(verify(secret, r)["data"]["value"]["usage"] == 6 for r in receiver.received)
        # Mid-delivery on a replica that is then killed: the other takes the delivery over.
        b.kill()
        receiver.behaviour.hang = True
        with OpenMeter(a.address, timeout=30) as om:
            om.subjects.create_entitlement(
                "late",
                {
                    "type": "metered",
                    "featureKey": "ai_tokens",
                    "usagePeriod": {"interval": "DAY"},
                    "issueAfterReset": 10,
                },
            )
        cross(a.address, "late")
        receiver.wait_count(21)  # a sends it (b is down), and hangs
        b = ServerProcess(pg_url, env=ENV)  # type: ignore[arg-type]
        a.kill()
        receiver.behaviour.hang = False
        wait_until(lambda: delivered(b.address, 21), 60, "the killed replica's delivery taken over")
        last = [r for r in receiver.received[20:]]
        assert len({r.webhook_id for r in last}) == 1 and len(last) >= 2
        assert receiver.most_at_once == 1  # never two attempts of one event at once
    finally:
        a.kill()
        b.kill()
