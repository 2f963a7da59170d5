"""Enums the client accepts (members or their names), maps onto the wire's enum values, and returns in
results. Each is a ``StrEnum``: ``Aggregation.SUM == "SUM"`` and it prints as ``SUM``."""

from __future__ import annotations

from enum import StrEnum

from meterd.v1 import common_pb2, events_pb2, grants_pb2, meters_pb2


class WindowSize(StrEnum):
    """Window of a meter query (MINUTE, HOUR, DAY) or of entitlement history (HOUR, DAY, MONTH)."""

    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"
    MONTH = "MONTH"

    @property
    def wire(self) -> common_pb2.WindowSize.ValueType:
        """The wire enum value of this member."""
        return common_pb2.WindowSize.Value(f"WINDOW_SIZE_{self.value}")


class Aggregation(StrEnum):
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


class PeriodInterval(StrEnum):
    """Step of a usage period or a grant recurrence."""

    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"

    @property
    def wire(self) -> common_pb2.PeriodInterval.ValueType:
        """The wire enum value of this member."""
        return common_pb2.PeriodInterval.Value(f"PERIOD_INTERVAL_{self.value}")


class ExpirationDuration(StrEnum):
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


class EventOutcome(StrEnum):
    """What happened to one ingested event."""

    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"

    @property
    def wire(self) -> events_pb2.EventOutcome.ValueType:
        """The wire enum value of this member."""
        return events_pb2.EventOutcome.Value(f"EVENT_OUTCOME_{self.value}")


class NotificationEventType(StrEnum):
    """The kind of event a notification rule makes (its value is OpenMeter's JSON name)."""

    ENTITLEMENTS_BALANCE_THRESHOLD = "entitlements.balance.threshold"
