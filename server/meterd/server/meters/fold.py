"""The ingest fold: a batch of events read by every meter of its type and folded into pre-aggregate rows.

Pure code (no SQL, no gRPC): both storage backends keep the same aggregate layout and upsert what this
module produces. The rows, by target:

- ``("sub", kind)``: per-subject minute rows, ``(meter_num, day_us, subject, minute_us, groups, *values)``;
- ``("all", level, kind)``: all-subject rows per level, ``(meter_num, time_us, groups, *values)``;
- ``("sub_distinct",)`` and ``("all_distinct", level)``: UNIQUE_COUNT's distinct values, the same keys
  followed by the value.

``groups`` is the meter's group values as a compact JSON array (null for a missing value). The values
after the key depend on what the meter keeps (its kind): count; count, sum_units, sum_nanos (the exact
sum in integer units of 10^-9, split at 10^9); count, min; count, max; count, latest, latest_time_us,
latest_seq. A backend maps each target to its upsert and merges the values by the same rules (counts
and sums add, min/max keep the extreme, LATEST keeps the greatest (event time, ingest seq)).

Each event's data is parsed once (orjson; the exact decimal parser only for data holding a non-integer
number or an integer beyond 64 bits). For a meter whose paths are plain member names, string or null
group values and integer values are read inline; anything else goes through ``MeterReader``. Anything an
event holds that a meter cannot use becomes that event's validation error for that meter: no content of
an event can make the fold fail.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from meterd.server.events.model import no_meter_reads, parse_data
from meterd.server.meters.model import (
    MAX_VALUE_DIGITS,
    Aggregation,
    MeterDefinition,
    MeterReader,
    ReadError,
    compile_path,
    parse_event_data,
)
from meterd.server.meters.plan import DAY_US, HOUR_US, NANOS, Level, decimal_to_nanos
from meterd.server.timeutil import MINUTE_US

try:  # the C loop (_foldc.c), built by `pip install` / `make setup` where a C compiler is present
    from meterd.server.meters import _foldc  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a build without it folds in Python
    _foldc = None

log = logging.getLogger(__name__)
# Whether the fold's loop runs in C by default.
NATIVE = _foldc is not None

# Numeric readings are below 10**MAX_VALUE_DIGITS in magnitude (MeterReader refuses larger ones: sums stay
# exact in int64 units of 10^-9); integers inside this bound are read inline on the fast path, others go to
# the reader. UNIQUE_COUNT reads integers inline up to _TEXT_INT (their text is str(int)).
_NUMBER_INT = 10**MAX_VALUE_DIGITS
_TEXT_INT = 10**18
_MAX_SUM_NANOS = _NUMBER_INT * NANOS
_GROUP_TEXT_CACHE_LIMIT = 100_000

# What a meter's rows keep, by aggregation.
COUNT, SUM, MIN, MAX, LATEST, DISTINCT = range(6)
KIND_OF = {
    Aggregation.COUNT: COUNT, Aggregation.SUM: SUM, Aggregation.AVG: SUM, Aggregation.MIN: MIN,
    Aggregation.MAX: MAX, Aggregation.LATEST: LATEST, Aggregation.UNIQUE_COUNT: DISTINCT,
}


@dataclass(frozen=True, slots=True)
class CompiledMeter:
    """A meter as the fold reads it (``compile_meter``): its number, kind and fast-path member names."""

    meter_num: int
    slug: str
    reader: MeterReader
    kind: int
    # Set when every group path is one member name ($.a): the names, read inline on the fast path.
    group_names: tuple[str, ...] | None
    # The value path's member name on the fast path (None for COUNT meters).
    value_name: str | None


# Where rows go (see the module docstring).
Target = tuple[Any, ...]
SUB_TARGET = {kind: ("sub", kind) for kind in (COUNT, SUM, MIN, MAX, LATEST)}
ALL_TARGET = {(level, kind): ("all", level, kind) for level in Level for kind in (COUNT, SUM, MIN, MAX, LATEST)}
SUB_DISTINCT_TARGET: Target = ("sub_distinct",)
ALL_DISTINCT_TARGET = {level: ("all_distinct", level) for level in Level}
# Where the latest_seq column is in LATEST rows.
SUB_SEQ_AT = 5 + 3
ALL_SEQ_AT = 3 + 3


@dataclass(slots=True)
class Folded:
    """A batch folded into the rows it upserts (see the module docstring)."""

    version: int
    # target -> rows; for LATEST rows, ``seq_at`` gives the position of the latest_seq column, which holds
    # the event's index in the batch until the writer adds the batch's first sequence number.
    rows: dict[Target, list[tuple[Any, ...]]] = field(default_factory=dict)
    seq_at: dict[Target, int] = field(default_factory=dict)
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (index or seq, meter slug, message)
    subjects: set[tuple[int, str]] = field(default_factory=set)


class Folder:
    """Folds batches (``fold``); keeps a bounded cache of group texts between batches.

    ``native``: None uses the C loop when it is built (falling back to Python, with a logged error, should
    it ever fail); True requires it (and lets a failure raise: tests); False keeps to Python."""

    def __init__(self, native: bool | None = None) -> None:
        self._group_texts: dict[tuple[str | None, ...], str] = {}
        if native and _foldc is None:
            raise RuntimeError("the native meter fold (meterd.server.meters._foldc) is not built")
        self._native = _foldc if native is not False else None
        self._strict = bool(native)
        self._specs: tuple[Mapping[str, list[CompiledMeter]] | None,
                           dict[str, list[tuple[int, int, tuple[str, ...] | None, str | None, CompiledMeter]]]] = (None, {})

    def group_text(self, groups: tuple[str | None, ...]) -> str | None:
        """The stored text of group values; None for values with a NUL character, which the fast paths then
        leave to the reader (it refuses them: see meters.model.NUL_IN_TEXT)."""
        text = self._group_texts.get(groups)
        if text is None:
            if any(g is not None and "\x00" in g for g in groups):
                return None
            text = json.dumps(list(groups), separators=(",", ":"))
            if len(self._group_texts) > _GROUP_TEXT_CACHE_LIMIT:
                self._group_texts = {}
            self._group_texts[groups] = text
        return text

    def fold(self, events: Iterable[tuple[int, str, str, int, str | None]],
             by_type: Mapping[str, list[CompiledMeter]], version: int, *, by_index: bool = False,
             stored: bool = False) -> Folded:
        """Reads and folds events given as (seq, type, subject, time_us, data text); with ``by_index`` the
        first item is the event's index in its batch, and LATEST rows are marked for the writer to add
        the batch's first sequence number; ``stored`` events (a backfill) are checked as stored data.

        The hot loop: for a meter whose paths are plain member names (``$.a``), a string or null group
        value and an integer value are read inline (what ``MeterReader`` gives for them, without building
        a Reading and a Decimal); anything else goes through ``MeterReader.read``. The loop runs in C
        (``_foldc``) where it is built, for events just validated; the Python loop is the reference.
        """
        if self._native is not None and not stored:
            events = events if isinstance(events, list) else list(events)
            try:
                return self._fold_native(events, by_type, version, by_index)
            except Exception:
                if self._strict:
                    raise
                log.exception("the native meter fold failed; folding the batch in Python")
        out = Folded(version)
        # Per meter: (subject, groups text, minute) -> [count, sum nanos, min, max, latest time, latest seq,
        # latest]; UNIQUE_COUNT meters: a set of (subject, groups text, minute, value).
        accs: dict[int, dict[tuple[str, str, int], list[Any]]] = {}
        distincts: dict[int, set[tuple[str, str, int, str]]] = {}
        meters_seen: dict[int, CompiledMeter] = {}
        self._loop(events, by_type, stored, accs, distincts, meters_seen, out.errors)
        for num, meter_accs in accs.items():
            _rows_of(num, meters_seen[num].kind, meter_accs, out, fix_seq=by_index)
        for num, distinct in distincts.items():
            _distinct_rows_of(num, distinct, out)
        return out

    def _fold_native(self, events: list[tuple[int, str, str, int, str | None]],
                     by_type: Mapping[str, list[CompiledMeter]], version: int, by_index: bool) -> Folded:
        """``fold`` with the loop and the rows of each meter built in C."""
        assert self._native is not None
        out = Folded(version)
        accs: dict[int, dict[tuple[str, str, int], list[Any]]] = {}
        distincts: dict[int, set[tuple[str, str, int, str]]] = {}
        meters_seen: dict[int, CompiledMeter] = {}
        self._loop_native(events, by_type, accs, distincts, meters_seen, out.errors)
        for num, meter_accs in accs.items():
            kind = meters_seen[num].kind
            sub_rows, level_rows = self._native.rows_of(num, kind, meter_accs, out.subjects, NANOS, HOUR_US, DAY_US)
            latest = kind == LATEST and by_index
            _add_rows(out, SUB_TARGET[kind], sub_rows, SUB_SEQ_AT if latest else None)
            for level, rows in zip((Level.MINUTE, Level.HOUR, Level.DAY), level_rows, strict=True):
                _add_rows(out, ALL_TARGET[(level, kind)], rows, ALL_SEQ_AT if latest else None)
        for num, distinct in distincts.items():
            sub_rows, level_rows = self._native.distinct_rows_of(num, distinct, out.subjects, HOUR_US, DAY_US)
            _add_rows(out, SUB_DISTINCT_TARGET, sub_rows, None)
            for level, rows in zip((Level.MINUTE, Level.HOUR, Level.DAY), level_rows, strict=True):
                _add_rows(out, ALL_DISTINCT_TARGET[level], rows, None)
        return out

    def _loop_native(self, events: list[tuple[int, str, str, int, str | None]],
                     by_type: Mapping[str, list[CompiledMeter]], accs: dict[int, dict[tuple[str, str, int], list[Any]]],
                     distincts: dict[int, set[tuple[str, str, int, str]]], meters_seen: dict[int, CompiledMeter],
                     errors: list[tuple[int, str, str]]) -> None:
        """The loop in C, into the same accumulators in the same order (see _foldc.c)."""
        assert self._native is not None
        # The meters as the C loop reads them, kept for the same by_type (one attribute, assigned whole: folds
        # run on several threads at once).
        cached_for, specs = self._specs
        if cached_for is not by_type:
            specs = {t: [(m.meter_num, m.kind, m.group_names, m.value_name, m) for m in meters]
                     for t, meters in by_type.items()}
            self._specs = (by_type, specs)
        group_text = self.group_text

        def read_slow(seq: int, m: CompiledMeter, data: str | None, cache: list[Any]) -> tuple[str, Any] | None:
            return _read_slow(seq, m, data, cache, group_text, errors)

        def slow_event(event: tuple[int, str, str, int, str | None]) -> None:
            self._loop([event], by_type, False, accs, distincts, meters_seen, errors)

        self._native.fold_loop(events, specs, self._group_texts, group_text, read_slow, slow_event,
                               orjson.loads, accs, distincts, meters_seen, _TEXT_INT, _NUMBER_INT, NANOS, MINUTE_US)

    def _loop(self, events: Iterable[tuple[int, str, str, int, str | None]], by_type: Mapping[str, list[CompiledMeter]],
              stored: bool, accs: dict[int, dict[tuple[str, str, int], list[Any]]],
              distincts: dict[int, set[tuple[str, str, int, str]]], meters_seen: dict[int, CompiledMeter],
              errors: list[tuple[int, str, str]]) -> None:
        """The loop in Python (the reference for the C loop)."""
        group_text = self.group_text
        texts = self._group_texts
        for seq, event_type, subject, time_us, data in events:
            meters = by_type.get(event_type)
            if not meters:
                continue
            minute = time_us - time_us % MINUTE_US
            exact: Any = _UNPARSED
            parsed: Any
            if stored:
                # A stored event that today's validation would refuse is skipped by every meter, with the
                # reason (an older database may hold one).
                parsed = exact = parse_event_data(data, time_us, subject)
                if isinstance(parsed, ReadError):
                    errors.extend((seq, m.slug, parsed.message) for m in meters)
                    continue
            else:
                # A batch just validated: orjson's parse, exact for what the fast path reads (strings,
                # integers); the reader gets the exact decimal parse, made at most once per event and only
                # when needed.
                try:
                    try:
                        parsed = orjson.loads(data) if data is not None else None
                    except orjson.JSONDecodeError:  # a number beyond 64-bit integers or doubles
                        parsed = exact = _parse_exact(data)
                except Exception as exc:  # an event's content never fails the batch
                    errors.extend((seq, m.slug, f"data cannot be read: {_reason(exc)}") for m in meters)
                    continue
            is_dict = type(parsed) is dict
            last_names: tuple[str, ...] | None = None
            last_text: str | None = None
            for m in meters:
                kind = m.kind
                number: Any = None
                text: str | None = None
                if m.group_names is not None and is_dict:
                    names = m.group_names
                    if names is last_names:
                        text = last_text
                    else:
                        raw = tuple([parsed.get(n) for n in names])
                        try:
                            text = texts.get(raw)
                        except TypeError:  # an object or array: the reader's business
                            text = None
                        else:
                            if text is None and all(v is None or type(v) is str for v in raw):
                                text = group_text(raw)  # type: ignore[arg-type]
                        last_names, last_text = names, text
                    if text is not None and kind != COUNT:
                        value = parsed.get(m.value_name)
                        if type(value) is int and -_TEXT_INT < value < _TEXT_INT:
                            if kind == DISTINCT:
                                number = str(value)
                            elif not -_NUMBER_INT < value < _NUMBER_INT:
                                text = None  # the reader's error
                            elif kind == SUM:
                                number = value * NANOS
                            else:
                                number = float(value)
                        elif type(value) is str and kind == DISTINCT and "\x00" not in value:
                            number = value
                        else:
                            text = None
                if text is None:
                    cache = [] if exact is _UNPARSED else [exact]
                    got = _read_slow(seq, m, data, cache, group_text, errors)
                    if cache:
                        exact = cache[0]
                    if got is None:
                        continue
                    text, number = got
                num = m.meter_num
                if kind == DISTINCT:
                    target = distincts.get(num)
                    if target is None:
                        target = distincts[num] = set()
                        meters_seen[num] = m
                    target.add((subject, text, minute, number))
                    continue
                meter_accs = accs.get(num)
                if meter_accs is None:
                    meter_accs = accs[num] = {}
                    meters_seen[num] = m
                key = (subject, text, minute)
                acc = meter_accs.get(key)
                if acc is None:
                    meter_accs[key] = [1, number, number, number, time_us, seq, number]
                elif kind == SUM:
                    acc[0] += 1
                    acc[1] += number
                elif kind == COUNT:
                    acc[0] += 1
                elif kind == MAX:
                    acc[0] += 1
                    if number > acc[3]:
                        acc[3] = number
                elif kind == MIN:
                    acc[0] += 1
                    if number < acc[2]:
                        acc[2] = number
                else:
                    acc[0] += 1
                    if (time_us, seq) > (acc[4], acc[5]):
                        acc[4], acc[5], acc[6] = time_us, seq, number


def _read_slow(seq: int, m: CompiledMeter, data: str | None, cache: list[Any],
               group_text: Callable[[tuple[str | None, ...]], str | None],
               errors: list[tuple[int, str, str]]) -> tuple[str, Any] | None:
    """One meter's reading of an event through ``MeterReader``: (groups text, number) or None after
    recording the event's error. ``cache`` holds the exact parse of the data once made ([] before)."""
    kind = m.kind
    try:
        if cache:
            exact = cache[0]
        else:
            exact = _parse_exact(data)
            cache.append(exact)
        reading = m.reader.read(exact)
        if isinstance(reading, ReadError):
            errors.append((seq, m.slug, reading.message))
            return None
        value = reading.value
        number: Any = None
        if kind == SUM:
            number = _nanos(value)  # type: ignore[arg-type]
            if number is None:
                errors.append((seq, m.slug, f"value {value} is beyond ±1e{MAX_VALUE_DIGITS},"
                                            " the largest value a sum keeps exactly"))
                return None
        elif kind == DISTINCT:
            number = value
        elif kind != COUNT:
            number = float(value)  # type: ignore[arg-type]
            if math.isinf(number):
                errors.append((seq, m.slug, f"value {value} is beyond the range of a double"))
                return None
        text = group_text(reading.groups)
        if text is None:  # the reader refuses what group_text cannot keep; never reached
            errors.append((seq, m.slug, "group values cannot be kept"))
            return None
        return text, number
    except Exception as exc:  # this event's error, not the batch's
        errors.append((seq, m.slug, f"value cannot be read: {_reason(exc)}"))
        return None


def compile_meter(num: int, definition: MeterDefinition) -> CompiledMeter:
    reader = MeterReader(definition)
    group_steps = [compile_path(path) for path in definition.group_by.values()]
    group_names: tuple[str, ...] | None = (
        tuple(str(steps[0]) for steps in group_steps)
        if all(len(steps) == 1 and isinstance(steps[0], str) for steps in group_steps) else None
    )
    kind = KIND_OF[definition.aggregation]
    value_name: str | None = None
    if group_names is not None and kind != COUNT:
        steps = compile_path(definition.value_property or "")
        if len(steps) == 1 and isinstance(steps[0], str):
            value_name = steps[0]
        else:
            group_names = None  # the value needs the reader: so does the event
    return CompiledMeter(num, definition.slug, reader, kind, group_names, value_name)


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


_UNPARSED = object()


def _parse_exact(data: str | None) -> Any:
    """Event data with every non-integer number as a Decimal (what MeterReader expects)."""
    return parse_data(data) if data is not None else None


def _nanos(value: Decimal) -> int | None:
    """A value in integer units of 10^-9 (rounded half-even beyond 9 decimals); None beyond the sum limit."""
    adjusted = value.adjusted()
    if adjusted >= MAX_VALUE_DIGITS:
        return None if value else 0
    if adjusted < -10:
        return decimal_to_nanos(value)  # a tiny value (or a zero written with an exponent): rounded
    numerator, denominator = value.as_integer_ratio()
    if denominator == 1:
        nanos = numerator * NANOS
    elif NANOS % denominator == 0:
        nanos = numerator * (NANOS // denominator)
    else:
        nanos = decimal_to_nanos(value)
    return nanos if -_MAX_SUM_NANOS < nanos < _MAX_SUM_NANOS else None


def _rows_of(num: int, kind: int, accs: Mapping[tuple[str, str, int], list[Any]], out: Folded,
             fix_seq: bool) -> None:
    """One meter's per-subject minute rows and their roll-ups over subjects at each level, as upsert
    parameters (minutes first, then hours and days from the minutes: fewer entries at each step)."""
    subjects = out.subjects
    values = _VALUES[kind]
    by_minute: dict[tuple[str, int], list[Any]] = {}
    sub_rows: list[tuple[Any, ...]]
    merge = _MERGE[kind]
    subjects.update([(num, subject) for subject, _, _ in accs])
    if kind == SUM:
        sub_rows = [(num, minute - minute % DAY_US, subject, minute, groups, a[0], a[1] // NANOS, a[1] % NANOS)
                    for (subject, groups, minute), a in accs.items()]
    elif kind == COUNT:
        sub_rows = [(num, minute - minute % DAY_US, subject, minute, groups, a[0])
                    for (subject, groups, minute), a in accs.items()]
    else:
        sub_rows = [(num, minute - minute % DAY_US, subject, minute, groups, *values(a))
                    for (subject, groups, minute), a in accs.items()]
    for (_, groups, minute), acc in accs.items():
        key = (groups, minute)
        r = by_minute.get(key)
        if r is None:
            by_minute[key] = acc.copy()
        else:
            merge(r, acc)
    _add_rows(out, SUB_TARGET[kind], sub_rows, SUB_SEQ_AT if kind == LATEST and fix_seq else None)
    previous = by_minute
    for level in (Level.MINUTE, Level.HOUR, Level.DAY):
        unit = level.value
        if level is Level.MINUTE:
            rolled = by_minute
        else:
            rolled = {}
            for (groups, t), acc in previous.items():
                key = (groups, t - t % unit)
                r = rolled.get(key)
                if r is None:
                    rolled[key] = acc.copy()
                else:
                    merge(r, acc)
        previous = rolled
        _add_rows(out, ALL_TARGET[(level, kind)], [(num, t, groups, *values(acc)) for (groups, t), acc in rolled.items()],
                  ALL_SEQ_AT if kind == LATEST and fix_seq else None)


def _add_rows(out: Folded, target: Target, rows: list[tuple[Any, ...]], seq_at: int | None) -> None:
    existing = out.rows.get(target)
    if existing is None:
        out.rows[target] = rows
        if seq_at is not None:
            out.seq_at[target] = seq_at
    else:
        existing.extend(rows)


def _merge_count(r: list[Any], a: list[Any]) -> None:
    r[0] += a[0]


def _merge_sum(r: list[Any], a: list[Any]) -> None:
    r[0] += a[0]
    r[1] += a[1]


def _merge_min(r: list[Any], a: list[Any]) -> None:
    r[0] += a[0]
    if a[2] < r[2]:
        r[2] = a[2]


def _merge_max(r: list[Any], a: list[Any]) -> None:
    r[0] += a[0]
    if a[3] > r[3]:
        r[3] = a[3]


def _merge_latest(r: list[Any], a: list[Any]) -> None:
    r[0] += a[0]
    if (a[4], a[5]) > (r[4], r[5]):
        r[4], r[5], r[6] = a[4], a[5], a[6]


_MERGE = {COUNT: _merge_count, SUM: _merge_sum, MIN: _merge_min, MAX: _merge_max, LATEST: _merge_latest}
# Upsert parameters after the key, by kind (see _UPDATE for the columns).
_VALUES = {
    COUNT: lambda a: (a[0],),
    SUM: lambda a: (a[0], a[1] // NANOS, a[1] % NANOS),
    MIN: lambda a: (a[0], a[2]),
    MAX: lambda a: (a[0], a[3]),
    LATEST: lambda a: (a[0], a[6], a[4], a[5]),
}


def target_unit(target: Target) -> int:
    """The time unit of a target's rows, in microseconds (per-subject rows: the minute)."""
    return int(target[1]) if target[0] in ("all", "all_distinct") else MINUTE_US


def merge_rows(target: Target, row_lists: list[list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    """The rows of several folds (say, the batches of one commit) for one target, with the rows of one key
    merged into one: upserting them gives what upserting every list in turn gives. In the order of each
    key's first row. Rows of LATEST must hold their final sequence numbers."""
    if target[0] in ("sub_distinct", "all_distinct"):
        return list(dict.fromkeys(row for rows in row_lists for row in rows))
    if _foldc is not None:
        return _foldc.merge_rows(row_lists, 5 if target[0] == "sub" else 3, target[-1])  # type: ignore[no-any-return]
    return _merge_rows(row_lists, 5 if target[0] == "sub" else 3, target[-1])


def _merge_rows(row_lists: list[list[tuple[Any, ...]]], k: int, kind: int) -> list[tuple[Any, ...]]:
    """merge_rows in Python (the reference for the C version): rows are (*key, *values), k key columns."""
    merged: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for rows in row_lists:
        for row in rows:
            key = row[:k]
            r = merged.get(key)
            if r is None:
                merged[key] = row
                continue
            count = r[k] + row[k]
            if kind == COUNT:
                merged[key] = (*key, count)
            elif kind == SUM:  # units and nanos add apart, as the upserts add them
                merged[key] = (*key, count, r[k + 1] + row[k + 1], r[k + 2] + row[k + 2])
            elif kind == MIN:
                merged[key] = (*key, count, row[k + 1] if row[k + 1] < r[k + 1] else r[k + 1])
            elif kind == MAX:
                merged[key] = (*key, count, row[k + 1] if row[k + 1] > r[k + 1] else r[k + 1])
            else:  # LATEST: (count, latest, latest_time_us, latest_seq), the greatest (time, seq) wins
                later = (row[k + 2], row[k + 3]) > (r[k + 2], r[k + 3])
                merged[key] = (*key, count, *(row if later else r)[k + 1:k + 4])
    return list(merged.values())


def _distinct_rows_of(num: int, distinct: set[tuple[str, str, int, str]], out: Folded) -> None:
    sub = []
    levels: dict[Level, set[tuple[int, int, str, str]]] = {level: set() for level in Level}
    minutes, hours, days = levels[Level.MINUTE], levels[Level.HOUR], levels[Level.DAY]
    for subject, groups, minute, value in distinct:
        out.subjects.add((num, subject))
        hour = minute - minute % HOUR_US
        sub.append((num, minute - minute % DAY_US, subject, minute, groups, value))
        minutes.add((num, minute, groups, value))
        hours.add((num, hour, groups, value))
        days.add((num, minute - minute % DAY_US, groups, value))
    _add_rows(out, SUB_DISTINCT_TARGET, sub, None)
    for level, level_rows in levels.items():
        _add_rows(out, ALL_DISTINCT_TARGET[level], list(level_rows), None)


def unread_warnings(batches: Iterable[Any], by_type: Mapping[str, Any]) -> list[tuple[int, str, str]]:
    """(seq, "", "no meter reads event type T") for each stored event of the batches (``InsertedBatch``:
    events and seqs, None for a duplicate) whose type no meter reads: the warning ListEvents shows for it."""
    return [(seq, "", no_meter_reads(e.type))
            for batch in batches for seq, e in zip(batch.seqs, batch.events, strict=True)
            if seq is not None and e.type not in by_type]
