"""One exception class per gRPC status family, carrying the code, message and field violations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


@dataclass(frozen=True)
class FieldViolation:
    """A field the server refused: ``field`` is a path such as ``events[2].subject``."""

    field: str
    description: str


class MeterdError(Exception):
    """Base class of every error the client raises for a failed call. ``local`` is True for the client's own
    checks (nothing was sent)."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode | None = None,
        violations: list[FieldViolation] | None = None,
        local: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.violations: list[FieldViolation] = list(violations or [])
        self.local = local

    def __str__(self) -> str:
        # A server's answer shows its status; a check the client made before sending reads like the
        # ValueError it also is.
        return self.message if self.local else f"{self.code.name}: {self.message}"


class InvalidArgumentError(MeterdError, ValueError):
    """The request was malformed; ``violations`` names the fields. Raised by the server's checks and by the
    client's own (before anything is sent) alike; also a ``ValueError``."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFoundError(MeterdError):
    """The resource does not exist."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(MeterdError):
    """A resource with that key, slug or feature already exists."""

    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPreconditionError(MeterdError):
    """The operation is not valid in the resource's current state."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class UnauthenticatedError(MeterdError):
    """Missing, invalid, expired or invalidated credentials."""

    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDeniedError(MeterdError):
    """The credentials do not allow this call."""

    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhaustedError(MeterdError):
    """A batch or message over the server's limits."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class UnavailableError(MeterdError):
    """The server could not be reached (after retries, where the call is safe to retry). The message names
    the target and how to set it."""

    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceededError(MeterdError):
    """The call did not finish within its deadline."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class UnimplementedError(MeterdError):
    """The server does not implement this call."""

    code = grpc.StatusCode.UNIMPLEMENTED


class InternalError(MeterdError):
    """The server failed; see its logs."""

    code = grpc.StatusCode.INTERNAL


class IngestRejectedError(InvalidArgumentError):
    """Some streamed events were rejected. ``rejected`` maps each event's id to its violations."""

    def __init__(self, rejected: dict[str, list[FieldViolation]], accepted: int, duplicates: int) -> None:
        details = "; ".join(
            f"{event_id}: " + ", ".join(f"{v.field} {v.description}" for v in vs)
            for event_id, vs in list(rejected.items())[:5]
        )
        more = f" (and {len(rejected) - 5} more)" if len(rejected) > 5 else ""
        super().__init__(f"{len(rejected)} event(s) rejected: {details}{more}")
        self.rejected = rejected
        self.accepted = accepted
        self.duplicates = duplicates


_BY_CODE: dict[grpc.StatusCode, type[MeterdError]] = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        NotFoundError,
        AlreadyExistsError,
        FailedPreconditionError,
        UnauthenticatedError,
        PermissionDeniedError,
        ResourceExhaustedError,
        UnavailableError,
        DeadlineExceededError,
        UnimplementedError,
        InternalError,
    )
}


def invalid_argument(field: str, description: str) -> InvalidArgumentError:
    """The error of a client-side check: the same class and shape as the server's INVALID_ARGUMENT."""
    return InvalidArgumentError(
        f"{field}: {description}", violations=[FieldViolation(field, description)], local=True
    )


def connection_failure(
    details: str, target: str, tls: bool | None = None, client_cert: bool | None = None
) -> str:
    """What most likely made a connection to ``target`` fail, from gRPC's ``details`` and how the client
    connected (``tls``, ``client_cert``: None when not known): a plaintext client at a TLS server or the
    reverse, a certificate the client does not trust, a server that wants a client certificate, nothing
    listening, a host that does not resolve. One sentence with what to change."""
    text = details.lower()
    where = "Pass the address as OpenMeter(target) or set METERD_TARGET"
    if "wrong_version_number" in text or ("handshake" in text and "packet_length_too_long" in text):
        return (
            f"the server at {target!r} does not speak TLS: connect without tls/ca/cert (--tls, --ca on the "
            "command line), or to its TLS port"
        )
    if "certificate_verify_failed" in text or "certificate verify failed" in text:
        return (
            f"the certificate of the server at {target!r} is not signed by a CA this client trusts: pass "
            "ca= (the CA that signed it; --ca or METERD_TLS_CA on the command line)"
        )
    if "peer name" in text and "not in peer certificate" in text:
        return f"the certificate of the server at {target!r} is not issued for that name: connect by a name it lists"
    if "certificate_required" in text or "certificate required" in text:
        return (
            f"the server at {target!r} requires a client certificate (mutual TLS): pass cert= and key= "
            "(--client-cert and --client-key)"
        )
    if "socket closed" in text or "connection reset" in text or "end of tcp stream" in text:
        if tls is False:
            return (
                f"the server at {target!r} closed the connection as it opened: it probably serves TLS "
                "(connect with tls=True and ca=, or --tls and --ca), or it is not a gRPC server"
            )
        if tls and not client_cert:
            return (
                f"the server at {target!r} closed the connection during the TLS handshake: it probably "
                "requires a client certificate (mutual TLS: pass cert= and key=, or --client-cert and "
                "--client-key)"
            )
        return f"the server at {target!r} closed the connection: is it meterd, and is it stopping?"
    if "connection refused" in text or "failed to connect to remote host" in text:
        return f"nothing listens at {target!r}: is meterd running there? {where}"
    if "dns resolution failed" in text or "errors resolving" in text or "name or service not known" in text:
        return f"the host of {target!r} does not resolve: check the name. {where}"
    return f"meterd at {target!r} is not reachable: is it running there? {where}"


def from_rpc_error(
    error: grpc.RpcError | Any,
    target: str | None = None,
    tls: bool | None = None,
    client_cert: bool | None = None,
) -> MeterdError:
    """The client exception for a failed gRPC call (sync or aio). An UNAVAILABLE that meterd did not send
    itself (the connection failed) gets the likely cause and what to change (``connection_failure``); one that
    meterd sent (its database unreachable, its disk full, ...) keeps meterd's own message."""
    code: grpc.StatusCode = error.code()
    message: str = error.details() or code.name
    try:
        status = rpc_status.from_call(error)  # type: ignore[arg-type]  # aio errors quack like a Call
    except (AttributeError, ValueError):
        status = None
    if code == grpc.StatusCode.UNAVAILABLE and target and status is None:
        # Not meterd's own answer (it sends a status with details, ErrorInfo SERVER_UNAVAILABLE): the
        # connection to meterd itself failed.
        message = f"{message} ({connection_failure(message, target, tls, client_cert)})"
    violations: list[FieldViolation] = []
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                violations.extend(FieldViolation(v.field, v.description) for v in bad.field_violations)
    cls = _BY_CODE.get(code, MeterdError)
    return cls(message, code=code, violations=violations)
