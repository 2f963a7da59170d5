"""The one place where domain errors become gRPC statuses, plus wire helpers shared by servicers."""

from __future__ import annotations

import base64
import functools
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc
from google.protobuf import timestamp_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from meterd.server import errors

log = logging.getLogger("meterd.rpc")

F = TypeVar("F", bound=Callable[..., Any])

_CODES: list[tuple[type[errors.MeterdError], grpc.StatusCode]] = [
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (errors.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
    (errors.Cancelled, grpc.StatusCode.CANCELLED),
]


def status_of(exc: errors.MeterdError) -> status_pb2.Status:
    """The google.rpc.Status for a domain error, with BadRequest details for field violations."""
    code = next(c for cls, c in _CODES if isinstance(exc, cls))
    status = status_pb2.Status(code=code.value[0], message=exc.message)
    if isinstance(exc, errors.InvalidArgument) and exc.violations:
        detail = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in exc.violations
            ]
        )
        status.details.add().Pack(detail)
    return status


def grpc_status_of(exc: errors.MeterdError) -> grpc.Status:
    """The status to abort a call with for a domain error."""
    return rpc_status.to_status(status_of(exc))


def _abort(context: grpc.ServicerContext, exc: BaseException, method: str) -> None:
    if isinstance(exc, errors.MeterdError):
        context.abort_with_status(grpc_status_of(exc))
    log.exception("internal error", extra={"method": method})
    context.abort_with_status(
        rpc_status.to_status(status_pb2.Status(code=code_pb2.INTERNAL, message=f"internal error: {type(exc).__name__}"))
    )


def unary(fn: F) -> F:
    """Decorates a unary servicer method: domain errors become statuses, others INTERNAL."""

    @functools.wraps(fn)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return fn(self, request, context)
        except Exception as exc:
            if _is_abort(exc, context):
                raise
            _abort(context, exc, fn.__qualname__)
            raise  # unreachable: abort raises

    return wrapper  # type: ignore[return-value]


def streaming(fn: F) -> F:
    """Decorates a server-streaming servicer method the same way as ``unary``."""

    @functools.wraps(fn)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            yield from fn(self, request, context)
        except Exception as exc:
            if _is_abort(exc, context):
                raise
            _abort(context, exc, fn.__qualname__)

    return wrapper  # type: ignore[return-value]


def _is_abort(exc: BaseException, context: grpc.ServicerContext) -> bool:
    """Whether ``exc`` is grpc's own signal that the call was aborted (a bare ``Exception`` raised by
    ``context.abort`` once the status is set, e.g. by a servicer this one delegated to): let it through
    untouched, or the status already chosen would be replaced by INTERNAL."""
    return type(exc) is Exception and context.code() not in (None, grpc.StatusCode.OK)


# -- wire helpers --------------------------------------------------------------------------------------
def ts_to_dt(ts: timestamp_pb2.Timestamp) -> datetime:
    """A protobuf Timestamp as an aware UTC datetime (microsecond precision)."""
    return ts.ToDatetime(tzinfo=UTC)


def opt_ts(message: Any, field: str) -> datetime | None:
    """The datetime of an optional Timestamp field, or None when it is not set."""
    return ts_to_dt(getattr(message, field)) if message.HasField(field) else None


def dt_to_ts(dt: datetime) -> timestamp_pb2.Timestamp:
    """An aware datetime as a protobuf Timestamp."""
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(dt)
    return ts


def encode_page_token(cursor: Any) -> str:
    """An opaque page token for a JSON-serialisable cursor."""
    return base64.urlsafe_b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode()


def decode_page_token(token: str, field: str = "page_token") -> Any:
    """The cursor in a page token; INVALID_ARGUMENT when it is not one of ours."""
    if not token:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError as exc:
        raise errors.InvalidArgument.of(field, "is not a valid page token") from exc
