"""The ingest fold: a batch of events read by every meter of its type and folded into pre-aggregate rows.

Pure code (no SQL, no gRPC): both storage backends keep the same aggregate layout and upsert what this
module produces.

**Row sets.** The meters of one event type that group by the same paths (in the same order) share their
rows: a row set holds up to ``SLOTS`` of them, each in a slot of its own (a column set in every row of the
row set); one event read by three such meters is one row, upserted once, not three. A meter is given its
row set and slot by its store (``compile_meter``). UNIQUE_COUNT meters keep their distinct values in rows of
their own, per meter (a set does not fit a column).

The rows, by target:

- ``("sub", rowset, layout)``: per-subject minute rows, ``(rowset, day_us, subject, minute_us, groups, *values)``;
- ``("sub_h", rowset, layout)``: per-subject hour totals over every group, ``(rowset, day_us, subject,
  hour_us, *values)``;
- ``("all", level, rowset, layout)``: all-subject rows per level, ``(rowset, time_us, groups, *values)``;
- ``("sub_distinct",)`` and ``("all_distinct", level)``: UNIQUE_COUNT's distinct values, keyed by the meter's
  number instead of a row set: ``(meter_num, day_us, subject, minute_us, groups, value)`` and
  ``(meter_num, time_us, groups, value)``.

``layout`` is the row set's meters present in the fold, as ``(slot, kind)`` pairs by slot: the rows carry,
for each in turn, what the meter keeps (its kind): count (COUNT); count, sum_units, sum_nanos (SUM and AVG:
the exact sum in integer units of 10^-9, split at 10^9); count, min (MIN); count, max (MAX); count, latest,
latest_time_us, latest_seq (LATEST). A slot without a reading in a row has count 0 (and sums 0, the rest
None). A backend maps each target to an upsert of the layout's columns only (so a backfill of one meter
leaves the other slots of its row set as they are) and merges the values by the same rules (counts and
sums add, min/max keep the extreme, LATEST keeps the greatest (event time, ingest seq); a missing value
never wins).

``groups`` is the meter's group values as a compact JSON array (null for a missing value).

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
    Aggregation.COUNT: COUNT,
    Aggregation.SUM: SUM,
    Aggregation.AVG: SUM,
    Aggregation.MIN: MIN,
    Aggregation.MAX: MAX,
    Aggregation.LATEST: LATEST,
    Aggregation.UNIQUE_COUNT: DISTINCT,
}
# Meters per row set. Each slot is a column set in every row of the row set (4 columns: n, a, b, x), so
# slots a row set does not use cost a byte each per row in SQLite's record header (a NULL bit in
# PostgreSQL's); a type's fifth meter with the same group paths starts a second row set.
SLOTS = 4
# Values a meter puts in a row (see the module docstring), and what its accumulator holds while folding:
# [count], [count, sum nanos], [count, min], [count, max], [count, latest, latest time, latest seq].
ROW_WIDTH = {COUNT: 1, SUM: 3, MIN: 2, MAX: 2, LATEST: 4}
_EMPTY: dict[int, tuple[Any, ...]] = {
    COUNT: (0,),
    SUM: (0, 0),
    MIN: (0, None),
    MAX: (0, None),
    LATEST: (0, None, None, None),
}

# (slot, kind) of each meter of a row set in a fold, by slot.
Layout = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class CompiledMeter:
    """A meter as the fold reads it (``compile_meter``): its number, kind, fast-path member names, and
    where its values go (row set and slot; UNIQUE_COUNT meters have none)."""

    meter_num: int
    slug: str
    reader: MeterReader
    kind: int
    # Set when every group path is one member name ($.a): the names, read inline on the fast path.
    group_names: tuple[str, ...] | None
    # The value path's member name on the fast path (None for COUNT meters).
    value_name: str | None
    # The group paths in the meter's group-key order (meters of one row set share them).
    group_paths: tuple[str, ...] = ()
    rowset: int = 0
    slot: int = 0


# Where rows go (see the module docstring).
Target = tuple[Any, ...]
SUB_DISTINCT_TARGET: Target = ("sub_distinct",)
ALL_DISTINCT_TARGET = {level: ("all_distinct", level) for level in Level}
# Key columns of each kind of target's rows.
KEY_WIDTH = {"sub": 5, "sub_h": 4, "all": 3}


def key_width(target: Target) -> int:
    """The number of key columns of a target's rows (the values follow)."""
    return KEY_WIDTH[target[0]]


@dataclass(frozen=True, slots=True)
class RowSet:
    """The meters of one row set in a fold: their layout, accumulator offsets and targets."""

    rowset: int
    layout: Layout
    nums: tuple[int, ...]
    offsets: tuple[int, ...]  # where each meter's accumulator starts in a row's accumulator
    template: tuple[Any, ...]  # a row's empty accumulator
    sub: Target
    sub_h: Target
    all: tuple[Target, Target, Target]  # minute, hour, day

    @property
    def kinds(self) -> tuple[int, ...]:
        return tuple(kind for _, kind in self.layout)

    def seq_at(self, keys: int) -> tuple[int, ...]:
        """Where the latest_seq column of each LATEST meter is in rows with ``keys`` key columns."""
        at, out = keys, []
        for _, kind in self.layout:
            if kind == LATEST:
                out.append(at + 3)
            at += ROW_WIDTH[kind]
        return tuple(out)


def row_sets(by_type: Mapping[str, list[CompiledMeter]]) -> dict[int, RowSet]:
    """The row sets of the meters (UNIQUE_COUNT meters have none). Raises ValueError when two meters share a
    slot, or a row set's meters differ in event type or group paths (a store's bug)."""
    members: dict[int, list[tuple[str, CompiledMeter]]] = {}
    for event_type, meters in by_type.items():
        for m in meters:
            if m.kind != DISTINCT:
                members.setdefault(m.rowset, []).append((event_type, m))
    out = {}
    for rowset, found in members.items():
        found.sort(key=lambda tm: tm[1].slot)
        slots = [m.slot for _, m in found]
        if len(set(slots)) != len(slots) or not all(0 <= s < SLOTS for s in slots):
            raise ValueError(f"row set {rowset}: slots {slots} are not distinct slots below {SLOTS}")
        shapes = {(t, m.group_paths) for t, m in found}
        if len(shapes) != 1:
            raise ValueError(f"row set {rowset}: meters of different event types or group paths")
        layout = tuple((m.slot, m.kind) for _, m in found)
        offsets: list[int] = []
        template: list[Any] = []
        at = 0
        for _, kind in layout:
            offsets.append(at)
            template += _EMPTY[kind]
            at += len(_EMPTY[kind])
        out[rowset] = RowSet(
            rowset,
            layout,
            tuple(m.meter_num for _, m in found),
            tuple(offsets),
            tuple(template),
            ("sub", rowset, layout),
            ("sub_h", rowset, layout),
            (
                ("all", Level.MINUTE, rowset, layout),
                ("all", Level.HOUR, rowset, layout),
                ("all", Level.DAY, rowset, layout),
            ),
        )
    return out


@dataclass(slots=True)
class Folded:
    """A batch folded into the rows it upserts (see the module docstring)."""

    version: int
    # target -> rows; for rows holding LATEST meters, ``seq_at`` gives the positions of their latest_seq
    # columns, which hold the event's index in the batch until the writer adds the batch's first sequence
    # number (None in a row without a reading of that meter).
    rows: dict[Target, list[tuple[Any, ...]]] = field(default_factory=dict)
    seq_at: dict[Target, tuple[int, ...]] = field(default_factory=dict)
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (index or seq, meter slug, message)
    subjects: set[tuple[int, str]] = field(default_factory=set)


def with_seqs(
    rows: list[tuple[Any, ...]], positions: tuple[int, ...], seq_of: Callable[[int], int]
) -> list[tuple[Any, ...]]:
    """Rows with the batch indexes in their latest_seq columns at ``positions`` turned into sequence numbers
    (``seq_of``); a None (no reading) stays None."""
    out = []
    for r in rows:
        row = list(r)
        for at in positions:
            if row[at] is not None:
                row[at] = seq_of(row[at])
        out.append(tuple(row))
    return out


# A meter as the loops read it: (number, kind, group names, value name, meter, accumulator key (the row set,
# or the meter's number for UNIQUE_COUNT), offset of its accumulator in a row's (-1: UNIQUE_COUNT), the
# row set's empty accumulator (None: UNIQUE_COUNT)).
_Spec = tuple[int, int, "tuple[str, ...] | None", "str | None", CompiledMeter, int, int, "list[Any] | None"]


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
        # The meters of the last by_type as the loops read them (one attribute, assigned whole: folds run
        # on several threads at once).
        self._specs: tuple[
            Mapping[str, list[CompiledMeter]] | None, dict[str, list[_Spec]], dict[int, RowSet]
        ] = (None, {}, {})

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

    def _specs_of(
        self, by_type: Mapping[str, list[CompiledMeter]]
    ) -> tuple[dict[str, list[_Spec]], dict[int, RowSet]]:
        cached_for, specs, sets = self._specs
        if cached_for is by_type:
            return specs, sets
        sets = row_sets(by_type)
        names: dict[
            tuple[str, ...], tuple[str, ...]
        ] = {}  # one tuple per distinct names: compared by identity
        templates = {rowset: list(s.template) for rowset, s in sets.items()}
        specs = {}
        for event_type, meters in by_type.items():
            type_specs: list[_Spec] = []
            for m in meters:
                group_names = (
                    None if m.group_names is None else names.setdefault(m.group_names, m.group_names)
                )
                if m.kind == DISTINCT:
                    type_specs.append(
                        (m.meter_num, m.kind, group_names, m.value_name, m, m.meter_num, -1, None)
                    )
                else:
                    s = sets[m.rowset]
                    offset = s.offsets[s.nums.index(m.meter_num)]
                    type_specs.append(
                        (
                            m.meter_num,
                            m.kind,
                            group_names,
                            m.value_name,
                            m,
                            m.rowset,
                            offset,
                            templates[m.rowset],
                        )
                    )
            specs[event_type] = type_specs
        self._specs = (by_type, specs, sets)
        return specs, sets

    def fold(
        self,
        events: Iterable[tuple[int, str, str, int, str | None]],
        by_type: Mapping[str, list[CompiledMeter]],
        version: int,
        *,
        by_index: bool = False,
        stored: bool = False,
    ) -> Folded:
        """Reads and folds events given as (seq, type, subject, time_us, data text); with ``by_index`` the
        first item is the event's index in its batch, and LATEST rows are marked for the writer to add
        the batch's first sequence number; ``stored`` events (a backfill) are checked as stored data.

        The hot loop: for a meter whose paths are plain member names (``$.a``), a string or null group
        value and an integer value are read inline (what ``MeterReader`` gives for them, without building
        a Reading and a Decimal); anything else goes through ``MeterReader.read``. The loop runs in C
        (``_foldc``) where it is built, for events just validated; the Python loop is the reference.
        """
        specs, sets = self._specs_of(by_type)
        if self._native is not None and not stored:
            events = events if isinstance(events, list) else list(events)
            try:
                return self._fold_native(events, specs, sets, version, by_index)
            except Exception:
                if self._strict:
                    raise
                log.exception("the native meter fold failed; folding the batch in Python")
        out = Folded(version)
        # Per row set: (subject, groups text, minute) -> the row's accumulator (each meter's at its offset);
        # UNIQUE_COUNT meters: a set of (subject, groups text, minute, value).
        accs: dict[int, dict[tuple[str, str, int], list[Any]]] = {}
        distincts: dict[int, set[tuple[str, str, int, str]]] = {}
        self._loop(events, specs, stored, accs, distincts, out.errors)
        for rowset, rowset_accs in accs.items():
            _rowset_rows(sets[rowset], rowset_accs, out, fix_seq=by_index)
        for num, distinct in distincts.items():
            _distinct_rows_of(num, distinct, out)
        return out

    def _fold_native(
        self,
        events: list[tuple[int, str, str, int, str | None]],
        specs: dict[str, list[_Spec]],
        sets: dict[int, RowSet],
        version: int,
        by_index: bool,
    ) -> Folded:
        """``fold`` with the loop and the rows of each row set built in C."""
        assert self._native is not None
        out = Folded(version)
        accs: dict[int, dict[tuple[str, str, int], list[Any]]] = {}
        distincts: dict[int, set[tuple[str, str, int, str]]] = {}
        group_text = self.group_text
        errors = out.errors

        def read_slow(
            seq: int, m: CompiledMeter, data: str | None, cache: list[Any]
        ) -> tuple[str, Any] | None:
            return _read_slow(seq, m, data, cache, group_text, errors)

        def slow_event(event: tuple[int, str, str, int, str | None]) -> None:
            self._loop([event], specs, False, accs, distincts, errors)

        self._native.fold_loop(
            events,
            specs,
            self._group_texts,
            group_text,
            read_slow,
            slow_event,
            orjson.loads,
            accs,
            distincts,
            _TEXT_INT,
            _NUMBER_INT,
            NANOS,
            MINUTE_US,
        )
        for rowset, rowset_accs in accs.items():
            s = sets[rowset]
            sub_rows, hour_rows, level_rows = self._native.rowset_rows(
                rowset, s.kinds, s.offsets, s.nums, rowset_accs, out.subjects, NANOS, HOUR_US, DAY_US
            )
            _add_rowset_rows(out, s, sub_rows, hour_rows, level_rows, by_index)
        for num, distinct in distincts.items():
            sub_rows, level_rows = self._native.distinct_rows_of(num, distinct, out.subjects, HOUR_US, DAY_US)
            _add_rows(out, SUB_DISTINCT_TARGET, sub_rows, ())
            for level, rows in zip((Level.MINUTE, Level.HOUR, Level.DAY), level_rows, strict=True):
                _add_rows(out, ALL_DISTINCT_TARGET[level], rows, ())
        return out

    def _loop(
        self,
        events: Iterable[tuple[int, str, str, int, str | None]],
        specs: Mapping[str, list[_Spec]],
        stored: bool,
        accs: dict[int, dict[tuple[str, str, int], list[Any]]],
        distincts: dict[int, set[tuple[str, str, int, str]]],
        errors: list[tuple[int, str, str]],
    ) -> None:
        """The loop in Python (the reference for the C loop)."""
        group_text = self.group_text
        texts = self._group_texts
        for seq, event_type, subject, time_us, data in events:
            meters = specs.get(event_type)
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
                    errors.extend((seq, spec[4].slug, parsed.message) for spec in meters)
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
                    errors.extend(
                        (seq, spec[4].slug, f"data cannot be read: {_reason(exc)}") for spec in meters
                    )
                    continue
            is_dict = type(parsed) is dict
            last_names: tuple[str, ...] | None = None
            last_text: str | None = None
            for num, kind, names, value_name, m, acc_key, offset, template in meters:
                number: Any = None
                text: str | None = None
                if names is not None and is_dict:
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
                        value = parsed.get(value_name)
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
                if kind == DISTINCT:
                    target = distincts.get(num)
                    if target is None:
                        target = distincts[num] = set()
                    target.add((subject, text, minute, number))
                    continue
                rowset_accs = accs.get(acc_key)
                if rowset_accs is None:
                    rowset_accs = accs[acc_key] = {}
                key = (subject, text, minute)
                acc = rowset_accs.get(key)
                if acc is None:
                    acc = rowset_accs[key] = template.copy()  # type: ignore[union-attr]
                acc[offset] += 1
                if kind == SUM:
                    acc[offset + 1] += number
                elif kind == COUNT:
                    pass
                elif kind == MAX:
                    current = acc[offset + 1]
                    if current is None or number > current:
                        acc[offset + 1] = number
                elif kind == MIN:
                    current = acc[offset + 1]
                    if current is None or number < current:
                        acc[offset + 1] = number
                else:
                    latest_time = acc[offset + 2]
                    if latest_time is None or (time_us, seq) > (latest_time, acc[offset + 3]):
                        acc[offset + 1], acc[offset + 2], acc[offset + 3] = number, time_us, seq


def _read_slow(
    seq: int,
    m: CompiledMeter,
    data: str | None,
    cache: list[Any],
    group_text: Callable[[tuple[str | None, ...]], str | None],
    errors: list[tuple[int, str, str]],
) -> tuple[str, Any] | None:
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
                errors.append(
                    (
                        seq,
                        m.slug,
                        f"value {value} is beyond ±1e{MAX_VALUE_DIGITS},"
                        " the largest value a sum keeps exactly",
                    )
                )
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


def compile_meter(
    num: int, definition: MeterDefinition, rowset: int | None = None, slot: int = 0
) -> CompiledMeter:
    """A meter as the fold reads it; its values go to ``slot`` of ``rowset`` (by default a row set of its
    own, numbered as the meter)."""
    reader = MeterReader(definition)
    group_steps = [compile_path(path) for path in definition.group_by.values()]
    group_names: tuple[str, ...] | None = (
        tuple(str(steps[0]) for steps in group_steps)
        if all(len(steps) == 1 and isinstance(steps[0], str) for steps in group_steps)
        else None
    )
    kind = KIND_OF[definition.aggregation]
    value_name: str | None = None
    if group_names is not None and kind != COUNT:
        steps = compile_path(definition.value_property or "")
        if len(steps) == 1 and isinstance(steps[0], str):
            value_name = steps[0]
        else:
            group_names = None  # the value needs the reader: so does the event
    return CompiledMeter(
        num,
        definition.slug,
        reader,
        kind,
        group_names,
        value_name,
        tuple(definition.group_by.values()),
        num if rowset is None else rowset,
        slot,
    )


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


def _merge_acc(r: list[Any], a: list[Any] | tuple[Any, ...], kinds_at: tuple[tuple[int, int], ...]) -> None:
    """Row accumulator ``a`` merged into ``r`` (``kinds_at``: each meter's kind and offset); a missing value
    (None) never wins."""
    for kind, o in kinds_at:
        r[o] += a[o]
        if kind == SUM:
            r[o + 1] += a[o + 1]
        elif kind == MIN:
            if a[o + 1] is not None and (r[o + 1] is None or a[o + 1] < r[o + 1]):
                r[o + 1] = a[o + 1]
        elif kind == MAX:
            if a[o + 1] is not None and (r[o + 1] is None or a[o + 1] > r[o + 1]):
                r[o + 1] = a[o + 1]
        elif (
            kind == LATEST
            and a[o + 2] is not None
            and (r[o + 2] is None or (a[o + 2], a[o + 3]) > (r[o + 2], r[o + 3]))
        ):
            r[o + 1], r[o + 2], r[o + 3] = a[o + 1], a[o + 2], a[o + 3]


def _values_of(kinds_at: tuple[tuple[int, int], ...]) -> Callable[[list[Any]], tuple[Any, ...]]:
    """A row's values (see the module docstring) from its accumulator."""

    def values(acc: list[Any]) -> tuple[Any, ...]:
        out: list[Any] = []
        for kind, o in kinds_at:
            if kind == SUM:
                out += (acc[o], acc[o + 1] // NANOS, acc[o + 1] % NANOS)
            elif kind == COUNT:
                out.append(acc[o])
            elif kind == LATEST:
                out += (acc[o], acc[o + 1], acc[o + 2], acc[o + 3])
            else:
                out += (acc[o], acc[o + 1])
        return tuple(out)

    return values


def _rowset_rows(
    s: RowSet, accs: Mapping[tuple[str, str, int], list[Any]], out: Folded, fix_seq: bool
) -> None:
    """One row set's per-subject minute rows, per-subject hour totals, and roll-ups over subjects at each
    level, as upsert parameters (minutes first, then hours and days from the minutes: fewer entries at each
    step). The reference for ``_foldc.rowset_rows``."""
    kinds_at = tuple(zip(s.kinds, s.offsets, strict=True))
    values = _values_of(kinds_at)
    rowset = s.rowset
    subjects = out.subjects
    for num, o in zip(s.nums, s.offsets, strict=True):
        subjects.update([(num, subject) for (subject, _, _), acc in accs.items() if acc[o]])
    sub_rows = [
        (rowset, minute - minute % DAY_US, subject, minute, groups, *values(acc))
        for (subject, groups, minute), acc in accs.items()
    ]
    by_hour: dict[tuple[str, int], list[Any]] = {}
    by_minute: dict[tuple[str, int], list[Any]] = {}
    for (subject, groups, minute), acc in accs.items():
        for rolled, key in ((by_hour, (subject, minute - minute % HOUR_US)), (by_minute, (groups, minute))):
            r = rolled.get(key)
            if r is None:
                rolled[key] = acc.copy()
            else:
                _merge_acc(r, acc, kinds_at)
    hour_rows = [
        (rowset, hour - hour % DAY_US, subject, hour, *values(acc))
        for (subject, hour), acc in by_hour.items()
    ]
    level_rows = []
    previous = by_minute
    for unit in (MINUTE_US, HOUR_US, DAY_US):
        if unit == MINUTE_US:
            rolled = by_minute
        else:
            rolled = {}
            for (groups, t), acc in previous.items():
                key = (groups, t - t % unit)
                r = rolled.get(key)
                if r is None:
                    rolled[key] = acc.copy()
                else:
                    _merge_acc(r, acc, kinds_at)
        previous = rolled
        level_rows.append([(rowset, t, groups, *values(acc)) for (groups, t), acc in rolled.items()])
    _add_rowset_rows(out, s, sub_rows, hour_rows, level_rows, fix_seq)


def _add_rowset_rows(
    out: Folded,
    s: RowSet,
    sub_rows: list[tuple[Any, ...]],
    hour_rows: list[tuple[Any, ...]],
    level_rows: list[list[tuple[Any, ...]]],
    fix_seq: bool,
) -> None:
    _add_rows(out, s.sub, sub_rows, s.seq_at(5) if fix_seq else ())
    _add_rows(out, s.sub_h, hour_rows, s.seq_at(4) if fix_seq else ())
    for target, rows in zip(s.all, level_rows, strict=True):
        _add_rows(out, target, rows, s.seq_at(3) if fix_seq else ())


def _add_rows(out: Folded, target: Target, rows: list[tuple[Any, ...]], seq_at: tuple[int, ...]) -> None:
    existing = out.rows.get(target)
    if existing is None:
        out.rows[target] = rows
        if seq_at:
            out.seq_at[target] = seq_at
    else:
        existing.extend(rows)


def target_unit(target: Target) -> int:
    """The time unit of a target's rows, in microseconds."""
    if target[0] in ("all", "all_distinct"):
        return int(target[1])
    return HOUR_US if target[0] == "sub_h" else MINUTE_US


def merge_rows(target: Target, row_lists: list[list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    """The rows of several folds (say, the batches of one commit) for one target, with the rows of one key
    merged into one: upserting them gives what upserting every list in turn gives. In the order of each
    key's first row. Rows of LATEST must hold their final sequence numbers."""
    if target[0] in ("sub_distinct", "all_distinct"):
        return list(dict.fromkeys(row for rows in row_lists for row in rows))
    kinds = tuple(kind for _, kind in target[-1])
    if _foldc is not None:
        return _foldc.merge_rows(row_lists, key_width(target), kinds)  # type: ignore[no-any-return]
    return _merge_rows(row_lists, key_width(target), kinds)


def _merge_rows(
    row_lists: list[list[tuple[Any, ...]]], k: int, kinds: tuple[int, ...]
) -> list[tuple[Any, ...]]:
    """merge_rows in Python (the reference for the C version): rows are (*key, *values), k key columns, the
    values of each meter (``kinds``) in turn; a missing value (None) never wins."""
    merged: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for rows in row_lists:
        for row in rows:
            key = row[:k]
            r = merged.get(key)
            if r is None:
                merged[key] = row
                continue
            out = list(key)
            i = k
            for kind in kinds:
                out.append(r[i] + row[i])
                if kind == SUM:  # units and nanos add apart, as the upserts add them
                    out += (r[i + 1] + row[i + 1], r[i + 2] + row[i + 2])
                elif kind in (MIN, MAX):
                    a, b = r[i + 1], row[i + 1]
                    better = b is not None and (a is None or (b < a if kind == MIN else b > a))
                    out.append(b if better else a)
                elif kind == LATEST:  # (latest, latest_time_us, latest_seq): the greatest (time, seq) wins
                    later = row[i + 2] is not None and (
                        r[i + 2] is None or (row[i + 2], row[i + 3]) > (r[i + 2], r[i + 3])
                    )
                    out += (row if later else r)[i + 1 : i + 4]
                i += ROW_WIDTH[kind]
            merged[key] = tuple(out)
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
    _add_rows(out, SUB_DISTINCT_TARGET, sub, ())
    for level, level_rows in levels.items():
        _add_rows(out, ALL_DISTINCT_TARGET[level], list(level_rows), ())


def unread_warnings(batches: Iterable[Any], by_type: Mapping[str, Any]) -> list[tuple[int, str, str]]:
    """(seq, "", "no meter reads event type T") for each stored event of the batches (``InsertedBatch``:
    events and seqs, None for a duplicate) whose type no meter reads: the warning ListEvents shows for it."""
    return [
        (seq, "", no_meter_reads(e.type))
        for batch in batches
        for seq, e in zip(batch.seqs, batch.events, strict=True)
        if seq is not None and e.type not in by_type
    ]
