"""Threshold crossings (OpenMeter's balance-threshold notifications, over the watch stream).

A crossing is reported once per threshold, entitlement and usage period: the first time, while watched,
that the value goes from this side of the threshold to beyond it. The first value a watch sees only sets
the baseline (a watcher learns the state itself from that value); a new usage period starts afresh, and a
value already beyond the threshold when its period starts counts as a crossing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from meterd.server.errors import InvalidArgument

MAX_THRESHOLDS = 32


class ThresholdKind(StrEnum):
    BALANCE_BELOW = "BALANCE_BELOW"
    BALANCE_BELOW_PERCENT = "BALANCE_BELOW_PERCENT"
    USAGE_ABOVE = "USAGE_ABOVE"


@dataclass(frozen=True, slots=True)
class Threshold:
    kind: ThresholdKind
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Reading:
    """What a threshold is checked against: a metered value, the credit granted, the period it is in."""

    balance: Decimal
    usage: Decimal
    granted: Decimal
    period_start: datetime


def validate_thresholds(thresholds: list[Threshold]) -> None:
    if len(thresholds) > MAX_THRESHOLDS:
        raise InvalidArgument.of("thresholds", f"at most {MAX_THRESHOLDS}, got {len(thresholds)}")
    for i, t in enumerate(thresholds):
        if not t.amount.is_finite():
            raise InvalidArgument.of(f"thresholds[{i}]", "must be a finite number")
        if t.kind is ThresholdKind.BALANCE_BELOW_PERCENT and not (0 <= t.amount <= 100):
            raise InvalidArgument.of(f"thresholds[{i}].balance_below_percent", "must be between 0 and 100")


def is_beyond(threshold: Threshold, reading: Reading) -> bool:
    """Whether the reading is past the threshold (balance below it, or usage above it)."""
    if threshold.kind is ThresholdKind.BALANCE_BELOW:
        return reading.balance < threshold.amount
    if threshold.kind is ThresholdKind.USAGE_ABOVE:
        return reading.usage > threshold.amount
    if reading.granted <= 0:
        return False  # nothing granted: no percentage to fall below
    return reading.balance * 100 < threshold.amount * reading.granted


@dataclass(slots=True)
class _State:
    period_start: datetime
    beyond: bool
    fired: bool


class ThresholdTracker:
    """Per watch: the last side of each (entitlement, threshold), and whether it fired in the period."""

    def __init__(self, thresholds: list[Threshold]) -> None:
        self.thresholds = thresholds
        self._states: dict[tuple[str, int], _State] = {}

    def observe(self, entitlement_id: str, reading: Reading | None) -> list[int]:
        """The indexes of thresholds this reading crosses. None: not metered (or deleted): forget it."""
        if reading is None:
            for i in range(len(self.thresholds)):
                self._states.pop((entitlement_id, i), None)
            return []
        crossed = []
        for i, threshold in enumerate(self.thresholds):
            beyond = is_beyond(threshold, reading)
            key = (entitlement_id, i)
            state = self._states.get(key)
            if state is None:
                self._states[key] = _State(reading.period_start, beyond, fired=False)
                continue
            if state.period_start != reading.period_start:
                # A new period: a value already beyond at its start is this period's crossing.
                state.period_start, state.fired = reading.period_start, False
                if beyond:
                    state.fired = True
                    crossed.append(i)
            elif beyond and not state.beyond and not state.fired:
                state.fired = True
                crossed.append(i)
            state.beyond = beyond
        return crossed
