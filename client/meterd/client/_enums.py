"""Enums the client accepts (members or their names) and maps onto the wire's enum values."""

from __future__ import annotations

from enum import Enum

from meterd.v1 import common_pb2, grants_pb2, meters_pb2


class WindowSize(str, Enum):
    """Window of a meter query (MINUTE, HOUR, DAY) or of entitlement history (HOUR, DAY, MONTH)."""

    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"
    MONTH = "MONTH"

    @property
    def wire(self) -> common_pb2.WindowSize.ValueType:
        """The wire enum value of this member."""
        return common_pb2.WindowSize.Value(f"WINDOW_SIZE_{self.value}")


class Aggregation(str, Enum):
    """How a meter aggregates event values."""

    SUM = "SUM"
    COUNT = "COUNT"
    AVG = "AVG"
    MIN = "MIN"
    MAX = "MAX"
    UNIQUE_COUNT = "UNIQUE_COUNT"
    LATEST = "LATEST"

    @property
    def wire(self) -> meters_pb2.Aggregation.ValueType:
        """The wire enum value of this member."""
        return meters_pb2.Aggregation.Value(f"AGGREGATION_{self.value}")


class PeriodInterval(str, Enum):
    """Step of a usage period or a grant recurrence."""

    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"

    @property
    def wire(self) -> common_pb2.PeriodInterval.ValueType:
        """The wire enum value of this member."""
        return common_pb2.PeriodInterval.Value(f"PERIOD_INTERVAL_{self.value}")


class ExpirationDuration(str, Enum):
    """Unit of a grant's expiration."""

    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"

    @property
    def wire(self) -> grants_pb2.ExpirationDuration.ValueType:
        """The wire enum value of this member."""
        return grants_pb2.ExpirationDuration.Value(f"EXPIRATION_DURATION_{self.value}")
