"""Meters: definitions (API- and config-declared), queries over the pre-aggregates, and usage for the
credit engine. The store is reached through the protocol below; planning and merging are pure code."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from meterd.server.errors import DeadlineCheck, FailedPrecondition, InvalidArgument, NotFound, no_deadline
from meterd.server.ids import new_id
from meterd.server.meters import plan as planner
from meterd.server.meters.aggregate import QueryRow
from meterd.server.meters.model import (
    SUBJECT_KEY,
    Aggregation,
    Meter,
    MeterDefinition,
    validate_meter,
    validate_query_grouping,
)
from meterd.server.meters.windows import (
    QUERY_MIN_TIME,
    UniformWindows,
    WindowSize,
    query_windows,
    resolve_zone,
    too_many,
    validate_query_range,
    windows_between,
)
from meterd.server.timeutil import ceil_to_minute

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# A query answers at most this many rows (windows x groups with data); one whose rows would exceed it is
# refused with INVALID_ARGUMENT on window_size as the rows are read. The windows of a range are not counted
# ahead (a MINUTE query over a year of sparse data has 525,600 windows and a few rows), except in a time zone
# whose HOUR/DAY windows change length, where they are listed and at most this many.
MAX_QUERY_ROWS = 100_000
# How many fetched aggregate rows are merged between two checks of the caller's deadline and of the limit.
_CHECK_EVERY = 1024


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


# Called after a meter is defined or deleted: (kind "created" | "updated" | "deleted", slug).
MeterChangeListener = Callable[[str, str], None]
# A row grouped into a query window by the store: (window index, subject or None, kept group values, count,
# sum in units of 10^-9, min, max, distinct count).
WindowedRow = tuple[int, str | None, tuple[str | None, ...], int, int, float | None, float | None, int]


class MeterStore(Protocol):
    def create(self, meter_id: str, definition: MeterDefinition, now: datetime) -> Meter: ...
    def update(self, meter: Meter, definition: MeterDefinition, now: datetime) -> Meter: ...
    def delete(self, meter: Meter) -> None:
        """Deletes the meter; NotFound if it is gone, ``in_use_by_features`` if an active feature uses it
        (checked in the deleting transaction)."""
        ...

    def get(self, id_or_slug: str) -> Meter: ...
    def list(self, limit: int, after_slug: str | None) -> list[Meter]: ...
    def subjects(self, meter: Meter) -> builtins.list[str]: ...
    def earliest(self, meter: Meter) -> datetime | None: ...
    def fetch(
        self,
        meter: Meter,
        fetch: planner.Fetch,
        *,
        subjects: Sequence[str],
        keep_subject: bool,
        keep_groups: Sequence[int],
        filters: Mapping[int, tuple[str, ...]],
    ) -> Iterator[PartialRow]:
        """``filters``: group index -> the values it may have (a row matches any of them)."""
        ...


class WindowedMeterStore(MeterStore, Protocol):
    """A store that also groups rows into query windows itself (SQLite), for every aggregation but LATEST.
    The service uses ``fetch_windows`` when it is given one (the capability is declared by the backend, see
    store.stores.Stores.meter_windows), else ``fetch`` and merges in Python."""

    def fetch_windows(
        self,
        meter: Meter,
        runs: Sequence[planner.WindowRun],
        fetches: Sequence[planner.Fetch],
        *,
        subjects: Sequence[str],
        keep_subject: bool,
        keep_groups: Sequence[int],
        filters: Mapping[int, tuple[str, ...]],
    ) -> Iterator[WindowedRow]:
        """One row per (window, subject, kept group values) with data, ordered by window, subject, then group
        values (None first, then by code point). ``runs``: the windows (``plan.window_runs``); ``fetches``:
        the level ranges to read (``plan.fetches``)."""
        ...


@dataclass(frozen=True)
class MeterQuery:
    """A meter query as SPEC § Queries defines it; None/empty means the default."""

    meter: str
    from_time: datetime | None = None
    to_time: datetime | None = None
    window_size: WindowSize | None = None
    window_time_zone: str = ""
    subjects: tuple[str, ...] = ()
    group_by: tuple[str, ...] = ()
    # Group key -> the values it may have (a row matches any of them); ANDed across keys.
    filter_group_by: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class QueryResult:
    from_time: datetime | None
    to_time: datetime
    window_size: WindowSize | None
    rows: list[QueryRow]


def in_use_by_features(slug: str, keys: Sequence[str], total: int) -> FailedPrecondition:
    """The error of deleting a meter that active features use: ``keys`` the first of them, ``total`` how many."""
    shown = ", ".join(keys) + (f" and {total - len(keys)} more" if total > len(keys) else "")
    return FailedPrecondition(f"meter: {slug} is used by features {shown}; delete (archive) them first")


_FINENESS = {WindowSize.MINUTE: 0, WindowSize.HOUR: 1, WindowSize.DAY: 2}


def _check_window(meter: MeterDefinition, window: WindowSize | None) -> None:
    """A query window finer than the meter's own window size is refused (as OpenMeter does)."""
    if window is not None and _FINENESS[window] < _FINENESS[meter.window_size]:
        raise InvalidArgument.of(
            "window_size",
            f"cannot query meter {meter.slug} with window size {window.value}: its window size is"
            f" {meter.window_size.value}",
        )


class MeterService:
    """Meter resources and queries."""

    def __init__(
        self,
        store: MeterStore,
        clock: Callable[[], datetime],
        windows: WindowedMeterStore | None = None,
    ) -> None:
        """``windows``: the same store when it groups rows into query windows itself (SQLite)."""
        self._store = store
        self._windows = windows
        self._clock = clock
        self._listeners: list[MeterChangeListener] = []
        # Changes made before anybody listened (config meters declared at start): handed to the first listener,
        # so that watchers elsewhere (other replicas) hear of a redefinition made while this server started.
        self._early: list[tuple[str, str]] | None = []

    def add_change_listener(self, listener: MeterChangeListener) -> None:
        """Registers ``listener(kind, slug)``, called after a meter is defined ("created", also for a slug
        deleted and created again, or "updated") or "deleted"; the first listener also gets those made before."""
        self._listeners.append(listener)
        early, self._early = self._early, None
        for kind, slug in early or ():
            listener(kind, slug)

    def _changed(self, kind: str, slug: str) -> None:
        if self._early is not None:
            self._early.append((kind, slug))
        for listener in self._listeners:
            listener(kind, slug)

    def create(self, definition: MeterDefinition) -> Meter:
        validate_meter(definition)
        meter = self._store.create(new_id(), definition, self._clock())
        self._changed("created", definition.slug)
        return meter  # type: ignore[no-any-return]

    def declare(self, definition: MeterDefinition) -> Meter:
        """Creates a config-declared meter, or updates it when its definition changed."""
        validate_meter(definition)
        try:
            existing = self._store.get(definition.slug)
        except NotFound:
            return self.create(definition)
        if existing.definition == definition:
            return existing  # type: ignore[no-any-return]
        meter = self._store.update(existing, definition, self._clock())
        self._changed("updated", definition.slug)
        return meter  # type: ignore[no-any-return]

    def get(self, id_or_slug: str) -> Meter:
        """The meter with this id or slug; NotFound otherwise."""
        if not id_or_slug:
            raise InvalidArgument.of("meter", "is required")
        return self._store.get(id_or_slug)  # type: ignore[no-any-return]

    def list(self, page_size: int, after_slug: str | None) -> tuple[list[Meter], str | None]:
        if page_size < 0 or page_size > MAX_PAGE_SIZE:
            raise InvalidArgument.of("page_size", f"must be between 0 and {MAX_PAGE_SIZE}")
        limit = page_size or DEFAULT_PAGE_SIZE
        meters = self._store.list(limit + 1, after_slug)
        more = len(meters) > limit
        meters = meters[:limit]
        return meters, (meters[-1].slug if more and meters else None)

    def delete(self, id_or_slug: str) -> None:
        """Deletes the meter; FailedPrecondition naming the features that use it (archive them first). The
        store checks that inside the transaction that deletes (``in_use_by_features``), so a feature created
        at the same moment, on this server or another, either makes the delete fail or fails itself."""
        meter = self.get(id_or_slug)
        self._store.delete(meter)
        self._changed("deleted", meter.slug)

    def subjects(self, id_or_slug: str) -> builtins.list[str]:
        return self._store.subjects(self.get(id_or_slug))

    def query(self, q: MeterQuery, check: DeadlineCheck = no_deadline) -> QueryResult:
        """Rows per SPEC § Queries, computed from the pre-aggregates (never the raw events).

        At most MAX_QUERY_ROWS rows (InvalidArgument on window_size beyond); ``check`` is called now and then
        and stops the work by raising (the caller's deadline)."""
        meter = self.get(q.meter)
        zone = resolve_zone(q.window_time_zone)
        validate_query_range(q.from_time, q.to_time)
        validate_query_grouping(meter.definition, q.group_by, q.filter_group_by)
        _check_window(meter.definition, q.window_size)
        for key, values in q.filter_group_by.items():
            if not values:
                raise InvalidArgument.of(f"filter_group_by.{key}", "needs at least one value")
        for i, subject in enumerate(q.subjects):
            if not subject:
                raise InvalidArgument.of(f"subject[{i}]", "must not be empty")
        to_time = q.to_time or ceil_to_minute(self._clock())
        from_time = q.from_time
        if from_time is None:
            from_time = self._store.earliest(meter)
            if from_time is None or from_time >= to_time:
                return QueryResult(q.from_time, to_time, q.window_size, [])
            # Older databases may hold aggregates of events before 1970 (no longer accepted).
            from_time = max(from_time, QUERY_MIN_TIME)
        elif from_time >= to_time:
            raise InvalidArgument.of("from_time", "must be before to_time (which defaults to now)")
        windows = query_windows(from_time, to_time, q.window_size, zone, MAX_QUERY_ROWS)
        check()
        rows = self._rows(meter, windows, q, check)
        return QueryResult(from_time, to_time, q.window_size, rows)

    def usage(
        self, id_or_slug: str, subject: str, filters: Mapping[str, str], start: datetime, end: datetime
    ) -> Decimal:
        """The meter's value for one subject over [start, end) (whole minutes); 0 without events."""
        if start >= end:
            return Decimal(0)
        meter = self.get(id_or_slug)
        q = MeterQuery(
            meter=id_or_slug, subjects=(subject,), filter_group_by={k: (v,) for k, v in filters.items()}
        )
        windows = list(windows_between(start, end, None, resolve_zone("")))
        rows = self._rows(meter, windows, q)
        return rows[0].value if rows else Decimal(0)

    def usage_by_subject(
        self,
        id_or_slug: str,
        subjects: Sequence[str],
        filters: Mapping[str, str],
        start: datetime,
        end: datetime,
    ) -> dict[str, Decimal]:
        """``usage`` for several subjects in one read: subject -> the meter's value over [start, end) (whole
        minutes); 0 for a subject without events."""
        out = dict.fromkeys(subjects, Decimal(0))
        if start >= end or not subjects:
            return out
        meter = self.get(id_or_slug)
        q = MeterQuery(
            meter=id_or_slug,
            subjects=tuple(sorted(set(subjects))),
            group_by=(SUBJECT_KEY,),
            filter_group_by={k: (v,) for k, v in filters.items()},
        )
        windows = list(windows_between(start, end, None, resolve_zone("")))
        for row in self._rows(meter, windows, q):
            if row.subject is not None:
                out[row.subject] = row.value
        return out

    def _rows(
        self, meter: Meter, windows: Sequence[Any], q: MeterQuery, check: DeadlineCheck = no_deadline
    ) -> builtins.list[QueryRow]:
        keys = list(meter.group_by)
        index_of = {k: i for i, k in enumerate(keys)}
        chosen = [k for k in q.group_by if k != SUBJECT_KEY]
        keep_subject = SUBJECT_KEY in q.group_by or bool(q.subjects)
        if self._windows is not None and meter.aggregation is not Aggregation.LATEST:
            return self._windowed_rows(
                self._windows.fetch_windows, meter, windows, q, chosen, index_of, keep_subject, check
            )
        the_plan = _plan(windows)
        cells: dict[tuple[int, str | None, tuple[str | None, ...]], planner.Partial] = {}
        for fetch in the_plan.fetches:
            check()
            partials = self._store.fetch(
                meter,
                fetch,
                subjects=q.subjects,
                keep_subject=keep_subject,
                keep_groups=[index_of[k] for k in chosen],
                filters={index_of[k]: v for k, v in q.filter_group_by.items()},
            )
            planner.merge_rows(the_plan, fetch.level, _bounded(partials, cells, check, q.window_size), cells)
        if len(cells) > MAX_QUERY_ROWS:
            raise too_many(MAX_QUERY_ROWS, q.window_size.value if q.window_size else "")
        rows = []
        for (window, subject, groups), cell in cells.items():
            value = cell.value(meter.aggregation)
            if value is None:
                continue
            w = windows[window]
            rows.append(QueryRow(w.start, w.end, subject, dict(zip(chosen, groups, strict=True)), value))
        rows.sort(
            key=lambda r: (
                r.window_start,
                r.subject is not None,
                r.subject or "",
                tuple((v is not None, v or "") for v in r.group_by.values()),
            )
        )
        return rows

    def _windowed_rows(
        self,
        fetch_windows: Callable[..., Iterator[WindowedRow]],
        meter: Meter,
        windows: Sequence[Any],
        q: MeterQuery,
        chosen: builtins.list[str],
        index_of: dict[str, int],
        keep_subject: bool,
        check: DeadlineCheck,
    ) -> builtins.list[QueryRow]:
        """The rows from a store that groups into windows itself (``WindowedMeterStore``): one fetched row
        per row of the answer, already in the answer's order."""
        if isinstance(windows, UniformWindows):
            fetches = _plan(windows).fetches
            runs = planner.uniform_runs(windows.first_start, windows.step, len(windows))
        else:
            fetches = planner.fetches([(w.clip_start, w.clip_end) for w in windows])
            runs = planner.window_runs([(w.start, w.end) for w in windows])
        fetched = fetch_windows(
            meter,
            runs,
            fetches,
            subjects=q.subjects,
            keep_subject=keep_subject,
            keep_groups=[index_of[k] for k in chosen],
            filters={index_of[k]: v for k, v in q.filter_group_by.items()},
        )
        aggregation = meter.aggregation
        value_of = planner.row_value
        rows: list[QueryRow] = []
        append = rows.append
        # Rows of one group share one mapping of their group values (read-only, like the rest of a row).
        group_maps: dict[tuple[str | None, ...], dict[str, str | None]] = {}
        for i, (window, subject, groups, count, sum_nanos, min_, max_, distinct) in enumerate(fetched):
            if i % _CHECK_EVERY == 0:
                check()
                if i >= MAX_QUERY_ROWS:
                    raise too_many(MAX_QUERY_ROWS, q.window_size.value if q.window_size else "")
            value = value_of(aggregation, count, sum_nanos, min_, max_, distinct)
            if value is None:
                continue
            group_map = group_maps.get(groups)
            if group_map is None:
                group_map = group_maps[groups] = dict(zip(chosen, groups, strict=True))
            w = windows[window]
            append(QueryRow(w.start, w.end, subject, group_map, value))
        if len(rows) > MAX_QUERY_ROWS:
            raise too_many(MAX_QUERY_ROWS, q.window_size.value if q.window_size else "")
        return rows


def _plan(windows: Sequence[Any]) -> planner.Plan | planner.UniformPlan:
    """The reads of a query's windows: planned from their kind when they all have one length (none listed),
    else window by window."""
    if isinstance(windows, UniformWindows):
        return planner.uniform_plan(windows.first_start, windows.step, windows.clip)
    return planner.plan([(w.clip_start, w.clip_end) for w in windows])


def _bounded(
    rows: Iterator[Any], cells: dict[Any, Any], check: DeadlineCheck, size: WindowSize | None
) -> Iterator[Any]:
    """``rows`` as they are merged, stopping the query when the caller is gone or the cells (rows of the
    answer) pass MAX_QUERY_ROWS."""
    for i, row in enumerate(rows):
        if i % _CHECK_EVERY == 0:
            check()
            if len(cells) > MAX_QUERY_ROWS:
                raise too_many(MAX_QUERY_ROWS, size.value if size else "")
        yield row
