"""Window edges of entitlement history (HOUR, DAY, MONTH aligned in an IANA time zone). Pure code.

HOUR and DAY windows are the meter queries' own (meterd.server.meters.windows: local whole hours, local
midnights, DST-aware). A MONTH window runs from the start of the 1st of a local month to the start of the
1st of the next one (the start of a local day is the meters' DAY window start, so a midnight skipped by a
DST change is handled the same way).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from meterd.server.meters.windows import LONGEST_WINDOW, WindowSize, too_many, window_start, windows_between


class HistoryWindow(StrEnum):
    """Window sizes of GetEntitlementHistory."""

    HOUR = "HOUR"
    DAY = "DAY"
    MONTH = "MONTH"


def _month_start(year: int, month: int, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) of the local day that is the 1st of ``year``-``month`` in ``zone``."""
    noon = datetime(year, month, 1, 12, tzinfo=zone).astimezone(UTC)
    return window_start(noon, WindowSize.DAY, zone)


def window_edges(
    start: datetime, end: datetime, size: HistoryWindow, zone: ZoneInfo, limit: int | None = None
) -> list[datetime]:
    """The window boundaries strictly inside ``(start, end)``, in order (UTC, whole minutes).

    With ``limit``: InvalidArgument on ``window_size`` when there would be more than ``limit`` windows, found
    from the range's length before listing any."""
    if limit is not None:
        longest = timedelta(days=32) if size is HistoryWindow.MONTH else LONGEST_WINDOW[size.value]
        if (end - start) // longest > limit:
            raise too_many(limit, size.value, "windows")
    if size is HistoryWindow.MONTH:
        local = start.astimezone(zone)
        year, month = local.year, local.month
        edges: list[datetime] = []
        while True:
            month += 1
            if month > 12:
                year, month = year + 1, 1
            edge = _month_start(year, month, zone)
            if edge >= end:
                return edges
            if edge > start:
                edges.append(edge)
    windows = windows_between(start, end, WindowSize(size.value), zone)
    edges = [w.end for w in windows if start < w.end < end]
    if limit is not None and len(edges) >= limit:
        raise too_many(limit, size.value, "windows")
    return edges
