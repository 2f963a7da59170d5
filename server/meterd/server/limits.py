"""Bounds on request sizes that every front applies the same way (gRPC servicers and the HTTP API)."""

from __future__ import annotations

from collections.abc import Sequence

from meterd.server import errors

# A repeated filter (subjects, features, meter slugs) holds at most this many values: each becomes an SQL
# parameter, and the store's statements have a bounded number of them.
MAX_FILTER_VALUES = 1000


def filter_values(values: Sequence[str], field: str) -> tuple[str, ...]:
    """A repeated filter as a tuple; INVALID_ARGUMENT on ``field`` beyond MAX_FILTER_VALUES values."""
    if len(values) > MAX_FILTER_VALUES:
        raise errors.InvalidArgument.of(field, f"at most {MAX_FILTER_VALUES} values, got {len(values)}")
    return tuple(values)
