"""The one place where domain errors become gRPC statuses, the decorator every unary servicer method wears, and
the signed page tokens of every List. Conversions of message fields live in ``meterd.server.wire``."""

from __future__ import annotations

import base64
import contextvars
import functools
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from meterd.server import cancellation, errors

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


# A status travels in trailing metadata (grpc-message and grpc-status-details-bin), which clients cap at 8 KiB
# by default: whatever the input, a status stays well under it. A batch of 10,000 bad events reports its first
# violations and how many more there are.
MAX_MESSAGE_CHARS = 1000
MAX_VIOLATIONS = 10
MAX_VIOLATION_FIELD_CHARS = 100
MAX_VIOLATION_DESCRIPTION_CHARS = 200
# google.rpc.ErrorInfo's domain for meterd's reasons (AIP-193).
ERROR_DOMAIN = "meterd.dev"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def status_of(exc: errors.MeterdError) -> status_pb2.Status:
    """The google.rpc.Status for a domain error, with BadRequest details for field violations (bounded in
    size: see MAX_MESSAGE_CHARS and MAX_VIOLATIONS)."""
    code = next(c for cls, c in _CODES if isinstance(exc, cls))
    message = exc.message
    violations = exc.violations if isinstance(exc, errors.InvalidArgument) else []
    if len(violations) > MAX_VIOLATIONS:
        more = f" (and {len(violations) - MAX_VIOLATIONS} more violations)"
        message = _cut(message, MAX_MESSAGE_CHARS - len(more)) + more
    status = status_pb2.Status(code=code.value[0], message=_cut(message, MAX_MESSAGE_CHARS))
    if code is grpc.StatusCode.UNAVAILABLE:
        # Says that meterd itself answered (its storage is unreachable, full, or it is stopping): a client
        # tells this apart from a connection that failed, whose UNAVAILABLE carries no details.
        status.details.add().Pack(
            error_details_pb2.ErrorInfo(reason="SERVER_UNAVAILABLE", domain=ERROR_DOMAIN)
        )
    if violations:
        detail = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=_cut(v.field, MAX_VIOLATION_FIELD_CHARS),
                    description=_cut(v.description, MAX_VIOLATION_DESCRIPTION_CHARS),
                )
                for v in violations[:MAX_VIOLATIONS]
            ]
        )
        status.details.add().Pack(detail)
    return status


def grpc_status_of(exc: errors.MeterdError) -> grpc.Status:
    """The status to abort a call with for a domain error."""
    return rpc_status.to_status(status_of(exc))


def _abort(context: grpc.ServicerContext, exc: BaseException, method: str) -> None:
    if isinstance(exc, errors.MeterdError):
        abort_with(context, grpc_status_of(exc))
    log.exception("internal error", extra={"method": method})
    abort_with(
        context,
        rpc_status.to_status(
            status_pb2.Status(code=code_pb2.INTERNAL, message=f"internal error: {type(exc).__name__}")
        ),
    )


def abort_with(context: grpc.ServicerContext, status: grpc.Status) -> None:
    """Aborts with ``status`` (code, message and details). The code and message are also set first, so that
    wrappers of the context that watch set_code (OpenTelemetry's) see them: they miss abort_with_status."""
    context.set_code(status.code)
    context.set_details(status.details)
    context.abort_with_status(status)


def unary(fn: F) -> F:
    """Decorates a unary servicer method: domain errors become statuses, others INTERNAL."""

    @functools.wraps(fn)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        _PAGE_TOKENS.set(
            (getattr(self, PAGE_TOKEN_KEY_ATTRIBUTE, None), fn.__qualname__, request_fingerprint(request))
        )
        try:
            return fn(self, request, context)
        except Exception as exc:
            if _is_abort(exc, context):
                raise
            _abort(context, exc, fn.__qualname__)
            raise  # unreachable: abort raises

    return wrapper  # type: ignore[return-value]


def _is_abort(exc: BaseException, context: grpc.ServicerContext) -> bool:
    """Whether ``exc`` is grpc's own signal that the call was aborted (a bare ``Exception`` raised by
    ``context.abort`` once the status is set, e.g. by a servicer this one delegated to): let it through
    untouched, or the status already chosen would be replaced by INTERNAL."""
    code = context.code()  # type: ignore[attr-defined]  # grpc-stubs 1.53 predates it
    return type(exc) is Exception and code not in (None, grpc.StatusCode.OK)


def deadline_check(context: grpc.ServicerContext) -> errors.DeadlineCheck:
    """A check for domain loops: raises DeadlineExceeded (or Cancelled) once the call's deadline has passed
    or its caller cancelled, so the work stops. It is the call's cancellation token, set by the serving
    layer; ``context`` is taken so servicers name the call the check belongs to."""
    del context
    return cancellation.checker()


# -- page tokens -----------------------------------------------------------------------------------------
# Page tokens are opaque and tamper-evident: the cursor's JSON, a fingerprint of the request it continues
# and an HMAC-SHA256 (cut to 16 bytes) over the method name, the fingerprint and the cursor, keyed by a
# per-database secret. A token from another database, another List method or edited by hand is refused with
# INVALID_ARGUMENT "invalid page_token"; a token passed with other filters or another order than the request
# that issued it (whose cursor would silently repeat or skip rows: AIP-158) is refused with a message saying
# so. The fingerprint covers every field of the request but page_token and page_size, so every List is bound
# to its own parameters, whatever they are. The key reaches the encoder through the call's context (set by
# ``unary`` from the servicer's attribute below, which the server sets on every servicer it registers).
PAGE_TOKEN_KEY_ATTRIBUTE = "meterd_page_token_key"
_FALLBACK_KEY = secrets.token_bytes(32)  # servicers built outside a server (unit tests): this process only
_PAGE_TOKENS: contextvars.ContextVar[tuple[bytes | None, str, bytes]] = contextvars.ContextVar(
    "meterd_page_tokens", default=(None, "", b"")
)
_MAC_BYTES = 16
_FINGERPRINT_BYTES = 8
# Fields a request may change between pages.
_PAGING_FIELDS = ("page_token", "page_size")


def request_fingerprint(request: Any) -> bytes:
    """A digest of a List request's parameters (every field but page_token and page_size); b"" for a
    request without a page_token field."""
    fields = getattr(getattr(request, "DESCRIPTOR", None), "fields_by_name", {})
    if "page_token" not in fields:
        return b""
    params = type(request)()
    params.CopyFrom(request)
    for name in _PAGING_FIELDS:
        if name in fields:
            params.ClearField(name)
    return hashlib.sha256(params.SerializeToString(deterministic=True)).digest()[:_FINGERPRINT_BYTES]


def _mac(fingerprint: bytes, payload: bytes) -> bytes:
    key, method, _ = _PAGE_TOKENS.get()
    message = method.encode() + b"\x00" + fingerprint + b"\x00" + payload
    return hmac.new(key or _FALLBACK_KEY, message, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_page_token(cursor: Any) -> str:
    """An opaque, signed page token for a JSON-serialisable cursor, bound to the current request's
    parameters."""
    payload = json.dumps(cursor, separators=(",", ":")).encode()
    fingerprint = _PAGE_TOKENS.get()[2]
    return f"{_b64(payload)}.{_b64(fingerprint)}.{_b64(_mac(fingerprint, payload))}"


def decode_page_token(token: str, field: str = "page_token") -> Any:
    """The cursor in a page token; INVALID_ARGUMENT "invalid page_token" when this server's database did not
    issue it for this method (forged, edited, foreign or cut), and INVALID_ARGUMENT naming the page token
    when it was issued for a request with other parameters (filters, order)."""
    if not token:
        return None
    try:
        payload_text, fingerprint_text, mac_text = token.split(".")
        payload, fingerprint, mac = _unb64(payload_text), _unb64(fingerprint_text), _unb64(mac_text)
        if not hmac.compare_digest(mac, _mac(fingerprint, payload)):
            raise ValueError("bad signature")
        cursor = json.loads(payload)
    except ValueError as exc:  # binascii.Error, UnicodeError and JSONDecodeError are ValueErrors
        raise errors.InvalidArgument(
            f"{field}: invalid page_token", [errors.FieldViolation(field, "invalid page_token")]
        ) from exc
    if not hmac.compare_digest(fingerprint, _PAGE_TOKENS.get()[2]):
        raise errors.InvalidArgument.of(
            field,
            "was issued for a request with other parameters: keep every filter and the order the same from"
            " page to page (only page_size may change), or start again without a page_token",
        )
    return cursor


def _not_a_cursor() -> errors.InvalidArgument:
    """A signed token whose cursor has another shape than the method reads (a token of an older server)."""
    return errors.InvalidArgument.of("page_token", "is not a valid page token")


def decode_cursor(token: str, *types: type) -> tuple[Any, ...] | None:
    """The cursor in a page token, a list whose items are of ``types`` in order; None for no token and
    INVALID_ARGUMENT (``page_token``) for a signed token of another shape."""
    cursor = decode_page_token(token)
    if cursor is None:
        return None
    if not (
        isinstance(cursor, list)
        and len(cursor) == len(types)
        and all(isinstance(value, kind) for value, kind in zip(cursor, types, strict=True))
    ):
        raise _not_a_cursor()
    return tuple(cursor)


def encode_cursor(cursor: tuple[Any, ...] | None) -> str:
    """The page token for a tuple cursor; "" for the last page (no cursor)."""
    return encode_page_token(list(cursor)) if cursor else ""


def decode_key_cursor(token: str) -> str | None:
    """The key in a page token of a List ordered by one unique string key (subjects, meters); None for no token
    and INVALID_ARGUMENT (``page_token``) for a signed token of another shape."""
    cursor = decode_page_token(token)
    if cursor is not None and not isinstance(cursor, str):
        raise _not_a_cursor()
    return cursor


def encode_key_cursor(key: str | None) -> str:
    """The page token that continues after ``key``; "" for the last page (no key)."""
    return encode_page_token(key) if key is not None else ""


# The attribute ``parses_its_requests`` sets on a servicer method (read by the serving layer).
PARSES_ITS_REQUESTS = "parses_its_requests"


def _message_name(deserializer: Callable[[bytes], Any] | None) -> str:
    owner = getattr(deserializer, "__self__", None)
    descriptor = getattr(owner, "DESCRIPTOR", None)
    return getattr(descriptor, "full_name", "the request message")


def parse_request(deserializer: Callable[[bytes], Any] | None, raw: bytes) -> Any:
    """The request message in ``raw``; InvalidArgument when the bytes are not one."""
    if deserializer is None:
        return raw
    try:
        return deserializer(raw)
    except Exception as exc:  # DecodeError, or RecursionError for absurd nesting
        raise errors.InvalidArgument.of(
            "request", f"is not a valid {_message_name(deserializer)} message ({type(exc).__name__})"
        ) from exc


def parses_its_requests(method: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a request-streaming servicer method that takes its messages as bytes and parses each itself (on a
    worker thread, with ``parse_request``, where it does the rest of the message's work): the serving layer
    still counts every message in the budget before handing it over and holds it there until the servicer's
    ``done()``. StreamEvents parses in its ingest lane, so one decoded batch exists at a time and a batch
    waiting for the lane waits as its bytes (the size the budget counts), not decoded (larger, uncounted)."""
    setattr(method, PARSES_ITS_REQUESTS, True)
    return method
