"""Query windows aligned in an IANA time zone, and checks of a query's range and zone.

Definitions (all instants are aware datetimes; results are in UTC):

- **MINUTE** windows are UTC minutes, the resolution of the pre-aggregates. In every zone whose UTC
  offset is a whole number of minutes (all zones since 1972) they are also the local minutes.
- **DAY**: a window is a maximal stretch of time during which the local date does not change, so it runs
  from local midnight to the next local midnight: 23 hours on a spring-forward day, 25 on a fall-back
  day. Where midnight itself is skipped (zones that move clocks at 00:00), the day starts at the
  transition, the first instant that has the new date.
- **HOUR**: a window is a maximal stretch during which the local date, the local hour *and the UTC
  offset* do not change. Usually that is a local whole hour, which in zones with a :30/:45 offset
  (Asia/Kolkata, Australia/Lord_Howe) is not a UTC whole hour. At a fall-back the repeated local hour
  is two windows, one per UTC offset (America/New_York 01:00 EDT = 05:00-06:00 UTC, then 01:00 EST =
  06:00-07:00 UTC): each is one real hour, and their edges are where the clock says 01:00, so nothing
  is double counted and no window is two hours long. A transition off the hour splits an hour at the
  transition: Australia/Lord_Howe moves its clocks by 30 minutes, so in spring (02:00 -> 02:30) the
  local hour 2 is the 30-minute window 02:30-03:00, and in autumn (02:00 -> 01:30) the repeated half
  hour 01:30-02:00 is a 30-minute window of its own, after the full hour 01:00-02:00 before it.

Pre-aggregates are per UTC minute, so a window edge that is not a whole UTC minute (only under local
mean time, before standard time was adopted, e.g. Europe/Amsterdam before 1937) is moved up to the next
whole minute: a minute belongs to the window that holds its first instant.

Transitions are found by comparing UTC offsets at a window's two ends, so two transitions within one
window that cancel each other out would go unseen; tzdata has no such pair.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from meterd.server.errors import InvalidArgument, ViolationCollector
from meterd.server.timeutil import EPOCH, ceil_to_minute, truncate_to_minute

# Query bounds: no event exists outside [1970-01-01, 9999-01-01) (see events.model), and window computations
# near the ends of datetime's range would overflow.
QUERY_MIN_TIME = EPOCH
QUERY_MAX_TIME = datetime(9999, 1, 1, tzinfo=UTC)
QUERY_RANGE_TEXT = "between 1970-01-01T00:00:00Z and 9999-01-01T00:00:00Z"
# The longest window of each size, in any zone: a lower bound of the number of windows in a range is its
# length divided by this (a DST day is 25 hours; 26 leaves room for odd historical transitions).
LONGEST_WINDOW = {"MINUTE": timedelta(minutes=1), "HOUR": timedelta(hours=1), "DAY": timedelta(hours=26)}

_MINUTE = timedelta(minutes=1)
_SECOND = timedelta(seconds=1)
_UTC_ZONE = ZoneInfo("UTC")


class WindowSize(StrEnum):
    """Query window sizes."""

    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"


_UTC_STEP = {
    WindowSize.MINUTE: _MINUTE,
    WindowSize.HOUR: timedelta(hours=1),
    WindowSize.DAY: timedelta(days=1),
}


class Window(NamedTuple):
    """An aligned window and the part of it inside the query range ([clip_start, clip_end))."""

    start: datetime
    end: datetime
    clip_start: datetime
    clip_end: datetime


def resolve_zone(name: str | None) -> ZoneInfo:
    """The ``ZoneInfo`` of an IANA zone name; absent or empty means UTC.

    Raises ``InvalidArgument`` on ``window_time_zone`` for an unknown name.
    """
    if not name:
        return _UTC_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError: names zoneinfo refuses outright (absolute paths, ".."); OSError: directories.
        raise InvalidArgument.of("window_time_zone", f"invalid time zone: {name!r}") from None


def validate_query_range(from_: datetime | None, to: datetime | None) -> None:
    """Check a query range: each given bound on a whole minute, ``from_`` before ``to``.

    Absent bounds are not checked (the caller fills in the defaults). Raises ``InvalidArgument`` on
    ``from_time`` and/or ``to_time``.
    """
    errors = ViolationCollector()
    for name, value in (("from_time", from_), ("to_time", to)):
        if value is None:
            continue
        if value.tzinfo is None or value.utcoffset() is None:
            errors.add(name, "must have a time zone")
        elif not QUERY_MIN_TIME <= value <= QUERY_MAX_TIME:
            errors.add(name, f"must be {QUERY_RANGE_TEXT}")
        elif not _is_whole_minute(value):
            errors.add(
                name, "must be on a whole minute (like YYYY-MM-DDTHH:mm:00Z), the resolution of meters"
            )
    if not errors.violations and from_ is not None and to is not None and not from_ < to:
        errors.add("to_time", "must be after from_time")
    errors.raise_if_any()


def bounded_windows(
    from_: datetime, to: datetime, size: WindowSize | None, tz: ZoneInfo, limit: int, what: str = "rows"
) -> list[Window]:
    """``windows_between`` as a list, refused with InvalidArgument on ``window_size`` when there would be more
    than ``limit`` of them: first from the range's length alone (so a 10-year MINUTE range is refused before
    any work), then while they are listed (so listing never goes past ``limit``)."""
    if size is not None and (to - from_) // LONGEST_WINDOW[size.value] > limit:
        raise too_many(limit, size.value, what)
    windows = []
    for window in windows_between(from_, to, size, tz):
        windows.append(window)
        if len(windows) > limit:
            raise too_many(limit, size.value if size else "", what)
    return windows


class UniformWindows(Sequence[Window]):
    """The windows of a range when they all have one length (``uniform_step``), made when indexed: a range
    may hold millions of them (a MINUTE query over years of sparse data), and a query answers only the
    windows with data, so none is listed ahead."""

    __slots__ = ("_count", "_first", "_from", "_step", "_to", "size")

    def __init__(
        self, from_: datetime, to: datetime, size: WindowSize, step: timedelta, tz: ZoneInfo
    ) -> None:
        self._from, self._to = from_.astimezone(UTC), to.astimezone(UTC)
        self._first = window_start(self._from, size, tz)
        self._step = step
        self._count = max(0, -((self._first - self._to) // step))  # ceil((to - first) / step)
        self.size = size

    @property
    def first_start(self) -> datetime:
        return self._first

    @property
    def step(self) -> timedelta:
        return self._step

    @property
    def clip(self) -> tuple[datetime, datetime]:
        """[from, to) of the range."""
        return self._from, self._to

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> Window:  # type: ignore[override]  # no slices: nothing lists them
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        start = self._first + index * self._step
        end = start + self._step
        return Window(start, end, max(start, self._from), min(end, self._to))


# What ``too_many`` says for a query whose windows are listed ahead (see query_windows).
ZONE_WINDOWS = "zone windows"


def uniform_step(size: WindowSize | None, tz: ZoneInfo) -> timedelta | None:
    """The one length of every ``size`` window in ``tz``, when there is one: MINUTE windows are UTC minutes in
    every zone, HOUR and DAY windows in UTC are fixed steps. None otherwise (a zone's transitions make some
    windows longer or shorter)."""
    if size is WindowSize.MINUTE or (size is not None and tz.key == "UTC"):
        return _UTC_STEP[size]
    return None


def query_windows(
    from_: datetime, to: datetime, size: WindowSize | None, tz: ZoneInfo, limit: int
) -> Sequence[Window]:
    """The windows of a meter query over [from_, to): made as they are needed where they all have one length
    (any number of them: the answer's rows, not its range, are what ``limit`` bounds), otherwise listed, at
    most ``limit`` of them (``bounded_windows``)."""
    step = uniform_step(size, tz)
    if step is not None and size is not None:
        return UniformWindows(from_, to, size, step, tz)
    return bounded_windows(from_, to, size, tz, limit, ZONE_WINDOWS)


def too_many(limit: int, size: str, what: str = "rows") -> InvalidArgument:
    """The error of a query or history whose answer would exceed ``limit``."""
    larger = {"MINUTE": "HOUR or DAY", "HOUR": "DAY", "DAY": "a shorter range"}.get(size, "a shorter range")
    if what == ZONE_WINDOWS:  # listed ahead: only windows of a zone with transitions (see query_windows)
        return InvalidArgument.of(
            "window_size",
            f"the range holds more than {limit} {size} windows of a time zone whose windows change length"
            f" (daylight saving); use a larger window_size ({larger}), a shorter from_time..to_time range, or UTC",
        )
    return InvalidArgument.of(
        "window_size",
        f"the answer would have more than {limit} {what} (windows x groups); use a larger window_size"
        f" ({larger}), a shorter from_time..to_time range or fewer group_by keys",
    )


def window_start(t: datetime, size: WindowSize, tz: ZoneInfo) -> datetime:
    """The start (UTC) of the ``size`` window in zone ``tz`` that holds the minute of instant ``t``."""
    minute = truncate_to_minute(t)
    if size is WindowSize.MINUTE:
        return minute
    return ceil_to_minute(_run_start(minute, size, tz))


def window_end(t: datetime, size: WindowSize, tz: ZoneInfo) -> datetime:
    """The end (UTC, exclusive) of the ``size`` window in zone ``tz`` that holds the minute of ``t``.

    It is also the start of the next window.
    """
    minute = truncate_to_minute(t)
    if size is WindowSize.MINUTE:
        return minute + _MINUTE
    return ceil_to_minute(_run_end(minute, size, tz))


def windows_between(from_: datetime, to: datetime, size: WindowSize | None, tz: ZoneInfo) -> Iterator[Window]:
    """The aligned windows that cover [from_, to), in order, each with its part inside the range.

    The first and last windows may reach outside the range (their clip is narrower). ``size`` None
    gives one window, [from_, to) itself. ``from_``/``to`` should be whole minutes (validate first).
    """
    start_utc, end_utc = from_.astimezone(UTC), to.astimezone(UTC)
    if size is None:
        if start_utc < end_utc:
            yield Window(start_utc, end_utc, start_utc, end_utc)
        return
    if tz.key == "UTC":
        # UTC has no transitions: windows are fixed steps, no calendar work per window.
        step = _UTC_STEP[size]
        start = window_start(start_utc, size, tz)
        cursor = start_utc
        while cursor < end_utc:
            end = start + step
            yield Window(start, end, cursor, min(end, end_utc))
            start = cursor = end
        return
    cursor = start_utc
    start = window_start(cursor, size, tz)
    while cursor < end_utc:
        end = window_end(cursor, size, tz)
        yield Window(start, end, cursor, min(end, end_utc))
        start = cursor = end


# --- the window runs ------------------------------------------------------------------------------------


def _label(u: datetime, size: WindowSize, tz: ZoneInfo) -> tuple[object, ...]:
    """What stays the same within one window (see the module docstring)."""
    local = u.astimezone(tz)
    if size is WindowSize.DAY:
        return (local.date(),)
    return (local.date(), local.hour, local.utcoffset())


def _since_label_start(local: datetime, size: WindowSize) -> timedelta:
    """How long ago, at a constant offset, the local clock last showed the start of a label."""
    since_hour = timedelta(minutes=local.minute, seconds=local.second, microseconds=local.microsecond)
    return since_hour + timedelta(hours=local.hour) if size is WindowSize.DAY else since_hour


def _label_length(size: WindowSize) -> timedelta:
    return timedelta(days=1) if size is WindowSize.DAY else timedelta(hours=1)


def _run_start(u: datetime, size: WindowSize, tz: ZoneInfo) -> datetime:
    """The first instant of the stretch with ``u``'s label that holds ``u``."""
    label = _label(u, size, tz)
    at = u
    while True:
        local = at.astimezone(tz)
        offset = local.utcoffset()
        # Where the label began if the offset had not changed; if it did change since, the stretch at
        # this offset began at the transition.
        start = at - _since_label_start(local, size)
        if _offset(start, tz) != offset:
            start = _first_change(start, at, tz)
        before = start - _SECOND  # transitions and label starts fall on whole seconds
        if _label(before, size, tz) != label:
            return start
        at = before  # the same local day continues under the previous offset (a DAY across DST)


def _run_end(u: datetime, size: WindowSize, tz: ZoneInfo) -> datetime:
    """The first instant after ``u`` whose label differs from ``u``'s."""
    label = _label(u, size, tz)
    at = u
    while True:
        local = at.astimezone(tz)
        offset = local.utcoffset()
        end = at - _since_label_start(local, size) + _label_length(size)
        if _offset(end - _SECOND, tz) != offset:
            end = _first_change(at, end - _SECOND, tz)
        if _label(end, size, tz) != label:
            return end
        at = end


def _offset(u: datetime, tz: ZoneInfo) -> timedelta | None:
    return u.astimezone(tz).utcoffset()


def _first_change(lo: datetime, hi: datetime, tz: ZoneInfo) -> datetime:
    """The first instant in (lo, hi] whose UTC offset differs from ``lo``'s (hi's must differ).

    A binary search over whole seconds, where tzdata puts every transition.
    """
    base = _offset(lo, tz)
    low, high = 0, int((hi - lo).total_seconds())
    # Invariant: the offset at lo + low seconds is base, at lo + high seconds it is not.
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(lo + timedelta(seconds=middle), tz) == base:
            low = middle
        else:
            high = middle
    return lo + timedelta(seconds=high)


def _is_whole_minute(t: datetime) -> bool:
    # In UTC: an offset with seconds (historical local mean time) would otherwise hide a fraction.
    utc = t.astimezone(UTC)
    return utc.second == 0 and utc.microsecond == 0
