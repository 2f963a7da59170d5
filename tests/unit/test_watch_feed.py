"""The change feed as pure code: positions and resuming, which watches a change reaches, coalescing, bounded
memory, timers, thresholds (once per crossing and period), and when time alone changes a value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from meterd.server.credit import engine
from meterd.server.errors import InvalidArgument
from meterd.server.periods import Interval, UsagePeriod
from meterd.server.watch.changes import Change, ChangeLog, Reason
from meterd.server.watch.feed import ChangeFeed, Selection, Watch, Watched
from meterd.server.watch.schedule import next_engine_instant, wake_time
from meterd.server.watch.service import LATE_CUTOFF_US, usage_changes
from meterd.server.watch.thresholds import Reading, Threshold, ThresholdKind, ThresholdTracker, is_beyond

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def usage(subject: str, event_type: str = "tokens") -> Change:
    return Change(Reason.USAGE, event_type=event_type, subjects=frozenset({subject}))


def watch(
    subjects: tuple[str, ...] = ("a",),
    features: tuple[str, ...] = (),
    interval: float = 0.1,
    max_pending: int = 100,
) -> Watch:
    w = Watch(Selection(frozenset(subjects), frozenset(features)), interval, max_pending=max_pending)
    return w


# -- the log -------------------------------------------------------------------------------------------
def test_log_numbers_changes_and_resumes_only_while_it_remembers() -> None:
    log = ChangeLog(capacity=3, epoch="e1")
    assert log.append([usage("a"), usage("b")]) == [(1, usage("a")), (2, usage("b"))]
    assert log.since(0) == [usage("a"), usage("b")] and log.since(2) == [] and log.since(1) == [usage("b")]
    log.append([usage("c"), usage("d")])  # the ring holds 2..4 now
    assert log.since(0) is None and log.since(1) == [usage("b"), usage("c"), usage("d")]
    assert log.since(5) is None  # from the future: not ours
    log.mark_gap()  # unlogged changes after 4: the gap takes position 5
    assert log.since(4) is None and log.since(3) is None and log.since(5) == []
    log.mark_gap()  # still the same gap
    assert log.position == 5
    log.append([usage("e")])
    assert log.since(6) == [] and log.since(5) == [usage("e")]  # a snapshot taken after the gap resumes
    assert log.parse(log.token(7)) == 7 and log.parse("other.7") is None
    big = Change(Reason.USAGE, event_type="t", subjects=frozenset({"x", "y"}))
    log.append([big, big])  # weight 2 each: only the last one fits in 3
    assert log.remembered() == (1, 2) and log.since(6) is None and log.since(7) == [big]
    for bad in (
        "",
        "e1",
        "e1.",
        "e1.x",
        ".3",
        "e1.²",
        "e1." + "9" * 5000,
        "e1.1.x",
        "e1.1.x.y",
        "é.1",
        "e1.s",
    ):
        with pytest.raises(InvalidArgument):
            log.parse(bad)
    assert log.parse(log.token(3, partial=True)) is None  # inside a snapshot: not resumable
    assert log.read(f"{log.token(8)}.ab12.3").seq == 3


def test_a_resume_knows_when_its_position_was_current() -> None:
    now = [T0]
    log = ChangeLog(epoch="e1", clock=lambda: now[0])
    assert log.published_at(0) == T0
    now[0] = T0 + timedelta(minutes=1)
    log.append([usage("a")])
    now[0] = T0 + timedelta(minutes=2)
    log.append([usage("b")])
    assert log.published_at(1) == T0 + timedelta(minutes=1) and log.published_at(2) == T0 + timedelta(
        minutes=2
    )
    now[0] = T0 + timedelta(minutes=3)
    log.mark_gap()
    assert log.published_at(3) == T0 + timedelta(minutes=3) and log.published_at(1) is None


# -- which watches, coalescing, bounds -----------------------------------------------------------------
def test_a_change_reaches_the_watched_entitlements_it_concerns() -> None:
    feed = ChangeFeed(ChangeLog(), clock=lambda: 0.0)
    w = watch(("a", "b"))
    feed.register(w)
    w.track(
        [Watched("e1", "a", "f1", "tokens"), Watched("e2", "a", "f2", "calls"), Watched("e3", "b", "f1", "")]
    )
    w.ready(0.0)
    feed.publish([usage("a", "tokens"), usage("c", "tokens"), usage("b", "tokens")])
    feed.publish([Change(Reason.GRANT_CREATED, "b", entitlement_id="e3", feature_key="f1")])
    feed.publish([Change(Reason.ENTITLEMENT_CREATED, "b", entitlement_id="e4", feature_key="f9")])
    feed.publish([Change(Reason.ENTITLEMENT_CREATED, "z", entitlement_id="e5", feature_key="f1")])
    due = w.take(feed.position(), now=1.0, wall=0.0)
    assert due.updates == {
        "e1": {Reason.USAGE},
        "e3": {Reason.GRANT_CREATED},
        "e4": {Reason.ENTITLEMENT_CREATED},
    }
    assert due.position == 6


def test_feature_selections_see_every_subject() -> None:
    feed = ChangeFeed(ChangeLog(), clock=lambda: 0.0)
    w = watch((), ("f1",))
    feed.register(w)
    w.ready(0.0)
    feed.publish(
        [
            Change(Reason.ENTITLEMENT_CREATED, "x", entitlement_id="e1", feature_key="f1"),
            Change(Reason.ENTITLEMENT_CREATED, "y", entitlement_id="e2", feature_key="f2"),
        ]
    )
    assert set(w.take(feed.position(), 1.0, 0.0).updates) == {"e1"}


def test_updates_are_coalesced_per_entitlement_over_the_interval() -> None:
    clock = [0.0]
    feed = ChangeFeed(ChangeLog(), clock=lambda: clock[0])
    w = watch(interval=0.1)
    feed.register(w)
    w.track([Watched("e1", "a", "f", "tokens")])
    w.ready(0.0)
    for t in (0.0, 0.03, 0.06):
        clock[0] = t
        feed.publish([usage("a")])
    assert w.take(feed.position(), now=0.09, wall=0).updates == {}
    assert w.next_due(0.09, 0) == pytest.approx(0.01)
    due = w.take(feed.position(), now=0.1, wall=0)
    assert due.updates == {"e1": {Reason.USAGE}} and due.position == 3
    assert w.take(feed.position(), now=5, wall=0).updates == {}


def test_the_position_never_passes_a_change_not_yet_sent() -> None:
    clock = [0.0]
    feed = ChangeFeed(ChangeLog(), clock=lambda: clock[0])
    w = watch(interval=0.1)
    feed.register(w)
    w.track([Watched("e1", "a", "f", "tokens"), Watched("e2", "a", "g", "calls")])
    w.ready(0.0)
    feed.publish([usage("a", "tokens")])  # 1, due at 0.1
    clock[0] = 0.05
    feed.publish([usage("a", "calls")])  # 2, due at 0.15
    due = w.take(feed.position(), now=0.12, wall=0)
    assert due.updates == {"e1": {Reason.USAGE}} and due.position == 1  # e2's change (2) is still pending
    assert w.take(feed.position(), now=0.2, wall=0).position == 2


def test_a_slow_watch_is_bounded_then_falls_back_to_a_snapshot() -> None:
    feed = ChangeFeed(ChangeLog(), clock=lambda: 0.0)
    w = watch(max_pending=3)
    feed.register(w)
    w.track([Watched(f"e{i}", "a", f"f{i}", f"t{i}") for i in range(3)])
    w.ready(0.0)
    for _ in range(1000):
        feed.publish([usage("a", f"t{i}") for i in range(3)])
    assert w.pending_count() == 3  # a burst of any length is one entry per entitlement
    feed.publish([Change(Reason.ENTITLEMENT_CREATED, "a", entitlement_id="new", feature_key="f")])
    assert w.pending_count() == 0 and w.behind  # over the bound: the details are dropped
    due = w.take(feed.position(), 10.0, 0)
    assert due.behind and due.updates == {} and not w.behind


def test_changes_before_tracking_are_applied_when_ready() -> None:
    feed = ChangeFeed(ChangeLog(), clock=lambda: 0.0)
    w = watch()
    feed.register(w)
    feed.publish([usage("a")])  # while the initial entitlements are being listed
    w.track([Watched("e1", "a", "f", "tokens")])
    w.ready(0.0)
    assert w.take(feed.position(), 1.0, 0).updates == {"e1": {Reason.USAGE}}


def test_timers_and_future_events_mark_time_changes() -> None:
    feed = ChangeFeed(ChangeLog(), clock=lambda: 0.0)
    w = watch()
    feed.register(w)
    w.track([Watched("e1", "a", "f", "tokens")])
    w.ready(0.0)
    w.schedule("e1", 100.0)
    w.schedule("e1", 100.0)  # the same instant once
    assert w.next_due(0.0, wall=40.0) == 60.0
    assert w.take(feed.position(), 0.0, wall=99.0).updates == {}
    assert w.take(feed.position(), 0.0, wall=100.0).updates == {"e1": {Reason.TIME}}
    minute = T0 + timedelta(minutes=5)
    feed.publish(
        [Change(Reason.USAGE, event_type="tokens", subjects=frozenset({"a"}), future=(("a", minute),))]
    )
    w.take(feed.position(), 1.0, wall=0)  # the usage itself
    assert w.take(feed.position(), 1.0, wall=minute.timestamp()).updates == {}
    assert w.take(feed.position(), 1.0, wall=minute.timestamp() + 0.01).updates == {"e1": {Reason.TIME}}


def test_unregistered_watches_get_nothing() -> None:
    feed = ChangeFeed(ChangeLog(), clock=lambda: 0.0, resume_grace=0)
    w = watch()
    feed.register(w)
    w.track([Watched("e1", "a", "f", "tokens")])
    w.ready(0.0)
    assert feed.active()
    feed.unregister(w)
    feed.publish([usage("a")])
    assert w.pending_count() == 0 and not feed.active()


def test_usage_changes_group_events_by_type_and_subject() -> None:
    class E:
        def __init__(self, type: str, subject: str, time_us: int) -> None:
            self.type, self.subject, self.time_us = type, subject, time_us

    now = 1_000 * 60_000_000
    batch = [E("t", "a", now), E("t", "a", now - 5), E("t", "b", now + 90_000_000), E("u", "a", now)]
    (change,) = usage_changes([(batch, [True, True, True, False], now)])
    assert change.event_type == "t" and change.subjects == {"a", "b"}
    assert [(s, int(m.timestamp())) for s, m in change.future] == [("b", (now + 60_000_000) // 1_000_000)]
    mixed = usage_changes([(batch, [True, True, True, True], now)])
    assert {c.event_type: c.subjects for c in mixed} == {"t": {"a", "b"}, "u": {"a"}}


def test_usage_changes_say_how_early_their_events_are_stamped() -> None:
    class E:
        def __init__(self, subject: str, time_us: int) -> None:
            self.type, self.subject, self.time_us = "t", subject, time_us

    now = 1_000 * 60_000_000
    (on_time,) = usage_changes([([E("a", now - 5_000_000), E("b", now)], [True, True], now)])
    assert (on_time.earliest_us, on_time.late) == (now - 5_000_000, ())
    hour = 3_600_000_000
    batch = [E("a", now), E("b", now - hour), E("b", now - 2 * hour), E("c", now - 10)]
    (late,) = usage_changes([(batch, [True] * 4, now)])
    # Only the subject with late events is named: the others' states stay usable.
    assert late.late == (("b", now - 2 * hour),) and late.earliest_us == now - LATE_CUTOFF_US


def test_a_meter_change_marks_every_entitlement_on_that_meter() -> None:
    w = Watch(Selection(frozenset({"a", "b"}), frozenset()), 0.0, max_pending=10)
    w.track(
        [
            Watched("e1", "a", "f", "t", "m1"),
            Watched("e2", "b", "f", "t", "m1"),
            Watched("e3", "a", "g", "u", "m2"),
        ]
    )
    w.ready(0.0)
    w.offer(1, Change(Reason.METER_DELETED, meter_slug="m1"), 0.0)
    due = w.take(1, 1.0, 0.0)
    assert due.updates == {"e1": {Reason.METER_DELETED}, "e2": {Reason.METER_DELETED}}
    w.offer(
        2,
        Change(Reason.USAGE, event_type="t", subjects=frozenset({"a"}), earliest_us=50, late=(("a", 7),)),
        0.0,
    )
    w.offer(3, Change(Reason.USAGE, event_type="t", subjects=frozenset({"a"}), earliest_us=40), 0.0)
    assert w.take(3, 1.0, 0.0).earliest == {"e1": 7}  # the earliest of the coalesced changes


# -- thresholds ----------------------------------------------------------------------------------------
def reading(balance: float, usage: float = 0, granted: float = 100, period: int = 0) -> Reading:
    return Reading(
        Decimal(str(balance)), Decimal(str(usage)), Decimal(str(granted)), T0 + timedelta(days=period)
    )


def test_threshold_kinds() -> None:
    assert is_beyond(Threshold(ThresholdKind.BALANCE_BELOW, Decimal(10)), reading(9.5))
    assert not is_beyond(Threshold(ThresholdKind.BALANCE_BELOW, Decimal(10)), reading(10))
    assert is_beyond(Threshold(ThresholdKind.USAGE_ABOVE, Decimal(10)), reading(0, usage=10.1))
    assert is_beyond(Threshold(ThresholdKind.BALANCE_BELOW_PERCENT, Decimal(20)), reading(19, granted=100))
    assert not is_beyond(Threshold(ThresholdKind.BALANCE_BELOW_PERCENT, Decimal(20)), reading(0, granted=0))


def test_a_crossing_fires_once_per_period() -> None:
    tracker = ThresholdTracker([Threshold(ThresholdKind.BALANCE_BELOW, Decimal(50))])
    assert tracker.observe("e", reading(40)) == []  # the first value is the baseline, even beyond
    assert tracker.observe("e", reading(80)) == []
    assert tracker.observe("e", reading(60)) == []
    assert tracker.observe("e", reading(49)) == [0]  # crossed
    assert tracker.observe("e", reading(10)) == []  # still beyond
    assert tracker.observe("e", reading(90)) == []  # back (a grant)...
    assert tracker.observe("e", reading(30)) == []  # ...and below again: once per period
    assert tracker.observe("e", reading(100, period=1)) == []  # a new period
    assert tracker.observe("e", reading(20, period=1)) == [0]
    assert tracker.observe("e", reading(0, period=2)) == [0]  # beyond as its period starts
    assert tracker.observe("e", None) == []  # deleted: forgotten
    assert tracker.observe("e", reading(0, period=2)) == []


# -- time alone ----------------------------------------------------------------------------------------
def test_the_next_instant_a_value_changes_by_itself() -> None:
    spec = engine.EntitlementSpec(usage_period=UsagePeriod(Interval.DAY, T0), measure_usage_from=T0)
    grant = engine.Grant(
        id="g", amount=Decimal(10), effective_at=T0 + timedelta(hours=3), expires_at=T0 + timedelta(hours=30)
    )
    recurring = engine.Grant(
        id="r",
        amount=Decimal(5),
        effective_at=T0,
        expires_at=None,
        recurrence=engine.Recurrence(Interval.DAY, T0 + timedelta(hours=1)),
    )
    assert next_engine_instant(spec, [grant], T0) == T0 + timedelta(hours=3)
    assert next_engine_instant(spec, [grant], T0 + timedelta(hours=3)) == T0 + timedelta(days=1)
    assert next_engine_instant(spec, [grant], T0 + timedelta(days=1)) == T0 + timedelta(hours=30)
    assert next_engine_instant(spec, [recurring], T0) == T0 + timedelta(hours=1)
    # A value read at t uses t rounded up to the minute: wake just after X - 1 min.
    wake = wake_time(spec, [grant], T0 + timedelta(minutes=10, seconds=5))
    assert wake is not None and T0 + timedelta(hours=2, minutes=59) < wake < T0 + timedelta(hours=3)
    assert wake_time(None, [], T0) is None


# -- the compute budget ----------------------------------------------------------------------------------
def test_the_budget_limits_compute_only_while_the_writer_is_busy() -> None:
    from meterd.server.watch.budget import ComputeBudget

    clock, busy = [0.0], [False]
    budget = ComputeBudget(share=0.1, busy=lambda: busy[0], clock=lambda: clock[0])
    assert budget.allowance() is None  # idle writer: unlimited
    busy[0] = True
    budget.spend(0.01, 10)  # 1 ms a value
    assert budget.allowance() == 40  # 50 ms of burst left, minus the 10 spent
    budget.spend(0.1, 100)
    assert budget.allowance() == 0 and budget.wait_seconds() == pytest.approx(0.5, abs=0.01)
    clock[0] += 0.6  # refills at 0.1 s of compute per second
    assert budget.allowance() in (9, 10)  # 10 ms of compute at about 1 ms a value
    busy[0] = False
    assert budget.allowance() is None


def test_take_stops_at_the_limit_and_keeps_the_position() -> None:
    feed = ChangeFeed(ChangeLog(), clock=lambda: 0.0)
    w = watch(interval=0)
    feed.register(w)
    w.track([Watched(f"e{i}", "a", f"f{i}", f"t{i}") for i in range(3)])
    w.ready(0.0)
    feed.publish([usage("a", f"t{i}") for i in range(3)])
    due = w.take(feed.position(), 1.0, 0, limit=2)
    assert list(due.updates) == ["e0", "e1"] and due.position == 2
    assert list(w.take(feed.position(), 1.0, 0).updates) == ["e2"]
