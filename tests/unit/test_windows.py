"""Window alignment in IANA zones, query range and zone checks."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterd.server.errors import InvalidArgument
from meterd.server.meters.windows import (
    Window,
    WindowSize,
    resolve_zone,
    validate_query_range,
    window_end,
    window_start,
    windows_between,
)
from tests.reference_query import reference_windows

H = timedelta(hours=1)
M = timedelta(minutes=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def edges(t: datetime, size: WindowSize, zone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    return window_start(t, size, tz), window_end(t, size, tz)


# --- hand-computed windows ------------------------------------------------------------------------------


def test_utc_windows_are_plain_truncation() -> None:
    t = utc(2024, 5, 17, 13, 45, 30)
    assert edges(t, WindowSize.MINUTE, "UTC") == (utc(2024, 5, 17, 13, 45), utc(2024, 5, 17, 13, 46))
    assert edges(t, WindowSize.HOUR, "UTC") == (utc(2024, 5, 17, 13), utc(2024, 5, 17, 14))
    assert edges(t, WindowSize.DAY, "UTC") == (utc(2024, 5, 17), utc(2024, 5, 18))


def test_day_starts_at_local_midnight() -> None:
    # Budapest is UTC+2 in May: the local day of 2024-05-17 is 16 May 22:00 UTC to 17 May 22:00 UTC.
    start, end = edges(utc(2024, 5, 17, 21, 59), WindowSize.DAY, "Europe/Budapest")
    assert (start, end) == (utc(2024, 5, 16, 22), utc(2024, 5, 17, 22))
    assert edges(utc(2024, 5, 17, 22), WindowSize.DAY, "Europe/Budapest")[0] == utc(2024, 5, 17, 22)


@pytest.mark.parametrize(
    ("zone", "instant", "start", "hours"),
    [
        # Spring forward: 23-hour days.
        ("Europe/Budapest", utc(2024, 3, 31, 12), utc(2024, 3, 30, 23), 23),
        ("America/New_York", utc(2024, 3, 10, 12), utc(2024, 3, 10, 5), 23),
        # Fall back: 25-hour days.
        ("Europe/Budapest", utc(2024, 10, 27, 12), utc(2024, 10, 26, 22), 25),
        ("America/New_York", utc(2024, 11, 3, 12), utc(2024, 11, 3, 4), 25),
        # Lord Howe moves by 30 minutes: 23.5- and 24.5-hour days.
        ("Australia/Lord_Howe", utc(2024, 10, 6, 0), utc(2024, 10, 5, 13, 30), 23.5),
        ("Australia/Lord_Howe", utc(2024, 4, 7, 0), utc(2024, 4, 6, 13), 24.5),
    ],
)
def test_dst_days_are_23_or_25_hours(zone: str, instant: datetime, start: datetime, hours: float) -> None:
    assert edges(instant, WindowSize.DAY, zone) == (start, start + timedelta(hours=hours))


def test_day_starting_at_a_skipped_midnight_starts_at_the_transition() -> None:
    # Havana springs forward at 00:00 -> 01:00: 10 March 2024 begins at 01:00 CDT = 05:00 UTC.
    assert edges(utc(2024, 3, 10, 12), WindowSize.DAY, "America/Havana") == (
        utc(2024, 3, 10, 5),
        utc(2024, 3, 11, 4),
    )


def test_hour_in_half_hour_zone_is_not_a_utc_hour() -> None:
    # Kolkata is UTC+5:30: local 06:00-07:00 is 00:30-01:30 UTC.
    assert edges(utc(2024, 1, 1, 1, 29), WindowSize.HOUR, "Asia/Kolkata") == (
        utc(2024, 1, 1, 0, 30),
        utc(2024, 1, 1, 1, 30),
    )
    # Kathmandu is UTC+5:45.
    assert edges(utc(2024, 1, 1, 0, 20), WindowSize.HOUR, "Asia/Kathmandu") == (
        utc(2024, 1, 1, 0, 15),
        utc(2024, 1, 1, 1, 15),
    )


def test_fall_back_hour_is_two_windows() -> None:
    # New York, 3 Nov 2024: 01:00-02:00 happens twice, as EDT (05:00-06:00 UTC) then EST (06:00-07:00 UTC).
    tz = ZoneInfo("America/New_York")
    windows = list(windows_between(utc(2024, 11, 3, 4), utc(2024, 11, 3, 8), WindowSize.HOUR, tz))
    assert [(w.start, w.end) for w in windows] == [
        (utc(2024, 11, 3, h), utc(2024, 11, 3, h + 1)) for h in range(4, 8)
    ]
    assert [w.start.astimezone(tz).hour for w in windows] == [0, 1, 1, 2]


def test_spring_forward_skips_the_missing_hour() -> None:
    tz = ZoneInfo("America/New_York")
    windows = list(windows_between(utc(2024, 3, 10, 5), utc(2024, 3, 10, 8), WindowSize.HOUR, tz))
    assert [w.start.astimezone(tz).hour for w in windows] == [0, 1, 3]
    assert all(w.end - w.start == H for w in windows)


def test_lord_howe_half_hour_shifts_make_half_hour_windows() -> None:
    tz = ZoneInfo("Australia/Lord_Howe")
    # Autumn, 7 Apr 2024 local: 02:00 LHDT (+11) -> 01:30 LHST (+10:30) at 15:00 UTC.
    autumn = list(windows_between(utc(2024, 4, 6, 14), utc(2024, 4, 6, 16, 30), WindowSize.HOUR, tz))
    assert [(w.start, w.end) for w in autumn] == [
        (utc(2024, 4, 6, 14), utc(2024, 4, 6, 15)),  # 01:00-02:00 LHDT
        (utc(2024, 4, 6, 15), utc(2024, 4, 6, 15, 30)),  # 01:30-02:00 LHST, the repeated half hour
        (utc(2024, 4, 6, 15, 30), utc(2024, 4, 6, 16, 30)),  # 02:00-03:00 LHST
    ]
    # Spring, 6 Oct 2024 local: 02:00 LHST (+10:30) -> 02:30 LHDT (+11) at 15:30 UTC.
    spring = list(windows_between(utc(2024, 10, 5, 14, 30), utc(2024, 10, 5, 17), WindowSize.HOUR, tz))
    assert [(w.start, w.end) for w in spring] == [
        (utc(2024, 10, 5, 14, 30), utc(2024, 10, 5, 15, 30)),  # 01:00-02:00 LHST
        (utc(2024, 10, 5, 15, 30), utc(2024, 10, 5, 16)),  # 02:30-03:00 LHDT: local hour 2 is 30 minutes
        (utc(2024, 10, 5, 16), utc(2024, 10, 5, 17)),  # 03:00-04:00 LHDT
    ]


def test_local_mean_time_edges_round_up_to_the_minute() -> None:
    # Amsterdam was UTC+0:19:32 in 1930: local midnight is 23:40:28 UTC, so the window starts at 23:41.
    start, end = edges(utc(1930, 1, 1, 12), WindowSize.DAY, "Europe/Amsterdam")
    assert (start, end) == (utc(1929, 12, 31, 23, 41), utc(1930, 1, 1, 23, 41))
    assert edges(utc(1929, 12, 31, 23, 40), WindowSize.DAY, "Europe/Amsterdam")[1] == utc(
        1929, 12, 31, 23, 41
    )


def test_windows_between_clips_first_and_last() -> None:
    tz = ZoneInfo("Europe/Budapest")
    windows = list(windows_between(utc(2024, 5, 17, 10, 30), utc(2024, 5, 19, 3, 15), WindowSize.DAY, tz))
    assert windows == [
        Window(utc(2024, 5, 16, 22), utc(2024, 5, 17, 22), utc(2024, 5, 17, 10, 30), utc(2024, 5, 17, 22)),
        Window(utc(2024, 5, 17, 22), utc(2024, 5, 18, 22), utc(2024, 5, 17, 22), utc(2024, 5, 18, 22)),
        Window(utc(2024, 5, 18, 22), utc(2024, 5, 19, 22), utc(2024, 5, 18, 22), utc(2024, 5, 19, 3, 15)),
    ]


def test_windows_between_without_size_is_the_range() -> None:
    frm, to = utc(2024, 1, 1, 0, 7), utc(2024, 1, 3, 5, 1)
    assert list(windows_between(frm, to, None, ZoneInfo("UTC"))) == [Window(frm, to, frm, to)]


def test_windows_between_accepts_other_offsets_and_returns_utc() -> None:
    frm = datetime(2024, 1, 1, 12, tzinfo=ZoneInfo("Asia/Kolkata"))
    (window,) = windows_between(frm, frm + M, WindowSize.MINUTE, ZoneInfo("UTC"))
    assert window.start == utc(2024, 1, 1, 6, 30) and window.start.tzinfo is UTC


# --- checks ---------------------------------------------------------------------------------------------


def fields(exc: pytest.ExceptionInfo[InvalidArgument]) -> list[str]:
    return [v.field for v in exc.value.violations]


def test_query_range_accepts_whole_minutes_in_order() -> None:
    validate_query_range(utc(2024, 1, 1), utc(2024, 1, 1, 0, 1))
    validate_query_range(None, None)
    validate_query_range(utc(2024, 1, 1), None)


@pytest.mark.parametrize(
    ("frm", "to", "bad"),
    [
        (utc(2024, 1, 1, 0, 0, 1), utc(2024, 1, 2), ["from_time"]),
        (utc(2024, 1, 1), datetime(2024, 1, 2, 0, 0, 0, 1, tzinfo=UTC), ["to_time"]),
        (utc(2024, 1, 1, 0, 0, 30), utc(2024, 1, 2, 0, 0, 30), ["from_time", "to_time"]),
        (utc(2024, 1, 2), utc(2024, 1, 1), ["to_time"]),
        (utc(2024, 1, 1), utc(2024, 1, 1), ["to_time"]),
        (datetime(2024, 1, 1), None, ["from_time"]),
    ],
)
def test_query_range_rejections_name_the_field(frm: datetime, to: datetime | None, bad: list[str]) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_query_range(frm, to)
    assert fields(exc) == bad


def test_resolve_zone() -> None:
    assert resolve_zone(None) == ZoneInfo("UTC")
    assert resolve_zone("") == ZoneInfo("UTC")
    assert resolve_zone("Europe/Budapest") == ZoneInfo("Europe/Budapest")


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "Europe", "../etc/passwd", "/etc/localtime", "Europe/Budapest\x00"]
)
def test_resolve_zone_rejects_unknown_names(name: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        resolve_zone(name)
    assert fields(exc) == ["window_time_zone"]


# --- properties against the brute-force walk --------------------------------------------------------------

ZONES = ["UTC", "Europe/Budapest", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
# Transition instants (UTC) of those zones in 2024, so that drawn times cluster around DST changes.
TRANSITIONS = [
    utc(2024, 3, 10, 7),  # New York spring
    utc(2024, 11, 3, 6),  # New York autumn
    utc(2024, 3, 31, 1),  # Budapest spring
    utc(2024, 10, 27, 1),  # Budapest autumn
    utc(2024, 4, 6, 15),  # Lord Howe autumn
    utc(2024, 10, 5, 15, 30),  # Lord Howe spring
    utc(2024, 6, 1),  # none
]

minutes_near_transitions = st.builds(
    lambda base, delta: base + delta * M,
    st.sampled_from(TRANSITIONS),
    st.integers(min_value=-3 * 24 * 60, max_value=3 * 24 * 60),
)
sizes = st.sampled_from(list(WindowSize))
zones = st.sampled_from(ZONES)


@given(t=minutes_near_transitions, size=sizes, zone=zones, seconds=st.integers(0, 59))
@settings(max_examples=300, deadline=None)
def test_window_holds_its_minute_and_matches_the_walk(
    t: datetime, size: WindowSize, zone: str, seconds: int
) -> None:
    tz = ZoneInfo(zone)
    start, end = window_start(t + timedelta(seconds=seconds), size, tz), window_end(t, size, tz)
    assert start <= t < end
    assert start.second == 0 and end.second == 0 and start.tzinfo is UTC
    assert reference_windows(t, t + M, size.value, tz) == [(start, end)]
    # Windows tile time: the next window starts where this one ends.
    assert window_start(end, size, tz) == end
    assert window_end(start - M, size, tz) == start


@given(a=minutes_near_transitions, length=st.integers(1, 3 * 24 * 60), size=sizes, zone=zones)
@settings(max_examples=150, deadline=None)
def test_windows_between_tiles_the_range(a: datetime, length: int, size: WindowSize, zone: str) -> None:
    tz = ZoneInfo(zone)
    b = a + length * M
    windows = list(windows_between(a, b, size, tz))
    assert [(w.start, w.end) for w in windows] == reference_windows(a, b, size.value, tz)
    assert windows[0].clip_start == a and windows[-1].clip_end == b
    for before, after in itertools.pairwise(windows):
        assert before.end == after.start == after.clip_start == before.clip_end
    for w in windows:
        assert w.start <= w.clip_start < w.clip_end <= w.end
        assert w.end - w.start <= {WindowSize.MINUTE: M, WindowSize.HOUR: H, WindowSize.DAY: 25 * H}[size]
