"""Two meterd processes on one PostgreSQL changing the same entity at the same moment: voiding one grant,
resetting one entitlement at the same minute, creating the same feature key or meter slug, deleting or
archiving the same entity. Exactly one call wins, and the other gets the status it would get had it come
second (the one a third, later call gets too); the stored state is the winner's."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import psycopg
import pytest
from support import ServerProcess

from meterd.client import MeterdError, OpenMeter

ROUNDS = 6
OK = "OK"


@pytest.fixture
def two(pg_url: str) -> Iterator[tuple[OpenMeter, OpenMeter]]:
    servers = [ServerProcess(pg_url) for _ in range(2)]  # type: ignore[arg-type]
    clients = [OpenMeter(s.address, timeout=30) for s in servers]
    try:
        yield clients[0], clients[1]
    finally:
        for om in clients:
            om.close()
        for s in servers:
            s.terminate()


def outcome(call: Callable[[], Any]) -> str:
    try:
        call()
    except MeterdError as exc:
        return exc.code.name
    return OK


def race(a: Callable[[], Any], b: Callable[[], Any]) -> list[str]:
    """Both calls released at once (each on its own replica); their outcomes, sorted."""
    barrier = threading.Barrier(2)
    results: list[str] = []
    lock = threading.Lock()

    def run(call: Callable[[], Any]) -> None:
        barrier.wait(timeout=30)
        result = outcome(call)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run, args=(c,)) for c in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sorted(results)


def check(
    a: Callable[[], Any], b: Callable[[], Any], then: Callable[[], Any], loser: grpc.StatusCode
) -> None:
    """One of a and b wins, the other gets ``loser``, and so does ``then`` (the same call, one after)."""
    assert race(a, b) == sorted([OK, loser.name])
    assert outcome(then) == loser.name


def test_void_same_grant(two: tuple[OpenMeter, OpenMeter]) -> None:
    a, b = two
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=1)
    a.meters.create({"slug": "tokens", "eventType": "tokens", "aggregation": "SUM", "valueProperty": "$.n"})
    a.features.create({"key": "ai", "name": "AI", "meterSlug": "tokens"})
    a.subjects.create_entitlement(
        "s1",
        {
            "type": "metered",
            "featureKey": "ai",
            "usagePeriod": {"interval": "MONTH", "anchor": start},
            "measureUsageFrom": start,
        },
    )
    for _ in range(ROUNDS):
        grant = a.subjects.create_entitlement_grant(
            "s1", "ai", {"amount": 100, "effectiveAt": start, "expiration": {"duration": "YEAR", "count": 1}}
        )
        check(
            lambda g=grant: a.grants.void(g.id),
            lambda g=grant: b.grants.void(g.id),
            lambda g=grant: a.grants.void(g.id),
            grpc.StatusCode.FAILED_PRECONDITION,
        )
    # Every grant is voided once, and the value agrees on both replicas.
    grants = a.grants.list(subject=["s1"], include_voided=True)
    assert len(grants) == ROUNDS and all(g.voided_at is not None for g in grants)
    values = [om.subjects.get_entitlement_value("s1", "ai") for om in (a, b)]
    assert [(v.has_access, v.balance) for v in values] == [(False, 0)] * 2


def test_reset_same_entitlement(two: tuple[OpenMeter, OpenMeter], pg_url: str) -> None:
    a, b = two
    created = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=2)
    a.meters.create({"slug": "tokens", "eventType": "tokens", "aggregation": "SUM", "valueProperty": "$.n"})
    a.features.create({"key": "ai", "name": "AI", "meterSlug": "tokens"})
    a.subjects.create_entitlement(
        "s1",
        {
            "type": "metered",
            "featureKey": "ai",
            "usagePeriod": {"interval": "YEAR", "anchor": created},
            "measureUsageFrom": created,
        },
    )
    # Resets must not be before the entitlement's creation: it is moved two days back, so the test has past
    # minutes to reset at.
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE entitlements SET created_us = %s", (int(created.timestamp() * 1_000_000),))
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    for r in range(ROUNDS):
        at = now - timedelta(hours=ROUNDS - r)
        check(
            lambda t=at: a.subjects.reset_entitlement_usage("s1", "ai", t),
            lambda t=at: b.subjects.reset_entitlement_usage("s1", "ai", t),
            lambda t=at: b.subjects.reset_entitlement_usage("s1", "ai", t),
            grpc.StatusCode.FAILED_PRECONDITION,
        )
    # Resets at different minutes at once: the stored resets are those a one-after-the-other order allows (a
    # reset before a stored one fails).
    for r in range(ROUNDS):
        early, late = now - timedelta(minutes=50 - 2 * r), now - timedelta(minutes=49 - 2 * r)
        results = race(
            lambda t=early: a.subjects.reset_entitlement_usage("s1", "ai", t),
            lambda t=late: b.subjects.reset_entitlement_usage("s1", "ai", t),
        )
        assert results in ([OK, OK], sorted([OK, "FAILED_PRECONDITION"]))
        assert a.subjects.get_entitlement("s1", "ai").metered.last_reset == late
    assert (
        outcome(lambda: a.subjects.reset_entitlement_usage("s1", "ai", now - timedelta(minutes=60)))
        == "FAILED_PRECONDITION"
    )


def test_create_same_feature_and_meter(two: tuple[OpenMeter, OpenMeter]) -> None:
    a, b = two
    for r in range(ROUNDS):
        meter = {"slug": f"m{r}", "eventType": "t", "aggregation": "COUNT"}
        check(
            lambda m=meter: a.meters.create(m),
            lambda m=meter: b.meters.create(m),
            lambda m=meter: b.meters.create(m),
            grpc.StatusCode.ALREADY_EXISTS,
        )
        feature = {"key": f"f{r}", "name": "F", "meterSlug": f"m{r}"}
        check(
            lambda f=feature: a.features.create(f),
            lambda f=feature: b.features.create(f),
            lambda f=feature: a.features.create(f),
            grpc.StatusCode.ALREADY_EXISTS,
        )
        ent = {"type": "metered", "featureKey": f"f{r}", "usagePeriod": {"interval": "MONTH"}}
        check(
            lambda e=ent: a.subjects.create_entitlement("s1", e),
            lambda e=ent: b.subjects.create_entitlement("s1", e),
            lambda e=ent: b.subjects.create_entitlement("s1", e),
            grpc.StatusCode.ALREADY_EXISTS,
        )
    assert [m.slug for m in a.meters.list()] == [f"m{r}" for r in range(ROUNDS)]
    assert len(b.features.list()) == ROUNDS
    assert len(a.subjects.list_entitlements("s1")) == ROUNDS


def test_delete_same_entity(two: tuple[OpenMeter, OpenMeter]) -> None:
    a, b = two
    for r in range(ROUNDS):
        a.meters.create({"slug": f"m{r}", "eventType": "t", "aggregation": "COUNT"})
        a.features.create({"key": f"f{r}", "name": "F", "meterSlug": f"m{r}"})
        a.subjects.create_entitlement(
            "s1", {"type": "metered", "featureKey": f"f{r}", "usagePeriod": {"interval": "MONTH"}}
        )
        check(
            lambda k=f"f{r}": a.subjects.delete_entitlement("s1", k),
            lambda k=f"f{r}": b.subjects.delete_entitlement("s1", k),
            lambda k=f"f{r}": a.subjects.delete_entitlement("s1", k),
            grpc.StatusCode.NOT_FOUND,
        )
        check(
            lambda k=f"f{r}": a.features.delete(k),
            lambda k=f"f{r}": b.features.delete(k),
            lambda k=f"f{r}": b.features.delete(k),
            grpc.StatusCode.NOT_FOUND,
        )
        check(
            lambda k=f"m{r}": a.meters.delete(k),
            lambda k=f"m{r}": b.meters.delete(k),
            lambda k=f"m{r}": a.meters.delete(k),
            grpc.StatusCode.NOT_FOUND,
        )
    assert a.meters.list() == []


def test_entitlements_created_at_once_for_many_subjects_all_succeed(two: tuple[OpenMeter, OpenMeter]) -> None:
    """Creations that touch different subjects are not conflicts: onboarding many customers at once (8 threads
    over both replicas, as a provisioning job would) stores every entitlement, none refused as UNAVAILABLE
    after serialization retries (a check that read the whole table, or every entitlement of the feature,
    made each creation conflict with all the others)."""
    a, b = two
    a.meters.create({"slug": "m", "eventType": "t", "aggregation": "COUNT"})
    a.features.create({"key": "f", "name": "F", "meterSlug": "m"})
    subjects = [f"s-{i}" for i in range(400)]
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def work(om: OpenMeter, mine: list[str]) -> None:
        barrier.wait(timeout=30)
        for subject in mine:
            outcome_ = outcome(
                lambda s=subject: om.subjects.create_entitlement(
                    s, {"type": "metered", "featureKey": "f", "usagePeriod": {"interval": "MONTH"}}
                )
            )
            if outcome_ != OK:
                with lock:
                    errors.append(f"{subject}: {outcome_}")

    threads = [threading.Thread(target=work, args=((a, b)[i % 2], subjects[i::8])) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(e.subject_key for e in a.entitlements.list(feature="f", limit=1000)) == sorted(subjects)
