"""The aggregate layout both backends keep (SQLite's migration 0010, PostgreSQL's 0004), as SQL text: row set
tables and their slot columns, the upserts of the fold's targets (``meters.fold``), and the reads of one
meter's slot. Each backend runs these with its own driver; ``ph`` is its parameter placeholder (``?`` or
``%s``).

Tables (keys, then ``SLOTS`` column sets ``n{i}, a{i}, b{i}, x{i}``):

- ``agg_sub_m`` (rowset, day_us, subject, time_us, groups): per-subject minute rows;
- ``agg_sub_h`` (rowset, day_us, subject, time_us): per-subject hour totals over every group value;
- ``agg_all_m`` / ``agg_all_h`` / ``agg_all_d`` (rowset, time_us, groups): all subjects, per level.

A meter's slot i holds, by kind: COUNT ``n``; SUM and AVG ``n``, ``a`` (sum_units), ``b`` (sum_nanos); MIN and
MAX ``n``, ``x``; LATEST ``n``, ``x`` (latest), ``a`` (latest_time_us), ``b`` (latest_seq). A slot with no
reading in a row holds NULL or a count of 0; a slot nobody holds is NULL in every row.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meterd.server.meters.fold import COUNT, LATEST, MAX, MIN, SLOTS, SUM, Layout, Target
from meterd.server.meters.model import Aggregation
from meterd.server.meters.plan import DAY_US, NANOS, Fetch, Level, WindowRun

SUFFIX = {Level.MINUTE: "m", Level.HOUR: "h", Level.DAY: "d"}
SUB_KEY = ("rowset", "day_us", "subject", "time_us", "groups")
SUB_HOUR_KEY = ("rowset", "day_us", "subject", "time_us")
ALL_KEY = ("rowset", "time_us", "groups")
# Every table of row sets (deleting a meter clears its slot in each).
TABLES = ("agg_sub_m", "agg_sub_h", *(f"agg_all_{s}" for s in SUFFIX.values()))
# The value columns of one slot, by kind, in the order the fold's rows carry them.
_COLUMNS = {
    COUNT: ("n",),
    SUM: ("n", "a", "b"),
    MIN: ("n", "x"),
    MAX: ("n", "x"),
    LATEST: ("n", "x", "a", "b"),
}
ALL_SLOT_COLUMNS = tuple(f"{c}{i}" for i in range(SLOTS) for c in ("n", "a", "b", "x"))


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a meter's values are: its row set and slot, and the kind of what it keeps."""

    rowset: int
    slot: int
    kind: int

    @property
    def n(self) -> str:
        return f"n{self.slot}"

    @property
    def a(self) -> str:
        return f"a{self.slot}"

    @property
    def b(self) -> str:
        return f"b{self.slot}"

    @property
    def x(self) -> str:
        return f"x{self.slot}"


def table_of(target: Target) -> tuple[str, tuple[str, ...]]:
    """The table and key columns of a fold target of a row set."""
    if target[0] == "sub":
        return "agg_sub_m", SUB_KEY
    if target[0] == "sub_h":
        return "agg_sub_h", SUB_HOUR_KEY
    if target[0] == "all":
        return f"agg_all_{SUFFIX[target[1]]}", ALL_KEY
    raise ValueError(f"not a row set target: {target!r}")


def value_columns(layout: Layout) -> list[str]:
    """The columns of a layout's values, in the order the fold's rows carry them."""
    return [f"{c}{slot}" for slot, kind in layout for c in _COLUMNS[kind]]


def _merges(layout: Layout, *, least: str, greatest: str) -> list[str]:
    """SET clauses merging a stored row with ``excluded`` for a layout's columns (NULL-safe: a slot may be
    NULL in a stored row, written before its meter was created)."""
    out = []
    for slot, kind in layout:
        n, a, b, x = (f"{c}{slot}" for c in "nabx")
        out.append(f"{n} = coalesce({n}, 0) + excluded.{n}")
        if kind == SUM:
            out += [f"{a} = coalesce({a}, 0) + excluded.{a}", f"{b} = coalesce({b}, 0) + excluded.{b}"]
        elif kind in (MIN, MAX):
            pick = least if kind == MIN else greatest
            out.append(f"{x} = {pick.format(f'{x}', f'excluded.{x}')}")
        elif kind == LATEST:
            newer = f"excluded.{a} IS NOT NULL AND ({a} IS NULL OR (excluded.{a}, excluded.{b}) > ({a}, {b}))"
            out += [f"{c} = CASE WHEN {newer} THEN excluded.{c} ELSE {c} END" for c in (x, a, b)]
    return out


@functools.lru_cache(maxsize=1024)
def sqlite_upsert(target: Target) -> str:
    """SQLite's upsert of a row set target's rows (executemany), writing only the layout's columns."""
    table, key = table_of(target)
    columns = [*key, *value_columns(target[-1])]
    # SQLite's two-argument min()/max() are NULL when either is: coalesce keeps the one that is not.
    merges = _merges(
        target[-1], least="coalesce(min({0}, {1}), {0}, {1})", greatest="coalesce(max({0}, {1}), {0}, {1})"
    )
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(merges)}"
    )


def pg_merges(layout: Layout) -> list[str]:
    """PostgreSQL's SET clauses for a layout (LEAST/GREATEST ignore NULLs), columns of the stored row
    qualified as ``a.``."""
    out = []
    for clause in _merges(layout, least="LEAST({0}, {1})", greatest="GREATEST({0}, {1})"):
        column, expression = clause.split(" = ", 1)
        out.append(f"{column} = {_qualify(expression)}")
    return out


def _qualify(expression: str) -> str:
    """Slot columns not of ``excluded`` written as ``a.<column>`` (PostgreSQL needs the target's alias)."""
    return re.sub(r"(?<![.\w])([nabx][0-9]+)\b", r"a.\1", expression)


# Row sets of an event type with each one's group paths and its slot given to a meter (one row per slot,
# a NULL slot for a row set without meters), ordered by row set: what ``free_slot`` chooses from.
ROW_SETS_OF_TYPE = (
    "SELECT r.rowset, r.group_paths, s.slot FROM meter_rowsets r"
    " LEFT JOIN meter_slots s ON s.rowset = r.rowset WHERE r.event_type = {ph} ORDER BY r.rowset"
)


def free_slot(
    row_sets: Sequence[tuple[int, str, int | None]], paths: Sequence[str]
) -> tuple[int, int] | None:
    """The slot a new meter with these group paths gets: the first free one of the first row set with the
    same paths (rows of ``ROW_SETS_OF_TYPE``), None when a new row set is needed (its slot 0)."""
    used: dict[int, set[int]] = {}
    for rowset, stored, slot in row_sets:
        if json.loads(stored) == list(paths):
            used.setdefault(rowset, set()).update(() if slot is None else (slot,))
    for rowset, taken in used.items():
        free = [slot for slot in range(SLOTS) if slot not in taken]
        if free:
            return rowset, free[0]
    return None


def release_sql(rowset: int, slot: int, others: bool, ph: str) -> list[tuple[str, tuple[int, ...]]]:
    """The statements that take a meter out of its slot: the slot's columns cleared in every row of the row
    set and the rows left without a reading deleted; with no ``others`` meters left in the row set, all its
    rows and the row set itself."""
    if not others:
        return [
            *((f"DELETE FROM {table} WHERE rowset = {ph}", (rowset,)) for table in TABLES),
            (f"DELETE FROM meter_rowsets WHERE rowset = {ph}", (rowset,)),
        ]
    empty = " AND ".join(f"coalesce(n{i}, 0) = 0" for i in range(SLOTS))
    out: list[tuple[str, tuple[int, ...]]] = []
    for table in TABLES:
        out.append(
            (
                f"UPDATE {table} SET n{slot} = NULL, a{slot} = NULL, b{slot} = NULL, x{slot} = NULL"
                f" WHERE rowset = {ph} AND n{slot} IS NOT NULL",
                (rowset,),
            )
        )
        out.append((f"DELETE FROM {table} WHERE rowset = {ph} AND {empty}", (rowset,)))
    return out


def day_ranges(fetches: Sequence[Fetch]) -> list[tuple[int, int, int]]:
    """The fetches' time ranges cut at UTC days and merged where they meet: (day_us, start_us, end_us), in
    order. Per-subject rows are keyed by day first: each range is one index seek per subject."""
    out: list[tuple[int, int, int]] = []
    for start, end in sorted((f.start_us, f.end_us) for f in fetches):
        t = start
        while t < end:
            day = t - t % DAY_US
            stop = min(end, day + DAY_US)
            if out and out[-1][0] == day and out[-1][2] >= t:
                out[-1] = (day, out[-1][1], max(out[-1][2], stop))
            else:
                out.append((day, t, stop))
            t = stop
    return out


# -- reads -------------------------------------------------------------------------------------------------

# (window index, subject or None, kept group values, count, sum in units of 10^-9, min, max, distinct count)
WindowedRow = tuple[int, str | None, tuple[str | None, ...], int, int, float | None, float | None, int]
# (time_us, subject or None, kept group values, count, sum_nanos, min, max, latest, distinct value)
PartialRow = tuple[
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


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs in the reads' SQL between the backends."""

    postgres: bool

    @property
    def ph(self) -> str:
        return "%s" if self.postgres else "?"

    @property
    def mod(self) -> str:
        return "%%" if self.postgres else "%"

    @property
    def null_text(self) -> str:
        return "NULL::text" if self.postgres else "NULL"

    def group_value(self, index: int) -> str:
        return (
            f"(s.groups::jsonb ->> {int(index)})"
            if self.postgres
            else f"json_extract(s.groups, '$[{int(index)}]')"
        )

    def one_of(self, expression: str, values: Sequence[str], params: list[object]) -> str:
        if self.postgres:
            params.append(list(values))
            return f"{expression} = ANY(%s)"
        params.extend(values)
        return f"{expression} IN ({','.join('?' * len(values))})"

    def ordered(self, expression: str) -> str:
        """Text ordered by code point, nulls first (SQLite's BINARY order; PostgreSQL's "C")."""
        return f'{expression} COLLATE "C" NULLS FIRST' if self.postgres else expression


SQLITE = Dialect(postgres=False)
POSTGRES = Dialect(postgres=True)


def _per_subject(
    d: Dialect,
    table: str,
    columns: str,
    key_col: str,
    owner: int,
    subjects: Sequence[str],
    ranges: list[tuple[int, int, int]],
    params: list[object],
) -> str:
    """A SELECT of per-subject rows over day ranges: one index seek per (range, subject) with subjects, one
    range scan per day without; the ranges are one parameter (SQLite: a JSON array; PostgreSQL: arrays)."""
    if d.postgres:
        params += [[r[0] for r in ranges], [r[1] for r in ranges], [r[2] for r in ranges], owner]
        ranges_sql = "unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS r(day, lo, hi)"
        day, lo, hi = "r.day", "r.lo", "r.hi"
    else:
        params += [json.dumps(ranges), owner]
        ranges_sql = "json_each(?) r"
        day, lo, hi = "r.value ->> 0", "r.value ->> 1", "r.value ->> 2"
    on = [f"a.{key_col} = {d.ph}", f"a.day_us = {day}", f"a.time_us >= {lo}", f"a.time_us < {hi}"]
    if subjects:
        on.insert(2, d.one_of("a.subject", subjects, params))
    # SQLite: CROSS JOIN keeps the ranges the outer loop (its planner otherwise may pick, for a table with
    # few rows or no statistics, a scan of the whole row set with the ranges inside: a one-week usage read of
    # one subject over 8,760 hours of events took 42 ms, the segments of a year's replay 16 s, against
    # 0.3 ms and under a second with the ranges outside).
    join = "JOIN" if d.postgres else "CROSS JOIN"
    return f"SELECT {columns} FROM {ranges_sql} {join} {table} a ON {' AND '.join(on)}"


def sources(
    d: Dialect,
    meter_num: int,
    place: Placement | None,
    fetches: Sequence[Fetch],
    *,
    per_subject: bool,
    subjects: Sequence[str],
    totals: bool,
    params: list[object],
) -> tuple[str, list[str]]:
    """The rows a query reads, as one FROM item ``s`` with columns (t, subject, groups, n, a, b, x) for a
    meter's slot, or (t, subject, groups, value) for UNIQUE_COUNT (``place`` None), and the conditions on it.

    Queries that neither filter nor group by subject read the all-subject rows of each fetch's level; the
    others per-subject rows: with ``totals`` (no group value kept or filtered) the hour totals for the hour
    and day ranges and minute rows for the minute ranges, else minute rows throughout. A slot's rows are
    read only while the slot is still the meter's (a meter deleted or redefined since ``place`` was read:
    nothing, rather than another meter's slot)."""
    where: list[str] = []
    parts = []
    subject, null = "a.subject AS subject", d.null_text
    if place is None:  # UNIQUE_COUNT: its own rows, keyed by the meter's number
        if per_subject:
            parts.append(
                _per_subject(
                    d,
                    "meter_sub_distinct_m",
                    f"a.time_us AS t, {subject}, a.groups AS groups, a.value AS value",
                    "meter_num",
                    meter_num,
                    subjects,
                    day_ranges(fetches),
                    params,
                )
            )
        else:
            for f in fetches:
                parts.append(
                    f"SELECT a.time_us AS t, {null} AS subject, a.groups AS groups, a.value AS value"
                    f" FROM meter_all_distinct_{SUFFIX[f.level]} a WHERE a.meter_num = {d.ph}"
                    f" AND a.time_us >= {d.ph} AND a.time_us < {d.ph}"
                )
                params += [meter_num, f.start_us, f.end_us]
    else:
        n = place.n
        values = f"a.{n} AS n, a.{place.a} AS a, a.{place.b} AS b, a.{place.x} AS x"
        if per_subject:
            minutes = [f for f in fetches if f.level is Level.MINUTE or not totals]
            hours = [f for f in fetches if f.level is not Level.MINUTE and totals]
            if minutes:
                parts.append(
                    _per_subject(
                        d,
                        "agg_sub_m",
                        f"a.time_us AS t, {subject}, a.groups AS groups, {values}",
                        "rowset",
                        place.rowset,
                        subjects,
                        day_ranges(minutes),
                        params,
                    )
                    + f" WHERE a.{n} > 0"
                )
            if hours:
                parts.append(
                    _per_subject(
                        d,
                        "agg_sub_h",
                        f"a.time_us AS t, {subject}, {null} AS groups, {values}",
                        "rowset",
                        place.rowset,
                        subjects,
                        day_ranges(hours),
                        params,
                    )
                    + f" WHERE a.{n} > 0"
                )
        else:
            for f in fetches:
                parts.append(
                    f"SELECT a.time_us AS t, {null} AS subject, a.groups AS groups, {values}"
                    f" FROM agg_all_{SUFFIX[f.level]} a WHERE a.rowset = {d.ph} AND a.time_us >= {d.ph}"
                    f" AND a.time_us < {d.ph} AND a.{n} > 0"
                )
                params += [place.rowset, f.start_us, f.end_us]
        where.append(
            f"EXISTS (SELECT 1 FROM meter_slots WHERE meter_num = {d.ph} AND rowset = {d.ph} AND slot = {d.ph})"
        )
        params += [meter_num, place.rowset, place.slot]
    return f"({' UNION ALL '.join(parts)}) s", where


def window_expr(runs: Sequence[WindowRun], column: str) -> str:
    """SQL for the index of the window holding ``column`` (microseconds): per run, arithmetic; between
    runs, a balanced tree of comparisons (log2(runs) of them per row). The numbers are integers written
    into the SQL (no text of the caller's); times are after the runs' start, so the division rounds down on
    both backends."""

    def tree(lo: int, hi: int) -> str:
        if hi - lo == 1:
            run = runs[lo]
            offset = f"{column} - {int(run.start_us)}" if run.start_us else column
            return f"({int(run.first)} + ({offset}) / {int(run.step_us)})"
        mid = (lo + hi) // 2
        return (
            f"(CASE WHEN {column} < {int(runs[mid].start_us)} THEN {tree(lo, mid)} ELSE {tree(mid, hi)} END)"
        )

    if not runs:
        raise ValueError("no windows")
    return tree(0, len(runs))


def windowed_sql(
    d: Dialect,
    meter_num: int,
    aggregation: Aggregation,
    place: Placement | None,
    runs: Sequence[WindowRun],
    fetches: Sequence[Fetch],
    *,
    subjects: Sequence[str],
    keep_subject: bool,
    keep_groups: Sequence[int],
    filters: Mapping[int, tuple[str, ...]],
) -> tuple[str, list[object]]:
    """The statement of a windowed read (every aggregation but LATEST) and its parameters: one row per
    (window, subject, kept group values) with data, ordered by window, subject, then group values (nulls
    first, then by code point): w, subject, *groups, then COUNT(DISTINCT value) (UNIQUE_COUNT) or SUM(n) and
    MIN(x) (MIN), MAX(x) (MAX), or SUM(a), SUM(b) (SUM, AVG: whole units and nanos) (COUNT: SUM(n) alone)."""
    params: list[object] = []
    source, where = sources(
        d,
        meter_num,
        place,
        fetches,
        per_subject=bool(subjects) or keep_subject,
        subjects=subjects,
        totals=not keep_groups and not filters,
        params=params,
    )
    for index, allowed in filters.items():
        where.append(d.one_of(d.group_value(index), allowed, params))
    groups = [d.group_value(i) for i in keep_groups]
    keys = ["w", *(["s.subject"] if keep_subject else []), *groups]
    order = ["w", *([d.ordered("s.subject")] if keep_subject else []), *(d.ordered(g) for g in groups)]
    selected = [f"{window_expr(runs, 's.t')} AS w", "s.subject" if keep_subject else d.null_text, *groups]
    if place is None:
        values = "COUNT(DISTINCT s.value)"
    elif aggregation is Aggregation.COUNT:
        values = "SUM(s.n)"
    elif aggregation is Aggregation.MIN:
        values = "SUM(s.n), MIN(s.x)"
    elif aggregation is Aggregation.MAX:
        values = "SUM(s.n), MAX(s.x)"
    else:
        values = "SUM(s.n), SUM(s.a), SUM(s.b)"
    sql = (
        f"SELECT {', '.join(selected)}, {values} FROM {source}{' WHERE ' + ' AND '.join(where) if where else ''}"
        f" GROUP BY {', '.join(keys)} ORDER BY {', '.join(order)}"
    )
    return sql, params


def level_sql(
    d: Dialect,
    meter_num: int,
    aggregation: Aggregation,
    place: Placement | None,
    fetch: Fetch,
    *,
    subjects: Sequence[str],
    keep_subject: bool,
    keep_groups: Sequence[int],
    filters: Mapping[int, tuple[str, ...]],
) -> tuple[str, list[object]]:
    """The statement of a read of one level range, grouped by the level's unit, (subject) and the kept
    group values: tu, subject, *groups, then the value (UNIQUE_COUNT: each distinct value), or n, a, b, x
    of each stored row (LATEST: the pick by (event time, ingest seq) is the caller's), or SUM(n), SUM(a) in
    10^9 parts and the rest, SUM(b), MIN(x), MAX(x)."""
    per_subject = bool(subjects) or keep_subject
    params: list[object] = []
    source, where = sources(
        d,
        meter_num,
        place,
        [fetch],
        per_subject=per_subject,
        subjects=subjects,
        totals=not keep_groups and not filters,
        params=params,
    )
    for index, allowed in filters.items():
        where.append(d.one_of(d.group_value(index), allowed, params))
    unit = fetch.level.value
    time_col = "s.t" if not per_subject or fetch.level is Level.MINUTE else f"s.t - s.t {d.mod} {int(unit)}"
    groups = [d.group_value(i) for i in keep_groups]
    select_keys = ", ".join([f"{time_col} AS tu", "s.subject" if keep_subject else d.null_text, *groups])
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    if place is None:
        return f"SELECT DISTINCT {select_keys}, s.value FROM {source}{condition}", params
    if aggregation is Aggregation.LATEST:
        return f"SELECT {select_keys}, s.n, s.a, s.b, s.x FROM {source}{condition}", params
    group_by = ", ".join([time_col, *(["s.subject"] if keep_subject else []), *groups])
    return (
        f"SELECT {select_keys}, SUM(s.n), SUM(s.a / {NANOS}), SUM(s.a {d.mod} {NANOS}), SUM(s.b), MIN(s.x),"
        f" MAX(s.x) FROM {source}{condition} GROUP BY {group_by}",
        params,
    )


def partial_rows(rows: Iterable[Sequence[Any]], aggregation: Aggregation, width: int) -> Iterator[PartialRow]:
    """The rows of ``level_sql`` as partial rows."""
    if aggregation is Aggregation.UNIQUE_COUNT:
        for row in rows:
            yield row[0], row[1], tuple(row[2 : 2 + width]), 1, 0, None, None, None, row[2 + width]
    elif aggregation is Aggregation.LATEST:
        for row in rows:  # n, a (latest_time_us), b (latest_seq), x (latest)
            count, lt, ls, lv = row[2 + width :]
            yield (
                row[0],
                row[1],
                tuple(row[2 : 2 + width]),
                count,
                0,
                None,
                None,
                (lt, ls, lv) if lt is not None else None,
                None,
            )
    else:
        for row in rows:
            count, giga_units, units, nanos, mn, mx = row[2 + width :]
            total = (int(giga_units or 0) * NANOS + int(units or 0)) * NANOS + int(nanos or 0)
            yield row[0], row[1], tuple(row[2 : 2 + width]), int(count), total, mn, mx, None, None
