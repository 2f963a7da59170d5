"""The meterd Python client: ``OpenMeter`` (blocking) and ``AsyncOpenMeter`` (asyncio), mirroring the
OpenMeter SDK's methods in snake_case. Results are ``Result`` objects: Python values (aware UTC datetimes,
numbers, enums, dicts) with ``to_dict()`` in OpenMeter's JSON shape and ``.proto`` the wire message."""

from meterd.client._async.events import AsyncEventStream
from meterd.client._async.watch import AsyncEntitlementWatch
from meterd.client._client import AsyncOpenMeter, OpenMeter
from meterd.client._enums import Aggregation, EventOutcome, ExpirationDuration, PeriodInterval, WindowSize
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
from meterd.client._results import Result
from meterd.client._sync.events import EventStream
from meterd.client._sync.watch import EntitlementWatch
from meterd.client._watch import AsyncEntitlementCache, EntitlementCache

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
    "EventOutcome",
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
    "Result",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "WindowSize",
]
