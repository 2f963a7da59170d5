"""The meterd Python client: ``OpenMeter`` (blocking) and ``AsyncOpenMeter`` (asyncio), mirroring the
OpenMeter SDK's methods in snake_case. Results are the generated ``meterd.v1`` messages."""

from meterd.client._client import AsyncOpenMeter, OpenMeter
from meterd.client._enums import Aggregation, ExpirationDuration, PeriodInterval, WindowSize
from meterd.client._errors import (
    AlreadyExistsError,
    DeadlineExceededError,
    FailedPreconditionError,
    FieldViolation,
    IngestRejectedError,
    InternalError,
    InvalidArgumentError,
    MeterdError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
)
from meterd.client._events import AsyncEventStream, EventStream
from meterd.client._watch import (
    AsyncEntitlementCache,
    AsyncEntitlementWatch,
    EntitlementCache,
    EntitlementWatch,
)

__all__ = [
    "Aggregation",
    "AlreadyExistsError",
    "AsyncEntitlementCache",
    "AsyncEntitlementWatch",
    "AsyncEventStream",
    "AsyncOpenMeter",
    "DeadlineExceededError",
    "EntitlementCache",
    "EntitlementWatch",
    "EventStream",
    "ExpirationDuration",
    "FailedPreconditionError",
    "FieldViolation",
    "IngestRejectedError",
    "InternalError",
    "InvalidArgumentError",
    "MeterdError",
    "NotFoundError",
    "OpenMeter",
    "PeriodInterval",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "WindowSize",
]
