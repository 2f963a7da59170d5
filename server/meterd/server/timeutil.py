"""Time conversions shared by the domain and the store: UTC-aware datetimes <-> integer microseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE_US = 60_000_000


def to_us(t: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    delta = t - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    """The UTC datetime of microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=us)


def as_utc(t: datetime) -> datetime:
    """``t`` expressed in UTC. Raises ValueError for a naive datetime (an instant needs a zone)."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"naive datetime {t!r}: instants must be timezone-aware")
    return t.astimezone(UTC)


def truncate_to_minute(t: datetime) -> datetime:
    """Round an instant down to the whole minute, in UTC."""
    return as_utc(t).replace(second=0, microsecond=0)


def ceil_to_minute(t: datetime) -> datetime:
    """Round an instant up to the whole minute, in UTC (a whole minute stays as it is)."""
    down = truncate_to_minute(t)
    return down if down == as_utc(t) else down + timedelta(minutes=1)


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)
