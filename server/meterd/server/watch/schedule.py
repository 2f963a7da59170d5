"""When an entitlement's value changes with no new data: time passing a usage-period boundary, a grant's
start, expiry or recurrence, or the minute of an event stamped in the future.

A value read at ``t`` is the engine's state at ``t`` rounded up to the minute (SPEC: values read up to the
next whole minute). So the value at instant ``X`` (a whole minute) is first seen just after ``X - 1 min``,
and an event in minute ``m`` counts just after ``m`` starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from meterd.server.credit import engine

_MINUTE = timedelta(minutes=1)
# Wake a little after the instant, so that the value read then is surely the new one.
SLACK = timedelta(milliseconds=5)


def next_engine_instant(
    spec: engine.EntitlementSpec, grants: Iterable[engine.Grant], after: datetime
) -> datetime | None:
    """The first instant strictly after ``after`` at which the engine's state changes by itself."""
    candidates: list[datetime] = []
    period = engine.usage_period_at(spec, after).containing(after)
    candidates.append(period.end)
    for g in grants:
        for t in (g.effective_at, g.expires_at, g.voided_at):
            if t is not None and t > after:
                candidates.append(t)
        nxt = next(g.recurrence_instants(after, after + _recurrence_horizon(g)), None)
        if nxt is not None:
            candidates.append(nxt)
    later = [t for t in candidates if t > after]
    return min(later) if later else None


def _recurrence_horizon(g: engine.Grant) -> timedelta:
    return timedelta(days=400)  # longer than any recurrence interval (a year)


def wake_time(
    spec: engine.EntitlementSpec | None, grants: Iterable[engine.Grant], now: datetime
) -> datetime | None:
    """When to recompute the value next (None: never by itself): just after ``X - 1 min`` for the next
    instant ``X`` after the one a value read now uses."""
    if spec is None:
        return None
    instant = engine.value_instant(now)
    nxt = next_engine_instant(spec, grants, instant)
    if nxt is None:
        return None
    return nxt - _MINUTE + SLACK
