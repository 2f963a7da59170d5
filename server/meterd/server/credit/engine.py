"""The balance engine for metered entitlements (pure: no storage, no network), fed by a usage function
``usage(a, b) -> Decimal``. Its rules, and what keeps a snapshot valid, are in README.md beside this file."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise

from meterd.server.errors import InvalidArgument
from meterd.server.periods import (
    Interval,
    Period,
    UsagePeriod,
    as_utc,
    ceil_to_minute,
    is_whole_minute,
    truncate_to_minute,
)

__all__ = [
    "BalanceState",
    "EntitlementSpec",
    "EntitlementValue",
    "Grant",
    "History",
    "Recurrence",
    "Reset",
    "ResetPoint",
    "Segment",
    "StaleSnapshot",
    "UsageFn",
    "WindowRow",
    "burn_order",
    "current_usage_period",
    "history",
    "initial_state",
    "issue_after_reset_grant",
    "period_start_at",
    "reset_points",
    "run",
    "state_at",
    "usage_period_at",
    "value_at",
    "value_instant",
]

UsageFn = Callable[[datetime, datetime], Decimal]
"""The meter's usage in ``[a, b)`` for the entitlement's subject and feature filters."""

ZERO = Decimal(0)
_END_OF_TIME = datetime.max.replace(tzinfo=UTC)

# Far enough in the future that an issue-after-reset grant never expires in practice (OpenMeter: 100 years).
ISSUE_AFTER_RESET_EXPIRATION_YEARS = 100


class StaleSnapshot(ValueError):
    """A state to resume from does not match the grants it is resumed with: replay from the start instead."""


def _as_decimal(value: object, what: str) -> Decimal:
    """Accept a finite Decimal or an int; refuse floats so that binary rounding never enters the engine."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} must be a Decimal or an int, got {type(value).__name__}")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{what} must be finite, got {number}")
    return number


def _minute_or_none(t: datetime | None) -> datetime | None:
    return None if t is None else truncate_to_minute(t)


# --------------------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class Recurrence:
    """A grant refills to its amount at every ``anchor + k x interval`` inside its active span."""

    interval: Interval
    anchor: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "interval", Interval(self.interval))
        object.__setattr__(self, "anchor", truncate_to_minute(self.anchor))

    @property
    def period(self) -> UsagePeriod:
        """The recurrence instants as a period grid."""
        return UsagePeriod(self.interval, self.anchor)


@dataclass(frozen=True, kw_only=True)
class Grant:
    """A grant as the engine sees it. Times are truncated to the minute; ``expires_at`` None never expires.

    Raises InvalidArgument for a non-positive amount, negative rollover amounts, min > max rollover, or an
    expiry not after the effective time.
    """

    id: str
    amount: Decimal
    effective_at: datetime
    expires_at: datetime | None
    priority: int = 1
    created_at: datetime | None = None  # burn-order tiebreak; defaults to effective_at
    voided_at: datetime | None = None
    min_rollover_amount: Decimal = ZERO
    max_rollover_amount: Decimal = ZERO
    recurrence: Recurrence | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "amount", _as_decimal(self.amount, "amount"))
        set_(self, "min_rollover_amount", _as_decimal(self.min_rollover_amount, "min_rollover_amount"))
        set_(self, "max_rollover_amount", _as_decimal(self.max_rollover_amount, "max_rollover_amount"))
        set_(self, "effective_at", truncate_to_minute(self.effective_at))
        set_(self, "expires_at", _minute_or_none(self.expires_at))
        set_(self, "voided_at", _minute_or_none(self.voided_at))
        set_(self, "created_at", as_utc(self.created_at) if self.created_at else self.effective_at)
        if self.amount <= 0:
            raise InvalidArgument.of("amount", "must be greater than 0")
        if self.min_rollover_amount < 0:
            raise InvalidArgument.of("min_rollover_amount", "must not be negative")
        if self.max_rollover_amount < 0:
            raise InvalidArgument.of("max_rollover_amount", "must not be negative")
        if self.min_rollover_amount > self.max_rollover_amount:
            raise InvalidArgument.of("min_rollover_amount", "must not be greater than max_rollover_amount")
        if self.expires_at is not None and self.expires_at <= self.effective_at:
            raise InvalidArgument.of("expiration", "must end after effective_at")

    @property
    def inactive_from(self) -> datetime | None:
        """The first instant from which the grant is never active again (expiry or void), if any."""
        ends = [t for t in (self.expires_at, self.voided_at) if t is not None]
        return min(ends) if ends else None

    def is_active_at(self, t: datetime) -> bool:
        """Active when ``effective_at <= t < expires_at`` and not voided at or before ``t``."""
        end = self.inactive_from
        return self.effective_at <= t and (end is None or t < end)

    def rollover(self, balance: Decimal) -> Decimal:
        """The balance carried over a reset: ``min(max_rollover, max(min_rollover, balance))``."""
        return min(self.max_rollover_amount, max(self.min_rollover_amount, balance))

    def recurrence_instants(self, after: datetime, until: datetime) -> Iterator[datetime]:
        """The recurrence instants in ``(after, until]`` at which the grant is active and not just activated."""
        if self.recurrence is None:
            return
        end = self.inactive_from
        for instant in self.recurrence.period.boundaries_between(max(after, self.effective_at), until):
            if end is not None and instant >= end:
                return
            yield instant


def burn_order(grant: Grant) -> tuple[int, int, datetime, datetime, str]:
    """Sort key of the burn order: priority, then earliest expiry (never-expiring last), creation, id."""
    never = 1 if grant.expires_at is None else 0
    expiry = grant.expires_at or _END_OF_TIME  # all never-expiring grants tie here; `never` sorts them last
    created = grant.created_at or grant.effective_at
    return (grant.priority, never, expiry, created, grant.id)


def issue_after_reset_grant(
    *, id: str, amount: Decimal, effective_at: datetime, priority: int = 1, created_at: datetime | None = None
) -> Grant:
    """The grant an entitlement's ``issue_after_reset`` creates: every reset brings it back to ``amount``.

    Effective at ``effective_at`` (the period start), min = max rollover = amount, and it never expires
    (whatever ``effective_at``: a backdated measure_usage_from must not make it expire, nor a late one overflow).
    """
    amount = _as_decimal(amount, "issue_after_reset")
    return Grant(
        id=id,
        amount=amount,
        priority=priority,
        effective_at=effective_at,
        expires_at=None,
        created_at=created_at,
        min_rollover_amount=amount,
        max_rollover_amount=amount,
    )


@dataclass(frozen=True)
class Reset:
    """A manual usage reset. ``preserve_overage`` None means the entitlement's default.

    ``usage_period``, if set, is the usage period from this reset on (a reset that changes the interval, e.g.
    MONTH to WEEK); otherwise the period keeps its interval and is re-anchored at the reset unless
    ``retain_anchor``.
    """

    at: datetime
    retain_anchor: bool = False
    preserve_overage: bool | None = None
    usage_period: UsagePeriod | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", truncate_to_minute(self.at))

    def period_after(self, period: UsagePeriod) -> UsagePeriod:
        """The usage period in effect from this reset on, given the one in effect before it."""
        if self.usage_period is not None:
            return self.usage_period
        return period if self.retain_anchor else period.with_anchor(self.at)


@dataclass(frozen=True, kw_only=True)
class EntitlementSpec:
    """What the engine needs of a metered entitlement. ``resets`` are its manual resets (any order).

    Usage before ``measure_usage_from`` never counts; the engine's timeline starts there, with every grant
    active at that instant at its full amount. Raises InvalidArgument if two manual resets share a minute.
    """

    usage_period: UsagePeriod
    measure_usage_from: datetime
    preserve_overage_at_reset: bool = False
    is_soft_limit: bool = False
    resets: tuple[Reset, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "measure_usage_from", truncate_to_minute(self.measure_usage_from))
        resets = tuple(sorted(self.resets, key=lambda r: r.at))
        for earlier, later in pairwise(resets):
            if earlier.at == later.at:
                raise InvalidArgument.of("resets", f"two resets at {later.at.isoformat()}")
        object.__setattr__(self, "resets", resets)

    def preserves_overage(self, reset: Reset | None) -> bool:
        """Whether a reset (None: an automatic one) carries the overage into the next period."""
        if reset is None or reset.preserve_overage is None:
            return self.preserve_overage_at_reset
        return reset.preserve_overage


# --------------------------------------------------------------------------------------------------------
# Usage periods and resets


@dataclass(frozen=True)
class ResetPoint:
    """A reset the engine applies: a manual one, or an automatic one at a usage-period boundary."""

    at: datetime
    preserve_overage: bool
    manual: bool


def usage_period_at(spec: EntitlementSpec, t: datetime) -> UsagePeriod:
    """The usage period in effect at ``t``: a manual reset without retain_anchor re-anchors it, and a reset
    with its own usage period replaces it."""
    period = spec.usage_period
    for reset in spec.resets:
        if reset.at > t:
            break
        period = reset.period_after(period)
    return period


def reset_points(spec: EntitlementSpec, after: datetime, until: datetime) -> Iterator[ResetPoint]:
    """The resets in ``(after, until]``, in order; none at or before ``measure_usage_from``.

    Every boundary of the usage period in effect is an automatic reset (anchor retained). A manual reset at
    the same instant as a boundary replaces it (its own preserve_overage applies).
    """
    after = max(as_utc(after), spec.measure_usage_from)
    period = usage_period_at(spec, after)
    cursor = after
    manual_resets: list[Reset | None] = [r for r in spec.resets if after < r.at <= until]
    for manual in [*manual_resets, None]:
        limit = until if manual is None else manual.at
        for boundary in period.boundaries_between(cursor, limit):
            if manual is not None and boundary == manual.at:
                break
            yield ResetPoint(boundary, spec.preserves_overage(None), manual=False)
        if manual is None:
            return
        yield ResetPoint(manual.at, spec.preserves_overage(manual), manual=True)
        period = manual.period_after(period)
        cursor = manual.at


def period_start_at(spec: EntitlementSpec, t: datetime) -> datetime:
    """The instant usage is counted from at ``t``: the last reset at or before ``t``, else measure_usage_from."""
    t = as_utc(t)
    origin = spec.measure_usage_from
    if t <= origin:
        return origin
    candidates = [origin, usage_period_at(spec, t).containing(t).start]
    candidates += [r.at for r in spec.resets if r.at <= t]
    return max(candidates)


def current_usage_period(spec: EntitlementSpec, t: datetime) -> Period:
    """The anchor-aligned usage period containing ``t`` (the anchor in effect at ``t``).

    The first period is clipped to start at ``measure_usage_from``. After a reset that retains the anchor
    the period keeps its aligned start (usage still counts from the reset: see period_start_at).
    """
    period = usage_period_at(spec, t).containing(t)
    if period.start < spec.measure_usage_from <= as_utc(t):
        return Period(spec.measure_usage_from, period.end)
    return period


# --------------------------------------------------------------------------------------------------------
# Outputs


@dataclass(frozen=True)
class BalanceState:
    """The engine's state at instant ``at`` (events at ``at`` applied, no usage from ``at`` on burnt).

    ``balances`` holds exactly the grants active at ``at``. ``usage`` is the usage in ``[period_start, at)``.
    """

    at: datetime
    balances: Mapping[str, Decimal]
    overage: Decimal
    usage: Decimal
    period_start: datetime

    @property
    def balance(self) -> Decimal:
        """The sum of the active grants' balances."""
        return sum(self.balances.values(), ZERO)


@dataclass(frozen=True)
class Segment:
    """One burndown segment ``[start, end)``: no grant or reset event happens strictly inside it.

    Grant maps cover the grants active in the segment. ``grant_balances_at_start`` are after the events at
    ``start`` but before any overage owed then is paid (as OpenMeter reports them); ``overage_at_start`` is
    that owed overage and ``overage_paid_at_start`` the part of it the balances paid at ``start``.
    ``grant_usages`` include that payment, so they add up to ``usage + overage_at_start - overage`` and
    ``balance_at_end = balance_at_start - sum(grant_usages)``.
    """

    start: datetime
    end: datetime
    usage: Decimal
    overage_at_start: Decimal
    overage: Decimal
    grant_balances_at_start: Mapping[str, Decimal]
    grant_balances_at_end: Mapping[str, Decimal]
    grant_usages: Mapping[str, Decimal]
    overage_paid_at_start: Decimal = ZERO

    @property
    def balance_after_payment(self) -> Decimal:
        """The true balance at ``start``: the balance at start minus the overage paid from it then."""
        return self.balance_at_start - self.overage_paid_at_start

    @property
    def balance_at_start(self) -> Decimal:
        """Sum of the grant balances at the segment's start."""
        return sum(self.grant_balances_at_start.values(), ZERO)

    @property
    def balance_at_end(self) -> Decimal:
        """Sum of the grant balances at the segment's end (before events at ``end``)."""
        return sum(self.grant_balances_at_end.values(), ZERO)


@dataclass(frozen=True)
class EntitlementValue:
    """A metered entitlement's value at instant ``at``."""

    at: datetime
    balance: Decimal
    usage: Decimal
    overage: Decimal
    has_access: bool
    grant_balances: Mapping[str, Decimal]
    period_start: datetime


@dataclass(frozen=True)
class WindowRow:
    """One history window ``[start, end)`` (clipped to the requested range)."""

    start: datetime
    end: datetime
    usage: Decimal
    balance_at_start: Decimal


@dataclass(frozen=True)
class History:
    """Windowed rows, burndown segments and the state at the end (a valid snapshot)."""

    windows: tuple[WindowRow, ...]
    segments: tuple[Segment, ...]
    end_state: BalanceState


# --------------------------------------------------------------------------------------------------------
# The engine


@dataclass
class _Ledger:
    """The running, mutable form of BalanceState inside one run."""

    balances: dict[str, Decimal]
    overage: Decimal
    usage: Decimal
    period_start: datetime
    # What the last instant's events left before its owed overage was paid: (balances, overage, paid per
    # grant). The next segment reports its start from it (SPEC: balances at start before owed overage).
    owed: tuple[dict[str, Decimal], Decimal, dict[str, Decimal]] | None = None

    @classmethod
    def of(cls, state: BalanceState) -> _Ledger:
        return cls(dict(state.balances), state.overage, state.usage, state.period_start)

    def freeze(self, at: datetime) -> BalanceState:
        return BalanceState(at, dict(self.balances), self.overage, self.usage, self.period_start)


@dataclass
class _Instant:
    """What happens at one segment boundary."""

    reset: ResetPoint | None = None
    recurring: list[str] = field(default_factory=list)
    activating: list[str] = field(default_factory=list)
    is_event: bool = False  # False for a boundary that only splits (a history window edge, the end)


def _timeline(
    spec: EntitlementSpec,
    grants: Iterable[Grant],
    after: datetime,
    until: datetime,
    split_at: Iterable[datetime],
) -> dict[datetime, _Instant]:
    """Every segment boundary in ``(after, until]`` and what happens there, keyed and sorted by instant."""
    instants: dict[datetime, _Instant] = {}

    def at(t: datetime, *, event: bool = True) -> _Instant:
        instant = instants.setdefault(t, _Instant())
        instant.is_event = instant.is_event or event
        return instant

    for grant in grants:
        if after < grant.effective_at <= until:
            at(grant.effective_at).activating.append(grant.id)
        for end in (grant.expires_at, grant.voided_at):
            if end is not None and after < end <= until:
                at(end)
        for recurrence in grant.recurrence_instants(after, until):
            at(recurrence).recurring.append(grant.id)
    for reset in reset_points(spec, after, until):
        at(reset.at).reset = reset
    for split in split_at:
        if after < split <= until:
            at(split, event=False)
    if until > after:
        at(until, event=False)
    return dict(sorted(instants.items()))


def _burn(
    balances: dict[str, Decimal], amount: Decimal, grants: Mapping[str, Grant]
) -> tuple[Decimal, dict[str, Decimal]]:
    """Burn ``amount`` from ``balances`` in burn order (mutating it). Returns what is left and per-grant use."""
    used = dict.fromkeys(balances, ZERO)
    for grant_id in sorted(balances, key=lambda gid: burn_order(grants[gid])):
        if amount <= 0:
            break
        take = min(balances[grant_id], amount)
        if take > 0:
            balances[grant_id] -= take
            used[grant_id] = take
            amount -= take
    return amount, used


def _measure(usage_fn: UsageFn, start: datetime, end: datetime) -> Decimal:
    return _as_decimal(usage_fn(start, end), f"usage in [{start.isoformat()}, {end.isoformat()})")


def _burn_segment(
    ledger: _Ledger, start: datetime, end: datetime, usage_fn: UsageFn, grants: Mapping[str, Grant]
) -> Segment:
    """Measure ``[start, end)`` once and burn it. Negative usage (a SUM meter can go down) burns nothing."""
    usage = _measure(usage_fn, start, end)
    at_start, overage_at_start = dict(ledger.balances), ledger.overage
    paid: dict[str, Decimal] = {}
    if ledger.owed is not None:
        at_start, overage_at_start, paid = ledger.owed
        ledger.owed = None
    left, used = _burn(ledger.balances, max(usage, ZERO), grants)
    ledger.overage += left
    ledger.usage += usage
    for gid, amount in paid.items():
        used[gid] = used.get(gid, ZERO) + amount
    paid_total = sum(paid.values(), ZERO)
    return Segment(
        start, end, usage, overage_at_start, ledger.overage, at_start, dict(ledger.balances), used, paid_total
    )


def _apply_instant(ledger: _Ledger, t: datetime, instant: _Instant, grants: Mapping[str, Grant]) -> None:
    """Apply the events at ``t``, in this order: expirations and voids, reset (rollover), recurrences,
    activations, then pay outstanding overage from whatever balance is now there, in burn order.

    Why this order when events coincide: a grant recurring on a reset instant refills after the rollover
    (otherwise the default max rollover of 0 would wipe a monthly allowance at every period start), and
    carried or preserved overage is paid once everything at ``t`` has happened. When nothing coincides this
    is exactly SPEC's wording (preserved overage burns from the rolled-over balances, a new grant pays the
    outstanding overage first).
    """
    ledger.balances = {gid: b for gid, b in ledger.balances.items() if grants[gid].is_active_at(t)}
    if instant.reset is not None:
        # Rollover applies to grants active before and at the reset; grants activating at t start full.
        ledger.balances = {gid: grants[gid].rollover(b) for gid, b in ledger.balances.items()}
        ledger.overage = ledger.overage if instant.reset.preserve_overage else ZERO
        ledger.usage = ZERO
        ledger.period_start = t
    for grant_id in instant.recurring:
        ledger.balances[grant_id] = grants[grant_id].amount
    for grant_id in instant.activating:
        if grants[grant_id].is_active_at(t):
            ledger.balances[grant_id] = grants[grant_id].amount
    before, owed = dict(ledger.balances), ledger.overage
    paid: dict[str, Decimal] = {}
    if ledger.overage > 0:
        ledger.overage, paid = _burn(ledger.balances, ledger.overage, grants)
    ledger.owed = (before, owed, {gid: amount for gid, amount in paid.items() if amount})


def _index(grants: Iterable[Grant]) -> dict[str, Grant]:
    by_id: dict[str, Grant] = {}
    for grant in grants:
        if grant.id in by_id:
            raise ValueError(f"duplicate grant id {grant.id!r}")
        by_id[grant.id] = grant
    return by_id


def _check_resumable(spec: EntitlementSpec, state: BalanceState, grants: Mapping[str, Grant]) -> None:
    if not is_whole_minute(state.at):
        raise ValueError(f"a state's instant must be a whole minute, got {state.at.isoformat()}")
    if state.at < spec.measure_usage_from:
        raise ValueError("a state cannot be before measure_usage_from")
    active = {gid for gid, grant in grants.items() if grant.is_active_at(state.at)}
    if active != set(state.balances):
        raise StaleSnapshot(
            f"state at {state.at.isoformat()} holds grants {sorted(state.balances)}, active are {sorted(active)}"
        )


def _run(
    spec: EntitlementSpec,
    grants: Mapping[str, Grant],
    usage_fn: UsageFn,
    start_state: BalanceState,
    end: datetime,
    split_at: Iterable[datetime] = (),
) -> tuple[BalanceState, list[Segment], set[datetime]]:
    """``run``, also returning the boundaries that are events (not mere splits)."""
    _check_resumable(spec, start_state, grants)
    if not is_whole_minute(end) or end < start_state.at:
        raise ValueError(
            f"end {end.isoformat()} must be a whole minute at or after {start_state.at.isoformat()}"
        )
    ledger = _Ledger.of(start_state)
    segments: list[Segment] = []
    events: set[datetime] = set()
    previous = start_state.at
    for t, instant in _timeline(spec, grants.values(), start_state.at, end, split_at).items():
        segments.append(_burn_segment(ledger, previous, t, usage_fn, grants))
        _apply_instant(ledger, t, instant, grants)
        if instant.is_event:
            events.add(t)
        previous = t
    return ledger.freeze(end), segments, events


def initial_state(spec: EntitlementSpec, grants: Iterable[Grant]) -> BalanceState:
    """The state at ``measure_usage_from``: every grant active then at its full amount, no usage, no overage."""
    origin = spec.measure_usage_from
    balances = {g.id: g.amount for g in grants if g.is_active_at(origin)}
    return BalanceState(origin, balances, ZERO, ZERO, origin)


def run(
    spec: EntitlementSpec,
    grants: Iterable[Grant],
    usage_fn: UsageFn,
    start_state: BalanceState,
    end: datetime,
) -> tuple[BalanceState, list[Segment]]:
    """Advance ``start_state`` to ``end`` (a whole minute). Returns the state at ``end`` and the segments.

    ``grants`` are all the entitlement's grants (voided ones included). ``usage_fn`` is called once per
    segment, with whole-minute instants. Raises StaleSnapshot if the state's grants do not match the grants
    active at its instant, ValueError for an end before the state or off the minute.
    """
    end_state, segments, _ = _run(spec, _index(grants), usage_fn, start_state, end)
    return end_state, segments


def _pre_origin_state(spec: EntitlementSpec, grants: Iterable[Grant], t: datetime) -> BalanceState:
    """Before measure_usage_from nothing is measured: active grants are full."""
    balances = {g.id: g.amount for g in grants if g.is_active_at(t)}
    return BalanceState(t, balances, ZERO, ZERO, spec.measure_usage_from)


def state_at(
    spec: EntitlementSpec,
    grants: Iterable[Grant],
    usage_fn: UsageFn,
    t: datetime,
    snapshot: BalanceState | None = None,
) -> BalanceState:
    """The state at whole minute ``t``, replayed from ``snapshot`` (if given) or from measure_usage_from.

    Before measure_usage_from the state is simply the active grants at full amount (not a resume point).
    Raises ValueError if the snapshot is after ``t``, StaleSnapshot if it does not match the grants.
    """
    grants_by_id = _index(grants)
    if t < spec.measure_usage_from:
        return _pre_origin_state(spec, grants_by_id.values(), t)
    start = snapshot if snapshot is not None else initial_state(spec, grants_by_id.values())
    if start.at > t:
        raise ValueError(f"snapshot at {start.at.isoformat()} is after {t.isoformat()}")
    end_state, _, _ = _run(spec, grants_by_id, usage_fn, start, t)
    return end_state


def advance_within_segment(
    grants: Mapping[str, Grant], state: BalanceState, end: datetime, usage: Decimal
) -> BalanceState:
    """``state`` advanced to ``end`` (a whole minute) with ``usage`` measured in ``[state.at, end)``: what
    ``state_at(..., end, state)`` gives when no instant of the engine's timeline (a grant's start, expiry,
    void or recurrence, a reset or usage-period boundary) lies in ``(state.at, end]``, without building the
    timeline. The caller guarantees that condition (it is not checked here: that is the work saved)."""
    # _burn_segment then _apply_instant at a mere split, without the segment's report: burn the usage in
    # burn order, what is left is overage, and owed overage is paid from whatever balance remains.
    balances = dict(state.balances)
    left, _ = _burn(balances, max(usage, ZERO), grants)
    overage = state.overage + left
    if overage > 0:
        overage, _ = _burn(balances, overage, grants)
    return BalanceState(end, balances, overage, state.usage + usage, state.period_start)


def segment_start(spec: EntitlementSpec, grants: Iterable[Grant], after: datetime, t: datetime) -> datetime:
    """The last instant of the engine's timeline in ``(after, t]`` (where the segment holding ``t`` starts),
    or ``after`` when there is none."""
    events = [at for at, instant in _timeline(spec, grants, after, t, ()).items() if instant.is_event]
    return events[-1] if events else after


def value_instant(t: datetime) -> datetime:
    """The instant a value call at ``t`` reads: ``t`` rounded up to the whole minute."""
    return ceil_to_minute(t)


def value_at(
    spec: EntitlementSpec,
    grants: Iterable[Grant],
    usage_fn: UsageFn,
    t: datetime,
    snapshot: BalanceState | None = None,
) -> EntitlementValue:
    """The entitlement's value at ``t`` (rounded up to the minute): balance, usage, overage, access."""
    at = value_instant(t)
    state = state_at(spec, grants, usage_fn, at, snapshot)
    balance = state.balance
    return EntitlementValue(
        at=at,
        balance=balance,
        usage=state.usage,
        overage=state.overage,
        has_access=balance > 0 or spec.is_soft_limit,
        grant_balances=dict(state.balances),
        period_start=state.period_start,
    )


def _merge(segments: Sequence[Segment]) -> Segment:
    """One segment for consecutive segments split only at non-event boundaries (nothing changed there)."""
    first, last = segments[0], segments[-1]
    usages = {gid: sum((s.grant_usages[gid] for s in segments), ZERO) for gid in first.grant_usages}
    return Segment(
        first.start,
        last.end,
        sum((s.usage for s in segments), ZERO),
        first.overage_at_start,
        last.overage,
        first.grant_balances_at_start,
        last.grant_balances_at_end,
        usages,
        first.overage_paid_at_start,
    )


def _burndown(fine: Sequence[Segment], events: set[datetime]) -> list[Segment]:
    groups: list[list[Segment]] = []
    for segment in fine:
        if groups and segment.start not in events:
            groups[-1].append(segment)
        else:
            groups.append([segment])
    return [_merge(group) for group in groups]


def _windows(fine: Sequence[Segment], edges: Sequence[datetime]) -> list[WindowRow]:
    """Group segments (already split at every edge) into the windows between consecutive edges."""
    rows: list[WindowRow] = []
    segments = iter(fine)
    for start, end in pairwise(edges):
        inside = [next(segments)]
        while inside[-1].end < end:
            inside.append(next(segments))
        usage = sum((s.usage for s in inside), ZERO)
        rows.append(WindowRow(start, end, usage, inside[0].balance_after_payment))
    return rows


def _require_minute(t: datetime, name: str) -> datetime:
    t = as_utc(t)
    if not is_whole_minute(t):
        raise InvalidArgument.of(name, "must fall on a whole minute")
    return t


def history(
    spec: EntitlementSpec,
    grants: Iterable[Grant],
    usage_fn: UsageFn,
    start: datetime,
    end: datetime,
    window_edges: Iterable[datetime] = (),
    snapshot: BalanceState | None = None,
) -> History:
    """Windowed and burndown history over ``[start, end)``.

    ``window_edges`` are the window boundaries (e.g. local midnights, computed by the caller in its time
    zone); those strictly inside the range split it into windows, the first and last clipped to it. A
    window's ``balance_at_start`` is the true balance at its start. Burndown segments are split only at
    events (grant changes, resets), not at window edges. Raises InvalidArgument (``from``/``to``) when the
    range is empty, off the minute or starts before measure_usage_from.
    """
    start, end = _require_minute(start, "from"), _require_minute(end, "to")
    if start >= end:
        raise InvalidArgument.of("from", "must be before to")
    if start < spec.measure_usage_from:
        raise InvalidArgument.of("from", f"cannot be before {spec.measure_usage_from.isoformat()}")
    inner = sorted({_require_minute(e, "window_edges") for e in window_edges if start < as_utc(e) < end})
    grants_by_id = _index(grants)
    # Replayed through ``start`` (not resumed at it) so that the first segment knows the balances before
    # any overage owed at ``start`` was paid. A snapshot at ``start`` itself cannot tell, so it is not used.
    if snapshot is not None and snapshot.at >= start:
        snapshot = None
    origin = snapshot if snapshot is not None else initial_state(spec, grants_by_id.values())
    end_state, fine, events = _run(spec, grants_by_id, usage_fn, origin, end, [start, *inner])
    fine = [s for s in fine if s.start >= start]
    windows = _windows(fine, [start, *inner, end])
    return History(tuple(windows), tuple(_burndown(fine, events)), end_state)
