"""When a rule's threshold is crossed: pure code over an entitlement's value (as GetEntitlementValue gives it).

A threshold is beyond when the period's usage reaches it (OpenMeter's balance-threshold rule):
- NUMBER ``v``: usage >= v;
- PERCENT ``p``: usage >= p% of the credit of the period, balance + usage - overage (what was granted for
  the period and is still in it); never while that credit is 0 (nothing granted yet: OpenMeter waits too).

Each (rule, entitlement, usage period, threshold) produces at most one event: the first time a value of that
period is beyond the threshold. A usage period is identified by its start as the credit engine counts it (a
reset starts a new one: thresholds start again). Unlike a watch, no value is a mere baseline: a rule created
while an entitlement is already beyond one of its thresholds reports it at once (a webhook receiver has no
snapshot to learn the state from). Unlike OpenMeter (which sends only the highest threshold of a jump, and
sends again when the highest one falls back after a grant), every threshold crossed gets its own event, once.

``ThresholdIndex`` holds the active rules' thresholds by feature, sorted, so that checking a value costs a
binary search and only the thresholds newly beyond are looked at (``Progress`` remembers, per entitlement
and period, how far the value has gone).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from meterd.server.entitlements.model import EntitlementValue
from meterd.server.notifications.model import Rule, Threshold, ThresholdType

_HUNDRED = Decimal(100)


def credit_of(value: EntitlementValue) -> Decimal:
    """The credit of the period a PERCENT threshold is a share of: balance + usage - overage."""
    return value.balance + value.usage - value.overage


def is_beyond(threshold: Threshold, value: EntitlementValue) -> bool:
    """Whether the value has reached the threshold (see the module docstring)."""
    if threshold.type is ThresholdType.NUMBER:
        return value.usage >= threshold.value
    credit = credit_of(value)
    return credit > 0 and value.usage * _HUNDRED >= threshold.value * credit


def dedupe_key(rule_id: str, entitlement_id: str, period_start_us: int, threshold: Threshold) -> str:
    """The key at most one event has: rule, entitlement, usage period and threshold."""
    return f"{rule_id}/{entitlement_id}/{period_start_us}/{threshold.key}"


@dataclass(frozen=True, slots=True)
class Armed:
    """One threshold of one rule."""

    rule: Rule
    threshold: Threshold


@dataclass(slots=True)
class FeatureThresholds:
    """The thresholds that apply to one feature's entitlements, each kind sorted by value."""

    numbers: list[Armed] = field(default_factory=list)
    percents: list[Armed] = field(default_factory=list)


@dataclass(slots=True)
class Progress:
    """How far one entitlement's value has gone in one usage period: the NUMBER thresholds (a prefix of the
    sorted list) and PERCENT thresholds already handled. ``period_end_us`` and ``source`` let a caller reuse
    the period for later values of the same entitlement object (0: unknown)."""

    period_start_us: int
    numbers_done: int = 0
    percents_done: int = 0
    period_end_us: int = 0
    source: object = None


class ThresholdIndex:
    """The thresholds of a set of active rules, by feature (built once per set of rules)."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._all = [r for r in self.rules if not r.features]
        self._by_feature: dict[str, list[Rule]] = {}
        for r in self.rules:
            for f in r.features:
                self._by_feature.setdefault(f.id, []).append(r)
        self._cache: dict[str, FeatureThresholds] = {}

    @property
    def all_features(self) -> bool:
        """Whether some rule covers every feature."""
        return bool(self._all)

    @property
    def feature_keys(self) -> frozenset[str]:
        """The keys of the features some rule is scoped to."""
        return frozenset(f.key for r in self.rules for f in r.features)

    def for_feature(self, feature_id: str) -> FeatureThresholds:
        found = self._cache.get(feature_id)
        if found is None:
            found = FeatureThresholds()
            for rule in [*self._all, *self._by_feature.get(feature_id, ())]:
                for t in rule.thresholds:
                    (found.numbers if t.type is ThresholdType.NUMBER else found.percents).append(
                        Armed(rule, t)
                    )
            found.numbers.sort(key=lambda a: a.threshold.value)
            found.percents.sort(key=lambda a: a.threshold.value)
            self._cache[feature_id] = found
        return found

    def crossed(self, feature_id: str, value: EntitlementValue, progress: Progress) -> list[Armed]:
        """The thresholds newly beyond for this value (and records them in ``progress``)."""
        ft = self.for_feature(feature_id)
        out: list[Armed] = []
        if ft.numbers:
            usage = value.usage
            n = _count(ft.numbers, lambda v: v <= usage)
            if n > progress.numbers_done:
                out.extend(ft.numbers[progress.numbers_done : n])
                progress.numbers_done = n
        credit = credit_of(value)
        if ft.percents and credit > 0:
            scaled = value.usage * _HUNDRED
            n = _count(ft.percents, lambda v: v * credit <= scaled)
            if n > progress.percents_done:
                out.extend(ft.percents[progress.percents_done : n])
                progress.percents_done = n
        return out


def _count(armed: list[Armed], reached: Callable[[Decimal], bool]) -> int:
    """How many thresholds (sorted by value) the predicate holds for: a prefix, found by bisection."""
    lo, hi = 0, len(armed)
    while lo < hi:
        mid = (lo + hi) // 2
        if reached(armed[mid].threshold.value):
            lo = mid + 1
        else:
            hi = mid
    return lo
