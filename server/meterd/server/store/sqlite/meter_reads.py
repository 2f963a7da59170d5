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

import sqlite3
from collections.abc import Iterator, Mapping, Sequence

from meterd.server.meters.fold import KIND_OF
from meterd.server.meters.model import Aggregation
from meterd.server.meters.plan import NANOS, Fetch, WindowRun
from meterd.server.store import rowsets
from meterd.server.store.rowsets import PartialRow, Placement, WindowedRow, partial_rows, window_expr

__all__ = [
    "PartialRow",
    "WindowedRow",
    "fetch_rows",
    "partial_rows",
    "placement",
    "window_expr",
    "windowed_rows",
]


def placement(conn: sqlite3.Connection, meter_num: int, aggregation: Aggregation) -> Placement | None:
    """The meter's row set and slot (None for UNIQUE_COUNT, whose rows are its own, or a meter gone)."""
    if aggregation is Aggregation.UNIQUE_COUNT:
        return None
    row = conn.execute("SELECT rowset, slot FROM meter_slots WHERE meter_num = ?", (meter_num,)).fetchone()
    return Placement(row[0], row[1], KIND_OF[aggregation]) if row else None


def windowed_rows(
    conn: sqlite3.Connection,
    meter_num: int,
    aggregation: Aggregation,
    runs: Sequence[WindowRun],
    fetches: Sequence[Fetch],
    *,
    subjects: Sequence[str],
    keep_subject: bool,
    keep_groups: Sequence[int],
    filters: Mapping[int, tuple[str, ...]],
) -> Iterator[WindowedRow]:
    """The rows of a query, one per (window, subject, kept group values) with data, ordered by window, then
    subject, then group values (each null first, then by code point: SQLite's BINARY order of UTF-8).

    ``fetches``: the level ranges of the query's plan (``plan.fetches``: whole days and hours inside windows,
    minutes at their edges)."""
    if aggregation is Aggregation.LATEST:
        raise ValueError("LATEST is picked in Python (see fetch_rows)")
    if not fetches:
        return
    place = placement(conn, meter_num, aggregation)
    if place is None and aggregation is not Aggregation.UNIQUE_COUNT:
        return
    sql, params = rowsets.windowed_sql(
        rowsets.SQLITE,
        meter_num,
        aggregation,
        place,
        runs,
        fetches,
        subjects=subjects,
        keep_subject=keep_subject,
        keep_groups=keep_groups,
        filters=filters,
    )
    at = 2 + len(keep_groups)
    if place is None:
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
            units, nanos = row[at + 1 :]
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
        giga, units, nanos = row[at + 1 :]
        total = ((giga or 0) * NANOS + (units or 0)) * NANOS + (nanos or 0)
        yield row[0], row[1], row[2:at], row[at], total, None, None, 0


def fetch_rows(
    conn: sqlite3.Connection,
    meter_num: int,
    aggregation: Aggregation,
    fetch: Fetch,
    *,
    subjects: Sequence[str],
    keep_subject: bool,
    keep_groups: Sequence[int],
    filters: Mapping[int, tuple[str, ...]],
) -> Iterator[PartialRow]:
    """Partial rows of one level range, grouped by unit, (subject) and the kept group values (LATEST: one
    per stored row, the pick is made in Python by (event time, ingest seq)).

    Rows: (time_us, subject or None, kept group values, count, sum_nanos, min, max, latest, distinct)."""
    place = placement(conn, meter_num, aggregation)
    if place is None and aggregation is not Aggregation.UNIQUE_COUNT:
        return
    sql, params = rowsets.level_sql(
        rowsets.SQLITE,
        meter_num,
        aggregation,
        place,
        fetch,
        subjects=subjects,
        keep_subject=keep_subject,
        keep_groups=keep_groups,
        filters=filters,
    )
    yield from partial_rows(conn.execute(sql, params), aggregation, len(keep_groups))
