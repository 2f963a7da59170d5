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


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)
