"""A brute-force meter query over raw events: what SPEC § Queries says the rows must be.

Slow and simple on purpose, so that tests can hold the real engine to it: unit tests compare it with the
minute pre-aggregates (``meterd.server.meters.aggregate``), API tests with the live server. It shares
with the engine only the reading of one event's value (``MeterReader``), which has its own unit tests;
windows and aggregations are computed here from their definitions, independently:

- a window is a maximal run of consecutive UTC minutes with the same label in the query's zone: MINUTE,
  the minute itself; HOUR, (local date, local hour, UTC offset); DAY, the local date (see
  ``meterd.server.meters.windows`` for why the offset is part of an HOUR's label);
- values are exact rationals (``Fraction``) over the events themselves.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from meterd.server.meters.model import Aggregation, MeterDefinition, MeterReader, Reading

_MINUTE = timedelta(minutes=1)

# An event a row is made of: its time, its ingestion sequence, what the meter read.
_Member = tuple[datetime, int, Reading]


@dataclass(frozen=True)
class RefRow:
    """One expected row. ``value`` is what the wire carries (a double); ``exact`` the true value."""

    window_start: datetime
    window_end: datetime
    subject: str | None
    group_by: dict[str, str | None]
    exact: Fraction

    @property
    def value(self) -> float:
        return float(self.exact)


def reference_query(
    events: Iterable[Mapping[str, Any]],
    meter: MeterDefinition,
    from_: datetime,
    to: datetime,
    size: str | None,
    tz: ZoneInfo | str = "UTC",
    subjects: Sequence[str] | None = None,
    group_by: Sequence[str] = (),
    filter_group_by: Mapping[str, str] | None = None,
) -> list[RefRow]:
    """The rows of a meter query, computed from raw events in ingestion order.

    ``events``: CloudEvent-shaped mappings with ``type``, ``subject``, ``time`` (aware datetime or
    RFC 3339 text) and ``data`` (a dict, JSON text, or absent/None); a later event with the ``source`` and
    ``id`` of an earlier one is a duplicate and ignored. ``from_``/``to``: whole minutes, both given
    (resolve the defaults first). ``size``: "MINUTE", "HOUR", "DAY" or None.

    Rows are ordered by window start, then subject (None first), then group values (None first). A subject
    filter groups by subject (OpenMeter's rule).
    """
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    from_, to = from_.astimezone(UTC), to.astimezone(UTC)
    reader = MeterReader(meter)
    keys = list(meter.group_by)
    by_subject = "subject" in group_by or bool(subjects)
    chosen = [k for k in group_by if k != "subject"]

    seen: set[tuple[str, str]] = set()
    accepted: list[tuple[datetime, int, str, Reading]] = []
    for seq, event in enumerate(events):
        if "source" in event and "id" in event:
            dedupe = (event["source"], event["id"])
            if dedupe in seen:
                continue
            seen.add(dedupe)
        if event["type"] != meter.event_type:
            continue
        time = _instant(event["time"])
        if not from_ <= time < to:
            continue
        if subjects and event["subject"] not in subjects:
            continue
        reading = reader.read(_data(event.get("data")))
        if not isinstance(reading, Reading):
            continue  # the meter skips an event it cannot read
        groups = dict(zip(keys, reading.groups, strict=True))
        if any(groups[k] != v for k, v in (filter_group_by or {}).items()):
            continue
        accepted.append((time, seq, event["subject"], reading))

    windows = reference_windows(from_, to, size, zone) if size else [(from_, to)]
    starts = [start for start, _ in windows]
    cells: dict[tuple[datetime, datetime, str | None, tuple[str | None, ...]], list[_Member]] = {}
    for time, seq, subject, reading in accepted:
        minute = time.replace(second=0, microsecond=0)
        start, end = windows[bisect.bisect_right(starts, minute) - 1]
        assert start <= minute < end
        groups = dict(zip(keys, reading.groups, strict=True))
        cell = (start, end, subject if by_subject else None, tuple(groups[k] for k in chosen))
        cells.setdefault(cell, []).append((time, seq, reading))

    rows = []
    for (start, end, subject, group), members in cells.items():
        rows.append(
            RefRow(start, end, subject, dict(zip(chosen, group, strict=True)), _value(meter, members))
        )
    rows.sort(
        key=lambda r: (
            r.window_start,
            r.subject is not None,
            r.subject or "",
            tuple((r.group_by[k] is not None, r.group_by[k] or "") for k in chosen),
        )
    )
    return rows


def reference_windows(
    from_: datetime, to: datetime, size: str, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The windows (start, end) that cover [from_, to), found by walking minute by minute.

    The first window may start before ``from_`` and the last end after ``to``: they are the whole
    aligned windows. ``from_``/``to`` are whole UTC minutes.
    """
    start = from_.astimezone(UTC)
    while _label(start - _MINUTE, size, tz) == _label(start, size, tz):
        start -= _MINUTE
    windows = []
    current = start
    while current < to:
        end = current + _MINUTE
        while _label(end, size, tz) == _label(current, size, tz):
            end += _MINUTE
        windows.append((current, end))
        current = end
    return windows


def _label(minute: datetime, size: str, tz: ZoneInfo) -> tuple[object, ...]:
    """What a window's minutes share (see the module docstring)."""
    if size == "MINUTE":
        return (minute,)
    local = minute.astimezone(tz)
    if size == "HOUR":
        return (local.date(), local.hour, local.utcoffset())
    if size == "DAY":
        return (local.date(),)
    raise ValueError(f"unknown window size {size!r}")


def _value(meter: MeterDefinition, members: list[_Member]) -> Fraction:
    values = [Fraction(reading.value) for _, _, reading in members if isinstance(reading.value, Decimal)]
    match meter.aggregation:
        case Aggregation.COUNT:
            return Fraction(len(members))
        case Aggregation.SUM:
            return sum(values, Fraction(0))
        case Aggregation.AVG:
            return sum(values, Fraction(0)) / len(values)
        case Aggregation.MIN:
            return min(values)
        case Aggregation.MAX:
            return max(values)
        case Aggregation.UNIQUE_COUNT:
            return Fraction(len({reading.value for _, _, reading in members}))
        case Aggregation.LATEST:
            # Greatest event time; on a tie, the event ingested last (max of (time, seq) does both).
            _, _, latest = max(members, key=lambda member: member[:2])
            assert isinstance(latest.value, Decimal)
            return Fraction(latest.value)
    raise ValueError(meter.aggregation)


def _instant(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        raise ValueError("event times must be aware")
    return value.astimezone(UTC)


def _data(data: object) -> Any:
    # Text as the wire carries it; parsed the way the server must parse it (exact numbers).
    if isinstance(data, str | bytes):
        return json.loads(data, parse_float=Decimal)
    return data
