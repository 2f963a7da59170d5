"""The balance service: the credit engine wired to meterd's data (a metered entitlement's value, history and
manual resets). Sits above entitlements and grants, as OpenMeter's metered-entitlement connector sits above
its engine.

Feeds the pure engine (credit/engine.py) with the entitlement's spec, its grants and a usage function over
the feature's meter (the meters' minute pre-aggregates, for the subject, with the feature's group-by
filters), and keeps balance snapshots so that a value call replays only from the latest one.

Which snapshots are kept (at most a few per usage period and entitlement):
- the state at the start of each usage period (an automatic or manual reset) that a value call passed;
- one rolling state per period, at the latest whole hour at least ``SNAPSHOT_GRACE`` before now (hourly, so a
  busy entitlement writes at most one per hour; saving a newer one prunes the older one of its period).
No snapshot is ever taken later than ``now - SNAPSHOT_GRACE``, so events that arrive on time never invalidate
one: only late ones do (see store/sql/snapshots.py for the invalidation rules and the races they close).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from meterd.server.credit import engine
from meterd.server.credit.snapshots import SnapshotBasis, meter_version
from meterd.server.credit.windows import HistoryWindow, window_edges
from meterd.server.entitlements.model import Entitlement, EntitlementType, EntitlementValue
from meterd.server.errors import (
    AlreadyExists,
    DeadlineCheck,
    FailedPrecondition,
    InvalidArgument,
    no_deadline,
)
from meterd.server.features.model import Feature
from meterd.server.grants.model import Grant
from meterd.server.meters.model import Aggregation
from meterd.server.meters.windows import QUERY_MAX_TIME, QUERY_MIN_TIME, QUERY_RANGE_TEXT, resolve_zone
from meterd.server.periods import (
    Interval,
    UsagePeriod,
    as_utc,
    ceil_to_minute,
    is_whole_minute,
    truncate_to_minute,
)
from meterd.server.timeutil import to_us

log = logging.getLogger("meterd.credit")

# Snapshots are never later than this before now: an event this late is rare, and only it invalidates one.
SNAPSHOT_GRACE = timedelta(hours=1)
_MINUTE = timedelta(minutes=1)
_USAGE_AGGREGATIONS = (Aggregation.SUM, Aggregation.COUNT)
# A history answers at most this many windows; a longer one is refused before the work (INVALID_ARGUMENT).
MAX_HISTORY_WINDOWS = 100_000
# A value replays at most as many usage periods (by their shortest length) since measure_usage_from.
_SHORTEST_PERIOD = {
    Interval.DAY: timedelta(days=1),
    Interval.WEEK: timedelta(days=7),
    Interval.MONTH: timedelta(days=28),
    Interval.YEAR: timedelta(days=365),
}


class EntitlementStore(Protocol):
    def find(self, subject_key: str, id_or_feature_key: str) -> Entitlement | None: ...
    def add_reset(self, entitlement_id: str, reset: engine.Reset, created_at: datetime) -> None: ...


class GrantStore(Protocol):
    def for_entitlement(self, entitlement_id: str, *, include_voided: bool = True) -> list[Grant]: ...


class FeatureStore(Protocol):
    def get(self, id_or_key: str) -> Feature | None: ...


class Meters(Protocol):
    def get(self, id_or_slug: str) -> Any: ...
    def usage(
        self, id_or_slug: str, subject: str, filters: dict[str, str], start: datetime, end: datetime
    ) -> Decimal: ...
    def usage_by_subject(
        self, id_or_slug: str, subjects: list[str], filters: dict[str, str], start: datetime, end: datetime
    ) -> dict[str, Decimal]: ...


class SnapshotStore(Protocol):
    def latest(
        self, entitlement_id: str, at: datetime, meter_version: str | None = None
    ) -> engine.BalanceState | None: ...
    def event_seq(self) -> int: ...
    def save(
        self,
        basis: SnapshotBasis,
        states: list[engine.BalanceState],
        created_at: datetime,
        prune: tuple[datetime, datetime] | None = None,
    ) -> Any: ...
    def delete_from(self, entitlement_id: str, at: datetime) -> None: ...


@dataclass(frozen=True)
class _Inputs:
    """Everything the engine needs for one entitlement, read once per call."""

    entitlement: Entitlement
    spec: engine.EntitlementSpec
    grants: list[engine.Grant]
    usage: engine.UsageFn
    event_type: str
    event_seq: int
    grant_keys: frozenset[tuple[str, int | None]]
    meter_version: str = ""


@dataclass(frozen=True)
class ValueBasis:
    """A metered entitlement's engine state at the start of the segment that held a value's instant, and
    what continuing from it needs (see ``CreditService.value_basis``). ``state`` stays exact while the
    entitlement, its grants, its meter and the usage before ``state.at`` are unchanged: whoever keeps a
    basis drops it when any of them may have changed."""

    entitlement: Entitlement
    spec: engine.EntitlementSpec
    grants: tuple[engine.Grant, ...]
    grants_by_id: dict[str, engine.Grant]
    state: engine.BalanceState
    meter_slug: str
    filters: tuple[tuple[str, str], ...]


def _floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


class CreditService:
    """Values, history and resets of metered entitlements (SPEC § Balance engine, § Resets, § History)."""

    def __init__(
        self,
        entitlements: EntitlementStore,
        grants: GrantStore,
        features: FeatureStore,
        meters: Meters,
        snapshots: SnapshotStore,
        clock: Callable[[], datetime],
    ) -> None:
        self._entitlements = entitlements
        self._grants = grants
        self._features = features
        self._meters = meters
        self._snapshots = snapshots
        self._clock = clock
        self._feature_cache: dict[str, Feature] = {}  # features are immutable

    # -- inputs ------------------------------------------------------------------------------------
    def _feature(self, feature_id: str) -> Feature:
        feature = self._feature_cache.get(feature_id)
        if feature is None:
            feature = self._features.get(feature_id)
            if feature is None:
                raise FailedPrecondition(f"entitlement: its feature {feature_id} no longer exists")
            self._feature_cache[feature_id] = feature
        return feature

    def _inputs(self, entitlement: Entitlement) -> _Inputs:
        if entitlement.type is not EntitlementType.METERED:
            raise FailedPrecondition(
                f"entitlement: {entitlement.id} is {entitlement.type.lower()}; only metered entitlements have usage"
            )
        feature = self._feature(entitlement.feature_id)
        if not feature.meter_slug:
            raise FailedPrecondition(f"entitlement: feature {feature.key} has no meter")
        meter = self._meters.get(feature.meter_slug)
        if meter.aggregation not in _USAGE_AGGREGATIONS:
            raise FailedPrecondition(
                f"entitlement: meter {meter.slug} of feature {feature.key} aggregates {meter.aggregation};"
                " credit needs SUM or COUNT"
            )
        # The event sequence is read before anything the engine uses, so a snapshot saved from this
        # computation can be checked against every event stored after it (see store/sql/snapshots.py).
        event_seq = self._snapshots.event_seq()
        stored = self._grants.for_entitlement(entitlement.id)
        slug, subject, filters = (
            feature.meter_slug,
            entitlement.subject_key,
            dict(feature.meter_group_by_filters),
        )

        def usage(start: datetime, end: datetime) -> Decimal:
            return self._meters.usage(slug, subject, filters, start, end)

        return _Inputs(
            entitlement=entitlement,
            spec=entitlement.engine_spec(),
            grants=[g.to_engine() for g in stored],
            usage=usage,
            event_type=meter.event_type,
            event_seq=event_seq,
            grant_keys=frozenset((g.id, to_us(g.voided_at) if g.voided_at else None) for g in stored),
            meter_version=meter_version(meter.id, to_us(meter.updated_at)),
        )

    @staticmethod
    def _checked(inputs: _Inputs, check: DeadlineCheck) -> _Inputs:
        """``inputs`` whose usage function calls ``check`` first: the engine reads usage once per segment, so a
        long replay stops soon after the caller is gone."""
        if check is no_deadline:
            return inputs
        usage = inputs.usage

        def checked_usage(a: datetime, b: datetime) -> Decimal:
            check()
            return usage(a, b)

        return dataclasses.replace(inputs, usage=checked_usage)

    def _snapshot(self, inputs: _Inputs, at: datetime) -> engine.BalanceState | None:
        return self._snapshots.latest(inputs.entitlement.id, at, inputs.meter_version)

    def _drop_stale(self, inputs: _Inputs, snapshot: engine.BalanceState, exc: Exception) -> None:
        # Should not happen (every change invalidates): replay from the start and drop the bad snapshots.
        log.warning(
            "stale balance snapshot dropped", extra={"entitlement": inputs.entitlement.id, "error": str(exc)}
        )
        self._snapshots.delete_from(inputs.entitlement.id, snapshot.at)

    # -- value -------------------------------------------------------------------------------------
    def value(
        self, entitlement: Entitlement, at: datetime | None = None, check: DeadlineCheck = no_deadline
    ) -> EntitlementValue:
        """The metered entitlement's value at ``at`` (default now; rounded up to the minute).

        Raises InvalidArgument (``time``) for an instant before the entitlement was created, FailedPrecondition
        if its feature's meter cannot measure credit.
        """
        now = self._clock()
        t = now if at is None else as_utc(at)
        if t < truncate_to_minute(entitlement.created_at):
            raise InvalidArgument.of(
                "time", f"is before the entitlement was created ({entitlement.created_at.isoformat()})"
            )
        if t >= QUERY_MAX_TIME:
            raise InvalidArgument.of("time", f"must be {QUERY_RANGE_TEXT}")
        inputs = self._checked(self._inputs(entitlement), check)
        spec = inputs.spec
        shortest = _SHORTEST_PERIOD[spec.usage_period.interval]
        if (t - spec.measure_usage_from) // shortest > MAX_HISTORY_WINDOWS:
            raise InvalidArgument.of(
                "time",
                f"a value at {t.isoformat()} would replay more than {MAX_HISTORY_WINDOWS} usage periods"
                f" since measure_usage_from ({spec.measure_usage_from.isoformat()})",
            )
        instant = engine.value_instant(t)
        snapshot = self._snapshot(inputs, instant)
        try:
            value, states = self._value_from(inputs, t, instant, snapshot, now)
        except engine.StaleSnapshot as exc:
            assert snapshot is not None
            self._drop_stale(inputs, snapshot, exc)
            value, states = self._value_from(inputs, t, instant, None, now)
        self._save(inputs, states, now)
        return EntitlementValue(
            has_access=value.has_access, balance=value.balance, usage=value.usage, overage=value.overage
        )

    def value_basis(
        self, entitlement: Entitlement, now: datetime | None = None
    ) -> tuple[EntitlementValue, ValueBasis | None]:
        """``value(entitlement)`` now, and the basis to continue it from (None before measure_usage_from).

        The basis's state is the engine's at the start of the segment holding now's instant, reached through
        the same checkpoints (and saving the same snapshots) as ``value``, so that a value continued from it
        splits usage exactly where ``value`` would."""
        now = self._clock() if now is None else now
        if now < truncate_to_minute(entitlement.created_at):
            raise InvalidArgument.of(
                "time", f"is before the entitlement was created ({entitlement.created_at.isoformat()})"
            )
        inputs = self._inputs(entitlement)
        shortest = _SHORTEST_PERIOD[inputs.spec.usage_period.interval]
        if (now - inputs.spec.measure_usage_from) // shortest > MAX_HISTORY_WINDOWS:
            raise InvalidArgument.of(
                "time", f"a value now would replay more than {MAX_HISTORY_WINDOWS} usage periods"
            )
        instant = engine.value_instant(now)
        snapshot = self._snapshot(inputs, instant)
        try:
            value, states, state = self._basis_from(inputs, now, instant, snapshot, now)
        except engine.StaleSnapshot as exc:
            assert snapshot is not None
            self._drop_stale(inputs, snapshot, exc)
            value, states, state = self._basis_from(inputs, now, instant, None, now)
        self._save(inputs, states, now)
        out = EntitlementValue(
            has_access=value.has_access, balance=value.balance, usage=value.usage, overage=value.overage
        )
        if state is None:
            return out, None
        feature = self._feature(entitlement.feature_id)
        basis = ValueBasis(
            entitlement=entitlement,
            spec=inputs.spec,
            grants=tuple(inputs.grants),
            grants_by_id={g.id: g for g in inputs.grants},
            state=state,
            meter_slug=feature.meter_slug or "",
            filters=tuple(sorted(feature.meter_group_by_filters.items())),
        )
        return out, basis

    def _basis_from(
        self,
        inputs: _Inputs,
        t: datetime,
        instant: datetime,
        snapshot: engine.BalanceState | None,
        now: datetime,
    ) -> tuple[engine.EntitlementValue, list[engine.BalanceState], engine.BalanceState | None]:
        spec = inputs.spec
        states = self._checkpoints(inputs, instant, snapshot, now)
        state = states[-1] if states else snapshot
        if instant < spec.measure_usage_from:
            return engine.value_at(spec, inputs.grants, inputs.usage, t, state), states, None
        after = state.at if state is not None else spec.measure_usage_from
        start = engine.segment_start(spec, inputs.grants, after, instant)
        state = engine.state_at(spec, inputs.grants, inputs.usage, start, state)
        # What value_at(t, state) gives: nothing of the timeline lies in (start, instant], so it is one burn.
        end = (
            state
            if start == instant
            else engine.advance_within_segment(
                {g.id: g for g in inputs.grants}, state, instant, inputs.usage(start, instant)
            )
        )
        value = engine.EntitlementValue(
            at=instant,
            balance=end.balance,
            usage=end.usage,
            overage=end.overage,
            has_access=end.balance > 0 or spec.is_soft_limit,
            grant_balances=dict(end.balances),
            period_start=end.period_start,
        )
        return value, states, state

    def _checkpoints(
        self, inputs: _Inputs, instant: datetime, snapshot: engine.BalanceState | None, now: datetime
    ) -> list[engine.BalanceState]:
        """The states worth saving on the way from ``snapshot`` to ``instant``."""
        spec = inputs.spec
        horizon = _floor_hour(truncate_to_minute(now) - SNAPSHOT_GRACE)
        after = snapshot.at if snapshot is not None else spec.measure_usage_from
        candidates = {engine.period_start_at(spec, instant), _floor_hour(min(instant, horizon))}
        checkpoints = sorted(c for c in candidates if after < c <= min(instant, horizon))
        state = snapshot
        states = []
        for checkpoint in checkpoints:
            state = engine.state_at(spec, inputs.grants, inputs.usage, checkpoint, state)
            states.append(state)
        return states

    def _value_from(
        self,
        inputs: _Inputs,
        t: datetime,
        instant: datetime,
        snapshot: engine.BalanceState | None,
        now: datetime,
    ) -> tuple[engine.EntitlementValue, list[engine.BalanceState]]:
        """The value, replayed from ``snapshot`` through the checkpoints worth saving on the way."""
        states = self._checkpoints(inputs, instant, snapshot, now)
        state = states[-1] if states else snapshot
        return engine.value_at(inputs.spec, inputs.grants, inputs.usage, t, state), states

    def usage_since(self, bases: list[ValueBasis], end: datetime) -> list[Decimal]:
        """Per basis, its meter's usage for its subject in ``[basis.state.at, end)``: one read per meter,
        filters and start instant (bases usually share them: one read for many entitlements)."""
        groups: dict[tuple[str, tuple[tuple[str, str], ...], datetime], list[int]] = {}
        for i, b in enumerate(bases):
            groups.setdefault((b.meter_slug, b.filters, b.state.at), []).append(i)
        out = [Decimal(0)] * len(bases)
        for (slug, filters, start), members in groups.items():
            by_subject = self._meters.usage_by_subject(
                slug, [bases[i].entitlement.subject_key for i in members], dict(filters), start, end
            )
            for i in members:
                out[i] = by_subject[bases[i].entitlement.subject_key]
        return out

    def _save(self, inputs: _Inputs, states: list[engine.BalanceState], now: datetime) -> None:
        if not states:
            return
        e = inputs.entitlement
        basis = SnapshotBasis(
            entitlement_id=e.id,
            event_type=inputs.event_type,
            subject_key=e.subject_key,
            event_seq=inputs.event_seq,
            grants=inputs.grant_keys,
            resets=tuple(to_us(r.at) for r in e.resets),
            meter_version=inputs.meter_version,
        )
        rolling = states[-1]
        # A newer rolling snapshot supersedes older ones of its period (the period start one stays).
        prune = (rolling.period_start, rolling.at) if rolling.at > rolling.period_start else None
        self._snapshots.save(basis, states, now, prune)

    # -- history -----------------------------------------------------------------------------------
    def history(
        self,
        entitlement: Entitlement,
        from_time: datetime | None,
        to_time: datetime | None,
        window: HistoryWindow | None,
        window_time_zone: str = "",
        check: DeadlineCheck = no_deadline,
    ) -> engine.History | None:
        """Windowed usage and burn-down segments over [from_time, to_time).

        ``to_time`` defaults to now (rounded up to the minute), ``from_time`` to the start of the usage
        period holding ``to_time`` (the last reset). Explicit bounds must be whole minutes. Returns None when
        both bounds are defaulted and the range is empty (an entitlement created this minute). Raises
        InvalidArgument naming ``window_size``, ``window_time_zone``, ``from_time`` or ``to_time``; at most
        MAX_HISTORY_WINDOWS windows (InvalidArgument on ``window_size`` beyond, before any work). ``check`` is
        called before each usage read and stops the work by raising (the caller's deadline).
        """
        if window is None:
            raise InvalidArgument.of("window_size", "is required: HOUR, DAY or MONTH")
        zone = resolve_zone(window_time_zone)
        for name, value in (("from_time", from_time), ("to_time", to_time)):
            if value is not None and not QUERY_MIN_TIME <= value <= QUERY_MAX_TIME:
                raise InvalidArgument.of(name, f"must be {QUERY_RANGE_TEXT}")
            if value is not None and not is_whole_minute(value):
                raise InvalidArgument.of(name, "must be on a whole minute (like YYYY-MM-DDTHH:mm:00Z)")
        inputs = self._checked(self._inputs(entitlement), check)
        spec = inputs.spec
        end = as_utc(to_time) if to_time is not None else ceil_to_minute(self._clock())
        start = as_utc(from_time) if from_time is not None else engine.period_start_at(spec, end - _MINUTE)
        if start >= end:
            if from_time is None and to_time is None:
                return None
            raise InvalidArgument.of("from_time", f"must be before to_time ({end.isoformat()})")
        if start < spec.measure_usage_from:
            raise InvalidArgument.of(
                "from_time", f"cannot be before measure_usage_from ({spec.measure_usage_from.isoformat()})"
            )
        edges = window_edges(start, end, window, zone, MAX_HISTORY_WINDOWS)
        snapshot = self._snapshot(inputs, start)
        try:
            return engine.history(spec, inputs.grants, inputs.usage, start, end, edges, snapshot)
        except engine.StaleSnapshot as exc:
            assert snapshot is not None
            self._drop_stale(inputs, snapshot, exc)
            return engine.history(spec, inputs.grants, inputs.usage, start, end, edges, None)

    # -- resets ------------------------------------------------------------------------------------
    def reset(
        self,
        entitlement: Entitlement,
        effective_at: datetime | None = None,
        retain_anchor: bool = False,
        preserve_overage: bool | None = None,
        interval: Interval | None = None,
        anchor: datetime | None = None,
    ) -> Entitlement:
        """Resets a metered entitlement's usage at ``effective_at`` (default now, truncated to the minute).

        With ``interval``, the usage period changes from the reset on: that interval, anchored at ``anchor``
        (default: the reset instant, or with ``retain_anchor`` the anchor in effect); earlier periods are
        unchanged. Returns the entitlement after the reset. Raises FailedPrecondition for a non-metered entitlement or a
        reset not after the start of the current usage period (the last reset, a period boundary, or a second
        reset in the same minute); InvalidArgument (``effective_at``) for a time in the future or before the
        entitlement was created.
        """
        if entitlement.type is not EntitlementType.METERED:
            raise FailedPrecondition(
                f"entitlement: {entitlement.id} is {entitlement.type.lower()}; only metered entitlements have usage"
            )
        now = self._clock()
        requested = now if effective_at is None else as_utc(effective_at)
        if requested > now:
            raise InvalidArgument.of(
                "effective_at", f"cannot reset at {requested.isoformat()}, in the future"
            )
        at = truncate_to_minute(requested)
        if at < truncate_to_minute(entitlement.created_at):
            raise InvalidArgument.of(
                "effective_at",
                f"is before the entitlement was created ({entitlement.created_at.isoformat()})",
            )
        period_start = engine.period_start_at(entitlement.engine_spec(), now)
        if at <= period_start:
            raise FailedPrecondition(
                f"effective_at: a reset must be after the start of the current usage period"
                f" ({period_start.isoformat()}); {at.isoformat()} is not"
            )
        new_period = None
        if interval is not None:
            if anchor is None:
                anchor = engine.usage_period_at(entitlement.engine_spec(), at).anchor if retain_anchor else at
            new_period = UsagePeriod(interval, anchor)
        elif anchor is not None:
            raise InvalidArgument.of("usage_period.interval", "is required with usage_period.anchor")
        reset = engine.Reset(
            at, retain_anchor=retain_anchor, preserve_overage=preserve_overage, usage_period=new_period
        )
        try:
            self._entitlements.add_reset(entitlement.id, reset, now)
        except AlreadyExists as exc:
            raise FailedPrecondition(
                f"effective_at: the entitlement was already reset at {at.isoformat()}"
            ) from exc
        updated = self._entitlements.find(entitlement.subject_key, entitlement.id)
        if updated is None:  # deleted meanwhile
            raise FailedPrecondition(f"entitlement: {entitlement.id} was deleted")
        return updated
