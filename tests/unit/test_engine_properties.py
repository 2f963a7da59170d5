"""Property tests: the balance engine against a brute-force, minute-by-minute reference.

The reference walks every minute from measure_usage_from: it applies the events of that minute (grants
leaving, reset, recurrences, activations, paying off overage) and then burns that one minute's usage. It
shares no code with the engine except the inputs' dataclasses and the period arithmetic (tested on its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meterd.server.credit.engine import (
    BalanceState,
    EntitlementSpec,
    Grant,
    Recurrence,
    Reset,
    history,
    initial_state,
    run,
    state_at,
    value_at,
)
from meterd.server.periods import Interval, UsagePeriod, add_intervals, period_index

MINUTE = timedelta(minutes=1)
BASE = datetime(2024, 1, 29, tzinfo=UTC)  # near a month end and a leap day
RANGE_MINUTES = 3 * 24 * 60
ZERO = Decimal(0)


# --------------------------------------------------------------------------------------------------------
# The reference


@dataclass
class RefState:
    balances: dict[str, Decimal]
    overage: Decimal
    usage: Decimal
    period_start: datetime


def grid(anchor: datetime, interval: Interval, start: datetime, end: datetime) -> set[datetime]:
    """Every boundary anchor + k x interval in [start, end], by stepping k."""
    k = period_index(anchor, interval, start)
    out: set[datetime] = set()
    while (b := add_intervals(anchor, interval, k)) <= end:
        if b >= start:
            out.add(b)
        k += 1
    return out


def active(g: Grant, t: datetime) -> bool:
    if t < g.effective_at:
        return False
    if g.expires_at is not None and t >= g.expires_at:
        return False
    return not (g.voided_at is not None and t >= g.voided_at)


def order_key(g: Grant) -> tuple[object, ...]:
    return (g.priority, g.expires_at is None, g.expires_at or BASE, g.created_at, g.id)


def burn(balances: dict[str, Decimal], grants: dict[str, Grant], amount: Decimal) -> Decimal:
    for g in sorted((grants[i] for i in balances), key=order_key):
        take = min(balances[g.id], amount)
        balances[g.id] -= take
        amount -= take
    return amount


def reference(
    spec: EntitlementSpec, grant_list: list[Grant], usage: dict[datetime, Decimal], end: datetime
) -> dict[datetime, RefState]:
    """The state at every minute in [measure_usage_from, end]."""
    grants = {g.id: g for g in grant_list}
    origin = spec.measure_usage_from
    manual = {r.at: r for r in spec.resets}
    anchor = spec.usage_period.anchor
    interval = spec.usage_period.interval
    for r in spec.resets:
        if r.at <= origin and r.usage_period is not None:
            anchor, interval = r.usage_period.anchor, r.usage_period.interval
        elif r.at <= origin and not r.retain_anchor:
            anchor = r.at
    grids: dict[tuple[datetime, Interval], set[datetime]] = {}
    recurs = {
        g.id: grid(g.recurrence.anchor, g.recurrence.interval, origin, end)
        for g in grant_list
        if g.recurrence
    }
    state = RefState({g.id: g.amount for g in grant_list if active(g, origin)}, ZERO, ZERO, origin)
    states = {origin: RefState(dict(state.balances), ZERO, ZERO, origin)}
    t = origin
    while t < end:
        state.usage += usage.get(t, ZERO)
        state.overage += burn(state.balances, grants, max(usage.get(t, ZERO), ZERO))
        t += MINUTE
        state.balances = {i: b for i, b in state.balances.items() if active(grants[i], t)}
        if (anchor, interval) not in grids:
            grids[anchor, interval] = grid(anchor, interval, origin, end)
        reset = manual.get(t)
        if reset is not None or t in grids[anchor, interval]:
            preserve = spec.preserve_overage_at_reset
            if reset is not None and reset.preserve_overage is not None:
                preserve = reset.preserve_overage
            for i, b in state.balances.items():
                g = grants[i]
                state.balances[i] = min(g.max_rollover_amount, max(g.min_rollover_amount, b))
            state.overage = state.overage if preserve else ZERO
            state.usage = ZERO
            state.period_start = t
            if reset is not None and reset.usage_period is not None:
                anchor, interval = reset.usage_period.anchor, reset.usage_period.interval
            elif reset is not None and not reset.retain_anchor:
                anchor = t
        for g in grant_list:
            if g.id in recurs and t in recurs[g.id] and g.effective_at < t and active(g, t):
                state.balances[g.id] = g.amount
            if g.effective_at == t and active(g, t):
                state.balances[g.id] = g.amount
        state.overage = burn(state.balances, grants, state.overage)
        states[t] = RefState(dict(state.balances), state.overage, state.usage, state.period_start)
    return states


# --------------------------------------------------------------------------------------------------------
# Scenarios


@dataclass
class Scenario:
    spec: EntitlementSpec
    grants: list[Grant]
    usage: dict[datetime, Decimal]  # per-minute usage
    end: datetime

    def usage_fn(self, a: datetime, b: datetime) -> Decimal:
        assert a < b and a.second == 0 and b.second == 0 and a.microsecond == 0 and b.microsecond == 0
        assert a >= self.spec.measure_usage_from
        return sum((v for t, v in self.usage.items() if a <= t < b), ZERO)

    def total(self, a: datetime, b: datetime) -> Decimal:
        return sum((v for t, v in self.usage.items() if a <= t < b), ZERO)


def offsets(lo: int, hi: int) -> st.SearchStrategy[int]:
    """Minute offsets; half of them on 6-hour marks so that events often coincide (the tricky cases)."""
    coarse = st.integers(-(-lo // 360), hi // 360).map(lambda k: k * 360)
    return st.one_of(st.integers(lo, hi), coarse)


def minutes(lo: int, hi: int) -> st.SearchStrategy[datetime]:
    return offsets(lo, hi).map(lambda m: BASE + m * MINUTE)


amounts = st.decimals(min_value=Decimal("0.1"), max_value=Decimal(100), places=1)
usages = st.decimals(min_value=Decimal(0), max_value=Decimal(40), places=2)


@st.composite
def grants_strategy(draw: st.DrawFn, index: int) -> Grant:
    effective = draw(minutes(-24 * 60, RANGE_MINUTES))
    lifetime = draw(st.none() | offsets(1, 3 * 24 * 60))
    low = draw(st.decimals(min_value=0, max_value=120, places=0))
    high = low + draw(st.decimals(min_value=0, max_value=80, places=0))
    recurrence = draw(
        st.none()
        | st.builds(
            Recurrence, st.sampled_from([Interval.DAY, Interval.WEEK]), minutes(-10 * 24 * 60, RANGE_MINUTES)
        )
    )
    return Grant(
        id=f"g{index}",
        amount=draw(amounts),
        priority=draw(st.integers(0, 2)),
        effective_at=effective,
        expires_at=None if lifetime is None else effective + lifetime * MINUTE,
        created_at=draw(minutes(-3, 0)),
        voided_at=draw(st.none() | minutes(-60, RANGE_MINUTES)),
        min_rollover_amount=low,
        max_rollover_amount=high,
        recurrence=recurrence,
    )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    origin = draw(minutes(0, 600))
    end = BASE + RANGE_MINUTES * MINUTE
    interval = draw(st.sampled_from([Interval.DAY, Interval.DAY, Interval.WEEK, Interval.MONTH]))
    anchor = draw(minutes(-40 * 24 * 60, 5 * 24 * 60))
    reset_minutes = draw(st.lists(offsets(1, RANGE_MINUTES - 1), max_size=3, unique=True))
    resets = tuple(
        Reset(
            origin + m * MINUTE,
            retain_anchor=draw(st.booleans()),
            preserve_overage=draw(st.none() | st.booleans()),
            # A reset that changes the usage period from its instant on (MONTH to WEEK, ...).
            usage_period=draw(
                st.none()
                | st.builds(
                    UsagePeriod,
                    st.sampled_from([Interval.DAY, Interval.WEEK, Interval.MONTH]),
                    minutes(-10 * 24 * 60, RANGE_MINUTES),
                )
            ),
        )
        for m in reset_minutes
        if origin + m * MINUTE < end
    )
    spec = EntitlementSpec(
        usage_period=UsagePeriod(interval, anchor),
        measure_usage_from=origin,
        preserve_overage_at_reset=draw(st.booleans()),
        is_soft_limit=draw(st.booleans()),
        resets=resets,
    )
    grants = [draw(grants_strategy(i)) for i in range(draw(st.integers(0, 5)))]
    events = draw(st.lists(st.tuples(st.integers(-120, RANGE_MINUTES - 1), usages), max_size=40))
    usage: dict[datetime, Decimal] = {}
    for m, v in events:
        t = BASE + m * MINUTE
        usage[t] = usage.get(t, ZERO) + v
    return Scenario(spec, grants, usage, end)


def as_ref(state: BalanceState) -> RefState:
    return RefState(dict(state.balances), state.overage, state.usage, state.period_start)


def some_minutes(draw: st.DrawFn, scenario: Scenario, n: int) -> Iterator[datetime]:
    origin = scenario.spec.measure_usage_from
    span = (scenario.end - origin) // MINUTE
    for m in draw(st.lists(st.integers(0, span), min_size=1, max_size=n)):
        yield origin + m * MINUTE


# The comparison with the reference gets more examples: it is the one that finds ordering mistakes.
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REFERENCE_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=250)


# --------------------------------------------------------------------------------------------------------
# Properties


@REFERENCE_SETTINGS
@given(scenario=scenarios(), data=st.data())
def test_engine_matches_the_minute_by_minute_reference(scenario: Scenario, data: st.DataObject) -> None:
    ref = reference(scenario.spec, scenario.grants, scenario.usage, scenario.end)
    start = initial_state(scenario.spec, scenario.grants)
    end_state, _ = run(scenario.spec, scenario.grants, scenario.usage_fn, start, scenario.end)
    assert as_ref(end_state) == ref[scenario.end]
    for t in some_minutes(data.draw, scenario, 4):
        value = value_at(scenario.spec, scenario.grants, scenario.usage_fn, t)
        expected = ref[t]
        assert (dict(value.grant_balances), value.overage, value.usage, value.period_start) == (
            expected.balances,
            expected.overage,
            expected.usage,
            expected.period_start,
        )
        assert value.has_access == (sum(expected.balances.values(), ZERO) > 0 or scenario.spec.is_soft_limit)


@PROPERTY_SETTINGS
@given(scenario=scenarios())
def test_segments_cover_the_range_and_their_usage_adds_up(scenario: Scenario) -> None:
    origin = scenario.spec.measure_usage_from
    start = initial_state(scenario.spec, scenario.grants)
    _, segments = run(scenario.spec, scenario.grants, scenario.usage_fn, start, scenario.end)
    assert segments[0].start == origin and segments[-1].end == scenario.end
    assert all(a.end == b.start for a, b in pairwise(segments))
    assert all(s.start < s.end for s in segments)
    assert sum((s.usage for s in segments), ZERO) == scenario.total(origin, scenario.end)
    for s in segments:
        burnt = sum(s.grant_usages.values(), ZERO)
        assert burnt + (s.overage - s.overage_at_start) == s.usage
        assert s.balance_at_start - s.balance_at_end == burnt


@PROPERTY_SETTINGS
@given(scenario=scenarios())
def test_balances_stay_between_zero_and_the_larger_of_amount_and_min_rollover(scenario: Scenario) -> None:
    grants = {g.id: g for g in scenario.grants}
    start = initial_state(scenario.spec, scenario.grants)
    end_state, segments = run(scenario.spec, scenario.grants, scenario.usage_fn, start, scenario.end)
    maps = [end_state.balances]
    maps += [s.grant_balances_at_start for s in segments] + [s.grant_balances_at_end for s in segments]
    for balances in maps:
        for gid, balance in balances.items():
            g = grants[gid]
            assert ZERO <= balance <= max(g.amount, g.min_rollover_amount)
    for s in segments:
        assert s.overage >= 0
        # Balances at start are reported before the owed overage is paid: it is paid from them at once, as
        # far as they go, and outstanding overage then means nothing was left to burn it from.
        assert s.overage_paid_at_start == min(s.overage_at_start, s.balance_at_start)
        assert s.overage_at_start == s.overage_paid_at_start or s.balance_after_payment == 0


@PROPERTY_SETTINGS
@given(scenario=scenarios(), data=st.data())
def test_resuming_from_any_state_equals_full_replay(scenario: Scenario, data: st.DataObject) -> None:
    full = state_at(scenario.spec, scenario.grants, scenario.usage_fn, scenario.end)
    for k in sorted(some_minutes(data.draw, scenario, 3)):
        snapshot = state_at(scenario.spec, scenario.grants, scenario.usage_fn, k)
        resumed, segments = run(scenario.spec, scenario.grants, scenario.usage_fn, snapshot, scenario.end)
        assert resumed == full
        assert sum((s.usage for s in segments), ZERO) == scenario.total(k, scenario.end)
        # Chaining: a snapshot resumed from a snapshot is as good.
        later = scenario.end - (scenario.end - k) // 2 // MINUTE * MINUTE
        middle = state_at(scenario.spec, scenario.grants, scenario.usage_fn, later, snapshot=snapshot)
        assert (
            state_at(scenario.spec, scenario.grants, scenario.usage_fn, scenario.end, snapshot=middle) == full
        )


@PROPERTY_SETTINGS
@given(scenario=scenarios(), data=st.data())
def test_history_windows_and_burndown_agree_with_the_reference(
    scenario: Scenario, data: st.DataObject
) -> None:
    ref = reference(scenario.spec, scenario.grants, scenario.usage, scenario.end)
    points = sorted(set(some_minutes(data.draw, scenario, 2)) | {scenario.end})
    start = points[0] if points[0] < scenario.end else scenario.spec.measure_usage_from
    edges = list(some_minutes(data.draw, scenario, 8))
    result = history(scenario.spec, scenario.grants, scenario.usage_fn, start, scenario.end, edges)
    assert result.windows[0].start == start and result.windows[-1].end == scenario.end
    assert sum((w.usage for w in result.windows), ZERO) == scenario.total(start, scenario.end)
    for w in result.windows:
        assert w.usage == scenario.total(w.start, w.end)
        assert w.balance_at_start == sum(ref[w.start].balances.values(), ZERO)
    # Window edges do not split the burndown: it is the plain run over the same range.
    from_state = state_at(scenario.spec, scenario.grants, scenario.usage_fn, start)
    _, plain = run(scenario.spec, scenario.grants, scenario.usage_fn, from_state, scenario.end)
    assert list(result.segments) == plain
    assert as_ref(result.end_state) == ref[scenario.end]


# -- continuing a value within a segment (the watch's cheap path) -----------------------------------------
_T0 = datetime(2024, 3, 1, tzinfo=UTC)


@st.composite
def _segment_case(draw: st.DrawFn) -> tuple[EntitlementSpec, list[Grant], dict[int, Decimal], int, int]:
    spec = EntitlementSpec(
        usage_period=UsagePeriod(Interval.DAY, _T0), measure_usage_from=_T0, is_soft_limit=draw(st.booleans())
    )
    grants = []
    for i in range(draw(st.integers(0, 4))):
        start = draw(st.integers(0, 600))
        grants.append(
            Grant(
                id=f"g{i}",
                amount=Decimal(draw(st.sampled_from(["1", "2.5", "10", "40"]))),
                effective_at=_T0 + timedelta(minutes=start),
                expires_at=_T0 + timedelta(minutes=start + draw(st.integers(1, 3000))),
                priority=draw(st.integers(1, 3)),
                max_rollover_amount=Decimal(draw(st.sampled_from(["0", "5", "100"]))),
            )
        )
    usage = {m: Decimal(draw(st.sampled_from(["0", "0.5", "1", "7", "30"]))) for m in range(0, 3000, 37)}
    return spec, grants, usage, draw(st.integers(0, 2999)), draw(st.integers(1, 400))


@given(_segment_case())
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_advancing_within_a_segment_equals_the_replay(
    case: tuple[EntitlementSpec, list[Grant], dict[int, Decimal], int, int],
) -> None:
    """From the state at a segment's start, burning the usage up to an instant before the next boundary
    gives exactly the state the full replay gives (priorities, expiries, rollover and overage included)."""
    from meterd.server.credit.engine import advance_within_segment, segment_start, state_at
    from meterd.server.watch.schedule import next_engine_instant

    spec, grants, per_minute, at, length = case

    def usage(a: datetime, b: datetime) -> Decimal:
        lo, hi = (a - _T0) // timedelta(minutes=1), (b - _T0) // timedelta(minutes=1)
        return sum((v for m, v in per_minute.items() if lo <= m < hi), Decimal(0))

    t = _T0 + timedelta(minutes=at)
    c = segment_start(spec, grants, _T0, t)
    state = state_at(spec, grants, usage, c)
    nxt = next_engine_instant(spec, grants, c)
    end = c + timedelta(minutes=length)
    if nxt is not None and end >= nxt:
        end = nxt - timedelta(minutes=1)
    if end < c:
        return
    by_id = {g.id: g for g in grants}
    assert advance_within_segment(by_id, state, end, usage(c, end)) == state_at(
        spec, grants, usage, end, state
    )
    assert advance_within_segment(by_id, state, end, usage(c, end)) == state_at(spec, grants, usage, end)
