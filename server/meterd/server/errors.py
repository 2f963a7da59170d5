"""Domain errors.

Raised where a problem is detected, with the field it concerns; turned into a gRPC status in exactly
one place (``meterd.server.rpc``). This module knows nothing of gRPC so that domain code can use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# User input quoted in an error message is cut to this many characters: a status message travels in a
# header, and a 20 KB name must not push it past gRPC's metadata limit.
QUOTE_LIMIT = 64


def quote(text: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr`` of user input for an error message, cut to ``limit`` characters (``...`` marks the cut)."""
    value = str(text)
    if len(value) > limit:
        return repr(value[:limit]) + f"... ({len(value)} characters)"
    return repr(value)


@dataclass(frozen=True)
class FieldViolation:
    """One bad field: ``field`` is a dotted path such as ``events[3].subject``."""

    field: str
    description: str


class MeterdError(Exception):
    """Base class of every error meterd reports to a caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(MeterdError):
    """Malformed input. Carries one violation per bad field."""

    def __init__(self, message: str, violations: list[FieldViolation] | None = None) -> None:
        super().__init__(message)
        self.violations: list[FieldViolation] = list(violations or [])

    @classmethod
    def of(cls, field_name: str, description: str) -> InvalidArgument:
        """One bad field: the message names the field and the problem."""
        return cls(f"{field_name}: {description}", [FieldViolation(field_name, description)])

    @classmethod
    def many(cls, violations: list[FieldViolation]) -> InvalidArgument:
        """Several bad fields at once; the message lists them all."""
        text = "; ".join(f"{v.field}: {v.description}" for v in violations)
        return cls(text, violations)


class NotFound(MeterdError):
    """An unknown resource."""


class AlreadyExists(MeterdError):
    """A duplicate key, slug or a second entitlement for a feature."""


class FailedPrecondition(MeterdError):
    """Valid input, but not in the resource's current state."""


class Unauthenticated(MeterdError):
    """No credentials, or credentials that cannot be verified."""


class PermissionDenied(MeterdError):
    """Valid credentials that do not allow this call."""


class ResourceExhausted(MeterdError):
    """A batch or message over the limits."""


class Unavailable(MeterdError):
    """The service cannot do this now but may later (a full disk); retrying is safe."""


class DeadlineExceeded(MeterdError):
    """The caller's deadline passed while the work was running; the work was stopped."""


class Cancelled(MeterdError):
    """The caller cancelled the call (or went away) while the work was running; the work was stopped."""


# A check that domain loops call now and then: it raises DeadlineExceeded once the caller is gone. Servicers
# pass one built from the call (meterd.server.rpc.deadline_check); the domain never sees gRPC.
DeadlineCheck = Callable[[], None]


def no_deadline() -> None:
    """The check of a call without a deadline (in-process callers, tests)."""


@dataclass
class ViolationCollector:
    """Collects violations while validating a whole message, then raises them together."""

    prefix: str = ""
    violations: list[FieldViolation] = field(default_factory=list)

    def add(self, field_name: str, description: str) -> None:
        self.violations.append(FieldViolation(self.prefix + field_name, description))

    def raise_if_any(self) -> None:
        if self.violations:
            raise InvalidArgument.many(self.violations)
