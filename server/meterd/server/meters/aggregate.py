"""Minute pre-aggregates ("buckets") of a meter, how they merge, and the value of a merged bucket. What a
bucket keeps, and the merge rules a SQL store follows, are in README.md beside this file."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation
from typing import NamedTuple
from zoneinfo import ZoneInfo

from meterd.server.meters.model import SUBJECT_KEY, Aggregation, Reading
from meterd.server.meters.windows import WindowSize, window_end, window_start

# Exponent limits are the widest Decimal allows so that no finite input overflows; the precision is far
# above what any metered quantity needs while keeping each operation cheap.
AGGREGATION_CONTEXT = Context(
    prec=50,
    rounding=ROUND_HALF_EVEN,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[InvalidOperation, DivisionByZero],
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO = Decimal(0)


def epoch_us(t: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (exact, unlike ``timestamp()``)."""
    delta = t - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def minute_of(t: datetime) -> datetime:
    """The UTC minute (aware datetime, seconds cut) that holds the instant ``t``: its bucket's minute."""
    utc = t.astimezone(UTC)
    return utc.replace(second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class BucketKey:
    """Which bucket an event goes to (the meter is implied by where the bucket is kept)."""

    subject: str
    groups: tuple[str | None, ...]
    minute: datetime


def bucket_key(subject: str, reading: Reading, event_time: datetime) -> BucketKey:
    """The key of the bucket that an event with this subject, reading and time updates."""
    return BucketKey(subject, reading.groups, minute_of(event_time))


@dataclass(frozen=True, slots=True)
class Bucket:
    """Pre-aggregate of some events; see the module docstring for each field's merge rule.

    ``min``, ``max``, ``latest``, ``latest_time_us`` and ``latest_seq`` are None when no event of the
    bucket had a numeric value (COUNT and UNIQUE_COUNT meters, or an empty bucket).
    """

    count: int = 0
    sum: Decimal = _ZERO
    min: Decimal | None = None
    max: Decimal | None = None
    latest: Decimal | None = None
    latest_time_us: int | None = None
    latest_seq: int | None = None
    distinct: frozenset[str] = frozenset()


EMPTY_BUCKET = Bucket()


def bucket_update(bucket: Bucket | None, reading: Reading, event_time: datetime, ingest_seq: int) -> Bucket:
    """``bucket`` (None: an empty one) with one more event.

    ``event_time`` is the event's time (aware; sub-second precision counts for LATEST), ``ingest_seq``
    its ingestion sequence number (larger = ingested later), which breaks LATEST ties on event time.
    """
    base = bucket or EMPTY_BUCKET
    value = reading.value
    if value is None:
        return Bucket(
            base.count + 1,
            base.sum,
            base.min,
            base.max,
            base.latest,
            base.latest_time_us,
            base.latest_seq,
            base.distinct,
        )
    if isinstance(value, str):
        distinct = base.distinct if value in base.distinct else base.distinct | {value}
        return Bucket(
            base.count + 1,
            base.sum,
            base.min,
            base.max,
            base.latest,
            base.latest_time_us,
            base.latest_seq,
            distinct,
        )
    time_us = epoch_us(event_time)
    newer = base.latest_time_us is None or (time_us, ingest_seq) > (base.latest_time_us, base.latest_seq)
    return Bucket(
        base.count + 1,
        AGGREGATION_CONTEXT.add(base.sum, value),
        value if base.min is None or value < base.min else base.min,
        value if base.max is None or value > base.max else base.max,
        value if newer else base.latest,
        time_us if newer else base.latest_time_us,
        ingest_seq if newer else base.latest_seq,
        base.distinct,
    )


def merge(buckets: Iterable[Bucket]) -> Bucket:
    """One bucket summarising all of ``buckets`` (``EMPTY_BUCKET`` for none). Order does not matter."""
    count = 0
    total = _ZERO
    low: Decimal | None = None
    high: Decimal | None = None
    latest: Decimal | None = None
    latest_key: tuple[int, int] | None = None
    distinct: set[str] = set()
    add = AGGREGATION_CONTEXT.add
    for bucket in buckets:
        count += bucket.count
        total = add(total, bucket.sum)
        if bucket.min is not None and (low is None or bucket.min < low):
            low = bucket.min
        if bucket.max is not None and (high is None or bucket.max > high):
            high = bucket.max
        if bucket.latest_time_us is not None:
            key = (bucket.latest_time_us, bucket.latest_seq or 0)
            if latest_key is None or key > latest_key:
                latest_key, latest = key, bucket.latest
        distinct.update(bucket.distinct)
    return Bucket(
        count,
        total,
        low,
        high,
        latest,
        latest_key[0] if latest_key else None,
        latest_key[1] if latest_key else None,
        frozenset(distinct),
    )


def final_value(aggregation: Aggregation, merged: Bucket) -> Decimal | None:
    """The meter's value over the events summarised by ``merged``.

    SUM, COUNT and UNIQUE_COUNT of no events are 0; AVG, MIN, MAX and LATEST of no events are None
    (there is no value; queries give no row for them, usage callers decide). AVG is sum / count,
    rounded to ``AGGREGATION_CONTEXT``'s 50 digits.
    """
    match aggregation:
        case Aggregation.COUNT:
            return Decimal(merged.count)
        case Aggregation.SUM:
            return merged.sum
        case Aggregation.UNIQUE_COUNT:
            return Decimal(len(merged.distinct))
        case Aggregation.AVG:
            return AGGREGATION_CONTEXT.divide(merged.sum, Decimal(merged.count)) if merged.count else None
        case Aggregation.MIN:
            return merged.min
        case Aggregation.MAX:
            return merged.max
        case Aggregation.LATEST:
            return merged.latest
    raise ValueError(f"unknown aggregation {aggregation!r}")  # pragma: no cover


# --- queries over buckets -------------------------------------------------------------------------------


class QueryRow(NamedTuple):
    """One row of a meter query: a window (its full edges) x group, and the value over [from, to).

    A named tuple rather than a frozen dataclass: a query builds thousands of them (a third of the cost)."""

    window_start: datetime
    window_end: datetime
    subject: str | None
    group_by: Mapping[str, str | None]
    value: Decimal


def query_rows(
    aggregation: Aggregation,
    group_keys: Sequence[str],
    buckets: Iterable[tuple[BucketKey, Bucket]],
    from_: datetime,
    to: datetime,
    window_size: WindowSize | None,
    tz: ZoneInfo,
    *,
    subjects: Sequence[str] | None = None,
    group_by: Sequence[str] = (),
    filter_group_by: Mapping[str, str] | None = None,
) -> list[QueryRow]:
    """The rows of a meter query, computed from minute buckets (SPEC § Queries).

    ``group_keys``: the meter's group keys in canonical order (the order of ``BucketKey.groups``).
    ``buckets`` may hold any buckets: those outside [from_, to), of other subjects (when ``subjects`` is
    given) or not matching ``filter_group_by`` are skipped; several buckets with the same key are merged.
    ``from_``/``to``: whole UTC minutes (see ``windows.validate_query_range``); ``tz``: the window zone.

    Rows: one per window x group that has at least one event, ordered by window start, then subject,
    then group values (None first). A subject filter groups by subject, as OpenMeter does. Without a
    window size the single window is [from_, to). Validate ``group_by``/``filter_group_by`` first with
    ``model.validate_query_grouping``. This is the in-memory twin of the store's SQL, and the place to
    turn minute rows into time-zone windows, which SQL cannot do.
    """
    from_, to = from_.astimezone(UTC), to.astimezone(UTC)
    subject_set = set(subjects) if subjects else None
    by_subject = SUBJECT_KEY in group_by or subject_set is not None
    index_of = {key: i for i, key in enumerate(group_keys)}
    chosen_keys = [k for k in group_by if k != SUBJECT_KEY]
    chosen = [index_of[k] for k in chosen_keys]
    filters = [(index_of[k], v) for k, v in (filter_group_by or {}).items()]
    # Windows are found per bucket, not listed over [from_, to) (a year of MINUTE windows is half a
    # million while buckets are usually sparse); the last one found is reused, which makes buckets
    # sorted by minute (as a store returns them) cheap.
    window = (from_, to) if window_size is None else (to, to)  # (to, to) holds no minute: find the first

    cells: dict[tuple[datetime, datetime, str | None, tuple[str | None, ...]], list[Bucket]] = {}
    for key, bucket in buckets:
        minute = key.minute
        if not from_ <= minute < to:
            continue
        if subject_set is not None and key.subject not in subject_set:
            continue
        if any(key.groups[i] != v for i, v in filters):
            continue
        if window_size is not None and not window[0] <= minute < window[1]:
            window = (window_start(minute, window_size, tz), window_end(minute, window_size, tz))
        group = tuple(key.groups[i] for i in chosen)
        subject = key.subject if by_subject else None
        cells.setdefault((*window, subject, group), []).append(bucket)

    rows = []
    for (start, end, subject, group), cell in sorted(cells.items(), key=lambda item: _row_order(item[0])):
        merged = merge(cell)
        value = final_value(aggregation, merged)
        if merged.count == 0 or value is None:
            continue
        rows.append(QueryRow(start, end, subject, dict(zip(chosen_keys, group, strict=True)), value))
    return rows


def _row_order(cell: tuple[datetime, datetime, str | None, tuple[str | None, ...]]) -> tuple[object, ...]:
    start, _end, subject, group = cell
    return (start, subject is not None, subject or "", tuple((g is not None, g or "") for g in group))
