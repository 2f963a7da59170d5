"""Meter queries answered in SQL: pre-aggregate rows grouped into the query's windows by SQLite itself.

The window of a row is arithmetic on its time (``plan.WindowRun``: one run for UTC windows, a few more
around each DST transition), so one statement reads every level range of a query, groups its rows per
(window, subject, kept group values) and returns them in the answer's order: Python sees one row per row
of the answer, not one per stored hour or minute. Sums stay exact: integers in units of 10^-9, summed in
two parts (SQLite's SUM raises on int64 overflow, which a long range of large values could reach).

Used for every aggregation but LATEST (whose pick by (event time, ingest sequence) stays in Python):
UNIQUE_COUNT is ``COUNT(DISTINCT value)`` over the union of its level ranges, exact across levels.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence

from meterd.server.meters.model import Aggregation
from meterd.server.meters.plan import DAY_US, NANOS, Fetch, Level, WindowRun

_SUFFIX = {Level.MINUTE: "m", Level.HOUR: "h", Level.DAY: "d"}
# A one-subject read lists the days of its range as bound parameters up to this many (then a JSON array).
_INLINE_DAYS = 100

# (window index, subject or None, kept group values, count, sum in units of 10^-9, min, max, distinct count)
WindowedRow = tuple[int, str | None, tuple[str | None, ...], int, int, float | None, float | None, int]


def subject_range(meter_num: int, subjects: Sequence[str], start: int, end: int, params: list[object]) -> list[str]:
    """The conditions (appending their parameters) that select a meter's per-subject minute rows in
    [start, end), of the given subjects or of all. With subjects: one seek per (day, subject), the days of
    the range given as a list the planner iterates (bound parameters while few, else one JSON array)."""
    first = start - start % DAY_US
    where = ["a.meter_num = ?"]
    params.append(meter_num)
    if subjects:
        days = list(range(first, end, DAY_US))
        if len(days) <= _INLINE_DAYS:
            where.append(f"a.day_us IN ({','.join('?' * len(days))})")
            params += days
        else:
            where.append("a.day_us IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(days))
        if len(subjects) == 1:
            where.append("a.subject = ?")
        else:
            where.append(f"a.subject IN ({','.join('?' * len(subjects))})")
        params += subjects
    else:
        where += ["a.day_us >= ?", "a.day_us < ?"]
        params += [first, end]
    where += ["a.time_us >= ?", "a.time_us < ?"]
    params += [start, end]
    return where


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

    ``fetches``: the level ranges of the query's plan (per-subject reads need only their span: those rows
    are minutes whatever the level). Queries that neither filter nor group by subject read the all-subject
    rows of each level; the others the per-subject minute rows."""
    if aggregation is Aggregation.LATEST:
        raise ValueError("LATEST is picked in Python (see SqliteMeterStore.fetch)")
    distinct = aggregation is Aggregation.UNIQUE_COUNT
    if not fetches:
        return
    params: list[object] = []
    if subjects or keep_subject:
        start = min(f.start_us for f in fetches)
        end = max(f.end_us for f in fetches)
        table = "meter_sub_distinct_m" if distinct else "meter_sub_m"
        where = subject_range(meter_num, subjects, start, end, params)
        source = f"{table} a"
    else:
        where = []
        if len(fetches) == 1:
            f = fetches[0]
            table = f"meter_all_distinct_{_SUFFIX[f.level]}" if distinct else f"meter_all_{_SUFFIX[f.level]}"
            source = f"{table} a"
            where += ["a.meter_num = ?", "a.time_us >= ?", "a.time_us < ?"]
            params += [meter_num, f.start_us, f.end_us]
        else:
            columns = "time_us, groups, value" if distinct else "time_us, groups, count, sum_units, sum_nanos, min, max"
            parts = []
            for f in fetches:
                table = f"meter_all_distinct_{_SUFFIX[f.level]}" if distinct else f"meter_all_{_SUFFIX[f.level]}"
                parts.append(f"SELECT {columns} FROM {table} WHERE meter_num = ? AND time_us >= ? AND time_us < ?")
                params += [meter_num, f.start_us, f.end_us]
            source = f"({' UNION ALL '.join(parts)}) a"
    for index, allowed in filters.items():
        where.append(f"json_extract(a.groups, '$[{int(index)}]') IN ({','.join('?' * len(allowed))})")
        params.extend(allowed)
    keys = ["w", *(["a.subject"] if keep_subject else []),
            *(f"json_extract(a.groups, '$[{int(i)}]')" for i in keep_groups)]
    selected = [f"{window_expr(runs, 'a.time_us')} AS w", "a.subject" if keep_subject else "NULL",
                *keys[1 + keep_subject:]]
    if distinct:
        values = "COUNT(DISTINCT a.value)"
    elif aggregation is Aggregation.COUNT:
        values = "SUM(a.count)"
    elif aggregation is Aggregation.MIN:
        values = "SUM(a.count), MIN(a.min)"
    elif aggregation is Aggregation.MAX:
        values = "SUM(a.count), MAX(a.max)"
    else:  # SUM, AVG: whole units and nanos (each row's nanos below 10^9), see _sum_rows
        values = "SUM(a.count), SUM(a.sum_units), SUM(a.sum_nanos)"
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
    split = sql.replace("SUM(a.sum_units)", f"SUM(a.sum_units / {NANOS}), SUM(a.sum_units % {NANOS})")
    for i, row in enumerate(conn.execute(split, params)):
        if i < done:
            continue
        giga, units, nanos = row[at + 1:]
        total = ((giga or 0) * NANOS + (units or 0)) * NANOS + (nanos or 0)
        yield row[0], row[1], row[2:at], row[at], total, None, None, 0
