"""WatchEntitlementValues and the client's watch and cache through the real server: initial values then
changes, consistency with GetEntitlementValue after random sequences, thresholds, resume, slow readers,
cancel and shutdown, and the cache's staleness bound."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from entitlement_support import create_meter
from support import Clock, free_port

from meterd.client import AsyncOpenMeter, InvalidArgumentError, MeterdError, OpenMeter, UnavailableError
from meterd.client._watch import Mirror
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.v1 import entitlements_pb2, entitlements_pb2_grpc

START = datetime(2024, 1, 1, tzinfo=UTC)
_ids = itertools.count()
DEADLINE = 30.0


def usage(om: OpenMeter, at: datetime, tokens: float, subject: str = "customer-1") -> None:
    om.events.ingest(
        {
            "specversion": "1.0",
            "id": f"w-{next(_ids)}",
            "source": "test",
            "type": "tokens",
            "subject": subject,
            "time": at,
            "data": {"tokens": tokens},
        }
    )


def metered(**overrides: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"type": "metered", "featureKey": "ai_tokens", "usagePeriod": {"interval": "DAY"}}
    e.update(overrides)
    return e


def wait_for(condition: Callable[[], bool], what: str, deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class Collector:
    """Reads a watch on a thread: every message, and the mirror they build."""

    def __init__(self, watch: Any) -> None:
        self.watch = watch
        self.messages: list[entitlements_pb2.WatchEntitlementValuesResponse] = []
        self.mirror = Mirror()
        self.by_id: dict[str, entitlements_pb2.EntitlementValueUpdate] = {}
        self.error: BaseException | None = None
        self.finished = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for result in self.watch:
                m = result.proto  # the wire message: these tests compare with the generated enums
                for u in m.updates:
                    self.by_id[u.entitlement_id] = u
                self.mirror.apply(m)
                self.messages.append(m)
        except BaseException as exc:
            self.error = exc
        finally:
            self.finished.set()

    def crossings(self) -> list[entitlements_pb2.ThresholdCrossing]:
        return [c for m in list(self.messages) for c in m.crossings]

    def close(self) -> None:
        self.watch.close()
        self.finished.wait(10)


@pytest.fixture
def om(clocked_om: OpenMeter, clock: Clock) -> OpenMeter:
    clock.set(START + timedelta(seconds=30))  # values read up to START + 1 min: events at START count
    create_meter(clocked_om)
    clocked_om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
    clocked_om.features.create({"key": "sso", "name": "SSO"})
    return clocked_om


@pytest.fixture
def watches(om: OpenMeter) -> Iterator[list[Collector]]:
    opened: list[Collector] = []
    yield opened
    for c in opened:
        c.close()


def same(update: entitlements_pb2.EntitlementValueUpdate, value: entitlements_pb2.EntitlementValue) -> bool:
    return update.HasField("value") and update.value == value


def test_initial_values_then_a_coalesced_message_per_change(om: OpenMeter, watches: list[Collector]) -> None:
    m = om.subjects.create_entitlement("customer-1", metered(issueAfterReset=100))
    b = om.subjects.create_entitlement("customer-1", {"type": "boolean", "featureKey": "sso"})
    w = Collector(
        om.entitlements.watch(subject="customer-1", coalesce_interval=1.0)
    )  # > the burst, even on a busy machine
    watches.append(w)
    wait_for(lambda: w.mirror.synced, "the initial snapshot")
    first = w.messages[0]
    assert first.snapshot == entitlements_pb2.WATCH_SNAPSHOT_CAUSE_INITIAL and first.snapshot_complete
    assert {u.entitlement_id for u in first.updates} == {m.id, b.id}
    assert w.by_id[b.id].value.has_access and w.by_id[m.id].value.balance == 100
    before = len(w.messages)
    for _ in range(10):  # a burst: coalesced into one message
        usage(om, START, 3)
    expected = om.subjects.get_entitlement_value("customer-1", "ai_tokens").proto
    wait_for(lambda: same(w.by_id[m.id], expected), "the burst's value")
    assert w.by_id[m.id].value.balance == 70 and w.by_id[m.id].value.usage == 30
    later = [u for msg in w.messages[before:] for u in msg.updates]
    assert len(later) <= 2  # one message, or two if the burst straddled the interval
    assert entitlements_pb2.ENTITLEMENT_CHANGE_REASON_USAGE in later[-1].reasons


def test_every_kind_of_change_is_sent_with_its_reason(
    om: OpenMeter, clock: Clock, watches: list[Collector]
) -> None:
    w = Collector(om.entitlements.watch(subject="customer-1", coalesce_interval=0))
    watches.append(w)
    wait_for(lambda: w.mirror.synced, "the initial snapshot")
    reasons = entitlements_pb2.EntitlementChangeReason

    def last_reasons(eid: str) -> set[str]:
        return {reasons.Name(r) for r in w.by_id[eid].reasons} if eid in w.by_id else set()

    e = om.subjects.create_entitlement("customer-1", metered())
    wait_for(lambda: "ENTITLEMENT_CHANGE_REASON_ENTITLEMENT_CREATED" in last_reasons(e.id), "created")
    g = om.subjects.create_entitlement_grant(
        "customer-1",
        "ai_tokens",
        {
            "amount": 50,
            "effectiveAt": START,
            "expiration": {"duration": "DAY", "count": 3},
            "maxRolloverAmount": 50,
        },
    )
    wait_for(lambda: w.by_id[e.id].value.balance == 50, "grant created")
    assert "ENTITLEMENT_CHANGE_REASON_GRANT_CREATED" in last_reasons(e.id)
    usage(om, START, 20)
    wait_for(lambda: w.by_id[e.id].value.usage == 20, "usage")
    clock.advance(hours=2)
    usage(om, START + timedelta(minutes=30), 5)  # late event
    wait_for(lambda: w.by_id[e.id].value.usage == 25, "a late event")
    clock.advance(minutes=5)
    om.subjects.reset_entitlement_usage("customer-1", "ai_tokens")
    wait_for(lambda: w.by_id[e.id].value.usage == 0, "reset")
    assert w.by_id[e.id].value.balance == 25  # rolled over
    assert "ENTITLEMENT_CHANGE_REASON_RESET" in last_reasons(e.id)
    clock.advance(minutes=5)
    om.grants.void(g.id)
    wait_for(lambda: w.by_id[e.id].value.balance == 0, "void")
    assert "ENTITLEMENT_CHANGE_REASON_GRANT_VOIDED" in last_reasons(e.id)
    om.subjects.create_entitlement_grant(
        "customer-1",
        "ai_tokens",
        {
            "amount": 10,
            "effectiveAt": clock() + timedelta(hours=1),
            "expiration": {"duration": "DAY", "count": 1},
        },
    )
    usage(om, clock(), 1)  # seen once the grant's creation has been handled (it changed nothing yet)
    wait_for(lambda: w.by_id[e.id].value.usage == 1, "usage after the reset")
    assert w.by_id[e.id].value.balance == 0
    clock.advance(hours=1)  # the future grant starts: a TIME change (it first pays the overage of 1)
    wait_for(lambda: w.by_id[e.id].value.balance == 9, "a grant starting")
    assert "ENTITLEMENT_CHANGE_REASON_TIME" in last_reasons(e.id)
    replaced = om.subjects.override_entitlement("customer-1", "ai_tokens", metered(issueAfterReset=7))
    wait_for(lambda: w.by_id[e.id].deleted and replaced.id in w.by_id, "overridden")
    assert "ENTITLEMENT_CHANGE_REASON_ENTITLEMENT_OVERRIDDEN" in last_reasons(e.id)
    assert "ENTITLEMENT_CHANGE_REASON_ENTITLEMENT_OVERRIDDEN" in last_reasons(replaced.id)
    assert (
        w.mirror.values[("customer-1", "ai_tokens")]
        == om.subjects.get_entitlement_value("customer-1", "ai_tokens").proto
    )
    om.subjects.delete_entitlement("customer-1", "ai_tokens")
    wait_for(lambda: w.by_id[replaced.id].deleted, "deleted")
    assert "ENTITLEMENT_CHANGE_REASON_ENTITLEMENT_DELETED" in last_reasons(replaced.id)
    assert not w.by_id[replaced.id].HasField("value") and ("customer-1", "ai_tokens") not in w.mirror.values


@pytest.mark.parametrize("seed", [16, 1616])
def test_random_sequences_end_with_the_values_get_entitlement_value_gives(
    om: OpenMeter, clock: Clock, watches: list[Collector], seed: int
) -> None:
    rng = random.Random(seed)
    subjects = ["customer-1", "customer-2", "customer-3"]
    for s in subjects:
        om.subjects.create_entitlement(s, metered(issueAfterReset=rng.choice([0.5, 40, 100])))
    w = Collector(om.entitlements.watch(subject=subjects, coalesce_interval=0.05))
    watches.append(w)
    wait_for(lambda: w.mirror.synced, "the initial snapshot")
    grants: list[str] = []
    for _ in range(60):
        s = rng.choice(subjects)
        op = rng.random()
        now = clock()
        if op < 0.45:
            late = timedelta(minutes=rng.choice([0, 0, 1, 30, 300, -3]))  # late, on time, or in the future
            usage(om, max(START, now - late), rng.choice([1, 2.5, 10, 35]), subject=s)
        elif op < 0.6:
            g = om.subjects.create_entitlement_grant(
                s,
                "ai_tokens",
                {
                    "amount": rng.choice([5, 20, 60]),
                    "effectiveAt": now,
                    "expiration": {"duration": rng.choice(["HOUR", "DAY"]), "count": 1},
                },
            )
            grants.append(g.id)
        elif op < 0.68 and grants:
            with contextlib.suppress(MeterdError):  # already voided: fine
                om.grants.void(grants.pop(rng.randrange(len(grants))))
        elif op < 0.75:
            with contextlib.suppress(MeterdError):  # a second reset in the same minute
                om.subjects.reset_entitlement_usage(s, "ai_tokens", retain_anchor=rng.random() < 0.5)
        elif op < 0.76:
            with contextlib.suppress(MeterdError):  # deleted and created again: a new entitlement
                om.subjects.delete_entitlement(s, "ai_tokens")
            om.subjects.create_entitlement(s, metered(issueAfterReset=rng.choice([5, 50])))
        elif op < 0.79:
            om.subjects.override_entitlement(s, "ai_tokens", metered(issueAfterReset=rng.choice([3, 30])))
        else:
            clock.advance(minutes=rng.choice([1, 2, 7, 59, 600, 1440]))  # crosses hours and day boundaries

    def consistent() -> bool:
        for s in subjects:
            v = om.subjects.get_entitlement_value(s, "ai_tokens").proto
            if w.mirror.values.get((s, "ai_tokens")) != v:
                return False
        return True

    wait_for(consistent, "every last value to equal GetEntitlementValue")
    assert w.error is None


@pytest.mark.parametrize("seed", [7, 77, 777])
def test_every_message_equals_get_entitlement_value_at_that_moment(
    om: OpenMeter, clock: Clock, clocked_server: MeterdServer, watches: list[Collector], seed: int
) -> None:
    """Step by step (the clock still between steps, so "that moment" is well defined): after each change the
    watcher's value of every entitlement equals GetEntitlementValue, whether the server continued it from
    its basis (usage alone: the cheap path) or computed it in full (late events, grants with priorities and
    expiries, voids, resets with rollover and preserved overage, period boundaries, overage)."""
    rng = random.Random(seed)
    subjects = ["customer-1", "customer-2"]
    for s in subjects:
        om.subjects.create_entitlement(
            s,
            metered(
                issueAfterReset=rng.choice([10, 40]),
                isSoftLimit=rng.random() < 0.3,
                preserveOverageAtReset=rng.random() < 0.5,
            ),
        )
    w = Collector(
        om.entitlements.watch(
            subject=subjects, coalesce_interval=0, thresholds=[{"balance_below": 5}, {"usage_above": 50}]
        )
    )
    watches.append(w)
    wait_for(lambda: w.mirror.synced, "the initial snapshot")
    grants: list[str] = []

    def consistent() -> bool:
        return all(
            w.mirror.values.get((s, "ai_tokens")) == om.subjects.get_entitlement_value(s, "ai_tokens").proto
            for s in subjects
        )

    for step in range(70):
        s = rng.choice(subjects)
        op = rng.random()
        now = clock()
        if op < 0.55:  # mostly usage: on time (the cheap path), late (a full computation), or in the future
            late = timedelta(minutes=rng.choice([0, 0, 0, 0, 1, 3, 45, 200, -2]))
            usage(om, max(START, now - late), rng.choice([0.5, 1, 2.5, 7, 30]), subject=s)
        elif op < 0.67:
            grant: dict[str, Any] = {
                "amount": rng.choice([3, 10, 25]),
                "priority": rng.choice([1, 2, 5]),
                "effectiveAt": now - timedelta(minutes=rng.choice([0, 0, 5])),
                "expiration": {"duration": rng.choice(["HOUR", "DAY"]), "count": rng.choice([1, 2])},
                "maxRolloverAmount": rng.choice([0, 5, 100]),
            }
            if rng.random() < 0.2:
                grant["recurrence"] = {"interval": "DAY"}
            with contextlib.suppress(InvalidArgumentError):  # backdated before the period's start
                grants.append(om.subjects.create_entitlement_grant(s, "ai_tokens", grant).id)
        elif op < 0.72 and grants:
            with contextlib.suppress(MeterdError):  # already voided or expired: fine
                om.grants.void(grants.pop(rng.randrange(len(grants))))
        elif op < 0.78:
            with contextlib.suppress(MeterdError):  # a second reset in the same minute
                om.subjects.reset_entitlement_usage(
                    s,
                    "ai_tokens",
                    retain_anchor=rng.random() < 0.5,
                    preserve_overage=rng.choice([None, True, False]),
                )
        else:
            clock.advance(minutes=rng.choice([1, 1, 2, 13, 59, 61, 300, 1440]))  # expiries, hours, periods
        wait_for(consistent, f"step {step}: every value to equal GetEntitlementValue")
    assert w.error is None
    (session,) = clocked_server.services.watch.sessions()
    assert session.continued > 0 and session.computed_in_full > 0  # both paths were taken


def test_a_deleted_or_redefined_meter_reaches_the_watchers_of_its_entitlements(
    om: OpenMeter, watches: list[Collector]
) -> None:
    e = om.subjects.create_entitlement("customer-1", metered(issueAfterReset=100))
    w = Collector(om.entitlements.watch(subject="customer-1", coalesce_interval=0))
    watches.append(w)
    wait_for(lambda: w.mirror.synced, "the initial snapshot")
    usage(om, START, 10)
    usage(om, START, 5)
    wait_for(lambda: w.by_id[e.id].value.usage == 15, "usage 15")
    reasons = entitlements_pb2.EntitlementChangeReason
    om.features.delete("ai_tokens")  # archived: the entitlement stays, on the meter's slug
    om.meters.delete("tokens_total")
    wait_for(
        lambda: entitlements_pb2.ENTITLEMENT_CHANGE_REASON_METER_DELETED in w.by_id[e.id].reasons,
        "the meter's deletion",
    )
    gone = w.by_id[e.id]
    assert not gone.deleted and not gone.HasField("value") and "tokens_total" in gone.unavailable
    with pytest.raises(MeterdError):
        om.subjects.get_entitlement_value("customer-1", e.id)
    # Defined again with the same slug, counting events instead of summing tokens: the new value.
    om.meters.create({"slug": "tokens_total", "eventType": "tokens", "aggregation": "COUNT"})
    wait_for(
        lambda: entitlements_pb2.ENTITLEMENT_CHANGE_REASON_METER_UPDATED in w.by_id[e.id].reasons,
        "the meter's new definition",
    )
    now = w.by_id[e.id]
    assert now.HasField("value") and not now.unavailable, reasons.Name(now.reasons[0])
    assert now.value == om.subjects.get_entitlement_value("customer-1", e.id).proto
    assert (now.value.usage, now.value.balance) == (2, 98)
    usage(om, START, 7)  # usage of the new definition reaches the watcher too (tracked under it again)
    wait_for(lambda: w.by_id[e.id].value.usage == 3, "usage counted by the new meter")


def test_thresholds_fire_once_per_crossing_and_period(
    om: OpenMeter, clock: Clock, watches: list[Collector]
) -> None:
    e = om.subjects.create_entitlement("customer-1", metered(issueAfterReset=100))
    w = Collector(
        om.entitlements.watch(
            subject="customer-1",
            coalesce_interval=0,
            thresholds=[{"balance_below": 50}, {"usageAbove": 80}, {"balance_below_percent": 25}],
        )
    )
    watches.append(w)
    wait_for(lambda: w.mirror.synced, "the initial snapshot")

    def fired() -> list[tuple[int, float]]:
        return [(c.threshold_index, c.value.balance) for c in w.crossings()]

    def settle(usage_now: float) -> None:
        wait_for(lambda: w.by_id[e.id].value.usage == usage_now, f"usage {usage_now}")

    usage(om, START, 30)
    settle(30)
    assert fired() == []
    usage(om, START, 30)  # balance 40 < 50
    settle(60)
    wait_for(lambda: len(fired()) == 1, "the balance_below crossing")
    usage(om, START, 5)  # still below: no second message
    settle(65)
    usage(om, START, 20)  # usage 85 > 80, balance 15 < 25%
    settle(85)
    wait_for(lambda: len(fired()) == 3, "usage_above and balance_below_percent")
    usage(om, START, 10)
    settle(95)
    assert sorted(i for i, _ in fired()) == [0, 1, 2]
    c = w.crossings()[0]
    assert c.entitlement_id == e.id and c.threshold.balance_below == 50 and c.value.balance == 40
    # A new usage period: the balance is back to 100, and crossing again is a new crossing.
    clock.set(START + timedelta(days=1, minutes=1))
    wait_for(lambda: w.by_id[e.id].value.balance == 100, "the period boundary")
    usage(om, START + timedelta(days=1), 60)
    wait_for(lambda: len(fired()) == 4, "the next period's crossing")
    assert fired()[-1] == (0, 40)
    assert all(not m.crossings or not m.updates for m in w.messages)  # a crossing is a message of its own


def test_resume_continues_without_a_gap_or_starts_over_when_too_old(
    om: OpenMeter, watches: list[Collector]
) -> None:
    e = om.subjects.create_entitlement("customer-1", metered(issueAfterReset=100))
    first = Collector(om.entitlements.watch(subject="customer-1", coalesce_interval=0, reconnect=False))
    wait_for(lambda: first.mirror.synced, "the initial snapshot")
    usage(om, START, 10)
    wait_for(lambda: first.by_id[e.id].value.usage == 10, "usage 10")
    position = first.messages[-1].position
    first.close()
    usage(om, START, 15)  # while disconnected
    resumed = Collector(
        om.entitlements.watch(subject="customer-1", coalesce_interval=0, resume_position=position)
    )
    watches.append(resumed)
    wait_for(lambda: e.id in resumed.by_id and resumed.by_id[e.id].value.usage == 25, "the missed change")
    assert resumed.messages[0].resumed and not resumed.messages[0].snapshot
    assert entitlements_pb2.ENTITLEMENT_CHANGE_REASON_USAGE in resumed.by_id[e.id].reasons

    old = Collector(om.entitlements.watch(subject="customer-1", resume_position="0123456789ab.3"))
    watches.append(old)
    wait_for(lambda: old.mirror.synced, "a fresh snapshot")
    assert old.messages[0].snapshot == entitlements_pb2.WATCH_SNAPSHOT_CAUSE_RESUME_TOO_OLD
    assert old.by_id[e.id].value.usage == 25


def test_resume_replays_the_threshold_crossings_made_while_disconnected_once_each(
    om: OpenMeter, clocked_server: MeterdServer, watches: list[Collector]
) -> None:
    e = om.subjects.create_entitlement("customer-1", metered(issueAfterReset=100))
    thresholds = [{"balance_below": 50}, {"usage_above": 80}]
    first = Collector(
        om.entitlements.watch(
            subject="customer-1", coalesce_interval=0, thresholds=thresholds, reconnect=False
        )
    )
    wait_for(lambda: first.mirror.synced, "the initial snapshot")
    usage(om, START, 30)
    wait_for(lambda: first.by_id[e.id].value.usage == 30, "usage 30")
    position = first.messages[-1].position
    first.close()
    service = clocked_server.services.watch
    (detached,) = service.sessions()  # still computing, with nobody reading
    usage(om, START, 30)  # balance 40: below 50
    usage(om, START, 25)  # usage 85: above 80
    wait_for(lambda: len(detached._crossing_log) == 2, "the crossings made while disconnected")
    resumed = Collector(
        om.entitlements.watch(
            subject="customer-1",
            coalesce_interval=0,
            thresholds=thresholds,
            resume_position=position,
            reconnect=False,
        )
    )
    watches.append(resumed)
    wait_for(lambda: e.id in resumed.by_id and resumed.by_id[e.id].value.usage == 85, "the missed values")
    assert resumed.messages[0].resumed and not resumed.messages[0].snapshot
    assert sorted((c.threshold_index, c.replayed) for c in resumed.crossings()) == [(0, True), (1, True)]
    assert service.sessions() == [detached]  # the same session carries on
    usage(om, START, 10)  # still beyond both: no crossing again
    wait_for(lambda: resumed.by_id[e.id].value.usage == 95, "usage 95")
    assert len(resumed.crossings()) == 2 and first.crossings() == []

    # Too old (another server run's position): a snapshot, and no crossing replayed although the value is
    # beyond both thresholds (the value shows it).
    old = Collector(
        om.entitlements.watch(
            subject="customer-1",
            thresholds=thresholds,
            resume_position="0123456789ab.3.abcd1234.7",
            reconnect=False,
        )
    )
    watches.append(old)
    wait_for(lambda: old.mirror.synced, "a fresh snapshot")
    assert old.messages[0].snapshot == entitlements_pb2.WATCH_SNAPSHOT_CAUSE_RESUME_TOO_OLD
    assert old.by_id[e.id].value.usage == 95 and old.crossings() == []


def test_refusals(om: OpenMeter) -> None:
    stub = entitlements_pb2_grpc.EntitlementServiceStub(om.channel)
    cases = [
        (entitlements_pb2.WatchEntitlementValuesRequest(), "subject_keys"),
        (
            entitlements_pb2.WatchEntitlementValuesRequest(
                subject_keys=["c"],
                thresholds=[entitlements_pb2.EntitlementThreshold(balance_below_percent=120)],
            ),
            "thresholds[0].balance_below_percent",
        ),
        (
            entitlements_pb2.WatchEntitlementValuesRequest(
                subject_keys=["c"], thresholds=[entitlements_pb2.EntitlementThreshold()]
            ),
            "thresholds[0]",
        ),
        (
            entitlements_pb2.WatchEntitlementValuesRequest(subject_keys=["c"], resume_position="nope"),
            "resume_position",
        ),
    ]
    for request, field in cases:
        with pytest.raises(grpc.RpcError) as info:
            next(iter(stub.WatchEntitlementValues(request, timeout=10)))
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in (info.value.details() or "")
    with pytest.raises(ValueError):
        om.entitlements.watch()
    with pytest.raises(InvalidArgumentError):
        next(iter(om.entitlements.watch(subject="c", thresholds=[{"usage_above": 1}], coalesce_interval=120)))


def test_a_reader_that_stops_reading_holds_bounded_memory(
    om: OpenMeter, clocked_server: MeterdServer, watches: list[Collector]
) -> None:
    subjects = [f"s-{i}" for i in range(40)]
    for s in subjects:
        om.subjects.create_entitlement(s, metered(issueAfterReset=1000))
    stub = entitlements_pb2_grpc.EntitlementServiceStub(om.channel)
    call = stub.WatchEntitlementValues(
        entitlements_pb2.WatchEntitlementValuesRequest(subject_keys=subjects, coalesce_interval={"nanos": 0})
    )
    next(call)  # the snapshot: then stop reading
    service = clocked_server.services.watch
    wait_for(lambda: service.session_count == 1, "the session")
    session = service.sessions()[0]
    for round_ in range(30):
        om.events.ingest(
            [
                {
                    "specversion": "1.0",
                    "id": f"slow-{round_}-{s}",
                    "source": "t",
                    "type": "tokens",
                    "subject": s,
                    "time": START,
                    "data": {"tokens": 1},
                }
                for s in subjects
            ]
        )
        assert session.watch.pending_count() <= len(subjects)  # one entry per entitlement at most
    clocked_server.services.watching.source.flush()
    assert session.watch.pending_count() <= len(subjects)
    # Reading again: the values catch up with GetEntitlementValue.
    latest: dict[str, entitlements_pb2.EntitlementValue] = {}
    expected = {s: om.subjects.get_entitlement_value(s, "ai_tokens").proto for s in subjects}
    for message in call:
        for u in message.updates:
            latest[u.subject_key] = u.value
        if all(latest.get(s) == v for s, v in expected.items()):
            break
    call.cancel()


def test_cancel_ends_the_session_and_shutdown_ends_the_stream_cleanly(
    server_config: Config, tmp_path: Path
) -> None:
    srv = MeterdServer(server_config).start()
    try:
        om = OpenMeter(srv.address, timeout=30)
        service = srv.services.watch
        w = Collector(om.entitlements.watch(subject="a", reconnect=False))
        wait_for(lambda: w.mirror.synced and service.session_count == 1, "a session")
        w.close()
        wait_for(lambda: service.session_count == 0, "the cancelled session to end")
        assert w.error is None
        w2 = Collector(om.entitlements.watch(subject="a", reconnect=False))
        wait_for(lambda: w2.mirror.synced, "a second session")
        started = time.monotonic()
        srv.stop()
        assert w2.finished.wait(10) and w2.error is None  # ended with OK, not cut off after the grace period
        assert time.monotonic() - started < server_config.grace_seconds + 1
        om.close()
    finally:
        srv.stop(0)


def test_async_watch_yields_the_snapshot_and_changes(om: OpenMeter, clocked_server: MeterdServer) -> None:
    e = om.subjects.create_entitlement("customer-1", metered(issueAfterReset=10))

    async def main() -> list[float]:
        balances: list[float] = []
        async with (
            AsyncOpenMeter(clocked_server.address) as aom,
            aom.entitlements.watch(subject="customer-1", coalesce_interval=0) as watch,
        ):
            async for message in watch:
                for u in message.updates:
                    if u.entitlement_id == e.id:
                        balances.append(u.value.balance)
                        assert isinstance(u.computed_at, datetime)
                if message.snapshot_complete:
                    await asyncio.to_thread(usage, om, START, 4)
                if balances[-1:] == [6]:
                    break
        return balances

    assert asyncio.run(asyncio.wait_for(main(), DEADLINE)) == [10, 6]


def test_cache_answers_from_memory_within_its_staleness_bound(om: OpenMeter, clock: Clock) -> None:
    om.subjects.create_entitlement("customer-1", metered(issueAfterReset=10))
    om.subjects.create_entitlement("customer-1", {"type": "boolean", "featureKey": "sso"})
    with om.entitlements.cache(subject="customer-1", coalesce_interval=0.05, max_staleness=2) as cache:
        assert cache.fresh
        assert cache.has_access("customer-1", "ai_tokens") and cache.has_access("customer-1", "sso")
        assert not cache.has_access("customer-1", "nothing")
        v = cache.value("customer-1", "ai_tokens")
        assert v is not None and v.balance == 10
        usage(om, START, 10)  # acknowledged: the cache must say so within the bound
        acked = time.monotonic()
        wait_for(
            lambda: not cache.has_access("customer-1", "ai_tokens"),
            "the cache to see the change",
            deadline=cache.max_staleness + 0.05,
        )
        assert time.monotonic() - acked < cache.max_staleness
        # Outside the selection: a call.
        om.subjects.create_entitlement("customer-2", {"type": "boolean", "featureKey": "sso"})
        assert cache.has_access("customer-2", "sso")


def test_cache_falls_back_to_calls_when_disconnected_and_reconnects(tmp_path: Path) -> None:
    port = free_port()
    config = Config(
        listen=f"127.0.0.1:{port}", db=str(tmp_path / "m.db"), grace_seconds=1.0, log_format="text"
    )
    srv = MeterdServer(config).start()
    om = OpenMeter(srv.address, timeout=5)
    om.features.create({"key": "sso", "name": "SSO"})
    om.subjects.create_entitlement("c", {"type": "boolean", "featureKey": "sso"})
    cache = om.entitlements.cache(subject="c", max_staleness=0.5)
    try:
        assert cache.fresh and cache.has_access("c", "sso")
        srv.stop(0)
        wait_for(lambda: not cache.fresh, "the cache to notice the server is gone", deadline=5)
        with pytest.raises(UnavailableError):
            cache.has_access("c", "sso")  # a call, which fails: no stale answer past the bound
        srv = MeterdServer(config).start()
        wait_for(lambda: cache.fresh, "the cache to reconnect by itself")
        assert cache.has_access("c", "sso")
    finally:
        cache.close()
        om.close()
        srv.stop(0)


def test_async_cache_answers_from_memory(om: OpenMeter, clocked_server: MeterdServer) -> None:
    om.subjects.create_entitlement("customer-1", metered(issueAfterReset=10))

    async def main() -> tuple[bool, bool, bool]:
        async with AsyncOpenMeter(clocked_server.address) as aom:
            cache = await aom.entitlements.cache(subject="customer-1", coalesce_interval=0)
            try:
                before = await cache.has_access("customer-1", "ai_tokens")
                await asyncio.to_thread(usage, om, START, 10)
                deadline = time.monotonic() + DEADLINE
                while await cache.has_access("customer-1", "ai_tokens") and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                after = await cache.has_access("customer-1", "ai_tokens")
                return cache.fresh, before, after
            finally:
                await cache.close()

    assert asyncio.run(main()) == (True, True, False)


def test_an_idle_watch_sends_heartbeats_with_its_position(om: OpenMeter, watches: list[Collector]) -> None:
    om.subjects.create_entitlement("customer-1", {"type": "boolean", "featureKey": "sso"})
    w = Collector(om.entitlements.watch(subject="customer-1", heartbeat_interval=0.2))
    watches.append(w)
    wait_for(lambda: len(w.messages) >= 3, "two heartbeats after the snapshot")
    beats = w.messages[1:3]
    assert all(not m.updates and not m.crossings and not m.snapshot for m in beats)
    assert beats[0].position == w.messages[0].position  # nothing changed: the same position
    with pytest.raises(InvalidArgumentError):
        next(iter(om.entitlements.watch(subject="c", heartbeat_interval=0.01)))


def test_idle_watches_hold_no_worker_thread(server_config: Config) -> None:
    """More open watches than worker threads: unary calls are still served (a watch waits on the event loop)."""
    config = server_config.model_copy(update={"workers": 2})
    srv = MeterdServer(config).start()
    try:
        with OpenMeter(srv.address, timeout=30) as om:
            om.features.create({"key": "sso", "name": "SSO"})
            om.subjects.create_entitlement("a", {"type": "boolean", "featureKey": "sso"})
            watches = [Collector(om.entitlements.watch(subject="a", reconnect=False)) for _ in range(8)]
            wait_for(lambda: all(w.mirror.synced for w in watches), "eight watches")
            assert om.subjects.get_entitlement_value("a", "sso", timeout=10).has_access
            for w in watches:
                w.close()
    finally:
        srv.stop(0)


def test_watch_messages_are_python_values(om: OpenMeter) -> None:
    e = om.subjects.create_entitlement("customer-1", metered(issueAfterReset=10))
    with om.entitlements.watch(subject="customer-1") as watch:
        first = next(iter(watch))
    assert first.snapshot == "INITIAL" and first.snapshot_complete and not first.resumed
    (update,) = first.updates
    assert update.entitlement_id == e.id and update.reasons == ["SNAPSHOT"]
    assert update.computed_at == START + timedelta(seconds=30) and update.value.balance == 10
    assert first.to_dict()["updates"][0]["value"]["balance"] == 10
    with om.entitlements.cache(subject="customer-1") as cache:
        assert cache.value("customer-1", "ai_tokens") == om.subjects.get_entitlement_value(
            "customer-1", "ai_tokens"
        )
        assert cache.value("customer-2", "ai_tokens") is None  # outside the selection: a call, NOT_FOUND
