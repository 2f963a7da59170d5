"""Windows as runs of equal windows (``plan.window_runs``) and the SQL that finds a row's window from them
(``meter_reads.window_expr``, evaluated by SQLite itself): for every minute of a range, the same window as
the window list, in zones with DST, 30-minute transitions and odd offsets."""

from __future__ import annotations

import itertools
import sqlite3
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterd.server.meters.plan import WindowRun, fetches, plan, window_runs
from meterd.server.meters.windows import WindowSize, windows_between
from meterd.server.store.sqlite.meter_reads import window_expr
from meterd.server.timeutil import to_us

M = timedelta(minutes=1)
ZONES = [
    "UTC",
    "Europe/Budapest",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/St_Johns",
    "Asia/Kathmandu",
]
# Instants near transitions: Budapest and New York fall back and spring forward, Lord Howe's 30-minute
# changes, Chatham's 12:45/13:45 offsets.
TRANSITIONS = [
    datetime(2024, 3, 31, 1, tzinfo=UTC),
    datetime(2024, 10, 27, 1, tzinfo=UTC),
    datetime(2024, 3, 10, 7, tzinfo=UTC),
    datetime(2024, 11, 3, 6, tzinfo=UTC),
    datetime(2024, 4, 6, 15, tzinfo=UTC),
    datetime(2024, 10, 5, 15, 30, tzinfo=UTC),
    datetime(2024, 4, 6, 14, tzinfo=UTC),
    datetime(2024, 9, 28, 14, tzinfo=UTC),
]


def index_by_runs(runs: list[WindowRun], t: int) -> int:
    for run in runs:
        if run.start_us <= t < run.end_us:
            return run.first + (t - run.start_us) // run.step_us
    raise AssertionError(f"{t} is in no run")


def check(start: datetime, end: datetime, size: WindowSize | None, zone: str) -> None:
    windows = list(windows_between(start, end, size, ZoneInfo(zone)))
    runs = window_runs([(w.start, w.end) for w in windows])
    assert runs[0].first == 0 and runs[0].start_us == to_us(windows[0].start)
    assert runs[-1].end_us == to_us(windows[-1].end)
    assert all(a.end_us == b.start_us and a.first < b.first for a, b in itertools.pairwise(runs))
    expected = []
    t = start
    index = 0
    while t < end:
        while not windows[index].clip_start <= t < windows[index].clip_end:
            index += 1
        expected.append(index)
        t += M
    minutes = [to_us(start) + i * 60_000_000 for i in range(len(expected))]
    assert [index_by_runs(runs, m) for m in minutes] == expected
    with sqlite3.connect(":memory:") as conn:
        conn.execute("CREATE TABLE t (time_us INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?)", [(m,) for m in minutes])
        got = [r[0] for r in conn.execute(f"SELECT {window_expr(runs, 'time_us')} FROM t ORDER BY time_us")]
    assert got == expected


@settings(max_examples=150, deadline=None)
@given(
    base=st.sampled_from(TRANSITIONS),
    offset=st.integers(-3 * 24 * 60, 3 * 24 * 60),
    length=st.integers(1, 5 * 24 * 60),
    size=st.sampled_from([None, WindowSize.MINUTE, WindowSize.HOUR, WindowSize.DAY]),
    zone=st.sampled_from(ZONES),
)
def test_runs_and_their_sql_give_each_minute_its_window(
    base: datetime, offset: int, length: int, size: WindowSize | None, zone: str
) -> None:
    start = base + offset * M
    check(start, start + length * M, size, zone)


@pytest.mark.parametrize(
    ("size", "zone", "runs"),
    [
        (WindowSize.HOUR, "UTC", 1),
        (WindowSize.DAY, "UTC", 1),
        # A year of local days: a run per stretch between transitions and one per 23- or 25-hour day.
        (WindowSize.DAY, "Europe/Budapest", 5),
        (WindowSize.HOUR, "Europe/Budapest", 1),  # every local hour is a UTC hour, the repeated one too
        (WindowSize.HOUR, "Australia/Lord_Howe", 5),  # 30-minute hours at its 30-minute transitions
    ],
)
def test_a_year_is_a_few_runs(size: WindowSize, zone: str, runs: int) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    windows = list(windows_between(start, start + timedelta(days=366), size, ZoneInfo(zone)))
    found = window_runs([(w.start, w.end) for w in windows])
    assert len(found) == runs
    check(datetime(2024, 3, 29, tzinfo=UTC), datetime(2024, 4, 2, tzinfo=UTC), size, zone)


def test_many_runs_are_a_balanced_tree() -> None:
    # Ten years of Budapest days: about 40 runs, found in at most 6 comparisons per row.
    start = datetime(2015, 1, 1, tzinfo=UTC)
    windows = list(
        windows_between(start, start + timedelta(days=3653), WindowSize.DAY, ZoneInfo("Europe/Budapest"))
    )
    runs = window_runs([(w.start, w.end) for w in windows])
    assert 35 <= len(runs) <= 45
    expr = window_expr(runs, ":t")
    assert expr.count("CASE") == len(runs) - 1
    with sqlite3.connect(":memory:") as conn:
        for i, w in enumerate(windows):
            for t in (w.start, w.end - M):
                assert conn.execute(f"SELECT {expr}", {"t": to_us(t)}).fetchone() == (i,)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.integers(1, 3 * 24 * 60) | st.integers(1, 30).map(lambda hours: 60 * hours),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 24 * 60) | st.integers(0, 24).map(lambda hours: 60 * hours),
)
def test_fetches_are_the_plans(lengths: list[int], offset: int) -> None:
    """plan.fetches gives the plan's level ranges (what a store grouping into windows itself reads)."""
    t = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=offset)
    windows = []
    for minutes in lengths:
        windows.append((t, t + timedelta(minutes=minutes)))
        t += timedelta(minutes=minutes)
    assert sorted(fetches(windows), key=repr) == sorted(plan(windows).fetches, key=repr)
