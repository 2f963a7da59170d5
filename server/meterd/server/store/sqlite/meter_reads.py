"""Meter queries answered in SQL: pre-aggregate rows grouped into the query's windows by SQLite itself.

The window of a row is arithmetic on its time (``plan.WindowRun``: one run for UTC windows, a few more
around each DST transition), so one statement reads every level range of a query, groups its rows per
(window, subject, kept group values) and returns them in the answer's order: Python sees one row per row
of the answer, not one per stored hour or minute. Sums stay exact: integers in units of 10^-9, summed in
two parts (SQLite's SUM raises on int64 overflow, which a long range of large values could reach).

Where the rows come from (``store/rowsets.py`` has the layout): a meter's slot of its row set's tables.
Queries that neither filter nor group by subject read the all-subject rows of each level. The others read
per-subject rows: the hour totals for the whole hours of the query's windows when no group value is kept
or filtered (a subject-month is at most 720 of them, whatever the events per hour), minute rows for the
rest. Per-subject rows are keyed by UTC day first: a range is one index seek per (day, subject).

Used for every aggregation but LATEST (whose pick by (event time, ingest sequence) stays in Python, from
``fetch_rows``): UNIQUE_COUNT is ``COUNT(DISTINCT value)`` over the union of its level ranges, exact across
levels, from its own per-meter tables of distinct values.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence

from meterd.server.meters.fold import KIND_OF
from meterd.server.meters.model import Aggregation
from meterd.server.meters.plan import NANOS, Fetch, Level, WindowRun
from meterd.server.store.rowsets import SUFFIX, Placement, day_ranges

# (window index, subject or None, kept group values, count, sum in units of 10^-9, min, max, distinct count)
WindowedRow = tuple[int, str | None, tuple[str | None, ...], int, int, float | None, float | None, int]
# (time_us, subject or None, kept group values, count, sum_nanos, min, max, latest, distinct value)
PartialRow = tuple[int, str | None, tuple[str | None, ...], int, int, float | None, float | None,
                   tuple[int, int, float] | None, str | None]

# Whether a meter's slot is still where the statement reads it (a meter deleted or redefined between
# ``placement`` and the read: the statement then reads nothing rather than another meter's slot).
_GUARD = "EXISTS (SELECT 1 FROM meter_slots WHERE meter_num = ? AND rowset = ? AND slot = ?)"


def placement(conn: sqlite3.Connection, meter_num: int, aggregation: Aggregation) -> Placement | None:
    """The meter's row set and slot (None for UNIQUE_COUNT, whose rows are its own, or a meter gone)."""
    if aggregation is Aggregation.UNIQUE_COUNT:
        return None
    row = conn.execute("SELECT rowset, slot FROM meter_slots WHERE meter_num = ?", (meter_num,)).fetchone()
    return Placement(row[0], row[1], KIND_OF[aggregation]) if row else None


def _per_subject(table: str, columns: str, rowset_col: str, rowset: int, subjects: Sequence[str],
                 ranges: list[tuple[int, int, int]], params: list[object]) -> str:
    """A SELECT of per-subject rows over day ranges: one seek per (range, subject) with subjects, one
    range scan per day without. ``columns`` selects from ``a``."""
    params += [json.dumps(ranges), rowset]
    on = [f"a.{rowset_col} = ?", "a.day_us = r.value ->> 0", "a.time_us >= r.value ->> 1", "a.time_us < r.value ->> 2"]
    if subjects:
        on.insert(2, "a.subject = ?" if len(subjects) == 1 else f"a.subject IN ({','.join('?' * len(subjects))})")
        params += subjects
    return f"SELECT {columns} FROM json_each(?) r JOIN {table} a ON {' AND '.join(on)}"


def _sources(meter_num: int, place: Placement | None, fetches: Sequence[Fetch], *, per_subject: bool,
             subjects: Sequence[str], totals: bool, params: list[object]) -> tuple[str, list[str]]:
    """The rows a query reads, as one FROM item ``s`` with columns (t, subject, groups, n, a, b, x) for a
    slot, or (t, subject, groups, value) for UNIQUE_COUNT, and the conditions on it. ``totals``: the
    per-subject hour totals may stand for whole hours (no group value is kept or filtered)."""
    where: list[str] = []
    parts = []
    if place is None:  # UNIQUE_COUNT: its own rows, keyed by the meter's number
        if per_subject:
            cols = "a.time_us AS t, a.subject AS subject, a.groups AS groups, a.value AS value"
            parts.append(_per_subject("meter_sub_distinct_m", cols, "meter_num", meter_num, subjects,
                                      day_ranges(fetches), params))
        else:
            for f in fetches:
                parts.append(f"SELECT time_us AS t, NULL AS subject, groups, value FROM meter_all_distinct_"
                             f"{SUFFIX[f.level]} WHERE meter_num = ? AND time_us >= ? AND time_us < ?")
                params += [meter_num, f.start_us, f.end_us]
    else:
        n, a, b, x = place.n, place.a, place.b, place.x
        cols = f"a.{n} AS n, a.{a} AS a, a.{b} AS b, a.{x} AS x"
        if per_subject:
            minutes = [f for f in fetches if f.level is Level.MINUTE or not totals]
            hours = [f for f in fetches if f.level is not Level.MINUTE and totals]
            if minutes:
                parts.append(_per_subject("agg_sub_m", f"a.time_us AS t, a.subject AS subject, a.groups AS groups,"
                                          f" {cols}", "rowset", place.rowset, subjects, day_ranges(minutes), params)
                             + f" WHERE a.{n} > 0")
            if hours:
                parts.append(_per_subject("agg_sub_h", f"a.time_us AS t, a.subject AS subject, NULL AS groups,"
                                          f" {cols}", "rowset", place.rowset, subjects, day_ranges(hours), params)
                             + f" WHERE a.{n} > 0")
        else:
            for f in fetches:
                parts.append(f"SELECT a.time_us AS t, NULL AS subject, a.groups AS groups, {cols}"
                             f" FROM agg_all_{SUFFIX[f.level]} a WHERE a.rowset = ? AND a.time_us >= ?"
                             f" AND a.time_us < ? AND a.{n} > 0")
                params += [place.rowset, f.start_us, f.end_us]
        where.append(_GUARD)
        params += [meter_num, place.rowset, place.slot]
    source = parts[0] if len(parts) == 1 else " UNION ALL ".join(parts)
    return f"({source}) s", where


def window_expr(runs: Sequence[WindowRun], column: str) -> str:
    """SQL for the index of the window holding ``column`` (microseconds): per run, arithmetic; between
    runs, a balanced tree of comparisons (log2(runs) of them per row). The numbers are integers written
    into the SQL (no text of the caller's)."""

    def tree(lo: int, hi: int) -> str:
        if hi - lo == 1:
            run = runs[lo]
            offset = f"{column} - {int(run.start_us)}" if run.start_us else column
            return f"({int(run.first)} + ({offset}) / {int(run.step_us)})"
        mid = (lo + hi) // 2
        return f"(CASE WHEN {column} < {int(runs[mid].start_us)} THEN {tree(lo, mid)} ELSE {tree(mid, hi)} END)"

    if not runs:
        raise ValueError("no windows")
    return tree(0, len(runs))


def windowed_rows(
    conn: sqlite3.Connection, meter_num: int, aggregation: Aggregation, runs: Sequence[WindowRun],
    fetches: Sequence[Fetch], *, subjects: Sequence[str], keep_subject: bool, keep_groups: Sequence[int],
    filters: Mapping[int, tuple[str, ...]],
) -> Iterator[WindowedRow]:
    """The rows of a query, one per (window, subject, kept group values) with data, ordered by window, then
    subject, then group values (each null first, then by code point: SQLite's BINARY order of UTF-8).

    ``fetches``: the level ranges of the query's plan (``plan.plan``: whole days and hours inside windows,
    minutes at their edges)."""
    if aggregation is Aggregation.LATEST:
        raise ValueError("LATEST is picked in Python (see fetch_rows)")
    if not fetches:
        return
    distinct = aggregation is Aggregation.UNIQUE_COUNT
    place = placement(conn, meter_num, aggregation)
    if place is None and not distinct:
        return
    params: list[object] = []
    source, where = _sources(meter_num, place, fetches, per_subject=bool(subjects) or keep_subject, subjects=subjects,
                             totals=not keep_groups and not filters, params=params)
    for index, values in filters.items():
        where.append(f"json_extract(s.groups, '$[{int(index)}]') IN ({','.join('?' * len(values))})")
        params.extend(values)
    keys = ["w", *(["s.subject"] if keep_subject else []),
            *(f"json_extract(s.groups, '$[{int(i)}]')" for i in keep_groups)]
    selected = [f"{window_expr(runs, 's.t')} AS w", "s.subject" if keep_subject else "NULL", *keys[1 + keep_subject:]]
    if distinct:
        values = "COUNT(DISTINCT s.value)"
    elif aggregation is Aggregation.COUNT:
        values = "SUM(s.n)"
    elif aggregation is Aggregation.MIN:
        values = "SUM(s.n), MIN(s.x)"
    elif aggregation is Aggregation.MAX:
        values = "SUM(s.n), MAX(s.x)"
    else:  # SUM, AVG: whole units and nanos (each row's nanos below 10^9), see _sum_rows
        values = "SUM(s.n), SUM(s.a), SUM(s.b)"
    group = ", ".join(keys)
    sql = (f"SELECT {', '.join(selected)}, {values} FROM {source}"
           f"{' WHERE ' + ' AND '.join(where) if where else ''} GROUP BY {group} ORDER BY {group}")
    at = 2 + len(keep_groups)
    if distinct:
        for row in conn.execute(sql, params):
            n = row[at]
            yield row[0], row[1], row[2:at], n, 0, None, None, n
    elif aggregation is Aggregation.COUNT:
        for row in conn.execute(sql, params):
            yield row[0], row[1], row[2:at], row[at], 0, None, None, 0
    elif aggregation is Aggregation.MIN:
        for row in conn.execute(sql, params):
            yield row[0], row[1], row[2:at], row[at], 0, row[at + 1], None, 0
    elif aggregation is Aggregation.MAX:
        for row in conn.execute(sql, params):
            yield row[0], row[1], row[2:at], row[at], 0, None, row[at + 1], 0
    else:
        yield from _sum_rows(conn, sql, params, at)


def _sum_rows(conn: sqlite3.Connection, sql: str, params: list[object], at: int) -> Iterator[WindowedRow]:
    """SUM/AVG rows with their exact sums, as they come (the caller stops at its row limit). SQLite's SUM of
    integers raises on int64 overflow (it never rounds): past a total of 9.2e18 whole units (millions of
    events near the 1e12 value limit), the rest is read again with the units summed in two parts, billions
    and the rest, which cannot overflow (the same rows in the same order: the order is by unique keys)."""
    done = 0
    try:
        for row in conn.execute(sql, params):
            units, nanos = row[at + 1:]
            yield row[0], row[1], row[2:at], row[at], (units or 0) * NANOS + (nanos or 0), None, None, 0
            done += 1
        return
    except sqlite3.OperationalError as exc:
        if "integer overflow" not in str(exc):
            raise
    split = sql.replace("SUM(s.a)", f"SUM(s.a / {NANOS}), SUM(s.a % {NANOS})")
    for i, row in enumerate(conn.execute(split, params)):
        if i < done:
            continue
        giga, units, nanos = row[at + 1:]
        total = ((giga or 0) * NANOS + (units or 0)) * NANOS + (nanos or 0)
        yield row[0], row[1], row[2:at], row[at], total, None, None, 0


def fetch_rows(
    conn: sqlite3.Connection, meter_num: int, aggregation: Aggregation, fetch: Fetch, *, subjects: Sequence[str],
    keep_subject: bool, keep_groups: Sequence[int], filters: Mapping[int, tuple[str, ...]],
) -> Iterator[PartialRow]:
    """Partial rows of one level range, grouped by unit, (subject) and the kept group values (LATEST: one
    per stored row, the pick is made in Python by (event time, ingest seq)).

    Rows: (time_us, subject or None, kept group values, count, sum_nanos, min, max, latest, distinct)."""
    unit = fetch.level.value
    distinct = aggregation is Aggregation.UNIQUE_COUNT
    place = placement(conn, meter_num, aggregation)
    if place is None and not distinct:
        return
    per_subject = bool(subjects) or keep_subject
    params: list[object] = []
    source, where = _sources(meter_num, place, [fetch], per_subject=per_subject, subjects=subjects,
                             totals=not keep_groups and not filters, params=params)
    for index, values in filters.items():
        where.append(f"json_extract(s.groups, '$[{int(index)}]') IN ({','.join('?' * len(values))})")
        params.extend(values)
    time_col = "s.t" if not per_subject or unit == Level.MINUTE.value else f"s.t - s.t % {int(unit)}"
    subject_col = "s.subject" if keep_subject else "NULL"
    group_cols = [f"json_extract(s.groups, '$[{int(i)}]')" for i in keep_groups]
    select_keys = ", ".join([f"{time_col} AS tu", subject_col, *group_cols])
    group_by = ", ".join(["tu", *(["s.subject"] if keep_subject else []), *group_cols])
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    width = len(group_cols)
    if distinct:
        sql = f"SELECT DISTINCT {select_keys}, s.value FROM {source}{condition}"
        for row in conn.execute(sql, params):
            yield row[0], row[1], tuple(row[2:2 + width]), 1, 0, None, None, None, row[2 + width]
    elif aggregation is Aggregation.LATEST:
        # One row per stored row: (count, latest_time_us, latest_seq, latest) in the slot's n, a, b, x.
        sql = f"SELECT {select_keys}, s.n, s.a, s.b, s.x FROM {source}{condition}"
        for row in conn.execute(sql, params):
            count, lt, ls, lv = row[2 + width:]
            yield (row[0], row[1], tuple(row[2:2 + width]), count, 0, None, None,
                   (lt, ls, lv) if lt is not None else None, None)
    else:
        sql = (f"SELECT {select_keys}, SUM(s.n), SUM(s.a / {NANOS}), SUM(s.a % {NANOS}), SUM(s.b), MIN(s.x),"
               f" MAX(s.x) FROM {source}{condition} GROUP BY {group_by}")
        for row in conn.execute(sql, params):
            count, giga_units, units, nanos, mn, mx = row[2 + width:]
            total = ((giga_units or 0) * NANOS + (units or 0)) * NANOS + (nanos or 0)
            yield row[0], row[1], tuple(row[2:2 + width]), count, total, mn, mx, None, None
