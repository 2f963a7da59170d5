"""Query planning over pre-aggregate levels, and the merge of partial aggregates into query rows.

The store keeps every meter's aggregates at three UTC levels: minute, hour and day. A query window
(already clipped to [from, to)) is cut into pieces, each a whole number of units of one level: whole
UTC days in the middle, whole hours around them, minutes at the ragged ends. Reading the coarsest level
that fits keeps a query's cost proportional to the windows and groups it returns rather than to the
events stored: a 30-day total reads about 30 day rows per group, not 43,200 minute rows.

Pure code: the store answers ``Fetch`` requests (a level and a time range) with ``Partial`` rows.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import IntEnum

from meterd.server.meters.aggregate import AGGREGATION_CONTEXT
from meterd.server.meters.model import Aggregation
from meterd.server.timeutil import MINUTE_US, to_us

HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
NANOS = 10**9
_MICROSECOND = timedelta(microseconds=1)


class Level(IntEnum):
    """A pre-aggregate level and its unit in microseconds."""

    MINUTE = MINUTE_US
    HOUR = HOUR_US
    DAY = DAY_US


def floor_to(t_us: int, unit: int) -> int:
    return t_us - t_us % unit


def ceil_to(t_us: int, unit: int) -> int:
    return -((-t_us) // unit) * unit


def pieces(start_us: int, end_us: int) -> list[tuple[Level, int, int]]:
    """[start, end) (whole minutes) as level-aligned pieces, coarsest in the middle, in time order."""
    out: list[tuple[Level, int, int]] = []
    d0, d1 = ceil_to(start_us, DAY_US), floor_to(end_us, DAY_US)
    if d0 < d1:
        _by_hours(start_us, d0, out)
        out.append((Level.DAY, d0, d1))
        _by_hours(d1, end_us, out)
    else:
        _by_hours(start_us, end_us, out)
    return out


def _by_hours(a: int, b: int, out: list[tuple[Level, int, int]]) -> None:
    h0, h1 = ceil_to(a, HOUR_US), floor_to(b, HOUR_US)
    if h0 < h1:
        if a < h0:
            out.append((Level.MINUTE, a, h0))
        out.append((Level.HOUR, h0, h1))
        if h1 < b:
            out.append((Level.MINUTE, h1, b))
    elif a < b:
        out.append((Level.MINUTE, a, b))


@dataclass(frozen=True, slots=True)
class Fetch:
    """One contiguous range of one level for the store to read."""

    level: Level
    start_us: int
    end_us: int


@dataclass(frozen=True, slots=True)
class Plan:
    """Which level ranges to read, and which window each level row belongs to."""

    fetches: list[Fetch]
    # Per level: sorted piece starts, their ends, and the window index of each piece.
    _starts: dict[Level, list[int]]
    _ends: dict[Level, list[int]]
    _window: dict[Level, list[int]]

    def window_of(self, level: Level, time_us: int) -> int | None:
        """The window holding a level row that starts at ``time_us``; None if no piece covers it."""
        starts = self._starts[level]
        i = bisect.bisect_right(starts, time_us) - 1
        if i >= 0 and time_us < self._ends[level][i]:
            return self._window[level][i]
        return None


def plan(windows: Sequence[tuple[datetime, datetime]]) -> Plan:
    """Plans the reads for windows given as their clipped [start, end), whole UTC minutes, in order."""
    per_level: dict[Level, list[tuple[int, int, int]]] = {level: [] for level in Level}
    for index, (start, end) in enumerate(windows):
        for level, a, b in pieces(to_us(start), to_us(end)):
            per_level[level].append((a, b, index))
    fetches: list[Fetch] = []
    starts: dict[Level, list[int]] = {}
    ends: dict[Level, list[int]] = {}
    window: dict[Level, list[int]] = {}
    for level, items in per_level.items():
        items.sort()
        starts[level] = [a for a, _, _ in items]
        ends[level] = [b for _, b, _ in items]
        window[level] = [w for _, _, w in items]
        run_start = run_end = None
        for a, b, _ in items:
            if run_end is not None and a == run_end:
                run_end = b
                continue
            if run_start is not None and run_end is not None:
                fetches.append(Fetch(level, run_start, run_end))
            run_start, run_end = a, b
        if run_start is not None and run_end is not None:
            fetches.append(Fetch(level, run_start, run_end))
    return Plan(fetches, starts, ends, window)


def fetches(windows: Sequence[tuple[datetime, datetime]]) -> list[Fetch]:
    """``plan(windows).fetches`` without what merging needs (which window holds which piece): the level
    ranges for a store that groups rows into windows itself. Windows in order, as ``plan`` takes them."""
    runs: dict[Level, list[list[int]]] = {Level.MINUTE: [], Level.HOUR: [], Level.DAY: []}
    hours = runs[Level.HOUR]
    for start, end in windows:
        s, e = to_us(start), to_us(end)
        if e - s < DAY_US and s % HOUR_US == 0 and e % HOUR_US == 0:  # whole hours, no whole day: one piece
            if hours and hours[-1][1] == s:
                hours[-1][1] = e
            elif s < e:
                hours.append([s, e])
            continue
        for level, a, b in pieces(s, e):
            level_runs = runs[level]
            if level_runs and level_runs[-1][1] == a:
                level_runs[-1][1] = b
            else:
                level_runs.append([a, b])
    return [Fetch(level, a, b) for level, level_runs in runs.items() for a, b in level_runs]


@dataclass(frozen=True, slots=True)
class UniformPlan:
    """The plan of windows of one length (``windows.UniformWindows``), made without listing them: the edge
    windows' pieces, and between them one range of the level that is the windows' size. A level row that
    starts at ``t`` belongs to window ``(t - first_us) // step_us``, whatever its level (pieces never cross a
    window's edge)."""

    fetches: list[Fetch]
    first_us: int
    step_us: int
    from_us: int
    to_us: int

    def window_of(self, level: Level, time_us: int) -> int | None:
        if self.from_us <= time_us < self.to_us:
            return (time_us - self.first_us) // self.step_us
        return None


_LEVEL_OF_STEP = {Level.MINUTE.value: Level.MINUTE, Level.HOUR.value: Level.HOUR, Level.DAY.value: Level.DAY}


def uniform_plan(first_start: datetime, step: timedelta, clip: tuple[datetime, datetime]) -> UniformPlan:
    """Plans the reads of windows of length ``step`` (a minute, an hour or a UTC day) that start at
    ``first_start`` and cover ``clip`` = [from, to)."""
    first_us, step_us = to_us(first_start), step // _MICROSECOND
    from_us, end_us = to_us(clip[0]), to_us(clip[1])
    level = _LEVEL_OF_STEP[step_us]
    inner_start = first_us + step_us if from_us > first_us else first_us
    inner_end = floor_to(end_us - first_us, step_us) + first_us
    fetches: list[Fetch] = []
    if inner_start >= inner_end:  # one or two windows, both cut by the range
        fetches = [Fetch(lv, a, b) for lv, a, b in pieces(from_us, end_us)]
    else:
        fetches += [Fetch(lv, a, b) for lv, a, b in pieces(from_us, inner_start)]
        fetches.append(Fetch(level, inner_start, inner_end))
        fetches += [Fetch(lv, a, b) for lv, a, b in pieces(inner_end, end_us)]
    return UniformPlan(fetches, first_us, step_us, from_us, end_us)


def uniform_runs(first_start: datetime, step: timedelta, count: int) -> list[WindowRun]:
    """``window_runs`` of ``count`` windows of length ``step`` from ``first_start``: one run."""
    if count == 0:
        return []
    start_us, step_us = to_us(first_start), step // _MICROSECOND
    return [WindowRun(0, start_us, step_us, start_us + count * step_us)]


@dataclass(frozen=True, slots=True)
class WindowRun:
    """Consecutive windows of one length: window ``first + (t - start_us) // step_us`` holds the instant
    ``t`` (microseconds) for ``start_us <= t < end_us``."""

    first: int
    start_us: int
    step_us: int
    end_us: int


def window_runs(windows: Sequence[tuple[datetime, datetime]]) -> list[WindowRun]:
    """The runs of windows given as their whole (unclipped) [start, end), contiguous and in order.

    A store can then find the window of a row by arithmetic: one run for UTC (or any fixed-offset) windows,
    a few more for each DST transition in the range (the 23- and 25-hour days, the hours at an offset
    change)."""
    runs: list[WindowRun] = []
    if not windows:
        return runs
    first, (run_start, end) = 0, windows[0]
    step = end - run_start
    for index, (start, stop) in enumerate(windows):
        if index and (stop - start != step or start != end):
            runs.append(WindowRun(first, to_us(run_start), step // _MICROSECOND, to_us(end)))
            first, run_start, step = index, start, stop - start
        end = stop
    runs.append(WindowRun(first, to_us(run_start), step // _MICROSECOND, to_us(end)))
    return runs


@dataclass(slots=True)
class Partial:
    """A partial aggregate as stored: any union of partials merges exactly.

    ``sum_nanos`` is the exact sum in units of 10^-9; ``latest`` is (event time us, ingest seq, value).
    """

    count: int = 0
    sum_nanos: int = 0
    min: float | None = None
    max: float | None = None
    latest: tuple[int, int, float] | None = None
    distinct: set[str] = field(default_factory=set)

    def merge(
        self,
        count: int,
        sum_nanos: int,
        min_: float | None,
        max_: float | None,
        latest: tuple[int, int, float] | None,
    ) -> None:
        self.count += count
        self.sum_nanos += sum_nanos
        if min_ is not None and (self.min is None or min_ < self.min):
            self.min = min_
        if max_ is not None and (self.max is None or max_ > self.max):
            self.max = max_
        if latest is not None and (self.latest is None or latest[:2] > self.latest[:2]):
            self.latest = latest

    def value(self, aggregation: Aggregation) -> Decimal | None:
        """The meter's value over this partial; None where there is none (no events)."""
        if aggregation is Aggregation.LATEST:
            return None if self.count == 0 or self.latest is None else Decimal(repr(self.latest[2]))
        return row_value(aggregation, self.count, self.sum_nanos, self.min, self.max, len(self.distinct))


def row_value(
    aggregation: Aggregation,
    count: int,
    sum_nanos: int,
    min_: float | None,
    max_: float | None,
    distinct: int,
) -> Decimal | None:
    """The value of a merged aggregate given by its parts (every aggregation but LATEST); None where there is
    none (no events, or no numeric value for MIN/MAX)."""
    if count == 0:
        return None
    match aggregation:
        case Aggregation.COUNT:
            return Decimal(count)
        case Aggregation.SUM:
            return nanos_to_decimal(sum_nanos)
        case Aggregation.AVG:
            return AGGREGATION_CONTEXT.divide(nanos_to_decimal(sum_nanos), Decimal(count))
        case Aggregation.MIN:
            return None if min_ is None else Decimal(repr(min_))
        case Aggregation.MAX:
            return None if max_ is None else Decimal(repr(max_))
        case Aggregation.UNIQUE_COUNT:
            return Decimal(distinct)
    raise ValueError(f"no value of {aggregation!r} from parts")  # pragma: no cover


_NANO = Decimal(1).scaleb(-9)


def decimal_to_nanos(value: Decimal) -> int:
    """A value in units of 10^-9, rounded half-even: sums are exact to nine decimal places."""
    return int(AGGREGATION_CONTEXT.quantize(value, _NANO).scaleb(9, AGGREGATION_CONTEXT))


def nanos_to_decimal(nanos: int) -> Decimal:
    return (
        Decimal(nanos).scaleb(-9, AGGREGATION_CONTEXT).normalize(AGGREGATION_CONTEXT) if nanos else Decimal(0)
    )


def merge_rows(
    plan_: Plan | UniformPlan,
    level: Level,
    rows: Iterable[
        tuple[
            int,
            str | None,
            tuple[str | None, ...],
            int,
            int,
            float | None,
            float | None,
            tuple[int, int, float] | None,
            str | None,
        ]
    ],
    cells: dict[tuple[int, str | None, tuple[str | None, ...]], Partial],
) -> None:
    """Adds fetched level rows (time, subject, groups, count, sum_nanos, min, max, latest, distinct value)
    to the cells of their windows."""
    for time_us, subject, groups, count, sum_nanos, min_, max_, latest, distinct in rows:
        window = plan_.window_of(level, time_us)
        if window is None:
            continue
        key = (window, subject, groups)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = Partial()
        cell.merge(count, sum_nanos, min_, max_, latest)
        if distinct is not None:
            cell.distinct.add(distinct)
