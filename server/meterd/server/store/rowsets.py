"""The aggregate layout both backends keep (SQLite's migration 0009, PostgreSQL's 0003), as SQL text: row set
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
import re
from collections.abc import Sequence
from dataclasses import dataclass

from meterd.server.meters.fold import COUNT, LATEST, MAX, MIN, SLOTS, SUM, Layout, Target
from meterd.server.meters.plan import DAY_US, Fetch, Level

SUFFIX = {Level.MINUTE: "m", Level.HOUR: "h", Level.DAY: "d"}
SUB_KEY = ("rowset", "day_us", "subject", "time_us", "groups")
SUB_HOUR_KEY = ("rowset", "day_us", "subject", "time_us")
ALL_KEY = ("rowset", "time_us", "groups")
# Every table of row sets (deleting a meter clears its slot in each).
TABLES = ("agg_sub_m", "agg_sub_h", *(f"agg_all_{s}" for s in SUFFIX.values()))
# The value columns of one slot, by kind, in the order the fold's rows carry them.
_COLUMNS = {COUNT: ("n",), SUM: ("n", "a", "b"), MIN: ("n", "x"), MAX: ("n", "x"), LATEST: ("n", "x", "a", "b")}
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
            newer = (f"excluded.{a} IS NOT NULL AND ({a} IS NULL OR (excluded.{a}, excluded.{b}) > ({a}, {b}))")
            out += [f"{c} = CASE WHEN {newer} THEN excluded.{c} ELSE {c} END" for c in (x, a, b)]
    return out


@functools.lru_cache(maxsize=1024)
def sqlite_upsert(target: Target) -> str:
    """SQLite's upsert of a row set target's rows (executemany), writing only the layout's columns."""
    table, key = table_of(target)
    columns = [*key, *value_columns(target[-1])]
    # SQLite's two-argument min()/max() are NULL when either is: coalesce keeps the one that is not.
    merges = _merges(target[-1], least="coalesce(min({0}, {1}), {0}, {1})",
                     greatest="coalesce(max({0}, {1}), {0}, {1})")
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(merges)}")


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


def clear_slot_sql(table: str, slot: int, ph: str) -> str:
    """Clears one slot's columns in every row of a row set (a meter deleted or moved away)."""
    return f"UPDATE {table} SET n{slot} = NULL, a{slot} = NULL, b{slot} = NULL, x{slot} = NULL WHERE rowset = {ph}"


def delete_empty_sql(table: str, ph: str) -> str:
    """Deletes a row set's rows in which no slot has a reading left."""
    empty = " AND ".join(f"coalesce(n{i}, 0) = 0" for i in range(SLOTS))
    return f"DELETE FROM {table} WHERE rowset = {ph} AND {empty}"


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
